package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Announcer makes the contract's scheduled posts: inspection and health
// check notices in the customer channels a week ahead and on the day, with
// their checklists, and warranty warnings to the managers. Each post is
// keyed (job, customer, period) in storage in the same transaction as its
// messages, so a restart or a second replica never posts it twice; a post
// missed during downtime is made on the next tick if it is still useful,
// and recorded as skipped (with a log line) if it is stale.
type Announcer struct {
	Svc      *Service
	Calendar sla.Calendar
	Clock    Clock
	Log      *slog.Logger
	// Lookback is how far back a tick looks for missed posts; default 31 days.
	Lookback time.Duration
}

// Tick makes every post due now that was not made yet, and returns how many
// it posted.
func (a *Announcer) Tick(ctx context.Context) (int, error) {
	now := a.Clock.Now()
	lookback := a.Lookback
	if lookback == 0 {
		lookback = 31 * 24 * time.Hour
	}
	posted := 0
	for _, cu := range a.Svc.Dir.Customers() {
		for _, p := range a.Calendar.Posts(cu, now, lookback, nil) {
			stale := !now.Before(p.Stale)
			status := "posted"
			if stale {
				status = "skipped"
			}
			var fresh bool
			err := a.Svc.Store.InTx(ctx, func(tx *storage.Tx) error {
				var err error
				if fresh, err = tx.ClaimPost(ctx, p.Job, p.CustomerID, p.Period, status, now); err != nil || !fresh || stale {
					return err
				}
				return tx.Enqueue(ctx, now, a.messages(cu, p)...)
			})
			if err != nil {
				return posted, err
			}
			switch {
			case fresh && stale:
				a.Log.Info("scheduled post skipped: stale after downtime", "job", p.Job, "customer", p.CustomerID, "period", p.Period)
			case fresh:
				posted++
			}
		}
	}
	if posted > 0 {
		a.Svc.kick()
	}
	return posted, nil
}

func (a *Announcer) messages(cu sla.Customer, p sla.Post) []storage.Outgoing {
	var out []storage.Outgoing
	msg := func(ch storage.Channel, text string) storage.Outgoing {
		return storage.Outgoing{Platform: ch.Platform, ChatID: ch.ChatID, Kind: "announcement", Body: text}
	}
	switch p.Kind {
	case sla.PostWarranty:
		for _, ch := range a.Svc.Dir.Channels(storage.ChannelManagers, "") {
			l := a.Svc.channelLang(ch)
			out = append(out, msg(ch, i18n.T(l, "calendar.warranty", map[string]any{"customer": cu.Name,
				"end": p.Period, "days": p.DaysLeft})))
		}
	default:
		for _, ch := range a.Svc.Dir.Channels(storage.ChannelCustomer, cu.ID) {
			l := a.Svc.channelLang(ch)
			kind := string(p.Occasion.Kind)
			out = append(out, msg(ch, i18n.T(l, "calendar."+kind+"."+string(p.Kind), map[string]any{"customer": cu.Name,
				"period": p.Occasion.Period, "day": p.Occasion.Day.Format("2006-01-02")})+"\n"+i18n.T(l, "checklist."+kind, nil)))
		}
	}
	return out
}

// Schedule runs jobs on robfig/cron in an explicit zone, each with a
// context; Stop waits for running jobs.
type Schedule struct {
	cron *cron.Cron
	ctx  context.Context
	stop context.CancelFunc
	log  *slog.Logger
}

// NewSchedule returns a stopped schedule in zone.
func NewSchedule(zone *time.Location, log *slog.Logger) *Schedule {
	ctx, stop := context.WithCancel(context.Background())
	return &Schedule{cron: cron.New(cron.WithLocation(zone)), ctx: ctx, stop: stop, log: log}
}

// Add runs job on a cron spec ("* * * * *", "@every 1m").
func (s *Schedule) Add(spec, name string, job func(ctx context.Context) error) error {
	_, err := s.cron.AddFunc(spec, func() {
		if err := job(s.ctx); err != nil {
			s.log.Error("scheduled job failed", "job", name, "err", err)
		}
	})
	return err
}

// Start starts the schedule.
func (s *Schedule) Start() { s.cron.Start() }

// Stop stops scheduling, cancels the jobs' context and waits for running
// jobs to return.
func (s *Schedule) Stop() {
	done := s.cron.Stop()
	s.stop()
	<-done.Done()
}
