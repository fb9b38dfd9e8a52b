package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// InboundFailure is one failed attempt to handle an inbound delivery.
type InboundFailure struct {
	Platform   string
	DeliveryID string
	ErrorCode  string // the SQLSTATE or driver code; "" if none
	ErrorText  string // no secrets: the caller has scrubbed it
	Excerpt    string // the start of the payload, sanitised
	At         time.Time
}

// RejectedInbound is a delivery that failed every time it came and was
// set aside.
type RejectedInbound struct {
	Platform   string
	DeliveryID string
	Attempts   int
	ErrorCode  string
	ErrorText  string
	Excerpt    string
	FirstSeen  time.Time
	LastSeen   time.Time
	RejectedAt time.Time
}

// RecordInboundFailure counts a failed attempt of a delivery, by its
// platform and delivery id, and sets the delivery aside once it has failed
// maxAttempts times. It reports the attempts so far and whether the
// delivery is set aside; exactly one call, the one whose attempt reached
// maxAttempts, returns attempts == maxAttempts. The count is one statement,
// so replicas that fail the same delivery at once each count.
func (s *Store) RecordInboundFailure(ctx context.Context, f InboundFailure, maxAttempts int) (attempts int, rejected bool, err error) {
	var row struct {
		Attempts   int          `db:"attempts"`
		RejectedAt sql.NullTime `db:"rejected_at"`
	}
	at := ts(f.At)
	var first any
	if maxAttempts <= 1 {
		first = at
	}
	err = s.db.GetContext(ctx, &row, s.db.Rebind(`INSERT INTO rejected_inbound AS r (platform, delivery_id, attempts, error_code,
		error_text, excerpt, first_seen, last_seen, rejected_at)
		VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, delivery_id) DO UPDATE SET attempts = r.attempts + 1, error_code = excluded.error_code,
			error_text = excluded.error_text, last_seen = excluded.last_seen,
			rejected_at = COALESCE(r.rejected_at, CASE WHEN r.attempts + 1 >= ? THEN excluded.last_seen END)
		RETURNING attempts, rejected_at`),
		f.Platform, f.DeliveryID, f.ErrorCode, f.ErrorText, f.Excerpt, at, at, first, maxAttempts)
	if err != nil {
		return 0, false, fmt.Errorf("record inbound failure %s %s: %w", f.Platform, f.DeliveryID, mapErr(err))
	}
	return row.Attempts, row.RejectedAt.Valid, nil
}

// RejectedInbounds returns the latest deliveries set aside, newest first,
// at most limit of them.
func (s *Store) RejectedInbounds(ctx context.Context, limit int) ([]RejectedInbound, error) {
	var rows []struct {
		Platform   string    `db:"platform"`
		DeliveryID string    `db:"delivery_id"`
		Attempts   int       `db:"attempts"`
		ErrorCode  string    `db:"error_code"`
		ErrorText  string    `db:"error_text"`
		Excerpt    string    `db:"excerpt"`
		FirstSeen  time.Time `db:"first_seen"`
		LastSeen   time.Time `db:"last_seen"`
		RejectedAt time.Time `db:"rejected_at"`
	}
	err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT platform, delivery_id, attempts, error_code, error_text, excerpt,
		first_seen, last_seen, rejected_at FROM rejected_inbound WHERE rejected_at IS NOT NULL
		ORDER BY rejected_at DESC, platform, delivery_id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("rejected inbound: %w", err)
	}
	out := make([]RejectedInbound, len(rows))
	for i, r := range rows {
		out[i] = RejectedInbound{Platform: r.Platform, DeliveryID: r.DeliveryID, Attempts: r.Attempts, ErrorCode: r.ErrorCode,
			ErrorText: r.ErrorText, Excerpt: r.Excerpt, FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(), RejectedAt: r.RejectedAt.UTC()}
	}
	return out, nil
}

// ErrorCode is the database's code for err: the SQLSTATE on PostgreSQL
// ("22021"), "sqlite:<code>" on SQLite, or "" for an error that is not
// the database's.
func ErrorCode(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return "sqlite:" + strconv.Itoa(se.Code())
	}
	return ""
}

// Transient reports whether err is a failure that says nothing about the
// data: a lost or refused connection, a cancelled or timed-out call, a
// serialization failure or deadlock, a server shutting down or short of
// resources, a busy SQLite. Trying again later may well succeed.
func Transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.As(err, new(errStalePrepared)) {
		return true // the statement is evicted: it runs afresh next time
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code.Class() {
		case "08", "40", "53", "57", "58":
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}
