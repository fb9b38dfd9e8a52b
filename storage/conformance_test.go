package storage_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.FixedZone("CST", 8*3600))

func directory() sla.Roster {
	return sla.Roster{
		Customers: []sla.Customer{
			{ID: "acme", Name: "Acme", Lang: sla.LangZH, Contract: sla.Contract{AcceptedOn: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}},
			{ID: "globex", Name: "Globex", Lang: sla.LangEN},
		},
		People: []sla.Person{
			{ID: "li", Name: "李雷", Role: sla.RoleCustomer, Lang: sla.LangZH, CustomerID: "acme"},
			{ID: "wang", Name: "王工", Role: sla.RoleEngineer, Lang: sla.LangZH},
		},
		Identities: []sla.Identity{{Platform: "slack", UserID: "U1", PersonID: "li"}, {Platform: "console", UserID: "wang", PersonID: "wang"}},
		Channels: []sla.Channel{
			{Platform: "slack", ChatID: "C1", Kind: sla.ChannelCustomer, CustomerID: "acme", Lang: sla.LangZH},
			{Platform: "slack", ChatID: "C2", Kind: sla.ChannelEngineering, Lang: sla.LangZH},
		},
	}
}

func setup(t *testing.T, s *storage.Store) {
	t.Helper()
	if err := s.SyncDirectory(context.Background(), directory()); err != nil {
		t.Fatal(err)
	}
}

func openIncident(t *testing.T, s *storage.Store, customer string) sla.Incident {
	t.Helper()
	return insertIncident(t, s, customer, true)
}

// insertIncident opens a core incident at t0, with its schedule or not (a
// database at an older schema version keeps it differently).
func insertIncident(t *testing.T, s *storage.Store, customer string, schedule bool) sla.Incident {
	t.Helper()
	ctx := context.Background()
	inc, ev, err := sla.NewIncident(customer, sla.SeverityCore, "集群全部宕机了", "core-failure", sla.Actor{ID: "li", Name: "李雷"}, sla.DefaultPolicy(), t0)
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx *storage.Tx) error {
		if err := tx.InsertIncident(ctx, &inc); err != nil {
			return err
		}
		if err := tx.AppendEvents(ctx, inc.ID, ev); err != nil {
			return err
		}
		if !schedule {
			return nil
		}
		return tx.SaveSlots(ctx, inc.ID, nil, inc.Reschedule(sla.DefaultPolicy(), t0, nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// reschedule brings an incident's slots up to date, as a change does.
func reschedule(ctx context.Context, tx *storage.Tx, inc sla.Incident, now time.Time) error {
	slots, err := tx.Slots(ctx, inc.ID)
	if err != nil {
		return err
	}
	return tx.SaveSlots(ctx, inc.ID, slots, inc.Reschedule(sla.DefaultPolicy(), now, slots))
}

func TestMigrateIsIdempotent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		applied, err := s.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, %v", applied, err)
		}
		have, want, err := s.SchemaVersion(ctx)
		if err != nil || have != want || have < 1 {
			t.Fatalf("schema version %d/%d %v", have, want, err)
		}
	})
}

func TestConcurrentMigrate(t *testing.T) {
	dsn := storagetest.NewPostgresDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	total := make([]int, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := storage.Open(ctx, dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			applied, err := s.Migrate(ctx)
			errs[i], total[i] = err, len(applied)
		}()
	}
	wg.Wait()
	sum := 0
	for i := range 4 {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		sum += total[i]
	}
	_, want, err := storagetest.SQLite(t).SchemaVersion(ctx) // the migrations embedded, numbered 1..n
	if err != nil {
		t.Fatal(err)
	}
	if sum != want {
		t.Fatalf("%d migrations applied %d times across replicas", want, sum)
	}
}

func TestDirectoryRoundTrip(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		setup(t, s)
		setup(t, s) // syncing twice changes nothing
		d, err := s.LoadDirectory(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Customers) != 2 || len(d.People) != 2 || len(d.Identities) != 2 || len(d.Channels) != 2 {
			t.Fatalf("directory %+v", d)
		}
		if !d.Customers[0].Contract.WarrantyEnd.Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("warranty end %v", d.Customers[0].Contract.WarrantyEnd)
		}
		if d.People[0].CustomerID != "acme" || d.Channels[0].CustomerID != "acme" {
			t.Fatalf("links lost: %+v %+v", d.People[0], d.Channels[0])
		}
	})
}

func TestSchemaInvariants(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		bad := []sla.Roster{
			{People: []sla.Person{{ID: "x", Name: "x", Role: "root", Lang: sla.LangZH}}},
			{People: []sla.Person{{ID: "x", Name: "x", Role: sla.RoleCustomer, Lang: sla.LangZH}}},
			{People: []sla.Person{{ID: "x", Name: "x", Role: sla.RoleCustomer, Lang: sla.LangZH, CustomerID: "nobody"}}},
			// The schema checks a platform name's form, not which platforms
			// exist: that is the registry's.
			{Channels: []sla.Channel{{Platform: "IRC chat", ChatID: "x", Kind: sla.ChannelEngineering, Lang: sla.LangZH}}},
			{Channels: []sla.Channel{{Platform: "", ChatID: "x", Kind: sla.ChannelEngineering, Lang: sla.LangZH}}},
			{Channels: []sla.Channel{{Platform: "slack", ChatID: "x", Kind: sla.ChannelCustomer, Lang: sla.LangZH}}},
			{Customers: []sla.Customer{{ID: "x", Name: "x", Lang: "fr"}}},
		}
		for i, d := range bad {
			err := s.SyncDirectory(ctx, d)
			if sla.ErrorCode(err) != sla.EINVALID {
				t.Errorf("case %d: err %v, want EINVALID", i, err)
			}
		}
		// A platform the schema has never heard of needs no migration.
		newcomer := sla.Roster{People: []sla.Person{{ID: "wu", Name: "Wu", Role: sla.RoleEngineer, Lang: sla.LangZH}},
			Identities: []sla.Identity{{Platform: "feishu", UserID: "ou_7d8a6e6d", PersonID: "wu"}},
			Channels:   []sla.Channel{{Platform: "feishu", ChatID: "oc_5ad11d72", Kind: sla.ChannelEngineering, Lang: sla.LangZH}}}
		if err := s.SyncDirectory(ctx, newcomer); err != nil {
			t.Fatalf("a new platform: %v", err)
		}
		setup(t, s)
		inc := openIncident(t, s, "acme")
		inc.Status = "lost"
		err := s.InTx(ctx, func(tx *storage.Tx) error { return tx.UpdateIncident(ctx, inc, inc.Version) })
		if sla.ErrorCode(err) != sla.EINVALID {
			t.Fatalf("bad status: %v", err)
		}
		ghost, _, _ := sla.NewIncident("nobody", sla.SeverityCore, "x", "", sla.Actor{}, sla.DefaultPolicy(), t0)
		err = s.InTx(ctx, func(tx *storage.Tx) error { return tx.InsertIncident(ctx, &ghost) })
		if sla.ErrorCode(err) != sla.EINVALID {
			t.Fatalf("unknown customer: %v", err)
		}
	})
}

func TestIncidentRoundTrip(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		inc := openIncident(t, s, "acme")
		got, err := s.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.ReportedAt.Equal(t0.Truncate(time.Microsecond)) || !got.Deadlines.Onsite.Equal(t0.Add(2*time.Hour).Truncate(time.Microsecond)) ||
			got.Title != inc.Title || got.Status != sla.StatusOpen || got.ReportedBy != "li" || got.Version != 1 {
			t.Fatalf("round trip: %+v", got)
		}
		if _, err := s.Incident(ctx, inc.ID+100); sla.ErrorCode(err) != sla.ENOTFOUND {
			t.Fatalf("missing incident: %v", err)
		}
	})
}

// A state change and its consequences commit together or not at all.
func TestChangeIsOneTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		inc := openIncident(t, s, "acme")
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			cur, err := tx.IncidentForUpdate(ctx, inc.ID)
			if err != nil {
				return err
			}
			prev := cur.Version
			ev, err := cur.Acknowledge(sla.Actor{ID: "wang"}, t0.Add(time.Minute))
			if err != nil {
				return err
			}
			tx.UpdateIncident(ctx, cur, prev)
			tx.AppendEvents(ctx, cur.ID, ev)
			reschedule(ctx, tx, cur, t0)
			tx.Enqueue(ctx, t0, storage.Outgoing{Platform: "slack", ChatID: "C1", IncidentID: &cur.ID, Kind: "status", Body: "acked"})
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		got, _ := s.Incident(ctx, inc.ID)
		tl, _ := s.Timeline(ctx, inc.ID)
		timers, _ := s.PendingTimers(ctx, inc.ID)
		out, _ := s.OutboxFor(ctx, inc.ID)
		if got.Status != sla.StatusOpen || len(tl) != 1 || len(timers) != 4 || len(out) != 0 {
			t.Fatalf("rolled back change left traces: status %s, %d events, %d timers, %d outbox", got.Status, len(tl), len(timers), len(out))
		}
	})
}

func TestOptimisticLock(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		inc := openIncident(t, s, "acme")
		stale := inc
		inc.Acknowledge(sla.Actor{ID: "wang"}, t0)
		if err := s.InTx(ctx, func(tx *storage.Tx) error { return tx.UpdateIncident(ctx, inc, 1) }); err != nil {
			t.Fatal(err)
		}
		stale.Note(sla.Actor{ID: "wang"}, "x", t0)
		err := s.InTx(ctx, func(tx *storage.Tx) error { return tx.UpdateIncident(ctx, stale, 1) })
		if sla.ErrorCode(err) != sla.ECONFLICT {
			t.Fatalf("stale write: %v", err)
		}
	})
}

func TestTimersFollowTheClocks(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		inc := openIncident(t, s, "acme")
		change := func(fn func(*sla.Incident)) {
			t.Helper()
			err := s.InTx(ctx, func(tx *storage.Tx) error {
				cur, err := tx.IncidentForUpdate(ctx, inc.ID)
				if err != nil {
					return err
				}
				prev := cur.Version
				fn(&cur)
				if err := tx.UpdateIncident(ctx, cur, prev); err != nil {
					return err
				}
				return reschedule(ctx, tx, cur, t0)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		clocks := func() map[sla.Clock]int {
			ts, err := s.PendingTimers(ctx, inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			m := map[sla.Clock]int{}
			for _, x := range ts {
				m[x.Clock]++
			}
			return m
		}
		// Per clock the step due next (its reminder); and the weekly follow-up.
		if c := clocks(); c[sla.ClockAck] != 1 || c[sla.ClockOnsite] != 1 || c[sla.ClockRestore] != 1 || c[sla.ClockFollowUp] != 1 {
			t.Fatalf("open: %v", c)
		}
		change(func(i *sla.Incident) { i.Acknowledge(sla.Actor{ID: "wang"}, t0.Add(5*time.Minute)) })
		if c := clocks(); c[sla.ClockAck] != 0 || c[sla.ClockOnsite] != 1 {
			t.Fatalf("after ack: %v", c)
		}
		change(func(i *sla.Incident) {
			i.SetSeverity(sla.Actor{ID: "wang"}, sla.SeverityNoncore, sla.DefaultPolicy(), t0.Add(6*time.Minute))
		})
		// Non-core: no on-site clock; the restore ladder starts again from its
		// new deadline's reminder.
		ts, _ := s.PendingTimers(ctx, inc.ID)
		if len(ts) != 2 || ts[0].Kind != sla.TimerReminder || ts[0].Clock != sla.ClockRestore ||
			!ts[0].DueAt.Equal(t0.Add(24*time.Hour-10*time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("after severity change: %+v", ts)
		}
		change(func(i *sla.Incident) { i.Restore(sla.Actor{ID: "wang"}, "fixed", t0.Add(time.Hour)) })
		if c := clocks(); len(c) != 1 || c[sla.ClockFollowUp] != 1 {
			t.Fatalf("after restore: %v", c)
		}
	})
}

func TestInboundDedupe(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		var fresh []bool
		for range 2 {
			s.InTx(ctx, func(tx *storage.Tx) error {
				f, err := tx.MarkInbound(ctx, "slack", "Ev1", t0)
				if err != nil {
					t.Fatal(err)
				}
				fresh = append(fresh, f)
				return nil
			})
		}
		if !fresh[0] || fresh[1] {
			t.Fatalf("fresh = %v", fresh)
		}
		// A rolled-back mark does not count: the event will be handled on retry.
		s.InTx(ctx, func(tx *storage.Tx) error {
			tx.MarkInbound(ctx, "slack", "Ev2", t0)
			return errors.New("crash")
		})
		s.InTx(ctx, func(tx *storage.Tx) error {
			f, _ := tx.MarkInbound(ctx, "slack", "Ev2", t0)
			if !f {
				t.Fatal("rolled back event counted as seen")
			}
			return nil
		})
		// Pruning forgets what was seen before the cut, and only that.
		s.InTx(ctx, func(tx *storage.Tx) error {
			_, err := tx.MarkInbound(ctx, "slack", "Ev3", t0.Add(time.Hour))
			return err
		})
		if n, err := s.PruneInbound(ctx, t0.Add(time.Minute)); err != nil || n != 2 {
			t.Fatalf("pruned %d: %v", n, err)
		}
		for id, want := range map[string]bool{"Ev1": true, "Ev3": false} {
			s.InTx(ctx, func(tx *storage.Tx) error {
				if f, _ := tx.MarkInbound(ctx, "slack", id, t0.Add(2*time.Hour)); f != want {
					t.Errorf("%s fresh = %v after pruning", id, f)
				}
				return nil
			})
		}
	})
}

func TestThreads(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		inc := openIncident(t, s, "acme")
		ref := storage.ThreadRef{Platform: "slack", ChatID: "C1", ThreadID: "1700.1"}
		for range 2 {
			if err := s.InTx(ctx, func(tx *storage.Tx) error { return tx.BindThread(ctx, ref, inc.ID, t0) }); err != nil {
				t.Fatal(err)
			}
		}
		id, ok, err := s.IncidentInThread(ctx, ref)
		if err != nil || !ok || id != inc.ID {
			t.Fatalf("thread lookup %d %v %v", id, ok, err)
		}
		if _, ok, _ := s.IncidentInThread(ctx, storage.ThreadRef{Platform: "slack", ChatID: "C1", ThreadID: "other"}); ok {
			t.Fatal("unknown thread found")
		}
	})
}

func TestListIncidents(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		a1 := openIncident(t, s, "acme")
		openIncident(t, s, "globex")
		a3 := openIncident(t, s, "acme")
		got, err := s.ListIncidents(ctx, storage.IncidentFilter{CustomerID: "acme"})
		if err != nil || len(got) != 2 || got[0].ID != a3.ID || got[1].ID != a1.ID {
			t.Fatalf("list: %v %v", got, err)
		}
		all, _ := s.ListIncidents(ctx, storage.IncidentFilter{ActiveOnly: true})
		if len(all) != 3 {
			t.Fatalf("all active: %d", len(all))
		}
	})
}

// The outbox is claimed in a fair order: in each chat the customers take
// turns, the more urgent first within a turn, and a customer's own
// messages in the order they were written.
func TestOutboxClaimsInTurns(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		a, b := openIncident(t, s, "acme"), openIncident(t, s, "globex")
		msg := func(inc sla.Incident, kind, body string) storage.Outgoing {
			m := storage.Outgoing{Platform: "slack", ChatID: "C2", Kind: kind, Body: body}
			if inc.ID != 0 {
				id := inc.ID
				m.IncidentID = &id
			}
			return m
		}
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			return tx.Enqueue(ctx, t0, msg(a, "alert", "a-alert"), msg(a, "card", "a-card-1"), msg(a, "card", "a-card-2"),
				msg(a, "card", "a-card-3"), msg(sla.Incident{}, "digest", "digest"), msg(b, "alert", "b-alert"), msg(b, "card", "b-card"))
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ClaimOutbox(ctx, t0, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, m := range got {
			order = append(order, m.Body)
		}
		// Turn 1: each customer's first, and the digest (alerts before a
		// digest); turn 2: the next of each; and so on.
		want := "a-alert b-alert digest a-card-1 b-card a-card-2 a-card-3"
		if strings.Join(order, " ") != want {
			t.Fatalf("claimed %q\nwant    %q", strings.Join(order, " "), want)
		}
	})
}

func TestOutboxClaimAndLease(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			return tx.Enqueue(ctx, t0, storage.Outgoing{Platform: "console", ChatID: "eng", Kind: "k", Body: "one"},
				storage.Outgoing{Platform: "console", ChatID: "eng", Kind: "k", Body: "two"})
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ClaimOutbox(ctx, t0, time.Minute, 10)
		if err != nil || len(got) != 2 || got[0].Body != "one" || got[1].Body != "two" || got[0].Attempts != 1 {
			t.Fatalf("claim: %+v %v", got, err)
		}
		if again, _ := s.ClaimOutbox(ctx, t0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
			t.Fatalf("leased messages claimed twice: %d", len(again))
		}
		s.MarkSent(ctx, got[0].ID, "ref-1", t0)
		// The second one's sender died: after the lease it comes back.
		back, _ := s.ClaimOutbox(ctx, t0.Add(2*time.Minute), time.Minute, 10)
		if len(back) != 1 || back[0].Body != "two" || back[0].Attempts != 2 {
			t.Fatalf("after lease: %+v", back)
		}
		s.MarkRetry(ctx, back[0].ID, "429", t0.Add(10*time.Minute))
		if early, _ := s.ClaimOutbox(ctx, t0.Add(5*time.Minute), time.Minute, 10); len(early) != 0 {
			t.Fatal("retry came early")
		}
		s.MarkFailed(ctx, back[0].ID, "channel_not_found")
		if late, _ := s.ClaimOutbox(ctx, t0.Add(time.Hour), time.Minute, 10); len(late) != 0 {
			t.Fatal("failed message claimed")
		}
	})
}

func TestParallelClaimsAreDisjoint(t *testing.T) {
	s := storagetest.Postgres(t)
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		s.InTx(ctx, func(tx *storage.Tx) error {
			return tx.Enqueue(ctx, t0, storage.Outgoing{Platform: "console", ChatID: "eng", Kind: "k", Body: "m"})
		})
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimOutbox(ctx, t0, time.Hour, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 200 {
		t.Fatalf("claimed %d of 200", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("message %d claimed %d times", id, n)
		}
	}
}

func TestDueTimersAndBreaches(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		if _, ok, err := s.NextTimerDue(ctx); ok || err != nil {
			t.Fatalf("no timers yet: %v %v", ok, err)
		}
		a := openIncident(t, s, "acme")
		b := openIncident(t, s, "globex")
		next, ok, err := s.NextTimerDue(ctx)
		if err != nil || !ok || !next.Equal(t0.Add(20*time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("next due %v %v %v", next, ok, err)
		}
		ids, err := s.DueIncidents(ctx, t0.Add(31*time.Minute), 10)
		if err != nil || len(ids) != 2 || ids[0] != a.ID || ids[1] != b.ID {
			t.Fatalf("due incidents %v %v", ids, err)
		}
		err = s.InTx(ctx, func(tx *storage.Tx) error {
			inc, ok, err := tx.ClaimIncident(ctx, a.ID)
			if err != nil || !ok || inc.ID != a.ID {
				t.Fatalf("claim %v %v", ok, err)
			}
			stored, err := tx.Slots(ctx, a.ID)
			if err != nil {
				return err
			}
			due, slots := inc.Fire(sla.DefaultPolicy(), t0.Add(31*time.Minute), stored)
			if len(due) != 2 || due[0].Kind != sla.TimerReminder || due[1].Kind != sla.TimerBreach {
				t.Fatalf("due %+v", due)
			}
			if err := tx.SaveSlots(ctx, a.ID, stored, slots); err != nil {
				return err
			}
			if err := tx.RecordBreach(ctx, a.ID, sla.ClockAck, inc.Deadlines.Ack, t0.Add(31*time.Minute)); err != nil {
				return err
			}
			if err := tx.RecordBreach(ctx, a.ID, sla.ClockAck, inc.Deadlines.Ack, t0.Add(32*time.Minute)); err != nil {
				return err
			}
			return tx.MeetBreaches(ctx, a.ID, sla.ClockAck, inc.Deadlines.Ack.Add(7*time.Minute))
		})
		if err != nil {
			t.Fatal(err)
		}
		if ids, _ := s.DueIncidents(ctx, t0.Add(31*time.Minute), 10); len(ids) != 1 || ids[0] != b.ID {
			t.Fatalf("after firing: %v", ids)
		}
		bs, err := s.Breaches(ctx, a.ID)
		if err != nil || len(bs) != 1 || bs[0].Lateness() != 7*time.Minute {
			t.Fatalf("breaches %+v %v", bs, err)
		}
		// Fired steps are never scheduled again.
		s.InTx(ctx, func(tx *storage.Tx) error { return reschedule(ctx, tx, a, t0) })
		if ids, _ := s.DueIncidents(ctx, t0.Add(31*time.Minute), 10); len(ids) != 1 {
			t.Fatalf("fired timers came back: %v", ids)
		}
	})
}

func TestOnCallOverrides(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			return tx.AddOverride(ctx, sla.Override{PersonID: "wang", Start: t0, End: t0.Add(time.Hour), By: "wang"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if os, _ := s.Overrides(ctx, t0.Add(30*time.Minute)); len(os) != 1 || os[0].PersonID != "wang" || !os[0].End.Equal(t0.Add(time.Hour).Truncate(time.Microsecond)) {
			t.Fatalf("overrides %+v", os)
		}
		if os, _ := s.Overrides(ctx, t0.Add(2*time.Hour)); len(os) != 0 {
			t.Fatalf("expired override returned")
		}
		err = s.InTx(ctx, func(tx *storage.Tx) error {
			return tx.AddOverride(ctx, sla.Override{PersonID: "wang", Start: t0, End: t0})
		})
		if sla.ErrorCode(err) != sla.EINVALID {
			t.Fatalf("empty override: %v", err)
		}
	})
}

func TestLock(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		release, err := s.Lock(ctx, "telegram-poll", 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		// A second holder waits, and gives up when its context ends.
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if _, err := s.Lock(short, "telegram-poll", 10*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("second lock: %v", err)
		}
		other, err := s.Lock(ctx, "another", 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		other()
		got := make(chan func(), 1)
		go func() {
			r, err := s.Lock(ctx, "telegram-poll", 10*time.Millisecond)
			if err != nil {
				t.Error(err)
			}
			got <- r
		}()
		release()
		(<-got)()
	})
}
