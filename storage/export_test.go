package storage

import "context"

// MigrateUpTo applies the migrations up to version upTo, for tests that
// upgrade a database holding data.
func (s *Store) MigrateUpTo(ctx context.Context, upTo int) ([]int, error) {
	return s.migrateUpTo(ctx, upTo)
}
