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

// DrainTimeout is how long a round in progress when the loop is stopped may
// go on before its context is cancelled too: at shutdown the dispatcher
// finishes the sends it started, but a platform that hangs cannot hold the
// process. What is not sent stays in the outbox for the next start.
const DrainTimeout = 10 * time.Second

// loop runs round at once, then again whenever it is woken or the time
// round asked to sleep has passed, until ctx is cancelled. A round in
// progress when ctx is cancelled goes on for up to drain, then its context
// is cancelled as well; loop returns when it has.
func loop(ctx context.Context, w waker, drain time.Duration, round func(context.Context) time.Duration) {
	roundCtx, cancelRounds := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRounds()
	stopWatch := context.AfterFunc(ctx, func() { time.AfterFunc(drain, cancelRounds) })
	defer stopWatch()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w:
		case <-t.C:
		}
		sleep := round(roundCtx)
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(sleep)
	}
}
