package bot

import (
	"context"
	"errors"
	"fmt"
)

// Runtime runs the bot one step at a time on a manual clock, for the
// console: what serve's loops do, done once when asked.
type Runtime struct {
	Svc        *Service
	Engine     *Engine
	Announcer  *Announcer // nil: no calendar posts
	Dispatcher *Dispatcher
}

// Step fires the timers and calendar posts due now and delivers the whole
// outbox.
func (r *Runtime) Step(ctx context.Context) error {
	var errs []error
	if _, err := r.Engine.RunOnce(ctx); err != nil {
		errs = append(errs, fmt.Errorf("engine: %w", err))
	}
	if r.Announcer != nil {
		if _, err := r.Announcer.Tick(ctx); err != nil {
			errs = append(errs, fmt.Errorf("calendar: %w", err))
		}
	}
	for {
		n, err := r.Dispatcher.RunOnce(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("dispatch: %w", err))
			break
		}
		if n == 0 {
			break
		}
	}
	return errors.Join(errs...)
}

// ThreadOf is the thread an incident is discussed in, in a chat.
func (r *Runtime) ThreadOf(ctx context.Context, id int64, platform, chatID string) (string, bool, error) {
	threads, err := r.Svc.Threads(ctx, id)
	if err != nil {
		return "", false, err
	}
	for _, t := range threads {
		if t.Platform == platform && t.ChatID == chatID {
			return t.ThreadID, true, nil
		}
	}
	return "", false, nil
}
