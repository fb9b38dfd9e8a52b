package storage

import (
	"context"
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
