package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/storage"
)

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
