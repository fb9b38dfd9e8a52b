package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// Rows held in a transaction (timeline, outbox, messages, slots, threads)
// are there for whatever the transaction reads next, and are written with
// it or not at all.
func TestHeldRowsAreReadBackAndCommittedWithTheTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		setup(t, s)
		inc := openIncident(t, s, "acme")
		at := t0.Add(time.Minute)
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			if err := tx.AppendEvents(ctx, inc.ID, sla.Event{Kind: sla.EventNote, At: at, Actor: "王工", Body: "checking"}); err != nil {
				return err
			}
			tl, err := tx.Timeline(ctx, inc.ID)
			if err != nil || len(tl) != 2 || tl[1].Body != "checking" {
				t.Errorf("the timeline inside the transaction: %+v %v", tl, err)
			}
			if err := tx.InsertMessage(ctx, &storage.Message{At: at, Platform: "slack", ChatID: "C1", MessageID: "m2", CustomerID: "acme",
				AuthorID: "li", AuthorName: "李雷", Body: "还是不行", Decision: sla.DecisionAttached, IncidentID: inc.ID}); err != nil {
				return err
			}
			convs, err := tx.Conversations(ctx, "acme", 5)
			if err != nil || len(convs) != 1 || len(convs[0].Said) != 2 || convs[0].Said[1] != "还是不行" ||
				!convs[0].LastCustomerAt.Equal(at.Truncate(time.Microsecond)) {
				t.Errorf("the conversation inside the transaction: %+v %v", convs, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.Messages(ctx, storage.MessageFilter{CustomerID: "acme"})
		if err != nil || len(ms) != 1 || ms[0].Body != "还是不行" {
			t.Fatalf("messages after the commit: %+v %v", ms, err)
		}

		// A held row the database refuses fails the commit, and nothing of
		// the transaction is written.
		err = s.InTx(ctx, func(tx *storage.Tx) error {
			if err := tx.AppendEvents(ctx, inc.ID, sla.Event{Kind: sla.EventNote, At: at, Actor: "王工", Body: "lost"}); err != nil {
				return err
			}
			return tx.Enqueue(ctx, at, storage.Outgoing{Platform: "slack", ChatID: "C1", IncidentID: ptr(int64(9999)), Kind: "notice", Body: "x"})
		})
		if err == nil {
			t.Fatal("an outbox row of a missing incident committed")
		}
		if tl, _ := s.Timeline(ctx, inc.ID); len(tl) != 2 {
			t.Fatalf("a failed commit left %d timeline events", len(tl))
		}
	})
}

func ptr[T any](v T) *T { return &v }
