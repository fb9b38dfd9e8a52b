package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/slakeeper/slakeeper/sla"
)

// An incident's schedule is kept as slots (schema 9, the lazy ladder): one
// row per series, the step due next (sla.Slot). The engine derives what
// follows when it fires.

// TimerRow is a stored slot's step.
type TimerRow struct {
	IncidentID int64         `db:"incident_id"`
	Track      string        `db:"track"`
	Clock      sla.Clock     `db:"clock"`
	Kind       sla.TimerKind `db:"kind"`
	Level      int           `db:"level"`
	DueAt      time.Time     `db:"due_at"`
	Basis      sql.NullTime  `db:"basis"`
	Status     string        `db:"status"`
}

// Timer returns the domain timer.
func (t TimerRow) Timer() sla.Timer {
	return sla.Timer{Clock: t.Clock, Kind: t.Kind, Level: t.Level, Due: t.DueAt.UTC()}
}

// Slot returns the domain slot.
func (t TimerRow) Slot() sla.Slot {
	return sla.Slot{Timer: t.Timer(), Basis: fromNull(t.Basis), State: sla.SlotState(t.Status)}
}

const slotCols = `incident_id, track, clock, kind, level, due_at, basis, status`

// Slots returns what is kept of an incident's schedule, one slot per
// series. Call it with the incident locked.
func (tx *Tx) Slots(ctx context.Context, incidentID int64) ([]sla.Slot, error) {
	var rows []TimerRow
	if err := tx.tx.SelectContext(ctx, &rows, tx.tx.Rebind(`SELECT `+slotCols+` FROM timer_slots WHERE incident_id = ? ORDER BY track`),
		incidentID); err != nil {
		return nil, fmt.Errorf("incident %d: timers: %w", incidentID, err)
	}
	out := make([]sla.Slot, len(rows))
	for i, r := range rows {
		out[i] = r.Slot()
	}
	return out, nil
}

// SaveSlots writes the slots of after that differ from before (what Slots
// returned); nothing when nothing changed. They are written with the
// transaction's other held rows (deferred.go).
func (tx *Tx) SaveSlots(ctx context.Context, incidentID int64, before, after []sla.Slot) error {
	had := make(map[string]sla.Slot, len(before))
	for _, s := range before {
		had[s.Track()] = s
	}
	for _, s := range after {
		if h, ok := had[s.Track()]; ok && sameSlot(h, s) {
			continue
		}
		tx.tx.held.add(slotRows, []any{incidentID, s.Track(), string(s.Clock), string(s.Kind), s.Level, ts(s.Due), ts(s.Basis), string(s.State)})
	}
	return nil
}

// slotRows are slots to save, written when the transaction next reads the
// slots or commits (deferred.go); of one slot saved twice the later
// stands.
var slotRows = deferredTable{name: "timer_slots", what: "save timers",
	columns: slotCols,
	types:   []string{"bigint", "text", "text", "text", "integer", "timestamptz", "timestamptz", "text"},
	suffix: ` ON CONFLICT (incident_id, track) DO UPDATE SET clock = excluded.clock, kind = excluded.kind, level = excluded.level,
		due_at = excluded.due_at, basis = excluded.basis, status = excluded.status`,
	key: func(row []any) string { return fmt.Sprint(row[0], "/", row[1]) }}

func sameSlot(a, b sla.Slot) bool {
	return a.Clock == b.Clock && a.Kind == b.Kind && a.Level == b.Level && a.State == b.State &&
		a.Due.Truncate(time.Microsecond).Equal(b.Due.Truncate(time.Microsecond)) &&
		a.Basis.Truncate(time.Microsecond).Equal(b.Basis.Truncate(time.Microsecond))
}

// PendingTimers returns the steps an incident's slots wait for, by due
// time.
func (s *Store) PendingTimers(ctx context.Context, incidentID int64) ([]TimerRow, error) {
	var ts []TimerRow
	if err := s.db.SelectContext(ctx, &ts, s.db.Rebind(`SELECT `+slotCols+` FROM timer_slots
		WHERE incident_id = ? AND status = 'pending' ORDER BY due_at, track`), incidentID); err != nil {
		return nil, fmt.Errorf("incident %d: pending timers: %w", incidentID, err)
	}
	for i := range ts {
		ts[i].DueAt = ts[i].DueAt.UTC()
	}
	return ts, nil
}

// DueIncidents returns up to limit incidents with a slot due at now, the
// most overdue first.
func (s *Store) DueIncidents(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, s.db.Rebind(`SELECT incident_id FROM timer_slots
		WHERE status = 'pending' AND due_at <= ? GROUP BY incident_id ORDER BY min(due_at), incident_id LIMIT ?`), ts(now), limit); err != nil {
		return nil, fmt.Errorf("due incidents: %w", err)
	}
	return ids, nil
}

// NextTimerDue returns when the earliest pending slot is due; ok is false
// when there is none.
func (s *Store) NextTimerDue(ctx context.Context) (due time.Time, ok bool, err error) {
	var t sql.NullTime
	// ORDER BY + LIMIT rather than min(): SQLite's min() of a TIMESTAMP column
	// loses the column type and comes back as text.
	err = s.db.GetContext(ctx, &t, `SELECT due_at FROM timer_slots WHERE status = 'pending' ORDER BY due_at LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next timer: %w", err)
	}
	return t.Time.UTC(), t.Valid, nil
}

// ClaimIncident locks an incident for the engine. On PostgreSQL a row that
// another replica or a user's change holds is skipped (ok false) rather than
// waited for; it will be handled on the next round.
func (tx *Tx) ClaimIncident(ctx context.Context, id int64) (inc sla.Incident, ok bool, err error) {
	q := `SELECT ` + incidentCols + ` FROM incidents WHERE id = ?`
	if tx.dialect == Postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	inc, err = getIncident(ctx, tx.tx, tx.tx.Rebind(q), id)
	if sla.ErrorCode(err) == sla.ENOTFOUND {
		return inc, false, nil
	}
	return inc, err == nil, err
}

// RecordBreach records that a clock missed its deadline. Recording the same
// breach again is a no-op.
func (tx *Tx) RecordBreach(ctx context.Context, incidentID int64, clock sla.Clock, due, now time.Time) error {
	if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`INSERT INTO breaches (incident_id, clock, due_at, breached_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (incident_id, clock, due_at) DO NOTHING`), incidentID, string(clock), ts(due), ts(now)); err != nil {
		return fmt.Errorf("incident %d: record breach: %w", incidentID, mapErr(err))
	}
	return nil
}

// MeetBreaches records when a breached clock was finally met.
func (tx *Tx) MeetBreaches(ctx context.Context, incidentID int64, clock sla.Clock, metAt time.Time) error {
	if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`UPDATE breaches SET met_at = ? WHERE incident_id = ? AND clock = ? AND met_at IS NULL`),
		ts(metAt), incidentID, string(clock)); err != nil {
		return fmt.Errorf("incident %d: meet breach: %w", incidentID, err)
	}
	return nil
}

// Breach is a missed clock and, once met, how late.
type Breach struct {
	IncidentID int64        `db:"incident_id"`
	Clock      sla.Clock    `db:"clock"`
	DueAt      time.Time    `db:"due_at"`
	BreachedAt time.Time    `db:"breached_at"`
	MetAt      time.Time    `db:"-"`
	Met        sql.NullTime `db:"met_at"`
}

// Lateness is how late the clock was met; zero while it still runs.
func (b Breach) Lateness() time.Duration {
	if b.MetAt.IsZero() {
		return 0
	}
	return b.MetAt.Sub(b.DueAt)
}

// Breaches returns an incident's breaches in order.
func (s *Store) Breaches(ctx context.Context, incidentID int64) ([]Breach, error) {
	var out []Breach
	if err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT incident_id, clock, due_at, breached_at, met_at FROM breaches
		WHERE incident_id = ? ORDER BY due_at, clock`), incidentID); err != nil {
		return nil, fmt.Errorf("incident %d: breaches: %w", incidentID, err)
	}
	for i := range out {
		out[i].DueAt, out[i].BreachedAt, out[i].MetAt = out[i].DueAt.UTC(), out[i].BreachedAt.UTC(), fromNull(out[i].Met)
	}
	return out, nil
}

// AddOverride puts a person on call from start to end.
func (tx *Tx) AddOverride(ctx context.Context, o sla.Override) error {
	tx.calendarWritten()
	if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`INSERT INTO oncall_overrides (person_id, starts_at, ends_at, created_by) VALUES (?, ?, ?, ?)`),
		o.PersonID, ts(o.Start), ts(o.End), o.By); err != nil {
		return fmt.Errorf("on-call override: %w", mapErr(err))
	}
	return nil
}

// Overrides returns the on-call overrides that end after t, oldest first.
func (s *Store) Overrides(ctx context.Context, t time.Time) ([]sla.Override, error) {
	return overrides(ctx, s.db, t)
}

// Overrides is Store.Overrides inside the transaction (from memory while
// the table is held: calendarcache.go).
func (tx *Tx) Overrides(ctx context.Context, t time.Time) ([]sla.Override, error) {
	all, _, ok, err := tx.calendar.get(ctx, tx)
	if err != nil || !ok {
		if err == nil {
			return overrides(ctx, tx.tx, t)
		}
		return nil, err
	}
	var out []sla.Override
	for _, o := range all {
		if o.End.After(t) {
			out = append(out, o)
		}
	}
	return out, nil
}

func overrides(ctx context.Context, q queryer, t time.Time) ([]sla.Override, error) {
	var rows []struct {
		PersonID string    `db:"person_id"`
		Start    time.Time `db:"starts_at"`
		End      time.Time `db:"ends_at"`
		By       string    `db:"created_by"`
	}
	query, args := `SELECT person_id, starts_at, ends_at, created_by FROM oncall_overrides`, []any{}
	if !t.IsZero() { // zero: all of them
		query, args = query+` WHERE ends_at > ?`, append(args, ts(t))
	}
	if err := q.SelectContext(ctx, &rows, q.Rebind(query+` ORDER BY id`), args...); err != nil {
		return nil, fmt.Errorf("on-call overrides: %w", err)
	}
	out := make([]sla.Override, len(rows))
	for i, r := range rows {
		out[i] = sla.Override{PersonID: r.PersonID, Start: r.Start.UTC(), End: r.End.UTC(), By: r.By}
	}
	return out, nil
}

// ClaimPost records a scheduled post (job, customer, period) as posted or
// skipped; fresh is false if it was recorded before, and the caller must
// then not post it. Run it in the transaction that writes the post's
// messages.
func (tx *Tx) ClaimPost(ctx context.Context, job, customerID, period, status string, now time.Time) (fresh bool, err error) {
	res, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`INSERT INTO scheduled_posts (job, customer_id, period, status, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (job, customer_id, period) DO NOTHING`), job, customerID, period, status, ts(now))
	if err != nil {
		return false, fmt.Errorf("scheduled post %s/%s/%s: %w", job, customerID, period, mapErr(err))
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PostMade reports whether a scheduled post was recorded (posted or
// skipped) already.
func (s *Store) PostMade(ctx context.Context, job, customerID, period string) (bool, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.db.Rebind(`SELECT count(*) FROM scheduled_posts WHERE job = ? AND customer_id = ? AND period = ?`),
		job, customerID, period)
	if err != nil {
		return false, fmt.Errorf("scheduled post %s/%s/%s: %w", job, customerID, period, err)
	}
	return n > 0, nil
}
