package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/storage"
)

// A new SQLite database and its -wal and -shm files are readable by their
// owner only, whatever the umask: they hold every customer's messages.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022) // the usual umask, which leaves files world-readable
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "private.db")
	s, err := storage.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(f)
		if os.IsNotExist(err) && strings.HasSuffix(f, "-shm") {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(f), mode)
		}
	}
}

// A password never shows in a redacted DSN nor in Open's error, even when
// the URL does not parse.
func TestDSNPasswordNeverShown(t *testing.T) {
	for _, c := range []struct{ dsn, pw string }{
		{"postgres://u:hunter2@db.example/app", "hunter2"},
		{"postgres://db.example/app?user=u&password=hunter2&sslmode=disable", "hunter2"},
		{"postgres://u:p%zzhunter2@127.0.0.1:1/app", "hunter2"},
		{"postgresql://u:hun#ter2@127.0.0.1:1/app", "hun#ter2"},
		{"postgres://u:hunter2@127.0.0.1:port/app", "hunter2"},
		{"postgres://u:hun ter2@127.0.0.1:1/app", "hun ter2"},
		{"postgres://u:12/hunter2@127.0.0.1:1/app", "hunter2"},
		{"postgres://u:hunter2@[::1/app", "hunter2"},
		{"postgres://127.0.0.1:1/app?password=hunter2%zz", "hunter2"},
	} {
		if r := storage.RedactDSN(c.dsn); strings.Contains(r, c.pw) || strings.Contains(r, "hunter") {
			t.Errorf("RedactDSN(%q) = %q", c.dsn, r)
		}
		if strings.Contains(c.dsn, "12/hunter2") {
			continue // parses, with host "u": Open would look that name up
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		s, err := storage.Open(ctx, c.dsn)
		cancel()
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", c.dsn)
			continue
		}
		if strings.Contains(err.Error(), "hunter") {
			t.Errorf("Open(%q): %v", c.dsn, err)
		}
	}
	if r := storage.RedactDSN("data/slakeeper.db"); r != "data/slakeeper.db" {
		t.Errorf("a file path redacted to %q", r)
	}
}
