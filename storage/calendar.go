package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/sla"
)

// ServiceReport is a filed inspection or health check report.
type ServiceReport struct {
	ID         int64     `db:"id"`
	Kind       string    `db:"kind"`
	CustomerID string    `db:"customer_id"`
	Period     string    `db:"period"`
	FiledAt    time.Time `db:"filed_at"`
	FiledBy    string    `db:"filed_by"`
	Body       string    `db:"body"`
}

// FileServiceReport keeps a report; one filed again for the same period is
// kept beside the earlier one.
func (tx *Tx) FileServiceReport(ctx context.Context, r ServiceReport) error {
	_, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`INSERT INTO service_reports (kind, customer_id, period, filed_at, filed_by, body)
		VALUES (?, ?, ?, ?, ?, ?)`), r.Kind, r.CustomerID, r.Period, ts(r.FiledAt), nullStr(r.FiledBy), r.Body)
	if err != nil {
		return fmt.Errorf("file %s report of %s %s: %w", r.Kind, r.CustomerID, r.Period, mapErr(err))
	}
	return nil
}

// ServiceReports lists a customer's reports, newest first.
func (s *Store) ServiceReports(ctx context.Context, customerID string) ([]ServiceReport, error) {
	var out []ServiceReport
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT id, kind, customer_id, period, filed_at, COALESCE(filed_by, '') AS filed_by, body
		FROM service_reports WHERE customer_id = ? ORDER BY filed_at DESC, id DESC`), customerID)
	if err != nil {
		return nil, fmt.Errorf("service reports of %s: %w", customerID, err)
	}
	for i := range out {
		out[i].FiledAt = out[i].FiledAt.UTC()
	}
	return out, nil
}

// CustomerNote is a note about a customer: a revisit (C13).
type CustomerNote struct {
	ID         int64     `db:"id"`
	CustomerID string    `db:"customer_id"`
	At         time.Time `db:"at"`
	AuthorID   string    `db:"author_id"`
	Body       string    `db:"body"`
}

// AddCustomerNote keeps a note about a customer.
func (tx *Tx) AddCustomerNote(ctx context.Context, n CustomerNote) error {
	_, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`INSERT INTO customer_notes (customer_id, at, author_id, body) VALUES (?, ?, ?, ?)`),
		n.CustomerID, ts(n.At), nullStr(n.AuthorID), n.Body)
	if err != nil {
		return fmt.Errorf("note on %s: %w", n.CustomerID, mapErr(err))
	}
	return nil
}

// CustomerNotes lists a customer's notes since a time (the zero time: all),
// newest first.
func (s *Store) CustomerNotes(ctx context.Context, customerID string, since time.Time) ([]CustomerNote, error) {
	q, args := `SELECT id, customer_id, at, COALESCE(author_id, '') AS author_id, body FROM customer_notes WHERE customer_id = ?`, []any{customerID}
	if !since.IsZero() { // ts(zero) is NULL, and "at >= NULL" holds for no row
		q, args = q+` AND at >= ?`, append(args, ts(since))
	}
	var out []CustomerNote
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(q+` ORDER BY at DESC, id DESC`), args...)
	if err != nil {
		return nil, fmt.Errorf("notes of %s: %w", customerID, err)
	}
	for i := range out {
		out[i].At = out[i].At.UTC()
	}
	return out, nil
}

// Release is a release notice (C10).
type Release struct {
	ID          int64     `db:"id"`
	Version     string    `db:"version"`
	Notes       string    `db:"notes"`
	AnnouncedAt time.Time `db:"announced_at"`
	AnnouncedBy string    `db:"announced_by"`
}

// Topic is the outbox topic of the release's messages.
func (r Release) Topic() string { return fmt.Sprintf("release:%d", r.ID) }

// InsertRelease records a release and sets its ID; a version announced
// before is ECONFLICT.
func (tx *Tx) InsertRelease(ctx context.Context, r *Release) error {
	err := tx.tx.GetContext(ctx, &r.ID, tx.tx.Rebind(`INSERT INTO releases (version, notes, announced_at, announced_by)
		VALUES (?, ?, ?, ?) RETURNING id`), r.Version, r.Notes, ts(r.AnnouncedAt), nullStr(r.AnnouncedBy))
	if err != nil {
		return fmt.Errorf("release %s: %w", r.Version, mapErr(err))
	}
	return nil
}

// ReleaseByVersion returns a release; ok is false when there is none.
// An empty version means the latest.
func (s *Store) ReleaseByVersion(ctx context.Context, version string) (r Release, ok bool, err error) {
	q := `SELECT id, version, notes, announced_at, COALESCE(announced_by, '') AS announced_by FROM releases `
	args := []any{}
	if version == "" {
		q += `ORDER BY id DESC LIMIT 1`
	} else {
		q += `WHERE version = ?`
		args = append(args, version)
	}
	if err := s.db.GetContext(ctx, &r, s.db.Rebind(q), args...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r, false, nil
		}
		return r, false, fmt.Errorf("release %s: %w", version, err)
	}
	r.AnnouncedAt = r.AnnouncedAt.UTC()
	return r, true, nil
}

// Delivery is the state of one outgoing message of a topic.
type Delivery struct {
	Platform  string `db:"platform"`
	ChatID    string `db:"chat_id"`
	Status    string `db:"status"` // pending, sent or failed
	Attempts  int    `db:"attempts"`
	LastError string `db:"last_error"`
}

// Deliveries lists the messages of a topic, in the order they were written.
func (s *Store) Deliveries(ctx context.Context, topic string) ([]Delivery, error) {
	var out []Delivery
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT platform, chat_id, status, attempts, last_error FROM outbox
		WHERE topic = ? ORDER BY id`), topic)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", topic, err)
	}
	return out, nil
}

// AddCriticalWindow records a critical business period and sets its ID.
func (tx *Tx) AddCriticalWindow(ctx context.Context, w *sla.CriticalWindow, by string) error {
	tx.calendarWritten()
	err := tx.tx.GetContext(ctx, &w.ID, tx.tx.Rebind(`INSERT INTO critical_windows (customer_id, starts_at, ends_at, note, onsite, created_by)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), w.CustomerID, ts(w.Start), ts(w.End), w.Note, strings.Join(w.Onsite, ","), by)
	if err != nil {
		return fmt.Errorf("critical window of %s: %w", w.CustomerID, mapErr(err))
	}
	return nil
}

// CriticalWindows lists the windows (of one customer, or all with "")
// that have not ended by the given time, by start.
func (s *Store) CriticalWindows(ctx context.Context, customerID string, endsAfter time.Time) ([]sla.CriticalWindow, error) {
	return criticalWindows(ctx, s.db, customerID, endsAfter)
}

// CriticalWindows is Store.CriticalWindows in the transaction (from memory
// while the table is held: calendarcache.go).
func (tx *Tx) CriticalWindows(ctx context.Context, customerID string, endsAfter time.Time) ([]sla.CriticalWindow, error) {
	_, all, ok, err := tx.calendar.get(ctx, tx)
	if err != nil || !ok {
		if err == nil {
			return criticalWindows(ctx, tx.tx, customerID, endsAfter)
		}
		return nil, err
	}
	var out []sla.CriticalWindow
	for _, w := range all {
		if w.End.After(endsAfter) && (customerID == "" || w.CustomerID == customerID) {
			out = append(out, w)
		}
	}
	return out, nil
}

func criticalWindows(ctx context.Context, q queryer, customerID string, endsAfter time.Time) ([]sla.CriticalWindow, error) {
	query := `SELECT id, customer_id, starts_at, ends_at, note, onsite FROM critical_windows WHERE 1 = 1`
	var args []any
	if !endsAfter.IsZero() { // zero: however old
		query += ` AND ends_at > ?`
		args = append(args, ts(endsAfter))
	}
	if customerID != "" {
		query += ` AND customer_id = ?`
		args = append(args, customerID)
	}
	var rows []struct {
		ID         int64     `db:"id"`
		CustomerID string    `db:"customer_id"`
		Start      time.Time `db:"starts_at"`
		End        time.Time `db:"ends_at"`
		Note       string    `db:"note"`
		Onsite     string    `db:"onsite"`
	}
	if err := q.SelectContext(ctx, &rows, q.Rebind(query+` ORDER BY starts_at, id`), args...); err != nil {
		return nil, fmt.Errorf("critical windows: %w", err)
	}
	out := make([]sla.CriticalWindow, len(rows))
	for i, r := range rows {
		out[i] = sla.CriticalWindow{ID: r.ID, CustomerID: r.CustomerID, Start: r.Start.UTC(), End: r.End.UTC(), Note: r.Note}
		if r.Onsite != "" {
			out[i].Onsite = strings.Split(r.Onsite, ",")
		}
	}
	return out, nil
}
