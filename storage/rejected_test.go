package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// A delivery that fails is counted by its platform and delivery id; the
// attempt that reaches the limit sets it aside, once, and later attempts
// find it set aside still. Only set-aside deliveries are listed, newest
// first.
func TestRejectedInbound(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		fail := func(platform, id string, at time.Time) (int, bool) {
			t.Helper()
			n, rejected, err := s.RecordInboundFailure(ctx, storage.InboundFailure{Platform: platform, DeliveryID: id,
				ErrorCode: "22021", ErrorText: "invalid byte sequence", Excerpt: `{"update_id":1001}`, At: at}, 3)
			if err != nil {
				t.Fatal(err)
			}
			return n, rejected
		}
		for i, want := range []struct {
			n        int
			rejected bool
		}{{1, false}, {2, false}, {3, true}, {4, true}} {
			if n, rejected := fail("telegram", "u1001", t0.Add(time.Duration(i)*time.Second)); n != want.n || rejected != want.rejected {
				t.Fatalf("attempt %d: %d, %v", i+1, n, rejected)
			}
		}
		if n, rejected := fail("slack", "u1001", t0); n != 1 || rejected {
			t.Fatalf("another platform's delivery of the same id: %d, %v", n, rejected)
		}
		fail("telegram", "u1002", t0)
		list, err := s.RejectedInbounds(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("rejected %+v", list)
		}
		r := list[0]
		if r.Platform != "telegram" || r.DeliveryID != "u1001" || r.Attempts != 4 || r.ErrorCode != "22021" ||
			r.Excerpt != `{"update_id":1001}` || !r.FirstSeen.Equal(t0.Truncate(time.Microsecond)) ||
			!r.LastSeen.Equal(t0.Add(3*time.Second).Truncate(time.Microsecond)) || !r.RejectedAt.Equal(t0.Add(2*time.Second).Truncate(time.Microsecond)) {
			t.Fatalf("rejected %+v", r)
		}
		// Pruning forgets the counts of deliveries never set aside, and
		// keeps the set-aside ones for the admins.
		if _, err := s.PruneInbound(ctx, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n, rejected := fail("telegram", "u1002", t0.Add(2*time.Hour)); n != 1 || rejected {
			t.Fatalf("a pruned count went on: %d, %v", n, rejected)
		}
		if list, _ := s.RejectedInbounds(ctx, 10); len(list) != 1 || list[0].DeliveryID != "u1001" {
			t.Fatalf("pruning lost a set-aside delivery: %+v", list)
		}
		if _, _, err := s.RecordInboundFailure(ctx, storage.InboundFailure{Platform: "Tele gram", DeliveryID: "x", At: t0}, 3); err == nil {
			t.Fatal("a platform name the registry cannot have was stored")
		}
	})
}

// Replicas failing the same delivery at once each count, and exactly one
// of them sees the attempt that sets it aside.
func TestRejectedInboundConcurrent(t *testing.T) {
	s := storagetest.Postgres(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	counts := make([]int, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], _, errs[i] = s.RecordInboundFailure(ctx, storage.InboundFailure{Platform: "telegram", DeliveryID: "u7", At: t0}, 3)
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for i := range 8 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		seen[counts[i]] = true
	}
	if len(seen) != 8 {
		t.Fatalf("attempts seen %v", counts)
	}
}

func TestTransient(t *testing.T) {
	if !storage.Transient(fmt.Errorf("x: %w", context.DeadlineExceeded)) || storage.Transient(errors.New("boom")) {
		t.Fatal("Transient")
	}
	if storage.ErrorCode(errors.New("boom")) != "" {
		t.Fatal("ErrorCode of a plain error")
	}
}
