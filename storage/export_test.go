package storage

import (
	"context"
	"strings"
	"time"
)

// MigrateUpTo applies the migrations up to version upTo, for tests that
// upgrade a database holding data.
func (s *Store) MigrateUpTo(ctx context.Context, upTo int) ([]int, error) {
	return s.migrateUpTo(ctx, upTo)
}

// GroupWriters is how many writers group commit runs on this store.
func (s *Store) GroupWriters() int {
	if s.dialect == Postgres {
		return groupWritersPostgres
	}
	return 1
}

// GroupWaiting is how many requests wait for a group-commit writer.
func (s *Store) GroupWaiting() int { return int(s.group.waiting.Load()) }

// SetCalendarTTL sets how long the store trusts the overrides and critical
// windows it holds.
func (s *Store) SetCalendarTTL(d time.Duration) { s.calendar.ttl = d }

// StatementsPrepared is how many statement texts the store has prepared for
// its transactions.
func (s *Store) StatementsPrepared() int {
	if s.stmts == nil {
		return 0
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	return len(s.stmts.ready)
}

// RanPrepared is how many times statements beginning with prefix ran
// prepared on the transaction's connection (PostgreSQL 14's
// pg_prepared_statements: the plans made for them).
func (tx *Tx) RanPrepared(ctx context.Context, prefix string) (n int, err error) {
	err = tx.tx.Tx.GetContext(ctx, &n, `SELECT COALESCE(sum(generic_plans + custom_plans), 0)
		FROM pg_prepared_statements WHERE starts_with(statement, $1)`, prefix)
	return n, err
}

// HeldColumnTypes is, by held table, the PostgreSQL type the held-row
// statement gives each column.
func HeldColumnTypes() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, dt := range []deferredTable{timelineRows, outboxRows, slotRows, threadRows, messageRows} {
		cols := map[string]string{}
		for i, c := range strings.Split(dt.columns, ",") {
			cols[strings.TrimSpace(c)] = dt.types[i]
		}
		out[dt.name] = cols
	}
	return out
}

// PgArray is pgArray, for the test of what it refuses.
func PgArray(values ...any) (string, error) {
	rows := make([][]any, len(values))
	for i, v := range values {
		rows[i] = []any{v}
	}
	return pgArray(rows, 0)
}
