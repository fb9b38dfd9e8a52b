package bot

import (
	"context"
	"time"
)

// waker wakes a loop early. Waking never blocks; wakes while the loop is
// busy fold into one.
type waker chan struct{}

func newWaker() waker { return make(waker, 1) }

func (w waker) wake() {
	select {
	case w <- struct{}{}:
	default:
	}
}

// loop runs round at once, then again whenever it is woken or the time
// round asked to sleep has passed, until ctx is cancelled. A round in
// progress is finished (with a context that is not cancelled) before loop
// returns.
func loop(ctx context.Context, w waker, round func(context.Context) time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w:
		case <-t.C:
		}
		sleep := round(context.WithoutCancel(ctx))
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(sleep)
	}
}
