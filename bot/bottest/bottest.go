// Package bottest holds helpers for tests that run the runtime: deliver
// everything due on a manual clock, and wait for goroutines to do their
// work.
package bottest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/config"
	"github.com/slakeeper/slakeeper/bot/console"
	"github.com/slakeeper/slakeeper/bot/feishu"
	slackadapter "github.com/slakeeper/slakeeper/bot/slack"
	tgadapter "github.com/slakeeper/slakeeper/bot/telegram"
	"github.com/slakeeper/slakeeper/sla/classify"
	"github.com/slakeeper/slakeeper/storage"
)

// Platforms are the platforms a test configuration may name: the program's
// (the root platforms.go lists the same).
var Platforms = chat.NewRegistry(console.Platform, slackadapter.Platform, tgadapter.Platform, feishu.Platform)

// Deliver fires the timers due now and drains the outbox through the
// dispatcher, as the engine and dispatcher loops would.
func Deliver(t testing.TB, e *bot.Engine, d *bot.Dispatcher) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := d.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// Until polls until cond holds, for up to ten seconds. It waits for other
// goroutines to do their work, never for a deadline: clocks in these tests
// are manual.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// Logs is a log destination that tests may read while goroutines write.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }

// String returns everything logged so far.
func (l *Logs) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// Configure parses a test configuration and loads its directory into the
// store.
func Configure(t testing.TB, s *storage.Store, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), Platforms)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SyncDirectory(context.Background(), cfg.Directory); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Percentile returns the p-th percentile (0-100) of ds by the nearest-rank
// method; ds is sorted in place.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(math.Ceil(p / 100 * float64(len(ds))))
	return ds[min(max(rank, 1), len(ds))-1]
}

// Millis is d in milliseconds, for benchmark metrics.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// UnsureClassifier is the shipped model deciding only what it is nearly
// certain of, so that an ordinary message goes to triage whatever the
// model's details: for tests of triage.
func UnsureClassifier(s *storage.Store) *bot.Classifier {
	c := bot.NewClassifier(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.Use(classify.Default().WithThresholds(classify.Thresholds{NotFault: 0.999, Fault: 0.9999}))
	return c
}

// Poisonous is a router that fails one delivery (by its EventID) every
// time it comes, as a text the database refuses would: the generic path
// for any inbound that can never be stored.
type Poisonous struct {
	Handler chat.Handler
	EventID string
	Err     error // the failure; nil: the database refuses this delivery
}

// Handle fails the poisonous delivery and hands the others on.
func (p Poisonous) Handle(ctx context.Context, in chat.Inbound) ([]chat.Outbound, error) {
	if in.EventID == p.EventID {
		if p.Err != nil {
			return nil, p.Err
		}
		return nil, errors.New("insert message: the database refuses this delivery")
	}
	return p.Handler.Handle(ctx, in)
}
