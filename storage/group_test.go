package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// busyWriters occupies every group-commit writer with a transaction that
// waits, so that what is submitted next queues up and is taken as one
// batch when the first writer is released. It returns the release of each.
func busyWriters(t *testing.T, s *storage.Store) []chan struct{} {
	t.Helper()
	var releases []chan struct{}
	for i := range s.GroupWriters() {
		started, release := make(chan struct{}), make(chan struct{})
		go s.InGroupTx(context.Background(), func(tx *storage.Tx) error {
			select {
			case <-started:
			default:
				close(started)
			}
			<-release
			_, err := tx.MarkInbound(context.Background(), "test", fmt.Sprintf("blocker-%d", i), t0)
			return err
		})
		<-started // taken by a writer of its own: the others were busy
		releases = append(releases, release)
	}
	t.Cleanup(func() {
		for _, r := range releases {
			select {
			case <-r:
			default:
				close(r)
			}
		}
	})
	return releases
}

// submit runs n transactions concurrently through group commit, fn(i) each,
// once they are all queued behind busy writers, and returns their errors.
func submit(t *testing.T, s *storage.Store, n int, fn func(i int, tx *storage.Tx) error) []error {
	t.Helper()
	releases := busyWriters(t, s)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.InGroupTx(context.Background(), func(tx *storage.Tx) error { return fn(i, tx) })
		}()
	}
	// Let them all queue (each send blocks until a writer is free), then free
	// one writer: it takes the first and every other one waiting.
	waitQueued(t, s, n)
	close(releases[0])
	wg.Wait()
	return errs
}

func inbound(t *testing.T, s *storage.Store, id string) bool {
	t.Helper()
	var n int
	if err := s.DB().Get(&n, s.DB().Rebind(`SELECT count(*) FROM inbound_events WHERE platform = 'test' AND event_id = ?`), id); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestGroupCommitOneBadRequest: a batch in which one request fails (a
// foreign key it breaks, after writing) commits the others; the bad one
// gets its own error and leaves nothing behind.
func TestGroupCommitOneBadRequest(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		const n, bad = 12, 5
		_, beforeReqs := s.GroupStats()
		errs := submit(t, s, n, func(i int, tx *storage.Tx) error {
			if _, err := tx.MarkInbound(ctx, "test", fmt.Sprintf("ev-%d", i), t0); err != nil {
				return err
			}
			if i == bad {
				w := sla.CriticalWindow{CustomerID: "nobody", Start: t0, End: t0.Add(1)}
				return tx.AddCriticalWindow(ctx, &w, "wang")
			}
			return nil
		})
		for i, err := range errs {
			if (i == bad) != (err != nil) {
				t.Errorf("request %d: %v", i, err)
			}
			if got := inbound(t, s, fmt.Sprintf("ev-%d", i)); got != (i != bad) {
				t.Errorf("request %d committed: %v", i, got)
			}
		}
		if sla.ErrorCode(errs[bad]) != sla.EINVALID {
			t.Errorf("the bad request's error: %v (%s)", errs[bad], sla.ErrorCode(errs[bad]))
		}
		// The bad one ran alone; the others committed in batches, not alone.
		if _, reqs := s.GroupStats(); reqs-beforeReqs < n-1 {
			t.Errorf("%d requests committed in batches, want at least %d", reqs-beforeReqs, n-1)
		}
	})
}

// TestGroupCommitSharesOneTransaction: requests queued together are written
// as one batch, and the dedupe of a delivery stays exact inside it: of two
// requests carrying the same delivery id, one is fresh.
func TestGroupCommitSharesOneTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		beforeBatches, beforeReqs := s.GroupStats()
		const n = 10
		var mu sync.Mutex
		fresh := 0
		errs := submit(t, s, n, func(i int, tx *storage.Tx) error {
			id := fmt.Sprintf("ev-%d", i)
			if i >= n-2 {
				id = "ev-twice" // a platform's retry arriving with the original
			}
			f, err := tx.MarkInbound(ctx, "test", id, t0)
			if f && id == "ev-twice" {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if fresh != 1 {
			t.Errorf("the same delivery was fresh %d times", fresh)
		}
		batches, reqs := s.GroupStats()
		// The blocker that was released, then the queue: one batch of n, or at
		// most a few if another writer was freed meanwhile.
		if reqs-beforeReqs < n || batches-beforeBatches > 3 {
			t.Errorf("%d requests in %d batches", reqs-beforeReqs, batches-beforeBatches)
		}
	})
}

// waitQueued waits until n requests wait for a writer.
func waitQueued(t *testing.T, s *storage.Store, n int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); s.GroupWaiting() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d of %d requests queued", s.GroupWaiting(), n)
		}
	}
}

// TestGroupCommitLeavesOutAGoneCaller: a request whose caller has gone by
// the time its turn in a batch comes is answered with its context's error
// and never runs; the others commit in that batch, each run once.
func TestGroupCommitLeavesOutAGoneCaller(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		releases := busyWriters(t, s)
		const n, gone = 6, 3
		gate := make(chan struct{}) // the first request waits here
		goneCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		var mu sync.Mutex
		runs := make([]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			c := ctx
			if i == gone {
				c = goneCtx
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.InGroupTx(c, func(tx *storage.Tx) error {
					mu.Lock()
					runs[i]++
					mu.Unlock()
					if i == 0 {
						<-gate
					}
					_, err := tx.MarkInbound(ctx, "test", fmt.Sprintf("gone-%d", i), t0)
					return err
				})
			}()
			waitQueued(t, s, i+1) // queued in order: request 0 runs first
		}
		close(releases[0])
		// Request 0 runs (the batch is taken): the gone one's caller leaves.
		for end := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			mu.Lock()
			started := runs[0] > 0
			mu.Unlock()
			if started {
				break
			}
			if time.Now().After(end) {
				t.Fatal("the batch did not start")
			}
		}
		cancel()
		close(gate)
		wg.Wait()
		for i := range n {
			switch {
			case i == gone:
				if errs[i] != context.Canceled || runs[i] != 0 || inbound(t, s, fmt.Sprintf("gone-%d", i)) {
					t.Errorf("the gone request: %v, ran %d times", errs[i], runs[i])
				}
			case errs[i] != nil || runs[i] != 1 || !inbound(t, s, fmt.Sprintf("gone-%d", i)):
				t.Errorf("request %d: %v, ran %d times", i, errs[i], runs[i])
			}
		}
	})
}

// TestGroupCommitNeverWaitsHoldingOthersLocks: a batch that meets a row
// another transaction holds, while it holds a row that transaction waits
// for, gives its locks up at once and runs each request alone: the other
// transaction (a command, say) goes on and nobody fails. Waiting would be
// a deadlock that PostgreSQL breaks after a second by failing one side.
func TestGroupCommitNeverWaitsHoldingOthersLocks(t *testing.T) {
	s := storagetest.Postgres(t)
	ctx := context.Background()
	setup(t, s)
	x, y := openIncident(t, s, "acme"), openIncident(t, s, "acme")
	releases := busyWriters(t, s)

	xLocked, yLocked := make(chan struct{}), make(chan struct{})
	var yOnce sync.Once
	cmd := make(chan error, 1)
	go func() { // a command: locks x, then (once the batch holds y) y
		cmd <- func() error {
			tx, err := s.DB().BeginTxx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			// The command looks for a deadlock soon after it starts waiting
			// (the batch's connections after the default second): if the
			// batch waited for x while holding y, the command would fail.
			if _, err := tx.ExecContext(ctx, `SET LOCAL deadlock_timeout = '50ms'`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `SELECT id FROM incidents WHERE id = $1 FOR UPDATE`, x.ID); err != nil {
				return err
			}
			close(xLocked)
			<-yLocked
			if _, err := tx.ExecContext(ctx, `SELECT id FROM incidents WHERE id = $1 FOR UPDATE`, y.ID); err != nil {
				return err
			}
			return tx.Commit()
		}()
	}()
	<-xLocked

	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, id := range []int64{y.ID, x.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.InGroupTx(ctx, func(tx *storage.Tx) error {
				if _, err := tx.IncidentForUpdate(ctx, id); err != nil {
					return err
				}
				if id == y.ID {
					yOnce.Do(func() { close(yLocked) })
				}
				return nil
			})
		}()
		waitQueued(t, s, i+1)
	}
	close(releases[0])
	wg.Wait()
	if err := <-cmd; err != nil {
		t.Errorf("the command failed: %v", err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
}
