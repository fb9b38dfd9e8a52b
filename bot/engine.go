package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
)

// Engine fires due timers: reminders before deadlines, breaches at them,
// escalations after them, weekly follow-ups and report reminders. Each
// incident's due timers are handled in one transaction that marks them
// fired, writes the timeline, records breaches, schedules what comes next
// and writes the messages to the outbox.
//
// Several replicas may run engines on one PostgreSQL database: an incident
// another engine (or a person's change) holds is skipped and picked up on
// the next round, so every timer fires once.
type Engine struct {
	Svc   *Service
	Clock chat.Clock
	Log   *slog.Logger
	// Batch is how many incidents one round handles.
	Batch int
	// MaxSleep bounds how long Run sleeps without looking, so timers written
	// by other replicas are seen.
	MaxSleep time.Duration
	// Kick, if set, wakes the dispatcher after a round wrote messages.
	Kick func()

	wake waker
}

// NewEngine returns an engine with batches of 100 and a 10-second bound on
// sleep.
func NewEngine(svc *Service, clock chat.Clock, log *slog.Logger) *Engine {
	return &Engine{Svc: svc, Clock: clock, Log: log, Batch: 100, MaxSleep: 10 * time.Second, wake: newWaker()}
}

// Wake makes Run look again at once, because timers were just written. It
// never blocks.
func (e *Engine) Wake() { e.wake.wake() }

// Run fires timers until ctx is cancelled, sleeping until the next one is
// due (at most MaxSleep) unless woken. A round in progress is finished
// before it returns.
func (e *Engine) Run(ctx context.Context) {
	loop(ctx, e.wake, DrainTimeout, func(ctx context.Context) time.Duration {
		if _, err := e.RunOnce(ctx); err != nil {
			e.Log.Error("engine round", "err", err)
		}
		sleep := e.MaxSleep
		if next, ok, err := e.Svc.NextTimerDue(ctx); err == nil && ok {
			wait := next.Sub(e.Clock.Now())
			if wait <= 0 {
				// A timer still due now belongs to an incident another replica or
				// a person holds: look again shortly, without spinning.
				wait = 50 * time.Millisecond
			}
			sleep = min(sleep, wait)
		}
		return sleep
	})
}

// RunOnce handles every incident with timers due now and returns how many
// timers fired.
func (e *Engine) RunOnce(ctx context.Context) (int, error) {
	now := e.Clock.Now()
	total := 0
	skipped := map[int64]bool{}
	for {
		ids, err := e.Svc.DueIncidents(ctx, now, e.Batch+len(skipped))
		if err != nil {
			return total, err
		}
		progress := false
		for _, id := range ids {
			if skipped[id] {
				continue
			}
			n, err := e.Svc.FireTimers(ctx, id, now)
			if err != nil {
				e.Log.Error("fire timers", "incident", id, "err", err)
				skipped[id] = true
				continue
			}
			if n == 0 {
				skipped[id] = true // held by someone else; next round
				continue
			}
			total += n
			progress = true
		}
		if !progress {
			break
		}
	}
	if total > 0 && e.Kick != nil {
		e.Kick()
	}
	return total, nil
}
