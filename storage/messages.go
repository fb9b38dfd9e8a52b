package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/classify"
)

// Message is what a person wrote in a customer channel and what was
// decided about it. Every such message is kept: a customer's words are
// never lost, whatever the classifier made of them.
type Message struct {
	ID         int64
	At         time.Time
	Platform   string
	ChatID     string
	ThreadID   string
	MessageID  string
	CustomerID string
	AuthorID   string // the person, "" for an unknown customer user
	AuthorName string
	Staff      bool
	Body       string
	// Verdict, Confidence and Reason are the classifier's, for a
	// customer's message it read.
	Verdict    classify.Verdict
	Confidence float64
	Reason     string
	Decision   sla.Decision
	IncidentID int64 // the incident it opened or joined; 0 for chatter
}

// InsertMessage stores a message. It is held with the transaction's other
// held rows (deferred.go) and written before the transaction next reads the
// messages or commits; Conversations reads the held ones from memory.
func (tx *Tx) InsertMessage(ctx context.Context, m *Message) error {
	var conf any
	if m.Verdict != "" {
		conf = m.Confidence
	}
	tx.tx.held.add(messageRows, []any{ts(m.At), m.Platform, m.ChatID, m.ThreadID, m.MessageID, m.CustomerID, nullStr(m.AuthorID),
		m.AuthorName, m.Staff, m.Body, string(m.Verdict), conf, m.Reason, string(m.Decision), nullID(m.IncidentID)})
	return nil
}

// messageRows are stored messages, in the order they were written.
var messageRows = deferredTable{name: "messages", what: "insert messages",
	columns: `at, platform, chat_id, thread_id, message_id, customer_id, author_id, author_name, staff, body,
		verdict, confidence, reason, decision, incident_id`,
	types: []string{"timestamptz", "text", "text", "text", "text", "text", "text", "text", "boolean", "text",
		"text", "double precision", "text", "text", "bigint"}}

// heldMessage is what Conversations needs of a held message row.
type heldMessage struct {
	incidentID int64
	at         time.Time
	body       string
	decision   string
	staff      bool
}

// heldMessages are the messages held in the transaction, oldest first.
func (tx *Tx) heldMessages() []heldMessage {
	var out []heldMessage
	for _, t := range tx.tx.held.tables {
		if t.name != messageRows.name {
			continue
		}
		for _, r := range t.rows {
			id, _ := r[14].(int64)
			at, _ := r[0].(time.Time)
			out = append(out, heldMessage{incidentID: id, at: at, body: r[9].(string), decision: r[13].(string), staff: r[8].(bool)})
		}
	}
	return out
}

type messageRow struct {
	ID         int64           `db:"id"`
	At         time.Time       `db:"at"`
	Platform   string          `db:"platform"`
	ChatID     string          `db:"chat_id"`
	ThreadID   string          `db:"thread_id"`
	MessageID  string          `db:"message_id"`
	CustomerID string          `db:"customer_id"`
	AuthorID   sql.NullString  `db:"author_id"`
	AuthorName string          `db:"author_name"`
	Staff      bool            `db:"staff"`
	Body       string          `db:"body"`
	Verdict    string          `db:"verdict"`
	Confidence sql.NullFloat64 `db:"confidence"`
	Reason     string          `db:"reason"`
	Decision   string          `db:"decision"`
	IncidentID sql.NullInt64   `db:"incident_id"`
}

const messageCols = `id, at, platform, chat_id, thread_id, message_id, customer_id, author_id, author_name, staff, body, verdict,
	confidence, reason, decision, incident_id`

func (r messageRow) message() Message {
	return Message{ID: r.ID, At: r.At.UTC(), Platform: r.Platform, ChatID: r.ChatID, ThreadID: r.ThreadID, MessageID: r.MessageID,
		CustomerID: r.CustomerID, AuthorID: r.AuthorID.String, AuthorName: r.AuthorName, Staff: r.Staff, Body: r.Body,
		Verdict: classify.Verdict(r.Verdict), Confidence: r.Confidence.Float64, Reason: r.Reason, Decision: sla.Decision(r.Decision),
		IncidentID: r.IncidentID.Int64}
}

// MessageFilter selects messages for Messages.
type MessageFilter struct {
	CustomerID string // "": every customer
	IncidentID int64  // 0: any
	Limit      int    // 0: 100
}

// Messages returns stored messages matching f, oldest first.
func (s *Store) Messages(ctx context.Context, f MessageFilter) ([]Message, error) {
	q := `SELECT ` + messageCols + ` FROM messages WHERE 1 = 1`
	var args []any
	if f.CustomerID != "" {
		q += ` AND customer_id = ?`
		args = append(args, f.CustomerID)
	}
	if f.IncidentID != 0 {
		q += ` AND incident_id = ?`
		args = append(args, f.IncidentID)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += ` ORDER BY id LIMIT ?`
	var rows []messageRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), append(args, f.Limit)...); err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	out := make([]Message, len(rows))
	for i, r := range rows {
		out[i] = r.message()
	}
	return out, nil
}

// Conversations returns a customer's incidents still being worked on
// (triage, open, acknowledged, on site), the most recent first, each with
// what the customer said about it: the report and the messages that joined
// it, oldest first.
func (tx *Tx) Conversations(ctx context.Context, customerID string, limit int) ([]sla.Conversation, error) {
	// One statement: the incidents, and what the customer wrote in each. The
	// limit is written into the statement: prepared, a parameter would make
	// PostgreSQL plan for a tenth of the table (a hash join over every
	// message) instead of a few index lookups.
	var rows []struct {
		ID         int64          `db:"id"`
		Title      string         `db:"title"`
		ReportedAt time.Time      `db:"reported_at"`
		AckedAt    sql.NullTime   `db:"acked_at"`
		At         sql.NullTime   `db:"m_at"`
		Body       sql.NullString `db:"m_body"`
		Decision   sql.NullString `db:"m_decision"`
	}
	// The messages held in the transaction are not in the table yet: they
	// are read from memory below rather than written first. Only the
	// columns a conversation carries are read: each costs its decoding.
	if err := tx.tx.selectAside(ctx, &rows, tx.tx.Rebind(`SELECT i.id, i.title, i.reported_at, i.acked_at,
			m.at AS m_at, m.body AS m_body, m.decision AS m_decision
		FROM (SELECT id, title, reported_at, acked_at FROM incidents
			WHERE customer_id = ? AND status IN ('triage', 'open', 'acknowledged', 'onsite') ORDER BY reported_at DESC, id DESC
			LIMIT `+strconv.Itoa(limit)+`) i
		LEFT JOIN messages m ON m.incident_id = i.id AND NOT m.staff
		ORDER BY i.reported_at DESC, i.id DESC, m.id`), customerID); err != nil {
		return nil, fmt.Errorf("conversations of %s: %w", customerID, err)
	}
	var out []sla.Conversation
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].IncidentID != r.ID {
			out = append(out, sla.Conversation{IncidentID: r.ID, AckedAt: fromNull(r.AckedAt), LastCustomerAt: r.ReportedAt.UTC(),
				Said: []string{r.Title}})
		}
		if !r.At.Valid {
			continue
		}
		c := &out[len(out)-1]
		if at := r.At.Time.UTC(); at.After(c.LastCustomerAt) {
			c.LastCustomerAt = at
		}
		if r.Decision.String == string(sla.DecisionAttached) && len(c.Said) < 20 {
			c.Said = append(c.Said, r.Body.String)
		}
	}
	for _, m := range tx.heldMessages() {
		for i := range out {
			c := &out[i]
			if c.IncidentID != m.incidentID || m.staff {
				continue
			}
			if at := m.at.UTC(); at.After(c.LastCustomerAt) {
				c.LastCustomerAt = at
			}
			if m.decision == string(sla.DecisionAttached) && len(c.Said) < 20 {
				c.Said = append(c.Said, m.body)
			}
		}
	}
	return out, nil
}

// MergeConversation moves what belongs to a duplicate to the incident it
// was merged into: its messages, and its threads, so that the customer's
// later replies there join the surviving incident.
func (tx *Tx) MergeConversation(ctx context.Context, from, into int64) error {
	if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`UPDATE messages SET incident_id = ? WHERE incident_id = ?`), into, from); err != nil {
		return fmt.Errorf("merge #%d into #%d: messages: %w", from, into, mapErr(err))
	}
	if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`UPDATE incident_threads SET incident_id = ?, origin = FALSE WHERE incident_id = ?`),
		into, from); err != nil {
		return fmt.Errorf("merge #%d into #%d: threads: %w", from, into, mapErr(err))
	}
	return nil
}

// ClassifierExample is a correction an engineer made: the customer's words
// and the label they decided.
type ClassifierExample struct {
	ID         int64
	At         time.Time
	Label      classify.Label
	Body       string
	Source     string // triage, severity or notfault
	IncidentID int64
	DecidedBy  string
}

// AddClassifierExample stores a correction.
func (tx *Tx) AddClassifierExample(ctx context.Context, e ClassifierExample) error {
	if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`INSERT INTO classifier_examples (at, label, body, source, incident_id, decided_by)
		VALUES (?, ?, ?, ?, ?, ?)`), ts(e.At), string(e.Label), e.Body, e.Source, nullID(e.IncidentID), nullStr(e.DecidedBy)); err != nil {
		return fmt.Errorf("classifier example: %w", mapErr(err))
	}
	return nil
}

// ClassifierExamples returns every stored correction, oldest first.
func (s *Store) ClassifierExamples(ctx context.Context) ([]ClassifierExample, error) {
	var rows []struct {
		ID         int64          `db:"id"`
		At         time.Time      `db:"at"`
		Label      string         `db:"label"`
		Body       string         `db:"body"`
		Source     string         `db:"source"`
		IncidentID sql.NullInt64  `db:"incident_id"`
		DecidedBy  sql.NullString `db:"decided_by"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, at, label, body, source, incident_id, decided_by FROM classifier_examples ORDER BY id`); err != nil {
		return nil, fmt.Errorf("classifier examples: %w", err)
	}
	out := make([]ClassifierExample, len(rows))
	for i, r := range rows {
		out[i] = ClassifierExample{ID: r.ID, At: r.At.UTC(), Label: classify.Label(r.Label), Body: r.Body, Source: r.Source,
			IncidentID: r.IncidentID.Int64, DecidedBy: r.DecidedBy.String}
	}
	return out, nil
}

// OpenedSince counts the incidents opened for a customer since a time (not
// duplicates and false reports), up to max: the per-customer intake limit
// needs no more, and the count stays a short index scan.
func (tx *Tx) OpenedSince(ctx context.Context, customerID string, since time.Time, max int) (int, error) {
	var n int
	if err := tx.tx.GetContext(ctx, &n, tx.tx.Rebind(`SELECT count(*) FROM (SELECT 1 FROM incidents
		WHERE customer_id = ? AND reported_at >= ? AND outcome = '' LIMIT ?) recent`), customerID, ts(since), max); err != nil {
		return 0, fmt.Errorf("incidents of %s since %s: %w", customerID, since, err)
	}
	return n, nil
}

// FloodTarget is the latest of a customer's incidents opened since a time
// that is still unsolved (0 if none), and how many reports were folded
// into it since.
func (tx *Tx) FloodTarget(ctx context.Context, customerID string, since time.Time) (latest int64, folded int, err error) {
	var ids []int64
	if err := tx.tx.SelectContext(ctx, &ids, tx.tx.Rebind(`SELECT id FROM incidents
		WHERE customer_id = ? AND reported_at >= ? AND outcome = '' AND status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored')
		ORDER BY reported_at DESC, id DESC LIMIT 1`), customerID, ts(since)); err != nil {
		return 0, 0, fmt.Errorf("flood of %s: %w", customerID, err)
	}
	if len(ids) == 0 {
		return 0, 0, nil
	}
	// The reports folded in are the timeline's messages marked so.
	if err := tx.tx.GetContext(ctx, &folded, tx.tx.Rebind(`SELECT count(*) FROM timeline
		WHERE incident_id = ? AND kind = 'message' AND at >= ? AND data LIKE '%"folded":%'`), ids[0], ts(since)); err != nil {
		return 0, 0, fmt.Errorf("flood of %s: %w", customerID, err)
	}
	return ids[0], folded, nil
}
