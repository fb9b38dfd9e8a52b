package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/slack"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// Ceiling benchmark settings: the intake benchmark's 16 clients; the
// database floor written by 4 writers in batches of 16 intakes (the best
// of the shapes tried, see docs/benchmarks.md); enough work for the
// processor clock's 10 ms ticks.
const (
	ceilingClients  = 16
	ceilingWriters  = 4
	ceilingBatch    = 16
	ceilingIntakes  = 16000
	ceilingWarmUp   = 2000
	ceilingRequests = 16000
	ceilingClassify = 20000
)

// BenchmarkIntakeCeiling measures the most any intake could reach on this
// machine, beside the raw commits the intake benchmark is held to. It
// prices, in processor time of the whole machine, the work no design of
// intake can leave out:
//
//   - floor: the rows an intake writes today (the delivery mark, the
//     incident, its timeline entry, its four timer slots, the thread
//     binding, two outgoing messages and the message itself), and a read
//     of the customer's conversations, written as cheaply as SQL allows:
//     16 intakes in one transaction of two prepared statements, by 4
//     writers, with nothing else to do (no HTTP, no classifier, no Go
//     decisions);
//   - fewest-rows floor: the same with only the rows no design can do
//     without (the delivery mark, the incident, the message and the two
//     outgoing messages);
//   - http: a signed Slack event over HTTP, both ends (the load
//     generator's signing and sending, the server's reading, verifying and
//     decoding), answered at once;
//   - classify: the shipped classifier reading the message.
//
// Where the processors are the limit (they are, at 16 clients), an intake
// costs at least floor + http + classify, and the ratio of intakes to raw
// commits is at most cpu-us/commit divided by that sum: ceiling-ratio (and
// fewest-rows-ceiling-ratio). The figures are of this machine: the ceiling
// moves with it, as the ratio does.
//
//	go test ./bot/slack -run '^$' -bench IntakeCeiling -benchtime 1x
func BenchmarkIntakeCeiling(b *testing.B) {
	s := storagetest.Postgres(b)
	bottest.Configure(b, s, cfgYAML) // the customer and people the rows refer to
	svc := &bot.Service{}
	svc.Classify("warm up") // the shipped model, trained once
	var commit, floor, fewest, web, classify time.Duration
	for b.Loop() {
		c0 := machineCPU(b)
		for n := range ceilingClassify {
			svc.Classify(benchReport(0, n))
		}
		classify = (machineCPU(b) - c0) / ceilingClassify
		web = signedRequests(b)
		commit = rawCommitCPU(b, s.DB(), s)
		// A first round fills the tables, so that the statistics the
		// planner has, and so the plans, are those of a database in use.
		writeFloor(b, s.DB(), allRows, ceilingWarmUp)
		quiesce(b, s.DB())
		floor = writeFloor(b, s.DB(), allRows, ceilingIntakes)
		quiesce(b, s.DB())
		fewest = writeFloor(b, s.DB(), fewestRows, ceilingIntakes)
		// The raw commit's cost moves with the machine's moment (up to a
		// third between runs here): measured before and after the floors,
		// the mean stands beside them.
		commit = (commit + rawCommitCPU(b, s.DB(), s)) / 2
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(commit), "cpu-us/commit")
	b.ReportMetric(us(floor), "floor-cpu-us")
	b.ReportMetric(us(fewest), "fewest-rows-floor-cpu-us")
	b.ReportMetric(us(web), "http-cpu-us")
	b.ReportMetric(us(classify), "classify-cpu-us")
	b.ReportMetric(float64(commit)/float64(floor+web+classify), "ceiling-ratio")
	b.ReportMetric(float64(commit)/float64(fewest+web+classify), "fewest-rows-ceiling-ratio")
}

// rawCommitCPU is the machine's processor time per raw commit (see
// rawCommitRate), with the database's housekeeping done first.
func rawCommitCPU(b *testing.B, db *sqlx.DB, s *storage.Store) time.Duration {
	b.Helper()
	quiesce(b, db)
	c0 := machineCPU(b)
	rawCommitRate(b, s, ceilingClients, ceilingIntakes)
	return (machineCPU(b) - c0) / ceilingIntakes
}

// quiesce does the database's housekeeping now (vacuum, statistics, a
// checkpoint), so that it is not counted in the next measurement.
func quiesce(b *testing.B, db *sqlx.DB) {
	b.Helper()
	for _, q := range []string{`VACUUM ANALYZE`, `CHECKPOINT`} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
}

// machineCPU is bottest.MachineCPU, or the benchmark skipped where the
// machine's processor time cannot be read.
func machineCPU(b *testing.B) time.Duration {
	d, ok := bottest.MachineCPU()
	if !ok {
		b.Skip("the machine's processor time cannot be read here")
	}
	return d
}

// benchReport is the text of the intake benchmark's report n of round i.
func benchReport(i, n int) string {
	return fmt.Sprintf("separate issue: the whole cluster is down, nothing runs (report %d-%d)", i, n)
}

// The floor's statements. Both take the batch as arrays, one element per
// intake, and number the incidents from their sequence in the statement,
// so that every row of an intake is written by one statement.
const (
	floorConversations = `SELECT i.id, i.title, i.status, i.reported_at, m.body
		FROM unnest($1::text[]) c(id), LATERAL (SELECT id, title, status, reported_at FROM incidents
			WHERE customer_id = c.id AND status IN ('triage', 'open', 'acknowledged', 'onsite')
			ORDER BY reported_at DESC, id DESC LIMIT 5) i
		LEFT JOIN messages m ON m.incident_id = i.id AND NOT m.staff
		ORDER BY i.reported_at DESC, i.id DESC, m.id`
	floorBatch = `WITH v AS (
			SELECT nextval('incidents_id_seq') AS id, u.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
				AS u(event_id, body, ts, cust_text, card_text, card_payload)),
		ev AS (INSERT INTO inbound_events (platform, event_id, received_at) SELECT 'slack', event_id, $7 FROM v
			ON CONFLICT (platform, event_id) DO NOTHING RETURNING event_id),
		inc AS (INSERT INTO incidents (id, customer_id, severity, status, title, reason, area, reported_at, reported_by, reporter_name,
				ack_due, onsite_due, restore_due, restore_summary, version, outcome, past_clocks)
			SELECT v.id, 'acme', 'core', 'open', v.body, $8, 'other', $7, 'li', '李雷',
				$7::timestamptz + interval '30 minutes', $7::timestamptz + interval '2 hours', $7::timestamptz + interval '4 hours', '', 1, '', 0
			FROM v JOIN ev USING (event_id) RETURNING id)
		/*more*/
		, ob AS (INSERT INTO outbox (created_at, platform, chat_id, thread_id, incident_id, kind, body, next_attempt_at, mentions, payload, topic)
			SELECT $7, 'slack', 'CACME', v.ts, v.id, 'opened', v.cust_text, $7, '', '', '' FROM v JOIN inc USING (id)
			UNION ALL SELECT $7, 'slack', 'CENG', '', v.id, 'card', v.card_text, $7, 'wang', v.card_payload, '' FROM v JOIN inc USING (id))
		INSERT INTO messages (at, platform, chat_id, thread_id, message_id, customer_id, author_id, author_name, staff, body,
			verdict, confidence, reason, decision, incident_id)
		SELECT $7, 'slack', 'CACME', '', v.ts, 'acme', 'li', '李雷', false, v.body, 'core', 0.99, $8, 'opened', v.id FROM v JOIN inc USING (id)`
	// floorMore is the rows of today's intake that the fewest-rows floor
	// leaves out.
	floorMore = `, tl AS (INSERT INTO timeline (incident_id, at, kind, actor_id, actor_name, body, data)
			SELECT id, $7, 'opened', 'li', '李雷', v.body, $9 FROM v JOIN inc USING (id)),
		ts AS (INSERT INTO timer_slots (incident_id, track, clock, kind, level, due_at, basis, status)
			SELECT v.id, t.track, t.track, t.kind, t.level, $7::timestamptz + t.lead, $7::timestamptz + t.basis, 'pending'
			FROM v JOIN inc USING (id), (VALUES ('ack', 'reminder', 0, interval '20 minutes', interval '30 minutes'),
				('onsite', 'reminder', 0, interval '110 minutes', interval '2 hours'), ('restore', 'reminder', 0, interval '230 minutes', interval '4 hours'),
				('followup', 'followup', 1, interval '7 days', interval '7 days')) t(track, kind, level, lead, basis)),
		th AS (INSERT INTO incident_threads (platform, chat_id, thread_id, incident_id, origin, bound_at)
			SELECT 'slack', 'CACME', v.ts, v.id, true, $7 FROM v JOIN inc USING (id))`
)

// floorRows says which rows the floor writes.
type floorRows bool

const (
	allRows    floorRows = true
	fewestRows floorRows = false
)

// writeFloor writes intakes' rows as the floor does and
// returns the machine's processor time per intake.
func writeFloor(b *testing.B, db *sqlx.DB, rows floorRows, intakes int) time.Duration {
	b.Helper()
	ctx := context.Background()
	query := strings.Replace(floorBatch, "/*more*/", "", 1)
	if rows == allRows {
		query = strings.Replace(floorBatch, "/*more*/", floorMore, 1)
	}
	batch, err := db.PreparexContext(ctx, query)
	if err != nil {
		b.Fatal(err)
	}
	defer batch.Close()
	conv, err := db.PreparexContext(ctx, floorConversations)
	if err != nil {
		b.Fatal(err)
	}
	defer conv.Close()
	reason := "core 0.99: outage(down) · outage+core_service(down + cluster) · fault+broad(issue + whole) · broad(whole)"
	data := `{"reason":"` + reason + `","severity":"core"}`
	tag := fmt.Sprintf("floor-%v-%d", rows, time.Now().UnixNano())
	var before int
	if err := db.GetContext(ctx, &before, `SELECT count(*) FROM messages`); err != nil {
		b.Fatal(err)
	}
	// The batches' arguments are made before the clock starts: rendering
	// the messages is not the database's work.
	var batches [][]any
	for first := 0; first < intakes; first += ceilingBatch {
		var ids, bodies, ts, cust, card, payload []string
		for n := first; n < min(first+ceilingBatch, intakes); n++ {
			body := benchReport(1, n)
			ids = append(ids, fmt.Sprintf("%s-%d", tag, n))
			bodies = append(bodies, body)
			ts = append(ts, fmt.Sprintf("%s.%06d", tag, n))
			cust = append(cust, fmt.Sprintf("已收到您的故障报告，登记为事件 #%d（核心功能不可用）。我们承诺：\n• 响应：11-26 11:48 CST 前（剩余 30分钟）\n• 到场：11-26 13:18 CST 前（剩余 2小时）\n• 恢复：11-26 15:18 CST 前（剩余 4小时）", n))
			card = append(card, fmt.Sprintf("#%d · 星辰数据 · 核心功能不可用 · 待响应\n%s\n负责人: 未指派\n报告人: 李雷 · 11-26 11:18 CST\n时限:\n• 响应：11-26 11:48 CST 前（剩余 30分钟）\n判断依据: %s", n, body, reason))
			p, _ := json.Marshal(map[string]any{"incident_id": n, "title": "星辰数据 · 核心功能不可用 · 待响应", "text": body, "reason": reason,
				"actions": []map[string]string{{"id": "ack", "label": "确认"}, {"id": "take", "label": "接手"}, {"id": "onsite", "label": "到场"}}})
			payload = append(payload, string(p))
		}
		args := []any{pq.Array(ids), pq.Array(bodies), pq.Array(ts), pq.Array(cust), pq.Array(card), pq.Array(payload), time.Now(), reason}
		if rows == allRows {
			args = append(args, data)
		}
		batches = append(batches, args)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	c0 := machineCPU(b)
	for range ceilingWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(batches) {
					return
				}
				tx, err := db.BeginTxx(ctx, nil)
				if err != nil {
					b.Error(err)
					return
				}
				var seen []struct {
					ID         int64     `db:"id"`
					Title      string    `db:"title"`
					Status     string    `db:"status"`
					ReportedAt time.Time `db:"reported_at"`
					Body       *string   `db:"body"`
				}
				err = tx.StmtxContext(ctx, conv).SelectContext(ctx, &seen, pq.Array([]string{"acme"}))
				if err == nil {
					_, err = tx.StmtxContext(ctx, batch).ExecContext(ctx, batches[k]...)
				}
				if err == nil {
					err = tx.Commit()
				} else {
					tx.Rollback()
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cpu := (machineCPU(b) - c0) / time.Duration(intakes)
	var after int
	if err := db.GetContext(ctx, &after, `SELECT count(*) FROM messages`); err != nil {
		b.Fatal(err)
	}
	if after-before != intakes {
		b.Fatalf("the floor wrote %d intakes, not %d", after-before, intakes)
	}
	return cpu
}

// signedRequests sends ceilingRequests signed Slack events from
// ceilingClients clients to a server that reads, verifies and decodes each
// one and answers at once, and returns the machine's processor time per
// request.
func signedRequests(b *testing.B) time.Duration {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := chat.ReadBody(w, r, 1<<20)
		if !ok {
			return
		}
		if !slack.Verify(secret, r.Header, body, time.Now()) {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var env struct {
			Type    string `json:"type"`
			EventID string `json:"event_id"`
			Event   struct {
				Type, Channel, User, Text, TS string
			} `json:"event"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Event.Text == "" {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: ceilingClients}}
	c0 := machineCPU(b)
	sendReports(b, client, srv.URL, ceilingClients, ceilingRequests, "EvC", 0)
	return (machineCPU(b) - c0) / ceilingRequests
}
