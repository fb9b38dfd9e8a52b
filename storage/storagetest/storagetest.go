// Package storagetest gives tests a fresh, migrated database: a new
// PostgreSQL database per call on the server named by SLAKEEPER_TEST_POSTGRES
// (default postgres://postgres@127.0.0.1:5432/postgres), or a new SQLite file.
//
// When PostgreSQL cannot be reached the test is skipped, except under CI=true,
// where it fails: CI must never pass without the database.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver

	"github.com/slakeeper/slakeeper/storage"
)

// AdminURL is the PostgreSQL server tests create their databases on.
func AdminURL() string {
	if u := os.Getenv("SLAKEEPER_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Postgres returns a migrated store on a new, empty PostgreSQL database that
// is dropped when the test ends.
func Postgres(t testing.TB) *storage.Store {
	t.Helper()
	dsn := NewPostgresDB(t)
	return open(t, dsn)
}

// NewPostgresDB creates an empty database, dropped when the test ends, and
// returns its URL.
func NewPostgresDB(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sqlx.Open("postgres", AdminURL())
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI but unreachable at %s: %v", storage.RedactDSN(AdminURL()), err)
		}
		t.Skipf("PostgreSQL unreachable at %s (%v); set SLAKEEPER_TEST_POSTGRES", storage.RedactDSN(AdminURL()), err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "slakeeper_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
		admin.Close()
	})
	u, _ := url.Parse(AdminURL())
	u.Path = "/" + name
	return u.String()
}

// SQLite returns a migrated store on a new SQLite file in the test's
// temporary directory.
func SQLite(t testing.TB) *storage.Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "slakeeper.db"))
}

func open(t testing.TB, dsn string) *storage.Store {
	t.Helper()
	ctx := context.Background()
	s, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// Each runs fn as a subtest against PostgreSQL and against SQLite, each with
// a fresh database.
func Each(t *testing.T, fn func(t *testing.T, s *storage.Store)) {
	t.Helper()
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
}
