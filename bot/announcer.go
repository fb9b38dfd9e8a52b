package bot

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Announcer makes the contract's scheduled posts: inspection and health
// check notices in the customer channels a week ahead and on the day, with
// their checklists; daily reminders to the engineers until an occasion's
// report is filed; revisit reminders; the start of critical business
// periods with who is on site; warranty warnings and the daily, weekly and
// quarterly digests to the managers. Each post is keyed (job, customer,
// period) in storage in the same transaction as its messages, so a restart
// or a second replica never posts it twice; a post missed during downtime
// is made on the next tick if it is still useful, and recorded as skipped
// (with a log line) if it is stale.
type Announcer struct {
	Svc *Service
	// Calendar, if set, replaces the directory's calendar.
	Calendar sla.Calendar
	Clock    chat.Clock
	Log      *slog.Logger
	// Lookback is how far back a tick looks for missed posts; default 31 days.
	Lookback time.Duration
}

func (a *Announcer) calendar() sla.Calendar {
	if a.Calendar.At == 0 && a.Calendar.InspectionDay == 0 {
		return a.Svc.Dir.Calendar
	}
	return a.Calendar
}

// Tick makes every post due now that was not made yet, and returns how many
// it posted.
func (a *Announcer) Tick(ctx context.Context) (int, error) {
	now := a.Clock.Now()
	lookback := a.Lookback
	if lookback == 0 {
		lookback = 31 * 24 * time.Hour
	}
	cal := a.calendar()
	posted := 0
	post := func(p sla.Post, msgs func() ([]storage.Outgoing, error)) error {
		stale := !now.Before(p.Stale)
		status := "posted"
		if stale {
			status = "skipped"
		}
		// The messages are rendered outside the transaction (SQLite has one
		// connection), and only for a post not made yet; the claim inside
		// the transaction settles any race.
		if made, err := a.Svc.PostMade(ctx, p); err != nil || made {
			return err
		}
		var out []storage.Outgoing
		if !stale {
			var err error
			if out, err = msgs(); err != nil {
				return err
			}
		}
		fresh, err := a.Svc.MakePost(ctx, p, status, out, now)
		switch {
		case err != nil:
			return err
		case fresh && stale:
			a.Log.Info("scheduled post skipped: stale after downtime", "job", p.Job, "customer", p.CustomerID, "period", p.Period)
		case fresh:
			posted++
		}
		return nil
	}
	for _, cu := range a.Svc.Dir.Customers() {
		done, err := a.done(ctx, cal, cu, now)
		if err != nil {
			return posted, err
		}
		for _, p := range cal.Posts(cu, now, lookback, done) {
			if err := post(p, func() ([]storage.Outgoing, error) { return a.messages(ctx, cu, p, now) }); err != nil {
				return posted, err
			}
		}
	}
	windows, err := a.Svc.CriticalWindows(ctx, "", now)
	if err != nil {
		return posted, err
	}
	for _, w := range windows {
		if now.Before(w.Start) {
			continue
		}
		p := sla.Post{Job: "critical", CustomerID: w.CustomerID, Period: w.Key(), Due: w.Start, Stale: w.End}
		if err := post(p, func() ([]storage.Outgoing, error) { return a.critical(w), nil }); err != nil {
			return posted, err
		}
	}
	for _, p := range cal.Digests(now, lookback) {
		if err := post(p, func() ([]storage.Outgoing, error) { return a.digest(ctx, p, now) }); err != nil {
			return posted, err
		}
	}
	return posted, nil
}

// done reports which occasion reports and revisits a customer has on file.
func (a *Announcer) done(ctx context.Context, cal sla.Calendar, cu sla.Customer, now time.Time) (sla.Done, error) {
	reports, notes, err := a.Svc.OnFile(ctx, cu.ID, now.AddDate(-1, 0, 0))
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, r := range reports {
		have[r.Kind+"/"+r.Period] = true
	}
	for _, n := range notes {
		_, _, period := cal.RevisitPeriod(n.At)
		have[sla.Revisit+"/"+period] = true
	}
	return func(kind, period string) bool { return have[kind+"/"+period] }, nil
}

func announcement(ch sla.Channel, kind, text string) storage.Outgoing {
	return storage.Outgoing{Platform: ch.Platform, ChatID: ch.ChatID, Kind: kind, Body: text}
}

// engineer is who is reminded of a customer's revisits and reports: the
// account's engineer, or whoever is on call.
func (a *Announcer) engineer(ctx context.Context, cu sla.Customer, now time.Time) []string {
	if cu.Engineer != "" {
		return []string{cu.Engineer}
	}
	if cur, _, err := a.Svc.OnCall(ctx, now); err == nil && cur.PersonID != "" {
		return []string{cur.PersonID}
	}
	return nil
}

func (a *Announcer) messages(ctx context.Context, cu sla.Customer, p sla.Post, now time.Time) ([]storage.Outgoing, error) {
	var out []storage.Outgoing
	switch p.Kind {
	case sla.PostWarranty:
		for _, r := range (Audience{Managers: true}).Recipients(a.Svc.Dir) {
			ch := r.Channel
			out = append(out, announcement(ch, "announcement", a.Svc.inLangs(ch, func(l sla.Lang) string {
				return i18n.T(l, "calendar.warranty", map[string]any{"customer": cu.Name, "end": p.Period, "days": p.DaysLeft})
			})))
		}
	case sla.PostReport, sla.PostRevisit:
		who := a.engineer(ctx, cu, now)
		for _, r := range (Audience{Engineers: true}).Recipients(a.Svc.Dir) {
			ch := r.Channel
			text := a.Svc.inLangs(ch, func(l sla.Lang) string {
				if p.Kind == sla.PostReport {
					return i18n.T(l, "calendar.report_due", map[string]any{"customer": cu.Name, "id": cu.ID, "kind": string(p.Occasion.Kind),
						"occasion": i18n.T(l, "occasion."+string(p.Occasion.Kind), nil), "period": p.Occasion.Period,
						"day": p.Occasion.Day.Format("2006-01-02"), "days": p.DaysLeft})
				}
				return i18n.T(l, "calendar."+p.Job, map[string]any{"customer": cu.Name, "id": cu.ID, "period": p.Period})
			})
			m := announcement(ch, "reminder", text)
			m.Mentions = who
			out = append(out, m)
		}
	default:
		for _, r := range (Audience{Customer: cu.ID}).Recipients(a.Svc.Dir) {
			ch := r.Channel
			kind := string(p.Occasion.Kind)
			out = append(out, announcement(ch, "announcement", a.Svc.inLangs(ch, func(l sla.Lang) string {
				return i18n.T(l, "calendar."+kind+"."+string(p.Kind), map[string]any{"customer": cu.Name,
					"period": p.Occasion.Period, "day": p.Occasion.Day.Format("2006-01-02")}) + "\n" + i18n.T(l, "checklist."+kind, nil)
			})))
		}
	}
	return out, nil
}

// critical tells the customer and the engineers that a critical business
// period has begun, and who is on site.
func (a *Announcer) critical(w sla.CriticalWindow) []storage.Outgoing {
	h := commands.Handler{Svc: a.Svc}
	var out []storage.Outgoing
	for _, r := range (Audience{Customer: w.CustomerID, Engineers: true}).Recipients(a.Svc.Dir) {
		ch := r.Channel
		m := announcement(ch, "announcement", a.Svc.inLangs(ch, func(l sla.Lang) string {
			return i18n.T(l, "calendar.critical", h.WindowParams(l, w))
		}))
		if ch.Kind == sla.ChannelEngineering {
			m.Mentions = w.Onsite
		}
		out = append(out, m)
	}
	return out
}

// digest renders a digest once per language and posts it to each
// managers' channel in the channel's language; the quarterly report comes
// with its chart and CSV.
func (a *Announcer) digest(ctx context.Context, p sla.Post, now time.Time) ([]storage.Outgoing, error) {
	name := commands.Namer(func(id string) string {
		if c, ok := a.Svc.Dir.Customer(id); ok {
			return c.Name
		}
		return id
	})
	type rendered struct {
		text  string
		files []chat.File
	}
	render := func(f i18n.Format) (rendered, error) {
		switch p.Digest {
		case sla.DigestDaily:
			d, err := a.Svc.DailyDigest(ctx, "", p.To)
			return rendered{text: commands.DailyText(f, d, name)}, err
		case sla.DigestWeekly:
			st, err := a.Svc.Stats(ctx, "", p.From, p.To, now)
			return rendered{text: commands.StatsText(f, i18n.T(f.Lang, "digest.title.weekly", nil), st, name)}, err
		}
		report, fs, err := commands.QuarterReport(ctx, a.Svc, f, p.Period, p.From, p.To, now, "", name)
		return rendered{text: report + "\n" + i18n.T(f.Lang, "digest.files", nil), files: fs}, err
	}
	done := map[sla.Lang]rendered{}
	var out []storage.Outgoing
	for _, r := range (Audience{Managers: true}).Recipients(a.Svc.Dir) {
		ch := r.Channel
		langs := []sla.Lang{a.Svc.channelLang(ch)}
		if ch.Lang == sla.LangBoth {
			langs = sla.LangBoth.Langs()
		}
		var texts []string
		var files []chat.File
		for _, l := range langs {
			r, ok := done[l]
			if !ok {
				var err error
				if r, err = render(a.Svc.Format(l)); err != nil {
					return nil, err
				}
				done[l] = r
			}
			texts, files = append(texts, r.text), append(files, r.files...)
		}
		out = append(out, announcement(ch, "digest", strings.Join(texts, "\n\n")))
		msgs, err := fileMessages(ch.Platform, ch.ChatID, "", "", files)
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	return out, nil
}

// Schedule runs jobs on robfig/cron in an explicit zone, each with a
// context; Stop waits for running jobs.
type Schedule struct {
	cron *cron.Cron
	ctx  context.Context
	stop context.CancelFunc
	log  *slog.Logger

	jobs map[string]cron.Job
	now  sync.WaitGroup // jobs run by RunNow
}

// NewSchedule returns a stopped schedule in zone.
func NewSchedule(zone *time.Location, log *slog.Logger) *Schedule {
	ctx, stop := context.WithCancel(context.Background())
	return &Schedule{cron: cron.New(cron.WithLocation(zone)), ctx: ctx, stop: stop, log: log, jobs: map[string]cron.Job{}}
}

// Add runs job on a cron spec ("* * * * *", "@every 1m"). A job that panics
// is logged and runs again next time (it does not take serve down); a job
// still running when its time comes again is skipped, not run twice.
func (s *Schedule) Add(spec, name string, job func(ctx context.Context) error) error {
	when, err := cron.ParseStandard(spec)
	if err != nil {
		return err
	}
	lg := cronLogger{s.log.With("job", name)}
	run := cron.NewChain(cron.Recover(lg), cron.SkipIfStillRunning(lg)).Then(cron.FuncJob(func() {
		if err := job(s.ctx); err != nil {
			s.log.Error("scheduled job failed", "job", name, "err", err)
		}
	}))
	s.jobs[name] = run
	s.cron.Schedule(when, run)
	return nil
}

// cronLogger is robfig/cron's logger on slog: Recover reports a panic
// through Error, SkipIfStillRunning a skipped run through Info.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Info("schedule: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("schedule: "+msg, append(kv, "err", err)...)
}

// RunNow runs a job at once as well as on its schedule, as serve does with
// the calendar when it starts, so that what came due while it was down is
// posted without waiting for the next minute. Stop waits for it.
func (s *Schedule) RunNow(name string) {
	run, ok := s.jobs[name]
	if !ok {
		return
	}
	s.now.Add(1)
	go func() { defer s.now.Done(); run.Run() }()
}

// Start starts the schedule.
func (s *Schedule) Start() { s.cron.Start() }

// Stop stops scheduling, cancels the jobs' context and waits for running
// jobs to return.
func (s *Schedule) Stop() {
	done := s.cron.Stop()
	s.stop()
	<-done.Done()
	s.now.Wait()
}
