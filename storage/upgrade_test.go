package storage_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// Schema 6 stops enumerating platforms; on SQLite that rebuilds the
// directory's tables. A database holding data at version 5 keeps all of it
// and its foreign keys, and then takes a platform it never knew.
func TestUpgradeToSchema6KeepsTheDirectory(t *testing.T) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), "old.db")
			if dialect == "postgres" {
				dsn = storagetest.NewPostgresDB(t)
			}
			s, err := storage.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.MigrateUpTo(ctx, 5); err != nil {
				t.Fatal(err)
			}
			setup(t, s)
			inc := openIncident(t, s, "acme")

			applied, err := s.Migrate(ctx)
			if err != nil || !slices.Contains(applied, 6) {
				t.Fatalf("applied %v, %v", applied, err)
			}
			d, err := s.LoadDirectory(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Customers) != 2 || len(d.People) != 2 || len(d.Identities) != 2 || len(d.Channels) != 2 ||
				d.Channels[0].CustomerID != "acme" || d.Identities[0].PersonID == "" {
				t.Fatalf("directory after the upgrade: %+v", d)
			}
			if got, err := s.Incident(ctx, inc.ID); err != nil || got.CustomerID != "acme" {
				t.Fatalf("incident after the upgrade: %+v, %v", got, err)
			}

			// Foreign keys still hold on the rebuilt tables.
			ghost := directory()
			ghost.Identities = append(ghost.Identities, sla.Identity{Platform: "slack", UserID: "U404", PersonID: "nobody"})
			if err := s.SyncDirectory(ctx, ghost); sla.ErrorCode(err) != sla.EINVALID {
				t.Fatalf("an identity of nobody: %v, want EINVALID", err)
			}
			// And a platform the schema never knew is taken.
			d2 := directory()
			d2.Channels = append(d2.Channels, sla.Channel{Platform: "feishu", ChatID: "oc_1", Kind: sla.ChannelEngineering, Lang: sla.LangZH})
			if err := s.SyncDirectory(ctx, d2); err != nil {
				t.Fatalf("a new platform after the upgrade: %v", err)
			}
		})
	}
}
