package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
)

// Open is what SeedOpen writes: n open (unacknowledged) non-core incidents
// of customers c00..c19 and their schedule under sla.DefaultPolicy, one
// slot per series (schema 9): the ack and restore clocks' reminders 10
// minutes before their deadlines, and the weekly follow-up. Three pending
// timers per incident.
type Open struct {
	// N is how many incidents.
	N int
	// DueSoon of them have their ack reminder due in (Start, Start+Window],
	// evenly spread; the others were reported within the minute before Start,
	// so that nothing else is due for 19 minutes.
	DueSoon int
	Start   time.Time
	Window  time.Duration
}

// TimersPerIncident is how many pending timers SeedOpen gives an incident.
const TimersPerIncident = 3

// SeedOpen fills a PostgreSQL store as o says, in two INSERT ... SELECT
// statements, and returns the ids of the DueSoon incidents with when each
// one's reminder is due.
func SeedOpen(tb testing.TB, s *storage.Store, o Open) map[int64]time.Time {
	tb.Helper()
	ctx := context.Background()
	var d sla.Roster
	for i := range 20 {
		d.Customers = append(d.Customers, sla.Customer{ID: fmt.Sprintf("c%02d", i), Name: fmt.Sprintf("Customer %d", i), Lang: sla.LangZH})
	}
	if err := s.SyncDirectory(ctx, d); err != nil {
		tb.Fatal(err)
	}
	p := sla.DefaultPolicy()
	// reported_at of incident g: due soon, its reminder (ack due - 10m) falls
	// at Start + (g+1)*step; otherwise within the minute before Start.
	step := o.Window.Seconds() / float64(max(o.DueSoon, 1))
	lead := (p.AckWithin - p.ReminderBefore).Seconds()
	if _, err := s.DB().ExecContext(ctx, `
		INSERT INTO incidents (customer_id, severity, status, title, area, reported_at, ack_due, restore_due, version)
		SELECT 'c' || lpad((g % 20)::text, 2, '0'), 'noncore', 'open', 'fault ' || g, 'other',
			t, t + interval '30 minutes', t + interval '24 hours', 1
		FROM (SELECT g, CASE WHEN g < $2 THEN $3::timestamptz + ((g + 1) * $4::float8 - $5::float8) * interval '1 second'
			ELSE $3::timestamptz - (g % 60) * interval '1 second' END AS t
			FROM generate_series(0, $1 - 1) g) x`, o.N, o.DueSoon, o.Start.UTC(), step, lead); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `
		INSERT INTO timer_slots (incident_id, track, clock, kind, level, due_at, basis, status)
		SELECT i.id, c.clock, c.clock, 'reminder', 0, d.due - interval '10 minutes', d.due, 'pending'
		FROM incidents i, (VALUES ('ack'), ('restore')) c(clock),
			LATERAL (SELECT CASE c.clock WHEN 'ack' THEN i.ack_due ELSE i.restore_due END AS due) d
		UNION ALL
		SELECT id, 'followup', 'followup', 'followup', 1, reported_at + interval '7 days', NULL, 'pending' FROM incidents`); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `ANALYZE incidents; ANALYZE timer_slots`); err != nil {
		tb.Fatal(err)
	}
	var rows []struct {
		ID    int64     `db:"id"`
		DueAt time.Time `db:"due_at"`
	}
	if err := s.DB().SelectContext(ctx, &rows, `SELECT incident_id AS id, due_at FROM timer_slots
		WHERE clock = 'ack' AND kind = 'reminder' AND due_at > $1 AND due_at <= $2`, o.Start.UTC(), o.Start.Add(o.Window).UTC()); err != nil {
		tb.Fatal(err)
	}
	due := make(map[int64]time.Time, len(rows))
	for _, r := range rows {
		due[r.ID] = r.DueAt
	}
	if len(due) != o.DueSoon {
		tb.Fatalf("seeded %d incidents due soon, want %d", len(due), o.DueSoon)
	}
	return due
}
