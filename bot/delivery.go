package bot

import (
	"context"
	"errors"
	"time"

	"github.com/slakeeper/slakeeper/storage"
)

// delivery is a command's delivery id, carried in the context from the
// router to the transaction that makes the command's effect. That
// transaction marks it seen, so the effect and the dedupe commit together:
// a crash between them cannot lose a redelivered command nor run it twice.
type delivery struct {
	platform, id string
	at           time.Time
	// marked is set once a committed transaction marked the delivery.
	marked bool
}

type deliveryKey struct{}

// withDelivery carries d to the transactions run with ctx.
func withDelivery(ctx context.Context, d *delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}

// errDuplicate is a delivery seen before: its command already ran.
var errDuplicate = errors.New("delivery seen before")

// inTx runs fn in one transaction. When ctx carries a delivery not yet
// marked, the transaction marks it first, and a delivery seen before ends
// it with errDuplicate, changing nothing.
func (s *Service) inTx(ctx context.Context, fn func(tx *storage.Tx) error) error {
	d, _ := ctx.Value(deliveryKey{}).(*delivery)
	if d != nil && d.marked {
		d = nil
	}
	err := s.Store.InTx(ctx, func(tx *storage.Tx) error {
		if d != nil {
			fresh, err := tx.MarkInbound(ctx, d.platform, d.id, d.at)
			if err != nil {
				return err
			}
			if !fresh {
				return errDuplicate
			}
		}
		return fn(tx)
	})
	if err == nil && d != nil {
		d.marked = true
	}
	return err
}
