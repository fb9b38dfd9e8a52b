package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serve and migrate never print DATABASE_URL's password, not even when the
// URL is malformed and does not parse.
func TestMalformedDatabaseURLHidesPassword(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "cfg.yaml")
	writeFile(t, cfg, "customers: [{id: acme, name: Acme}]\npeople: [{id: wang, name: Wang, role: engineer, slack: UW}]\n"+
		"channels: [{platform: slack, id: CACME, kind: customer, customer: acme}]\n")
	for _, dsn := range []string{
		"postgres://u:p%zzhunter2@127.0.0.1:1/db",
		"postgres://u:hun#ter2@127.0.0.1:1/db",
		"postgresql://u:hunter2@127.0.0.1:port/db",
		"postgres://u:hunter2 x@127.0.0.1:1/db",
		"postgres://u:hunter2@[::1/db",
		"postgres://127.0.0.1:1/db?password=hunter2%zz",
		"postgres://u:hunter2@127.0.0.1:1/db", // well-formed; nothing listens
	} {
		for _, cmd := range []string{"migrate", "serve"} {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			var out, errs bytes.Buffer
			err := run(ctx, []string{cmd}, env(map[string]string{"DATABASE_URL": dsn, "CONFIG": cfg,
				"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "HTTP_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0"}),
				nil, &out, &errs)
			cancel()
			if err == nil {
				t.Fatalf("%s %q: no error", cmd, dsn)
			}
			if all := err.Error() + out.String() + errs.String(); strings.Contains(all, "hunter") || strings.Contains(all, "ter2") {
				t.Errorf("%s %q shows the password:\n%s", cmd, dsn, all)
			}
		}
	}
}
