package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// A request that reaches group commit after Close, on a store that never
// used it, must get an error, not wait forever (the queue and the stop
// channel are nil: stopGroup's once.Do(func(){}) never made them).
func TestInGroupTxAfterCloseReturns(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		s.Close()
		done := make(chan error, 1)
		go func() {
			done <- s.InGroupTx(context.Background(), func(*storage.Tx) error { return nil })
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Error("a transaction ran on a closed store")
			}
		case <-time.After(3 * time.Second):
			t.Fatal("InGroupTx after Close never returns")
		}
	})
}

// TestAFullPoolOfTransactionsGoesOn: with every connection of the pool in
// a transaction, each transaction's statements still run, whether the
// store has prepared them yet (the first round: nothing waits for the
// preparing) or not (the second: each is prepared on the transaction's own
// connection, never on a second one from the pool, which would wait for a
// 21st connection while every transaction holds one). And a transaction's
// statements do run prepared.
func TestAFullPoolOfTransactionsGoesOn(t *testing.T) {
	s := storagetest.Postgres(t)
	const inFlight = 20 // Open's SetMaxOpenConns
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	round := func(r int) {
		t.Helper()
		var all sync.WaitGroup
		all.Add(inFlight)
		errs := make([]error, inFlight)
		var wg sync.WaitGroup
		for i := range inFlight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.InTx(ctx, func(tx *storage.Tx) error {
					all.Done()
					all.Wait() // every connection of the pool is in a transaction
					_, err := tx.MarkInbound(ctx, "test", fmt.Sprintf("ev-%d-%d", r, i), t0)
					return err
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, transaction %d: %v", r, i, err)
			}
		}
	}
	round(1)
	for s.StatementsPrepared() == 0 { // the store prepares in the background
		if ctx.Err() != nil {
			t.Fatal("the statement was never prepared")
		}
		time.Sleep(5 * time.Millisecond)
	}
	round(2)
	err := s.InTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.MarkInbound(ctx, "test", "ev-prepared", t0); err != nil {
			return err
		}
		n, err := tx.PreparedOnConnection(ctx)
		if err == nil && n == 0 {
			t.Error("the transaction's statement did not run prepared")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
