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
		n, err := tx.RanPrepared(ctx, "INSERT INTO inbound_events")
		if err == nil && n == 0 {
			t.Error("the transaction's statement did not run prepared")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPreparedStatementOutlivesASchemaChange: another replica's migration
// changes the type of a column a prepared statement returns. PostgreSQL
// then refuses the statement on every connection that prepared it; the
// store forgets it, the transaction fails transiently (to be run again, not
// quarantined), and the next one runs.
func TestPreparedStatementOutlivesASchemaChange(t *testing.T) {
	s := storagetest.Postgres(t)
	ctx := context.Background()
	setup(t, s)
	inc := openIncident(t, s, "acme")
	read := func() (prepared int, err error) {
		err = s.InTx(ctx, func(tx *storage.Tx) error {
			if _, err := tx.IncidentForUpdate(ctx, inc.ID); err != nil {
				return err
			}
			prepared, err = tx.RanPrepared(ctx, "SELECT")
			return err
		})
		return prepared, err
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		n, err := read()
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the statement never ran prepared")
		}
	}
	if _, err := s.DB().ExecContext(ctx, `ALTER TABLE incidents ALTER COLUMN title TYPE varchar(2000)`); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for range 5 {
		_, err := read()
		if err == nil {
			continue
		}
		failed++
		if !storage.Transient(err) {
			t.Errorf("not transient: %v", err)
		}
	}
	if failed > 1 {
		t.Errorf("%d of 5 transactions failed after the schema change; the first may, the others must not", failed)
	}
}

// TestStatementCacheOff: statement_cache=off in the URL (for a pooler that
// moves transactions between server connections) is the store's, not sent
// to the server, and no statement runs prepared.
func TestStatementCacheOff(t *testing.T) {
	ctx := context.Background()
	dsn := storagetest.NewPostgresDB(t)
	s, err := storage.Open(ctx, dsn+"&statement_cache=off")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			if _, err := tx.MarkInbound(ctx, "test", fmt.Sprintf("ev-%d", i), t0); err != nil {
				return err
			}
			n, err := tx.RanPrepared(ctx, "")
			if err == nil && n > 0 {
				t.Errorf("transaction %d: %d statements ran prepared", i, n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.StatementsPrepared(); n != 0 {
		t.Errorf("%d statements prepared", n)
	}
}
