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

// As many transactions in flight as the pool has connections (20), each
// running a statement the cache has not prepared yet: stmtCache.get
// prepares on the pool, which needs a 21st connection while every
// transaction holds one. Nobody can go on.
func TestAFullPoolOfTransactionsGoesOn(t *testing.T) {
	s := storagetest.Postgres(t)
	const inFlight = 20 // Open's SetMaxOpenConns
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
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
				_, err := tx.MarkInbound(ctx, "test", fmt.Sprintf("ev-%d", i), t0)
				return err
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("transaction %d: %v", i, err)
		}
	}
}
