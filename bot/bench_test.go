package bot_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// seededConfig is the directory of storagetest.SeedOpen's customers with
// one engineering channel on the console platform.
func seededConfig() string {
	var b strings.Builder
	b.WriteString("customers:\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  - {id: c%02d, name: Customer %d}\n", i, i)
	}
	b.WriteString("people:\n  - {id: wang, name: Wang, role: engineer}\n")
	b.WriteString("channels:\n  - {platform: console, id: eng, kind: engineering}\noncall:\n  people: [wang]\n")
	return b.String()
}

// arrivals records when each incident's first alert reached the platform.
type arrivals struct {
	mu    sync.Mutex
	first map[int64]time.Time
}

func (a *arrivals) Send(_ context.Context, m chat.Outbound) (string, error) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, seen := a.first[m.IncidentID]; !seen && m.Kind == chat.KindAlert {
		a.first[m.IncidentID] = now
	}
	return "", nil
}

func (a *arrivals) count() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.first) }

const (
	latenessTimers  = 100_000
	latenessDue     = 2_000
	latenessWindow  = 20 * time.Second
	latenessLeadIn  = 5 * time.Second
	latenessTimeout = time.Minute
)

// BenchmarkReminderLateness runs the engine and the dispatcher on the wall
// clock over PostgreSQL holding 100,000 pending timers, of which 2,000
// reminders fall due over 20 seconds (100 a second), and measures how late
// each reminder reaches the platform: from its due time to the sender's
// Send, so the engine's round, the outbox and the dispatcher are all in
// it (the platform's own per-channel rate limit is not: see
// BenchmarkDispatcher).
//
//	go test ./bot -run '^$' -bench ReminderLateness -benchtime 1x
func BenchmarkReminderLateness(b *testing.B) {
	for b.Loop() {
		s := storagetest.Postgres(b)
		start := time.Now().Add(latenessLeadIn)
		due := storagetest.SeedOpen(b, s, storagetest.Open{N: (latenessTimers + storagetest.TimersPerIncident - 1) / storagetest.TimersPerIncident,
			DueSoon: latenessDue, Start: start, Window: latenessWindow})
		if time.Now().After(start) {
			b.Fatalf("seeding took longer than the %v lead-in", latenessLeadIn)
		}
		var pending int
		if err := s.DB().Get(&pending, `SELECT count(*) FROM timer_slots WHERE status = 'pending'`); err != nil {
			b.Fatal(err)
		}
		cfg := bottest.Configure(b, s, seededConfig())
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		svc := &bot.Service{Store: s, Dir: sla.NewDirectory(cfg.Directory, sla.Settings{Zone: cfg.Location, DefaultLang: cfg.Lang,
			BasePolicy: cfg.BasePolicy, Rotation: cfg.Rotation})}
		clock := chat.SystemClock{}
		got := &arrivals{first: map[int64]time.Time{}}
		engine := bot.NewEngine(svc, clock, log)
		disp := bot.NewDispatcher(s, map[string]chat.Sender{chat.PlatformConsole: got}, clock, log)
		engine.Kick = disp.Kick
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); engine.Run(ctx) }()
		go func() { defer wg.Done(); disp.Run(ctx) }()
		deadline := start.Add(latenessWindow + latenessTimeout)
		for got.count() < latenessDue && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		if n := got.count(); n < latenessDue {
			b.Fatalf("%d of %d reminders arrived", n, latenessDue)
		}
		late := make([]time.Duration, 0, latenessDue)
		for id, at := range due {
			late = append(late, got.first[id].Sub(at))
		}
		b.ReportMetric(float64(pending), "pending-timers")
		b.ReportMetric(bottest.Millis(bottest.Percentile(late, 50)), "p50-ms")
		b.ReportMetric(bottest.Millis(bottest.Percentile(late, 99)), "p99-ms")
		b.ReportMetric(bottest.Millis(bottest.Percentile(late, 100)), "max-ms")
	}
}
