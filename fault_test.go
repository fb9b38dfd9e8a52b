package main

// The fault suite (issue 7): slakeeper as a process, killed, starved of its
// database, refused by Slack and run twice. It starts processes and, in one
// test, restarts the PostgreSQL server, so it runs on its own after the
// other tests: `.ci/run` runs it as
//
//	SLAKEEPER_FAULT=1 go test -count=1 -run '^TestFault' .

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

const faultSecret = "fault-signing-secret"

// faultConfig is one English customer on Slack whose reply clock runs out
// within seconds (reminder at 2s, breach at 4s), so that reminders fall due
// while the suite does its damage; extra is appended to the customer.
func faultConfig(ack string, extra string) string {
	return fmt.Sprintf(`language: en
customers:
  - id: acme
    name: Acme
    language: en
%s
people:
  - {id: wang, name: Wang, role: engineer, slack: UWANG}
channels:
  - {platform: slack, id: CACME, kind: customer, customer: acme}
  - {platform: slack, id: CENG, kind: engineering}
oncall:
  people: [wang]
policy: {ack_within: %s, reminder_before: 2s, lead_after: 1h, manager_after: 2h, repeat_every: 2h}
# Hundreds of reports from one customer within a minute, each its own
# incident: the suite counts them, so the intake limit is out of the way.
intake: {flood: {max: 1000000, within: 1m}}
`, extra, ack)
}

func faultSuite(t *testing.T) {
	if os.Getenv("SLAKEEPER_FAULT") == "" {
		t.Skip("the fault suite runs processes and restarts PostgreSQL; .ci/run runs it after the other tests (SLAKEEPER_FAULT=1)")
	}
}

// startFault runs the given number of slakeeper processes (replicas) on one
// new database with cfg and a fake Slack, and returns them once all are
// ready.
func startFault(t *testing.T, cfg string, replicas int) (string, *fakeslack.Server, []*process) {
	faultSuite(t)
	dsn := storagetest.NewPostgresDB(t)
	fake := fakeslack.New("xoxb-fault", "", "CACME", "CENG")
	t.Cleanup(fake.Close)
	procs := make([]*process, replicas)
	var wg sync.WaitGroup
	for i := range procs {
		procs[i] = newProcess(t, dsn, cfg, fake, faultSecret)
		wg.Add(1)
		go func() { defer wg.Done(); procs[i].start() }()
	}
	wg.Wait()
	return dsn, fake, procs
}

// load plays Slack delivering customers' fault reports: each event is sent
// until it is answered 200, with the same event id, as Slack retries.
type load struct {
	t      *testing.T
	procs  []*process
	fake   *fakeslack.Server
	mu     sync.Mutex
	next   int
	acked  []string // texts of the events answered 200
	status map[int]int
	wg     sync.WaitGroup
}

func newLoad(t *testing.T, fake *fakeslack.Server, procs ...*process) *load {
	return &load{t: t, procs: procs, fake: fake, status: map[int]int{}}
}

// run sends events from clients goroutines until ctx ends; an event already
// sent is delivered to the end.
func (l *load) run(ctx context.Context, clients int, every time.Duration) {
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				l.send()
				time.Sleep(every)
			}
		}()
	}
}

// send delivers one new event until it is answered 200 (for up to a minute).
func (l *load) send() {
	l.mu.Lock()
	n := l.next
	l.next++
	l.mu.Unlock()
	proc := l.procs[n%len(l.procs)]
	ts := fmt.Sprintf("1764032400.%06d", n)
	// Each says it is a new problem: a follow-up would join the first incident.
	text := fmt.Sprintf("separate issue: the whole cluster is down, report %d", n)
	l.fake.Said("CACME", ts, "UCUST", text)
	body := event(fmt.Sprintf("EvF%d", n), "CACME", "UCUST", ts, text)
	for give := time.Now().Add(time.Minute); time.Now().Before(give); time.Sleep(50 * time.Millisecond) {
		code := proc.post("/slack/events", "application/json", body, faultSecret)
		l.mu.Lock()
		l.status[code]++
		if code == 200 {
			l.acked = append(l.acked, text)
		}
		l.mu.Unlock()
		if code == 200 {
			return
		}
	}
	l.t.Errorf("event %d never answered 200", n)
}

func (l *load) wait() { l.wg.Wait() }

// sent is how many events were sent and the texts answered 200.
func (l *load) sent() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next, append([]string(nil), l.acked...)
}

func openDB(t *testing.T, dsn string) *sqlx.DB {
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// eachOnce asserts every acknowledged report has exactly one incident and
// there are no others.
func eachOnce(t *testing.T, db *sqlx.DB, l *load) {
	t.Helper()
	n, acked := l.sent()
	if len(acked) != n {
		t.Fatalf("%d of %d events answered 200", len(acked), n)
	}
	var rows []struct {
		Title string `db:"title"`
		N     int    `db:"n"`
	}
	if err := db.Select(&rows, `SELECT title, count(*) AS n FROM incidents GROUP BY title`); err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, r := range rows {
		have[r.Title] = r.N
	}
	for _, text := range acked {
		if have[text] != 1 {
			t.Errorf("%q: %d incidents", text, have[text])
		}
		delete(have, text)
	}
	for text, n := range have {
		t.Errorf("incident without an acknowledged event: %q (%d)", text, n)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d events, each answered 200 and opened once; answers: %v", n, l.status)
}

// until polls cond every 100ms for up to limit.
func until(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// remindersFired waits until no timer is overdue and asserts that every
// incident's reply reminder and breach fired (its reply ladder moved past
// them) and reached the outbox as alerts, at most once each (the engine
// folds the two into one message when both are due in one round).
func remindersFired(t *testing.T, db *sqlx.DB) {
	t.Helper()
	until(t, "overdue timers to fire", time.Minute, func() bool {
		var overdue int
		db.Get(&overdue, `SELECT count(*) FROM timer_slots WHERE status = 'pending' AND due_at < now() - interval '500 milliseconds'`)
		var young int
		db.Get(&young, `SELECT count(*) FROM incidents WHERE ack_due > now() - interval '500 milliseconds'`)
		return overdue == 0 && young == 0
	})
	var bad []struct {
		ID     int64 `db:"id"`
		Fired  int   `db:"fired"`
		Alerts int   `db:"alerts"`
	}
	if err := db.Select(&bad, `SELECT i.id,
			(SELECT 2 * count(*) FROM timer_slots t WHERE t.incident_id = i.id AND t.track = 'ack'
				AND (t.kind = 'escalation' OR t.status <> 'pending')) AS fired,
			(SELECT count(*) FROM outbox o WHERE o.incident_id = i.id AND o.kind = 'alert') AS alerts
		FROM incidents i`); err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		if b.Fired != 2 || b.Alerts < 1 || b.Alerts > 2 {
			t.Errorf("incident %d: %d of its 2 reply timers fired, %d alerts", b.ID, b.Fired, b.Alerts)
		}
	}
	t.Logf("%d incidents: reply reminder and breach fired, each alerted once", len(bad))
}

// drained waits until the outbox has nothing pending.
func drained(t *testing.T, db *sqlx.DB) {
	t.Helper()
	for end := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var pending []struct {
			ID       int64     `db:"id"`
			Chat     string    `db:"chat_id"`
			Attempts int       `db:"attempts"`
			Next     time.Time `db:"next_attempt_at"`
			Error    string    `db:"last_error"`
		}
		if err := db.Select(&pending, `SELECT id, chat_id, attempts, next_attempt_at, last_error FROM outbox WHERE status = 'pending' ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			return
		}
		if time.Now().After(end) {
			for _, p := range pending {
				t.Logf("pending %d to %s: %d attempts, next %v, %s", p.ID, p.Chat, p.Attempts, p.Next, p.Error)
			}
			t.Fatalf("%d messages still pending", len(pending))
		}
	}
}

// The bot killed with SIGKILL at random moments under a load of signed
// events, and started again: every event answered 200 has its incident,
// none twice, and no reminder that fell due is lost.
func TestFaultKill(t *testing.T) {
	dsn, fake, procs := startFault(t, faultConfig("4s", ""), 1)
	proc := procs[0]
	l := newLoad(t, fake, proc)
	ctx, stop := context.WithCancel(context.Background())
	l.run(ctx, 4, 20*time.Millisecond)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("kill moments from seed %d", seed)
	for range 5 {
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		proc.kill()
		proc.start()
	}
	time.Sleep(500 * time.Millisecond)
	stop()
	l.wait()
	db := openDB(t, dsn)
	eachOnce(t, db, l)
	remindersFired(t, db)
}

// pgctl runs pg_ctlcluster on the local cluster.
func pgctl(t *testing.T, action string, args ...string) {
	t.Helper()
	if os.Getenv("SLAKEEPER_TEST_POSTGRES") != "" {
		t.Skip("the tests' PostgreSQL is not the local cluster this test restarts")
	}
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		t.Fatalf("no local PostgreSQL cluster to restart (/etc/postgresql): %v", err)
	}
	cmd := exec.Command("pg_ctlcluster", append([]string{"--skip-systemctl-redirect", versions[0].Name(), "main", action}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctlcluster %s: %v\n%s", action, err, out)
	}
}

// PostgreSQL stopped and started again under load: the bot keeps running,
// /readyz says 503 while the database is away and 200 once it is back,
// without anyone restarting the bot; every event ends answered 200 with its
// incident once.
func TestFaultPostgresRestart(t *testing.T) {
	dsn, fake, procs := startFault(t, faultConfig("4s", ""), 1)
	proc := procs[0]
	l := newLoad(t, fake, proc)
	ctx, stop := context.WithCancel(context.Background())
	l.run(ctx, 4, 20*time.Millisecond)
	time.Sleep(time.Second)

	pgctl(t, "stop", "-m", "fast")
	started := false
	defer func() {
		if !started {
			pgctl(t, "start")
		}
	}()
	until(t, "/readyz to say the database is away", 10*time.Second, func() bool {
		code, body := proc.get("/readyz")
		return code == 503 && strings.Contains(body, "database unreachable")
	})
	time.Sleep(2 * time.Second)
	if code, _ := proc.get("/readyz"); code != 503 {
		t.Fatalf("/readyz %d with the database stopped", code)
	}
	if code, _ := proc.get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d: the process should be up", code)
	}
	pgctl(t, "start")
	started = true
	until(t, "/readyz to recover by itself", 30*time.Second, func() bool { code, _ := proc.get("/readyz"); return code == 200 })
	time.Sleep(time.Second)
	stop()
	l.wait()
	if proc.pid() == 0 || proc.exited() {
		t.Fatalf("the process exited:\n%s", proc.log())
	}
	if l.status[500] == 0 {
		t.Errorf("no event was refused while the database was away: %v", l.status)
	}
	db := openDB(t, dsn)
	eachOnce(t, db, l)
	remindersFired(t, db)
}

// Slack answering 429 and 500 in bursts, over its own per-channel limit:
// every message is delivered exactly once, and nothing is posted while a
// Retry-After runs.
func TestFaultSlackRefuses(t *testing.T) {
	dsn, fake, procs := startFault(t, faultConfig("1h", ""), 1)
	proc := procs[0]
	fake.ChannelLimit(time.Second, 1) // stricter than the adapter's bursts of 3
	l := newLoad(t, fake, proc)
	ctx, stop := context.WithCancel(context.Background())
	l.run(ctx, 1, 500*time.Millisecond)
	for i := range 8 {
		time.Sleep(700 * time.Millisecond)
		if i%2 == 0 {
			fake.RateLimit(2, time.Second)
		} else {
			fake.FailNext(2)
		}
	}
	stop()
	l.wait()
	db := openDB(t, dsn)
	eachOnce(t, db, l)
	drained(t, db)
	var rows []struct {
		Chat string `db:"chat_id"`
		Body string `db:"body"`
		Sent string `db:"status"`
	}
	if err := db.Select(&rows, `SELECT chat_id, body, status FROM outbox`); err != nil {
		t.Fatal(err)
	}
	posted := map[string]int{}
	for _, ch := range []string{"CACME", "CENG"} {
		posted[ch] = len(fake.Messages(ch))
	}
	want := map[string]int{}
	for _, r := range rows {
		if r.Sent != "sent" {
			t.Errorf("%s: %s", r.Chat, r.Sent)
		}
		want[r.Chat]++
	}
	for ch, n := range want {
		if posted[ch] != n {
			t.Errorf("%s: %d messages posted for %d in the outbox", ch, posted[ch], n)
		}
	}
	if fake.Limited() == 0 || fake.Calls("chat.postMessage") <= len(rows) {
		t.Errorf("Slack never refused: %d answered 429, %d posts for %d messages", fake.Limited(), fake.Calls("chat.postMessage"), len(rows))
	}
	if n := fake.Impatient(); n != 0 {
		t.Errorf("%d posts came before Retry-After ran out", n)
	}
	t.Logf("%d messages delivered once each; Slack answered 429 %d times, %d posts in all", len(rows), fake.Limited(), fake.Calls("chat.postMessage"))
}

// Two `serve` replicas on one database, both taking events: no reminder and
// no announcement is posted twice.
func TestFaultTwoReplicas(t *testing.T) {
	today := time.Now().In(time.UTC).Format("2006-01-02")
	tomorrow := time.Now().In(time.UTC).AddDate(0, 0, 2).Format("2006-01-02")
	cfg := "zone: UTC\n" + faultConfig("4s", fmt.Sprintf("    critical: [{from: %s, to: %s, note: year-end close}]", today, tomorrow))
	dsn, fake, procs := startFault(t, cfg, 2)
	l := newLoad(t, fake, procs...)
	for range 12 {
		l.send()
	}
	db := openDB(t, dsn)
	eachOnce(t, db, l)
	remindersFired(t, db)
	drained(t, db)
	var ids []int64
	if err := db.Select(&ids, `SELECT id FROM incidents ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	eng := fake.Messages("CENG")
	for i, m := range eng {
		if i < 4 {
			t.Logf("CENG: %q", m.Text)
		}
	}
	for _, id := range ids {
		tag := fmt.Sprintf("Incident #%d (", id)
		var reminders, breaches int
		for _, m := range eng {
			if strings.Contains(m.Text, tag) {
				reminders += strings.Count(m.Text, "due in")
				breaches += strings.Count(m.Text, "missed by")
			}
		}
		if reminders > 1 || breaches > 1 || reminders+breaches == 0 {
			t.Errorf("incident %d: %d reminders, %d breaches posted", id, reminders, breaches)
		}
	}
	for _, ch := range []string{"CACME", "CENG"} {
		n := 0
		for _, m := range fake.Messages(ch) {
			if strings.Contains(m.Text, "year-end close") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: the critical period announced %d times", ch, n)
		}
	}
	t.Logf("%d incidents over two replicas; every reminder, breach and announcement posted once", len(ids))
}
