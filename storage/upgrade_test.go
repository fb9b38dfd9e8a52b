package storage_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

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
			s := oldDatabase(t, dialect, 5)
			inc := insertIncident(t, s, "acme", false)

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

// Schema 9 keeps one slot per series where schema 8 kept every step. An
// upgraded database keeps, of each series, the earliest step pending, or
// when none is, the latest that fired (so that it never fires again); the
// schedule then goes on from there without firing anything twice.
func TestUpgradeToSchema9KeepsTheSchedule(t *testing.T) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s := oldDatabase(t, dialect, 8)
			inc := insertIncident(t, s, "acme", false)
			p := sla.DefaultPolicy()
			// The eager schedule as schema 8 kept it, 35 minutes in: the ack
			// reminder and breach fired, the rest pending; the onsite and
			// restore ladders untouched; the weekly follow-up pending.
			now := t0.Add(35 * time.Minute)
			for _, x := range inc.Timers(p, t0) {
				status := "pending"
				if x.Clock == sla.ClockAck && !x.Due.After(now) {
					status = "fired"
				}
				if _, err := s.DB().ExecContext(ctx, s.DB().Rebind(`INSERT INTO timers (incident_id, clock, kind, level, due_at, status)
					VALUES (?, ?, ?, ?, ?, ?)`), inc.ID, string(x.Clock), string(x.Kind), x.Level, x.Due.UTC().Truncate(time.Microsecond), status); err != nil {
					t.Fatal(err)
				}
			}
			if applied, err := s.Migrate(ctx); err != nil || !slices.Contains(applied, 9) {
				t.Fatalf("applied %v, %v", applied, err)
			}
			inc, err := s.Incident(ctx, inc.ID) // as the engine reads it
			if err != nil {
				t.Fatal(err)
			}
			var stored []sla.Slot
			err = s.InTx(ctx, func(tx *storage.Tx) error {
				var err error
				stored, err = tx.Slots(ctx, inc.ID)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]sla.Slot{}
			for _, x := range stored {
				got[x.Track()] = x
			}
			ack := got["ack"]
			if len(stored) != 4 || ack.Kind != sla.TimerEscalation || ack.Level != sla.LevelLead || ack.State != sla.SlotPending ||
				got["onsite"].Kind != sla.TimerReminder || got["restore"].Kind != sla.TimerReminder || got["followup"].State != sla.SlotPending {
				t.Fatalf("slots after the upgrade: %+v", stored)
			}
			// Nothing changes them that should not, and at 46 minutes only
			// the lead's escalation is due: the reminder and the breach do not
			// fire again.
			if re := inc.Reschedule(p, now, stored); len(re) != 4 || re[0].Timer != ack.Timer {
				t.Fatalf("rescheduled %+v", re)
			}
			due, _ := inc.Fire(p, t0.Add(46*time.Minute), stored)
			if len(due) != 1 || due[0].Level != sla.LevelLead {
				t.Fatalf("due after the upgrade: %+v", due)
			}
		})
	}
}

// Schema 9 carried the slots over from schema 8 without the time their
// series counts from; schema 10 gives them the basis the schedule counts
// from (only the weekly follow-up's, which depends on the policy, stays
// unset). Without it a deadline moved into the past waited for the old
// series' next step: a normal incident raised to core 20 hours in had its
// restore breach wait until the managers' daily repeat.
func TestUpgradeToSchema10GivesSlotsTheirBasis(t *testing.T) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s := oldDatabase(t, dialect, 8)
			p := sla.DefaultPolicy()
			eng := sla.Actor{ID: "wang"}
			// Between them every track with a basis: a normal incident (ack,
			// restore, the weekly follow-up), a core one (ack, onsite,
			// restore), and a core one visited and pinged (restore, report,
			// the ping's check, the weekly follow-up).
			normal := newIncident(t, s, sla.SeverityNoncore, nil)
			core := newIncident(t, s, sla.SeverityCore, nil)
			visited := newIncident(t, s, sla.SeverityCore, func(inc *sla.Incident) {
				inc.ArriveOnsite(eng, t0.Add(time.Hour))
				inc.PingFollowUp(t0.Add(2 * time.Hour))
			})
			// The eager schedule as schema 8 kept it, every step pending.
			for _, inc := range []sla.Incident{normal, core, visited} {
				for _, x := range inc.Timers(p, t0.Add(2*time.Hour)) {
					if _, err := s.DB().ExecContext(ctx, s.DB().Rebind(`INSERT INTO timers (incident_id, clock, kind, level, due_at, status)
						VALUES (?, ?, ?, ?, ?, 'pending')`), inc.ID, string(x.Clock), string(x.Kind), x.Level, x.Due.UTC().Truncate(time.Microsecond)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if applied, err := s.Migrate(ctx); err != nil || !slices.Contains(applied, 9) || !slices.Contains(applied, 10) {
				t.Fatalf("applied %v, %v", applied, err)
			}

			slotsOf := func(id int64) (sla.Incident, []sla.Slot) {
				t.Helper()
				inc, err := s.Incident(ctx, id) // as the engine reads it
				if err != nil {
					t.Fatal(err)
				}
				var stored []sla.Slot
				if err := s.InTx(ctx, func(tx *storage.Tx) error {
					var err error
					stored, err = tx.Slots(ctx, id)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				return inc, stored
			}
			tracks := map[string]bool{}
			for _, id := range []int64{normal.ID, core.ID, visited.ID} {
				inc, stored := slotsOf(id)
				// The basis the ladder gives each series.
				want := map[string]time.Time{}
				for _, x := range inc.Reschedule(p, t0.Add(2*time.Hour), nil) {
					want[x.Track()] = x.Basis
				}
				want["followup"] = time.Time{}
				for _, x := range stored {
					tracks[x.Track()] = true
					if b, ok := want[x.Track()]; !ok || !x.Basis.Equal(b) {
						t.Errorf("incident %d: %s slot after the upgrade %+v, want basis %v", id, x.Track(), x, b)
					}
				}
			}
			if len(tracks) != 6 {
				t.Fatalf("tracks after the upgrade %v, want all six", tracks)
			}

			// The normal incident raised to core 20 hours in: the restore
			// deadline moves to 4 hours after the report, and its breach is
			// due at once.
			inc, stored := slotsOf(normal.ID)
			now := t0.Add(20 * time.Hour)
			if _, err := inc.SetSeverity(eng, sla.SeverityCore, p, now); err != nil {
				t.Fatal(err)
			}
			due, _ := inc.Fire(p, now, stored)
			if !slices.ContainsFunc(due, func(x sla.Timer) bool { return x.Clock == sla.ClockRestore && x.Kind == sla.TimerBreach }) {
				t.Fatalf("due once the restore deadline moved into the past: %+v", due)
			}
		})
	}
}

// newIncident stores an incident of acme reported at t0, changed by change
// (when not nil), without a schedule.
func newIncident(t *testing.T, s *storage.Store, sev sla.Severity, change func(*sla.Incident)) sla.Incident {
	t.Helper()
	inc, _, err := sla.NewIncident("acme", sev, "集群很慢", "", sla.Actor{ID: "li"}, sla.DefaultPolicy(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(&inc)
	}
	if err := s.InTx(context.Background(), func(tx *storage.Tx) error { return tx.InsertIncident(context.Background(), &inc) }); err != nil {
		t.Fatal(err)
	}
	return inc
}

// oldDatabase is a database of the dialect at schema version upTo, with the
// test directory, closed when the test ends.
func oldDatabase(t *testing.T, dialect string, upTo int) *storage.Store {
	t.Helper()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "old.db")
	if dialect == "postgres" {
		dsn = storagetest.NewPostgresDB(t)
	}
	s, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.MigrateUpTo(ctx, upTo); err != nil {
		t.Fatal(err)
	}
	setup(t, s)
	return s
}
