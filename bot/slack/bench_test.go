package slack_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/slack"
	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// Intake benchmark settings: as many concurrent senders as Slack keeps
// connections open (16), and fewer (1 and 4) for the latency of a quiet
// desk; enough events for stable percentiles.
var intakeRuns = []struct{ clients, events int }{{1, 1000}, {4, 2000}, {16, 4000}}

// BenchmarkIntake measures signed Slack events over HTTP, each a customer's
// fault report, to a durable incident (the 200 is written after the
// incident's transaction commits), beside the raw durable-commit rate of the
// same PostgreSQL database with the same concurrency: one-row INSERTs, each
// its own transaction. The ratio of the two is the figure (issue 16 target
// ≥ 0.5 at 16 clients). Each client count runs on a database of its own.
//
//	go test ./bot/slack -run '^$' -bench Intake -benchtime 1x
func BenchmarkIntake(b *testing.B) {
	for _, run := range intakeRuns {
		b.Run(fmt.Sprintf("clients=%d", run.clients), func(b *testing.B) { benchIntake(b, run.clients, run.events) })
	}
}

func benchIntake(b *testing.B, clients, events int) {
	s := storagetest.Postgres(b)
	fake := fakeslack.New(botToken, "", "CACME", "CENG", "CMGR")
	b.Cleanup(fake.Close)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	cfg := bottest.Configure(b, s, cfgYAML)
	// Every event opens its own incident: the intake limit (which would
	// fold all but the first ten) is out of the way.
	dir := sla.NewDirectory(cfg.Directory, sla.Settings{Zone: cfg.Location, DefaultLang: cfg.Lang, BasePolicy: cfg.BasePolicy, Rotation: cfg.Rotation,
		Flood: sla.NoFloodLimit})
	svc := &bot.Service{Store: s, Dir: dir}
	svc.Classify("warm up") // the shipped model is trained once, as serve does at start
	clock := chat.SystemClock{}
	ad, err := slack.New(context.Background(), slack.Config{BotToken: botToken, SigningSecret: secret, APIURL: fake.APIURL()},
		&bot.Router{Svc: svc, Clock: clock, Log: log}, dir, clock, log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ad.Close)
	mux := http.NewServeMux()
	ad.Routes(mux)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	var rate, commits float64
	var p50, p99 time.Duration
	// The machine's processor time per raw commit and per event, and this
	// process's per event (the load generator's and the bot's).
	var cpuCommit, cpuEvent, cpuGo time.Duration
	for i := 0; b.Loop(); i++ {
		c0, cpuOK := bottest.MachineCPU()
		commits = rawCommitRate(b, s, clients, events)
		c1, _ := bottest.MachineCPU()
		g1, _ := bottest.ProcessCPU()
		start := time.Now()
		lat := sendReports(b, client, srv.URL, clients, events, fmt.Sprintf("EvB%d", i), i)
		rate = float64(events) / time.Since(start).Seconds()
		p50, p99 = bottest.Percentile(lat, 50), bottest.Percentile(lat, 99)
		c2, _ := bottest.MachineCPU()
		g2, _ := bottest.ProcessCPU()
		if cpuOK {
			cpuCommit, cpuEvent, cpuGo = (c1-c0)/time.Duration(events), (c2-c1)/time.Duration(events), (g2-g1)/time.Duration(events)
		}
		var have int
		if err := s.DB().Get(&have, `SELECT count(*) FROM incidents`); err != nil {
			b.Fatal(err)
		}
		if want := (i + 1) * events; have != want {
			b.Fatalf("%d incidents after %d events", have, want)
		}
	}
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(bottest.Millis(p50), "p50-ms")
	b.ReportMetric(bottest.Millis(p99), "p99-ms")
	b.ReportMetric(commits, "commits/s")
	b.ReportMetric(rate/commits, "ratio")
	if cpuEvent > 0 {
		// Where the machine's processors are the limit, the ratio of these
		// two bounds the ratio of the rates.
		b.ReportMetric(float64(cpuEvent)/float64(time.Microsecond), "cpu-us/event")
		b.ReportMetric(float64(cpuCommit)/float64(time.Microsecond), "cpu-us/commit")
		b.ReportMetric(float64(cpuGo)/float64(time.Microsecond), "go-cpu-us/event")
	}
	if batches, reqs := s.GroupStats(); batches > 0 {
		b.ReportMetric(float64(reqs)/float64(batches), "per-batch")
	}
}

// sendReports posts events signed Slack message events, each a customer's
// fault report (benchReport of round), from clients clients at once, and
// returns each one's latency; every answer must be 200. Event ids are
// idPrefix-n.
func sendReports(b *testing.B, client *http.Client, url string, clients, events int, idPrefix string, round int) []time.Duration {
	b.Helper()
	lat := make([]time.Duration, events)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= events {
					return
				}
				body := messageEvent(fmt.Sprintf("%s-%d", idPrefix, n), "CACME", "UCLI", fmt.Sprintf("1764032400.%06d", n), "", benchReport(round, n))
				req, _ := http.NewRequest(http.MethodPost, url+"/slack/events", bytes.NewReader(body))
				req.Header = fakeslack.Sign(secret, body, time.Now())
				req.Header.Set("Content-Type", "application/json")
				t := time.Now()
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat[n] = time.Since(t)
				if res.StatusCode != http.StatusOK {
					b.Errorf("event %d: %d", n, res.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	return lat
}

// rawCommitRate is how many one-row transactions per second the database
// commits durably with the given number of concurrent writers.
func rawCommitRate(b *testing.B, s *storage.Store, clients, n int) float64 {
	b.Helper()
	ctx := context.Background()
	db := s.DB()
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_commits (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		b.Fatal(err)
	}
	var mode string
	if err := db.GetContext(ctx, &mode, `SHOW synchronous_commit`); err != nil || mode == "off" {
		b.Fatalf("synchronous_commit = %q (%v): commits would not be durable", mode, err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if _, err := db.ExecContext(ctx, `INSERT INTO bench_commits (body) VALUES ($1)`, "the whole cluster is down"); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// Dispatcher benchmark settings: a fake Slack that keeps Slack's
// per-channel limit of about one message a second with small bursts.
const (
	dispatchChannels = 20
	dispatchPer      = 15
	dispatchBurst    = 3
)

// BenchmarkDispatcher measures delivery of 300 messages queued at once for
// 20 channels (15 each) through the Slack adapter to a fake Slack that
// answers 429 above one message a second per channel (bursts of 3). The
// best any client can do is 3 at once per channel and then one a second:
// ideal-msgs/s is that bound, msgs/s what the dispatcher achieved, and 429s
// how often it overran the limit.
//
//	go test ./bot/slack -run '^$' -bench Dispatcher -benchtime 1x
func BenchmarkDispatcher(b *testing.B) {
	for b.Loop() {
		s := storagetest.Postgres(b)
		var channels []string
		var yaml bytes.Buffer
		yaml.WriteString("customers: [{id: acme, name: Acme}]\nchannels:\n")
		for i := range dispatchChannels {
			id := fmt.Sprintf("C%03d", i)
			channels = append(channels, id)
			fmt.Fprintf(&yaml, "  - {platform: slack, id: %s, kind: customer, customer: acme}\n", id)
		}
		cfg := bottest.Configure(b, s, yaml.String())
		fake := fakeslack.New(botToken, "", channels...)
		fake.ChannelLimit(time.Second, dispatchBurst)
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		dir := sla.NewDirectory(cfg.Directory, sla.Settings{Zone: cfg.Location, DefaultLang: cfg.Lang, BasePolicy: cfg.BasePolicy})
		clock := chat.SystemClock{}
		ad, err := slack.New(context.Background(), slack.Config{BotToken: botToken, SigningSecret: secret, APIURL: fake.APIURL()},
			&bot.Router{Svc: &bot.Service{Store: s, Dir: dir}, Clock: clock, Log: log}, dir, clock, log)
		if err != nil {
			b.Fatal(err)
		}
		var msgs []storage.Outgoing
		for n := range dispatchPer {
			for _, ch := range channels {
				msgs = append(msgs, storage.Outgoing{Platform: chat.PlatformSlack, ChatID: ch, Kind: "notice", Body: fmt.Sprintf("notice %d to %s", n, ch)})
			}
		}
		start := time.Now()
		if err := s.InTx(context.Background(), func(tx *storage.Tx) error { return tx.Enqueue(context.Background(), start, msgs...) }); err != nil {
			b.Fatal(err)
		}
		disp := bot.NewDispatcher(s, map[string]chat.Sender{chat.PlatformSlack: ad}, clock, log)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); disp.Run(ctx) }()
		total := func() (n int) {
			for _, ch := range channels {
				n += len(fake.Messages(ch))
			}
			return n
		}
		for total() < len(msgs) && time.Since(start) < time.Minute {
			time.Sleep(10 * time.Millisecond)
		}
		elapsed := time.Since(start)
		cancel()
		<-done
		ad.Close()
		fake.Close()
		if n := total(); n != len(msgs) {
			b.Fatalf("%d of %d messages delivered", n, len(msgs))
		}
		ideal := float64(len(msgs)) / (float64(dispatchPer-dispatchBurst) * time.Second.Seconds())
		b.ReportMetric(float64(len(msgs))/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(ideal, "ideal-msgs/s")
		b.ReportMetric(float64(fake.Limited()), "429s")
	}
}
