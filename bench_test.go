package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

const (
	memIncidents = 100_000
	memDue       = 2_000
	memEvents    = 200
	memSecret    = "mem-signing-secret"
)

// seededBotConfig is a configuration for storagetest.SeedOpen's customers
// on Slack: c00's customer channel, the engineers' and managers' channels,
// a lead who asks for digests.
func seededBotConfig() string {
	var b strings.Builder
	b.WriteString("customers:\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  - {id: c%02d, name: Customer %d}\n", i, i)
	}
	b.WriteString(`people:
  - {id: wang, name: Wang, role: engineer, slack: UWANG}
  - {id: zhao, name: Zhao, role: lead, slack: ULEAD}
channels:
  - {platform: slack, id: C00, kind: customer, customer: c00}
  - {platform: slack, id: CENG, kind: engineering}
  - {platform: slack, id: CMGR, kind: managers}
oncall:
  people: [wang]
`)
	return b.String()
}

// BenchmarkServeMemory measures the resident memory of the slakeeper binary
// serving Slack over HTTP on PostgreSQL with 100,000 open incidents (900,000
// pending timers): it starts with 2,000 reminders overdue (a restart after
// downtime), takes 200 new fault reports and answers /digest daily and
// /status for a customer while /proc/<pid>/status is read every 100ms.
// peak-MB is VmHWM, the most the process ever held; end-MB is VmRSS at the
// end.
//
//	go test . -run '^$' -bench ServeMemory -benchtime 1x
func BenchmarkServeMemory(b *testing.B) {
	bin := buildBinary(b)
	for b.Loop() {
		dsn := storagetest.NewPostgresDB(b)
		ctx := context.Background()
		s, err := storage.Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		storagetest.SeedOpen(b, s, storagetest.Open{N: memIncidents, DueSoon: memDue, Start: time.Now().Add(-time.Minute), Window: 30 * time.Second})
		fake := fakeslack.New("xoxb-mem", "", "C00", "CENG", "CMGR")
		proc := newProcess(b, dsn, seededBotConfig(), fake, memSecret)
		proc.bin = bin
		proc.start()
		pid := proc.pid()
		var peak, cur int
		sample := func() {
			if c, p, err := rssKB(pid); err == nil {
				cur, peak = c, max(peak, p)
			}
		}
		for i := range memEvents {
			ts := fmt.Sprintf("1764032400.%06d", i)
			fake.Said("C00", ts, "UCUST", "the whole cluster is down")
			if code := proc.post("/slack/events", "application/json", event(fmt.Sprintf("EvM%d", i), "C00", "UCUST", ts,
				fmt.Sprintf("separate issue: the whole cluster is down, report %d", i)), memSecret); code != 200 {
				b.Fatalf("event %d: %d\n%s", i, code, proc.log())
			}
			if i%20 == 0 {
				sample()
			}
		}
		for n, c := range []string{"daily", ""} {
			cmd, text := "/digest", c
			if c == "" {
				cmd, text = "/status", "c00"
			}
			if code := proc.post("/slack/commands", "application/x-www-form-urlencoded",
				command("ULEAD", "CENG", cmd, text, fake.ResponseURL("mem"), n), memSecret); code != 200 {
				b.Fatalf("%s: %d", cmd, code)
			}
		}
		// Until the engine has fired every overdue reminder, and a little more.
		deadline := time.Now().Add(2 * time.Minute)
		for {
			sample()
			var fired int
			if err := s.DB().Get(&fired, `SELECT count(*) FROM timer_slots WHERE track = 'ack' AND (kind <> 'reminder' OR status <> 'pending')`); err != nil {
				b.Fatal(err)
			}
			if fired >= memDue {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d overdue incidents handled", fired, memDue)
			}
			time.Sleep(100 * time.Millisecond)
		}
		for range 30 {
			sample()
			time.Sleep(100 * time.Millisecond)
		}
		proc.stop()
		fake.Close()
		s.Close()
		b.ReportMetric(float64(peak)/1024, "peak-MB")
		b.ReportMetric(float64(cur)/1024, "end-MB")
	}
}
