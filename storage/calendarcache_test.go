package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

func onCallAt(t *testing.T, s *storage.Store, at time.Time) []string {
	t.Helper()
	var ids []string
	err := s.InTx(context.Background(), func(tx *storage.Tx) error {
		os, err := tx.Overrides(context.Background(), at)
		for _, o := range os {
			ids = append(ids, o.PersonID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func windowsOf(t *testing.T, s *storage.Store, customer string, at time.Time) int {
	t.Helper()
	var n int
	err := s.InTx(context.Background(), func(tx *storage.Tx) error {
		ws, err := tx.CriticalWindows(context.Background(), customer, at)
		n = len(ws)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The overrides and critical windows an intake reads are held in memory: a
// write through the store is seen by its next transaction at once, and by
// the writing transaction itself; a write through another replica's store
// within the TTL. What is held is filtered as the queries filter.
func TestCalendarHeldInMemory(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		if got := onCallAt(t, s, t0); len(got) != 0 {
			t.Fatalf("on call before any override: %v", got)
		}
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			if err := tx.AddOverride(ctx, sla.Override{PersonID: "wang", Start: t0, End: t0.Add(time.Hour), By: "wang"}); err != nil {
				return err
			}
			os, err := tx.Overrides(ctx, t0)
			if err == nil && len(os) != 1 {
				t.Errorf("the writing transaction sees %d overrides", len(os))
			}
			w := sla.CriticalWindow{CustomerID: "acme", Start: t0, End: t0.Add(24 * time.Hour), Note: "year-end close"}
			return tx.AddCriticalWindow(ctx, &w, "wang")
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := onCallAt(t, s, t0); len(got) != 1 || got[0] != "wang" {
			t.Fatalf("on call after the override: %v", got)
		}
		if got := onCallAt(t, s, t0.Add(2*time.Hour)); len(got) != 0 {
			t.Fatalf("an override that ended: %v", got)
		}
		if windowsOf(t, s, "acme", t0) != 1 || windowsOf(t, s, "globex", t0) != 0 || windowsOf(t, s, "", t0) != 1 ||
			windowsOf(t, s, "acme", t0.Add(25*time.Hour)) != 0 {
			t.Fatal("critical windows filtered wrong")
		}
	})
}

func TestCalendarSeenByAnotherReplica(t *testing.T) {
	dsn := storagetest.NewPostgresDB(t)
	ctx := context.Background()
	open := func() *storage.Store {
		s, err := storage.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open(), open()
	setup(t, a)
	b.SetCalendarTTL(100 * time.Millisecond)
	if got := onCallAt(t, b, t0); len(got) != 0 { // b holds the empty table now
		t.Fatal(got)
	}
	if err := a.InTx(ctx, func(tx *storage.Tx) error {
		return tx.AddOverride(ctx, sla.Override{PersonID: "wang", Start: t0, End: t0.Add(time.Hour), By: "wang"})
	}); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); len(onCallAt(t, b, t0)) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the other replica never saw the override")
		}
	}
}
