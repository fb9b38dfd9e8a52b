package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slakeeper/slakeeper/sla"
)

const incidentCols = `id, customer_id, severity, status, title, reason, area, reported_at, reported_by, reporter_name, assignee_id,
	ack_due, onsite_due, restore_due, acked_at, acked_by, onsite_at, onsite_met_at, restored_at, restore_summary,
	closed_at, reopened_at, last_ping_at, last_followup_at, report_filed_at, version, outcome, merged_into, related_to, past_clocks`

type incidentRow struct {
	ID             int64          `db:"id"`
	CustomerID     string         `db:"customer_id"`
	Severity       string         `db:"severity"`
	Status         string         `db:"status"`
	Title          string         `db:"title"`
	Reason         string         `db:"reason"`
	Area           string         `db:"area"`
	ReportedAt     time.Time      `db:"reported_at"`
	ReportedBy     sql.NullString `db:"reported_by"`
	ReporterName   string         `db:"reporter_name"`
	AssigneeID     sql.NullString `db:"assignee_id"`
	AckDue         time.Time      `db:"ack_due"`
	OnsiteDue      sql.NullTime   `db:"onsite_due"`
	RestoreDue     time.Time      `db:"restore_due"`
	AckedAt        sql.NullTime   `db:"acked_at"`
	AckedBy        sql.NullString `db:"acked_by"`
	OnsiteAt       sql.NullTime   `db:"onsite_at"`
	OnsiteMetAt    sql.NullTime   `db:"onsite_met_at"`
	RestoredAt     sql.NullTime   `db:"restored_at"`
	RestoreSummary string         `db:"restore_summary"`
	ClosedAt       sql.NullTime   `db:"closed_at"`
	ReopenedAt     sql.NullTime   `db:"reopened_at"`
	LastPingAt     sql.NullTime   `db:"last_ping_at"`
	LastFollowUpAt sql.NullTime   `db:"last_followup_at"`
	ReportFiledAt  sql.NullTime   `db:"report_filed_at"`
	Version        int            `db:"version"`
	Outcome        string         `db:"outcome"`
	MergedInto     sql.NullInt64  `db:"merged_into"`
	RelatedTo      sql.NullInt64  `db:"related_to"`
	PastClocks     int            `db:"past_clocks"`
}

func (r incidentRow) incident() sla.Incident {
	return sla.Incident{
		ID: r.ID, CustomerID: r.CustomerID, Severity: sla.Severity(r.Severity), Status: sla.Status(r.Status),
		Title: r.Title, Reason: r.Reason, Area: sla.Area(r.Area), ReportedAt: r.ReportedAt.UTC(), ReportedBy: r.ReportedBy.String,
		ReporterName: r.ReporterName, AssigneeID: r.AssigneeID.String,
		Deadlines: sla.Deadlines{Ack: r.AckDue.UTC(), Onsite: fromNull(r.OnsiteDue), Restore: r.RestoreDue.UTC()},
		AckedAt:   fromNull(r.AckedAt), AckedBy: r.AckedBy.String, OnsiteAt: fromNull(r.OnsiteAt),
		OnsiteMetAt: fromNull(r.OnsiteMetAt), RestoredAt: fromNull(r.RestoredAt), RestoreSummary: r.RestoreSummary,
		ClosedAt: fromNull(r.ClosedAt), ReopenedAt: fromNull(r.ReopenedAt), LastPingAt: fromNull(r.LastPingAt),
		LastFollowUpAt: fromNull(r.LastFollowUpAt), ReportFiledAt: fromNull(r.ReportFiledAt), Version: r.Version,
		Outcome: sla.Outcome(r.Outcome), MergedInto: r.MergedInto.Int64, RelatedTo: r.RelatedTo.Int64,
	}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func notFound(id int64) error {
	return sla.Errorf(sla.ENOTFOUND, "err.not_found", map[string]any{"id": id}, "incident #%d not found", id)
}

func getIncident(ctx context.Context, q queryer, query string, id int64) (sla.Incident, error) {
	var r incidentRow
	if err := q.GetContext(ctx, &r, query, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return sla.Incident{}, notFound(id)
		}
		return sla.Incident{}, fmt.Errorf("incident %d: %w", id, err)
	}
	inc := r.incident()
	if r.PastClocks > 0 {
		var hs []struct {
			Clock    string    `db:"clock"`
			Instance int       `db:"instance"`
			Severity string    `db:"severity"`
			Due      time.Time `db:"due_at"`
			Met      time.Time `db:"met_at"`
		}
		if err := q.SelectContext(ctx, &hs, q.Rebind(`SELECT clock, instance, severity, due_at, met_at FROM clock_history
			WHERE incident_id = ? ORDER BY recorded_at, clock, instance`), id); err != nil {
			return inc, fmt.Errorf("incident %d: clock history: %w", id, err)
		}
		for _, h := range hs {
			inc.PastClocks = append(inc.PastClocks, sla.ClockState{Clock: sla.Clock(h.Clock), Instance: h.Instance,
				Severity: sla.Severity(h.Severity), Due: h.Due.UTC(), MetAt: h.Met.UTC()})
		}
	}
	return inc, nil
}

// AppendClockHistory records clock instances that closed (it never updates
// one: the table refuses it).
func (tx *Tx) AppendClockHistory(ctx context.Context, incidentID int64, cs []sla.ClockState, now time.Time) error {
	if len(cs) == 0 {
		return nil
	}
	args := make([]any, 0, 7*len(cs))
	for _, c := range cs {
		args = append(args, incidentID, string(c.Clock), c.Instance, string(c.Severity), ts(c.Due), ts(c.MetAt), ts(now))
	}
	if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`INSERT INTO clock_history (incident_id, clock, instance, severity, due_at, met_at, recorded_at)
		VALUES `+values(len(cs), 7)), args...); err != nil {
		return fmt.Errorf("incident %d: clock history: %w", incidentID, mapErr(err))
	}
	return nil
}

// Incident returns the incident with the given id, or ENOTFOUND.
func (s *Store) Incident(ctx context.Context, id int64) (sla.Incident, error) {
	return getIncident(ctx, s.db, s.db.Rebind(`SELECT `+incidentCols+` FROM incidents WHERE id = ?`), id)
}

// IncidentForUpdate reads an incident and locks its row until the
// transaction ends (SQLite's transactions are serial already). The lock
// is the one an UPDATE that keeps the key takes (FOR NO KEY UPDATE): it
// excludes other changes of the incident, not the rows that refer to it
// (a timeline event, a message). In a transaction shared by group commit,
// a row another transaction holds fails it at once rather than being
// waited for (the request then runs alone).
func (tx *Tx) IncidentForUpdate(ctx context.Context, id int64) (sla.Incident, error) {
	q := `SELECT ` + incidentCols + ` FROM incidents WHERE id = ?`
	switch {
	case tx.dialect != Postgres:
	case tx.shared:
		q += ` FOR NO KEY UPDATE NOWAIT`
	default:
		q += ` FOR NO KEY UPDATE`
	}
	return getIncident(ctx, tx.tx, tx.tx.Rebind(q), id)
}

// InsertIncident stores a new incident and sets its ID.
func (tx *Tx) InsertIncident(ctx context.Context, inc *sla.Incident) error {
	err := tx.tx.GetContext(ctx, &inc.ID, tx.tx.Rebind(`INSERT INTO incidents (customer_id, severity, status, title, reason, area,
		reported_at, reported_by, reporter_name, assignee_id, ack_due, onsite_due, restore_due, acked_at, acked_by, onsite_at,
		onsite_met_at, restored_at, restore_summary, closed_at, reopened_at, last_ping_at, last_followup_at, report_filed_at, version,
		outcome, merged_into, related_to, past_clocks)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		inc.CustomerID, string(inc.Severity), string(inc.Status), inc.Title, inc.Reason, string(inc.Area), ts(inc.ReportedAt),
		nullStr(inc.ReportedBy), inc.ReporterName, nullStr(inc.AssigneeID), ts(inc.Deadlines.Ack), ts(inc.Deadlines.Onsite),
		ts(inc.Deadlines.Restore), ts(inc.AckedAt), nullStr(inc.AckedBy), ts(inc.OnsiteAt), ts(inc.OnsiteMetAt),
		ts(inc.RestoredAt), inc.RestoreSummary, ts(inc.ClosedAt), ts(inc.ReopenedAt), ts(inc.LastPingAt), ts(inc.LastFollowUpAt),
		ts(inc.ReportFiledAt), inc.Version, string(inc.Outcome), nullID(inc.MergedInto), nullID(inc.RelatedTo), len(inc.PastClocks))
	if err != nil {
		return fmt.Errorf("insert incident: %w", mapErr(err))
	}
	return nil
}

// UpdateIncident writes inc back if the stored version is still prevVersion;
// otherwise someone else changed it meanwhile and the result is ECONFLICT.
func (tx *Tx) UpdateIncident(ctx context.Context, inc sla.Incident, prevVersion int) error {
	res, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`UPDATE incidents SET severity = ?, status = ?, title = ?, reason = ?, area = ?,
		assignee_id = ?, ack_due = ?, onsite_due = ?, restore_due = ?, acked_at = ?, acked_by = ?, onsite_at = ?,
		onsite_met_at = ?, restored_at = ?, restore_summary = ?, closed_at = ?, reopened_at = ?, last_ping_at = ?,
		last_followup_at = ?, report_filed_at = ?, version = ?, outcome = ?, merged_into = ?, related_to = ?, past_clocks = ?
		WHERE id = ? AND version = ?`),
		string(inc.Severity), string(inc.Status), inc.Title, inc.Reason, string(inc.Area), nullStr(inc.AssigneeID), ts(inc.Deadlines.Ack),
		ts(inc.Deadlines.Onsite), ts(inc.Deadlines.Restore), ts(inc.AckedAt), nullStr(inc.AckedBy), ts(inc.OnsiteAt),
		ts(inc.OnsiteMetAt), ts(inc.RestoredAt), inc.RestoreSummary, ts(inc.ClosedAt), ts(inc.ReopenedAt), ts(inc.LastPingAt),
		ts(inc.LastFollowUpAt), ts(inc.ReportFiledAt), inc.Version, string(inc.Outcome), nullID(inc.MergedInto), nullID(inc.RelatedTo),
		len(inc.PastClocks), inc.ID, prevVersion)
	if err != nil {
		return fmt.Errorf("update incident %d: %w", inc.ID, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sla.Errorf(sla.ECONFLICT, "err.changed", map[string]any{"id": inc.ID}, "incident #%d was changed by someone else; try again", inc.ID)
	}
	return nil
}

// IncidentFilter selects incidents for ListIncidents.
type IncidentFilter struct {
	CustomerID string // empty: every customer
	ActiveOnly bool   // only open, acknowledged or on site
	OpenOnly   bool   // not closed (restored ones included)
	Limit      int    // 0: 50
}

// ListIncidents returns incidents matching f, newest first.
func (s *Store) ListIncidents(ctx context.Context, f IncidentFilter) ([]sla.Incident, error) {
	q := `SELECT ` + incidentCols + ` FROM incidents WHERE 1 = 1`
	var args []any
	if f.CustomerID != "" {
		q += ` AND customer_id = ?`
		args = append(args, f.CustomerID)
	}
	if f.ActiveOnly {
		q += ` AND status IN ('triage', 'open', 'acknowledged', 'onsite')`
	} else if f.OpenOnly {
		q += ` AND status <> 'closed'`
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	var rows []incidentRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	out := make([]sla.Incident, len(rows))
	for i, r := range rows {
		out[i] = r.incident()
	}
	return out, nil
}

// AppendEvents adds events to an incident's timeline.
func (tx *Tx) AppendEvents(ctx context.Context, incidentID int64, evs ...sla.Event) error {
	if len(evs) == 0 {
		return nil
	}
	for _, e := range evs {
		data := "{}"
		if len(e.Data) > 0 {
			b, _ := json.Marshal(e.Data)
			data = string(b)
		}
		tx.tx.held.add(timelineRows, []any{incidentID, ts(e.At), string(e.Kind), nullStr(e.ActorID), e.Actor, e.Body, data})
	}
	return nil
}

// timelineRows are timeline events, written when the transaction next
// reads the timeline or commits (deferred.go).
var timelineRows = deferredTable{name: "timeline", what: "timeline",
	columns: `incident_id, at, kind, actor_id, actor_name, body, data`,
	types:   []string{"bigint", "timestamptz", "text", "text", "text", "text", "text"}}

// Timeline returns an incident's events, oldest first.
func (s *Store) Timeline(ctx context.Context, incidentID int64) ([]sla.Event, error) {
	return timeline(ctx, s.db, incidentID)
}

// Timeline is Store.Timeline inside the transaction.
func (tx *Tx) Timeline(ctx context.Context, incidentID int64) ([]sla.Event, error) {
	return timeline(ctx, tx.tx, incidentID)
}

func timeline(ctx context.Context, q queryer, incidentID int64) ([]sla.Event, error) {
	var rows []struct {
		At        time.Time      `db:"at"`
		Kind      string         `db:"kind"`
		ActorID   sql.NullString `db:"actor_id"`
		ActorName string         `db:"actor_name"`
		Body      string         `db:"body"`
		Data      string         `db:"data"`
	}
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT at, kind, actor_id, actor_name, body, data FROM timeline
		WHERE incident_id = ? ORDER BY id`), incidentID); err != nil {
		return nil, fmt.Errorf("incident %d: timeline: %w", incidentID, err)
	}
	evs := make([]sla.Event, len(rows))
	for i, r := range rows {
		evs[i] = sla.Event{Kind: sla.EventKind(r.Kind), At: r.At.UTC(), ActorID: r.ActorID.String, Actor: r.ActorName, Body: r.Body}
		if r.Data != "{}" && r.Data != "" {
			if err := json.Unmarshal([]byte(r.Data), &evs[i].Data); err != nil {
				return nil, fmt.Errorf("incident %d: timeline data: %w", incidentID, err)
			}
		}
	}
	return evs, nil
}

// ThreadRef is a place in chat: a channel and, optionally, a thread in it.
type ThreadRef struct {
	Platform string `db:"platform"`
	ChatID   string `db:"chat_id"`
	ThreadID string `db:"thread_id"`
	// Origin marks the thread the incident was reported in.
	Origin bool `db:"origin"`
}

// BindThread records that a thread belongs to an incident, so that messages
// and commands in it find the incident; t.Origin marks the thread of the
// report. Binding the same thread again is a no-op.
func (tx *Tx) BindThread(ctx context.Context, t ThreadRef, incidentID int64, now time.Time) error {
	tx.tx.held.add(threadRows, []any{t.Platform, t.ChatID, t.ThreadID, incidentID, t.Origin, ts(now)})
	return nil
}

// threadRows are thread bindings, written when the transaction next reads
// the threads or commits (deferred.go); the first binding of a thread
// stands.
var threadRows = deferredTable{name: "incident_threads", what: "bind threads",
	columns: `platform, chat_id, thread_id, incident_id, origin, bound_at`,
	types:   []string{"text", "text", "text", "bigint", "boolean", "timestamptz"},
	suffix:  ` ON CONFLICT (platform, chat_id, thread_id) DO NOTHING`}

// RebindThread moves a thread to another incident: the conversation in it
// goes on there.
func (tx *Tx) RebindThread(ctx context.Context, t ThreadRef, incidentID int64) error {
	if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`UPDATE incident_threads SET incident_id = ? WHERE platform = ? AND chat_id = ? AND thread_id = ?`),
		incidentID, t.Platform, t.ChatID, t.ThreadID); err != nil {
		return fmt.Errorf("incident %d: rebind thread: %w", incidentID, mapErr(err))
	}
	return nil
}

// BindMessage records, outside any transaction, that a message the bot
// posted belongs to an incident, so that replies to it find the incident.
func (s *Store) BindMessage(ctx context.Context, t ThreadRef, incidentID int64, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.BindThread(ctx, t, incidentID, now) })
}

// IncidentInThread returns the incident a thread belongs to; ok is false if
// none.
func (s *Store) IncidentInThread(ctx context.Context, t ThreadRef) (id int64, ok bool, err error) {
	return incidentInThread(ctx, s.db, t)
}

// IncidentInThread is Store.IncidentInThread inside the transaction.
func (tx *Tx) IncidentInThread(ctx context.Context, t ThreadRef) (id int64, ok bool, err error) {
	return incidentInThread(ctx, tx.tx, t)
}

func incidentInThread(ctx context.Context, q queryer, t ThreadRef) (id int64, ok bool, err error) {
	err = q.GetContext(ctx, &id, q.Rebind(`SELECT incident_id FROM incident_threads WHERE platform = ? AND chat_id = ? AND thread_id = ?`),
		t.Platform, t.ChatID, t.ThreadID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("thread lookup: %w", err)
	}
	return id, true, nil
}

// ThreadsOf returns the threads bound to an incident: per chat, the thread
// of the report first, then the bot's messages in the order they were
// bound.
func (tx *Tx) ThreadsOf(ctx context.Context, incidentID int64) ([]ThreadRef, error) {
	var ts []ThreadRef
	if err := tx.tx.SelectContext(ctx, &ts, tx.tx.Rebind(`SELECT platform, chat_id, thread_id, origin FROM incident_threads
		WHERE incident_id = ? ORDER BY platform, chat_id, origin DESC, bound_at, thread_id`), incidentID); err != nil {
		return nil, fmt.Errorf("incident %d: threads: %w", incidentID, err)
	}
	return ts, nil
}

// MarkInbound records a platform event id; fresh is false if it was seen
// before, and the caller must then drop the event. Run it in the same
// transaction as the event's effects so that a crash loses neither.
func (tx *Tx) MarkInbound(ctx context.Context, platform, eventID string, now time.Time) (fresh bool, err error) {
	res, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`INSERT INTO inbound_events (platform, event_id, received_at) VALUES (?, ?, ?)
		ON CONFLICT (platform, event_id) DO NOTHING`), platform, eventID, ts(now))
	if err != nil {
		return false, fmt.Errorf("inbound %s/%s: %w", platform, eventID, mapErr(err))
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PruneInbound forgets the deliveries seen before the given time, and the
// failure counts of deliveries last seen before it that were never set
// aside, and says how many; a platform's retry or a replayed signature
// older than that can no longer arrive.
func (s *Store) PruneInbound(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM inbound_events WHERE received_at < ?`), ts(before))
	if err != nil {
		return 0, fmt.Errorf("prune inbound: %w", err)
	}
	n, _ := res.RowsAffected()
	// The failure counts of deliveries that were never set aside (they
	// failed, then went through, or stopped coming) go too; the set-aside
	// ones stay for the admins.
	res, err = s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM rejected_inbound WHERE rejected_at IS NULL AND last_seen < ?`), ts(before))
	if err != nil {
		return n, fmt.Errorf("prune inbound failures: %w", err)
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}

// ThreadsOfIncident returns the threads bound to an incident.
func (s *Store) ThreadsOfIncident(ctx context.Context, incidentID int64) ([]ThreadRef, error) {
	var ts []ThreadRef
	if err := s.db.SelectContext(ctx, &ts, s.db.Rebind(`SELECT platform, chat_id, thread_id, origin FROM incident_threads
		WHERE incident_id = ? ORDER BY platform, chat_id, origin DESC, bound_at, thread_id`), incidentID); err != nil {
		return nil, fmt.Errorf("incident %d: threads: %w", incidentID, err)
	}
	return ts, nil
}
