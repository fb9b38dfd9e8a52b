package bot_test

import (
	"context"
	"errors"
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
	"github.com/slakeeper/slakeeper/bot/metrics"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

const testConfig = `
zone: Asia/Shanghai
customers:
  - {id: acme, name: 星辰数据, language: zh, accepted_on: 2026-03-01}
  - {id: globex, name: Globex, language: en, policy: {ack_within: 15m}}
people:
  - {id: li, name: 李雷, role: customer, customer: acme, slack: UCLI}
  - {id: amy, name: Amy, role: customer, customer: globex, language: en, slack: UCAMY}
  - {id: wang, name: 王工, role: engineer, slack: UENGWANG}
  - {id: sam, name: Sam, role: engineer, language: en, slack: UENGSAM}
  - {id: zhao, name: 赵组长, role: lead, slack: ULEAD}
  - {id: chen, name: 陈经理, role: manager, slack: UMGR}
channels:
  - {platform: slack, id: CACME, kind: customer, customer: acme}
  - {platform: slack, id: CGLOBEX, kind: customer, customer: globex}
  - {platform: slack, id: CENG, kind: engineering}
  - {platform: slack, id: CMGR, kind: managers}
oncall:
  handover: mon 09:00
  people: [wang, sam]
`

// t0 is 09:00 in Shanghai.
var t0 = time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)

// recorder is a Sender that keeps what it was asked to send and can be told
// to fail.
type recorder struct {
	mu    sync.Mutex
	sent  []chat.Outbound
	fails []error // returned by the next sends, in order
}

func (r *recorder) Send(_ context.Context, m chat.Outbound) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.fails) > 0 {
		err := r.fails[0]
		r.fails = r.fails[1:]
		return "", err
	}
	r.sent = append(r.sent, m)
	return "ts-" + m.ChatID, nil
}

// Capabilities: the recorder takes everything Slack can show.
func (r *recorder) Capabilities() chat.Capabilities {
	return chat.Capabilities{Cards: true, Edit: true, Threads: true, Files: true}
}

func (r *recorder) take() []chat.Outbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sent
	r.sent = nil
	return out
}

type harness struct {
	t      *testing.T
	store  *storage.Store
	clock  *chat.ManualClock
	router *bot.Router
	engine *bot.Engine
	disp   *bot.Dispatcher
	slack  *recorder
	seq    int
}

func newHarness(t *testing.T, s *storage.Store) *harness {
	t.Helper()
	return newHarnessWith(t, s, testConfig)
}

// newHarnessWith runs slakeeper on a configuration, with a recording Slack.
func newHarnessWith(t *testing.T, s *storage.Store, config string) *harness {
	t.Helper()
	cfg := bottest.Configure(t, s, config)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := chat.NewManualClock(t0)
	dir := sla.NewDirectory(cfg.Directory, sla.Settings{Zone: cfg.Location, DefaultLang: cfg.Lang, BasePolicy: cfg.BasePolicy, Rotation: cfg.Rotation})
	svc := &bot.Service{Store: s, Dir: dir, Metrics: bot.NewMetrics(metrics.New(metrics.BuildInfo{Version: "test"}), s)}
	rec := &recorder{}
	return &harness{t: t, store: s, clock: clock, slack: rec,
		router: &bot.Router{Svc: svc, Clock: clock, Log: log},
		engine: bot.NewEngine(svc, clock, log),
		disp:   bot.NewDispatcher(s, map[string]chat.Sender{chat.PlatformSlack: rec}, clock, log)}
}

// say posts a message as a Slack user in a channel (thread "" for top
// level) and returns the bot's direct replies.
func (h *harness) say(user, chatID, thread, text string) []chat.Outbound {
	h.t.Helper()
	h.seq++
	id := "17000000" + strings.Repeat("0", 2) + "." + string(rune('a'+h.seq%26)) + strings.Repeat("1", h.seq/26+1)
	replies, err := h.router.Handle(context.Background(), chat.Inbound{Platform: chat.PlatformSlack, ChatID: chatID, ThreadID: thread,
		MessageID: id, UserID: user, UserName: user, Text: text, EventID: "Ev" + id, InBand: true}) // a slash command's answer is in band
	if err != nil {
		h.t.Fatalf("%s says %q: %v", user, text, err)
	}
	return replies
}

// reply is what the bot answered directly, as one text.
func (h *harness) reply(user, chat, thread, text string) string {
	h.t.Helper()
	rs := h.say(user, chat, thread, text)
	if len(rs) != 1 {
		h.t.Fatalf("%q: %d replies", text, len(rs))
	}
	return rs[0].Text
}

// posted fires the timers due now, delivers the outbox and returns what
// reached Slack.
func (h *harness) posted() []chat.Outbound {
	h.t.Helper()
	bottest.Deliver(h.t, h.engine, h.disp)
	return h.slack.take()
}

func (h *harness) incident(id int64) sla.Incident {
	h.t.Helper()
	inc, err := h.store.Incident(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

func expect(t *testing.T, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("expected %q in:\n%s", want, got)
	}
}

func TestCoreIncidentStory(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)

		// A customer reports an outage in plain Chinese.
		if rs := h.say("UCLI", "CACME", "", "集群全部宕机了，所有作业都跑不起来"); len(rs) != 0 {
			t.Fatalf("intake answered directly: %v", rs)
		}
		inc := h.incident(1)
		if inc.Severity != sla.SeverityCore || inc.CustomerID != "acme" || inc.ReportedBy != "li" ||
			!inc.Deadlines.Ack.Equal(t0.Add(30*time.Minute)) || !inc.Deadlines.Onsite.Equal(t0.Add(2*time.Hour)) ||
			!inc.Deadlines.Restore.Equal(t0.Add(4*time.Hour)) {
			t.Fatalf("incident %+v", inc)
		}
		out := h.posted()
		if len(out) != 2 {
			t.Fatalf("posted %d messages: %+v", len(out), out)
		}
		// The customer hears back in the thread of their message, in Chinese,
		// with the deadlines in Shanghai time.
		if out[0].ChatID != "CACME" || out[0].ThreadID == "" {
			t.Fatalf("customer reply not in thread: %+v", out[0])
		}
		expect(t, out[0].Text, "登记为事件 #1（核心功能不可用）")
		expect(t, out[0].Text, "响应：11-25 09:30 CST 前")
		expect(t, out[0].Text, "到场：11-25 11:00 CST 前")
		expect(t, out[0].Text, "恢复：11-25 13:00 CST 前")
		// The engineers get the incident's card with its buttons.
		expect(t, out[1].Text, "#1 · 星辰数据 · 核心功能不可用 · 待响应")
		if c := out[1].Card; c == nil || len(c.Actions) != 4 || c.Actions[0].ID != "ack" || c.Actions[3].Confirm == nil {
			t.Fatalf("card %+v", out[1].Card)
		}
		thread := out[0].ThreadID

		// Thanks opens nothing: while the incident is in progress it joins
		// its conversation, and the engineers read it.
		h.say("UCLI", "CACME", "", "谢谢，问题已经解决了")
		if got := only(t, h.posted(), "CENG"); !strings.Contains(got.Text, "事件 #1 客户补充（李雷）：谢谢，问题已经解决了") {
			t.Fatalf("follow-up posted %+v", got)
		}
		if _, err := s.Incident(context.Background(), 2); sla.ErrorCode(err) != sla.ENOTFOUND {
			t.Fatal("thanks opened an incident")
		}

		// A customer may not acknowledge: refused politely in Chinese, nothing changes.
		expect(t, h.reply("UCLI", "CACME", thread, "/ack 1"), "抱歉，您没有权限执行 /ack")
		if h.incident(1).Status != sla.StatusOpen {
			t.Fatal("customer ack changed state")
		}

		// The engineer acknowledges from the customer's thread without an id.
		h.clock.Advance(10 * time.Minute)
		expect(t, h.reply("UENGWANG", "CACME", thread, "/ack"), "已确认事件 #1，负责人：王工")
		inc = h.incident(1)
		if inc.Status != sla.StatusAcknowledged || inc.AssigneeID != "wang" || !inc.AckedAt.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("after ack %+v", inc)
		}
		out = h.posted()
		if len(out) != 2 || out[0].ThreadID != thread || out[1].EditRef != "ts-CENG" {
			t.Fatalf("ack notices %+v", out)
		}
		expect(t, out[0].Text, "工程师 王工 已响应")
		expect(t, out[1].Text, "#1 · 星辰数据 · 核心功能不可用 · 已响应\n")
		expect(t, out[1].Text, "负责人: 王工")
		if ids := out[1].Card.Actions; len(ids) != 3 || ids[0].ID != "take" {
			t.Fatalf("buttons after ack %+v", ids)
		}

		// Closing before restoring is refused and changes nothing.
		expect(t, h.reply("UENGSAM", "CENG", "", "/close 1"), "only a restored incident can be closed")
		tl, err := s.Timeline(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(tl) != 3 { // opened, the customer's thanks, acknowledged
			t.Fatalf("refused close wrote the timeline: %d events", len(tl))
		}

		// The customer adds detail in the thread; it is attached, not a new incident.
		h.say("UCLI", "CACME", thread, "补充：HDFS 也连不上")
		if tl, err = s.Timeline(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		if tl[len(tl)-1].Kind != sla.EventMessage || tl[len(tl)-1].Body != "补充：HDFS 也连不上" {
			t.Fatalf("timeline %+v", tl)
		}
		expect(t, h.posted()[0].Text, "客户补充（李雷）")

		// On site, restored, closed; every clock met.
		h.clock.Advance(time.Hour)
		h.reply("UENGWANG", "CENG", "", "/onsite 1")
		h.clock.Advance(time.Hour)
		expect(t, h.reply("UENGSAM", "CENG", "", "/restore 1 replaced the failed NameNode disk"), "Restore: by 11-25 13:00 CST ✓ met")
		expect(t, h.reply("UENGSAM", "CENG", "", "/close 1"), "Incident #1 is closed.")
		st := h.reply("UCLI", "CACME", "", "/status 1")
		expect(t, st, "已关闭")
		expect(t, st, "处理措施：replaced the failed NameNode disk")
		// Closed, only the missing service report of the visit is still chased.
		timers, err := s.PendingTimers(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(timers) != 1 || timers[0].Kind != sla.TimerReport {
			t.Fatalf("closed incident keeps timers %+v", timers)
		}
	})
}

func TestEnglishCustomerGetsEnglish(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCAMY", "CGLOBEX", "", "one dashboard is slow")
		out := h.posted()
		expect(t, out[0].Text, "We have your report: incident #1 (non-core)")
		expect(t, out[0].Text, "Reply: by 11-25 09:15 CST (15m left)") // the contract's 15-minute clock
		expect(t, out[0].Text, "Restore: by 11-26 09:00 CST")
		expect(t, h.reply("UCAMY", "CGLOBEX", "", "/ack 1"), "Sorry, you may not use /ack.")
		// In a customer's channel "/frobnicate" is text; under our umbrella
		// command it is an unknown command.
		expect(t, h.reply("UCAMY", "CGLOBEX", "", "/sla frobnicate"), "Unknown command /frobnicate.")
	})
}

func TestNoOneSeesAnotherCustomersIncident(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "集群宕机了")
		h.say("UCAMY", "CGLOBEX", "", "The whole cluster is down")
		for _, cmd := range []string{"/status 1", "/note 1 hello"} {
			expect(t, h.reply("UCAMY", "CGLOBEX", "", cmd), "Incident #1 not found.")
		}
		// Even staff, inside a customer channel, see only that customer.
		expect(t, h.reply("UENGSAM", "CGLOBEX", "", "/status 1"), "Incident #1 not found.")
		l := h.reply("UENGSAM", "CGLOBEX", "", "/list")
		if strings.Contains(l, "#1 ") || !strings.Contains(l, "#2 ") {
			t.Fatalf("list in globex channel:\n%s", l)
		}
		// An unknown user in acme's channel counts as acme's customer.
		expect(t, h.reply("USTRANGER", "CACME", "", "/ack 1"), "抱歉，您没有权限执行 /ack")
		expect(t, h.reply("USTRANGER", "CACME", "", "/status 2"), "找不到事件 #2")
		expect(t, h.reply("USTRANGER", "CACME", "", "/note 1 我们这边也看到了"), "已为事件 #1 添加备注")
		// An unknown user elsewhere may run nothing.
		expect(t, h.reply("USTRANGER", "CENG", "", "/list"), "我不认识您")
		l = h.reply("UENGSAM", "CENG", "", "/list")
		if !strings.Contains(l, "#1 ") || !strings.Contains(l, "#2 ") {
			t.Fatalf("engineering list:\n%s", l)
		}
	})
}

func TestRetriedEventDoesNotDuplicate(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		in := chat.Inbound{Platform: chat.PlatformSlack, ChatID: "CACME", MessageID: "1700.1", UserID: "UCLI", Text: "集群宕机了", EventID: "Ev1"}
		for range 3 {
			if _, err := h.router.Handle(context.Background(), in); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.ListIncidents(context.Background(), storage.IncidentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("%d incidents from one event", len(list))
		}
		if got := h.posted(); len(got) != 2 {
			t.Fatalf("%d messages", len(got))
		}
	})
}

func TestStaffReportsForACustomer(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		expect(t, h.reply("UENGSAM", "CENG", "", "/incident the nightly export failed"), "Which customer?")
		expect(t, h.reply("UENGSAM", "CENG", "", "/incident globex the nightly export failed"), "Opened incident #1 (non-core)")
		out := h.posted()
		if len(out) != 2 || out[0].ChatID != "CGLOBEX" || out[0].ThreadID != "" {
			t.Fatalf("notices %+v", out)
		}
		expect(t, h.reply("UENGSAM", "CENG", "", "/sev 1 core"), "deadlines recomputed from the report time")
		if inc := h.incident(1); !inc.Deadlines.Restore.Equal(t0.Add(4 * time.Hour)) {
			t.Fatalf("restore due %v", inc.Deadlines.Restore)
		}
		expect(t, h.reply("UENGSAM", "CENG", "", "/assign 1 nobody"), `I don't know "nobody"`)
		expect(t, h.reply("UENGSAM", "CENG", "", "/assign 1 王工"), "Incident #1 is assigned to 王工.")
		expect(t, h.reply("UENGSAM", "CENG", "", "/ack"), "Name the incident, e.g. /ack 42")
	})
}

func TestDispatcherRetries(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.slack.fails = []error{errors.New("connection reset"), &chat.RetryAfter{After: 30 * time.Second, Err: errors.New("429")}}
		h.say("UCLI", "CACME", "", "集群宕机了")
		if got := h.posted(); len(got) != 0 {
			t.Fatalf("sent despite failures: %d", len(got))
		}
		// The first failed transiently and would be retried after 2s, but the
		// second was rate limited: nothing goes to the platform for the 30s it
		// was told, then both go.
		h.clock.Advance(2 * time.Second)
		if got := h.posted(); len(got) != 0 {
			t.Fatalf("during retry-after: %d", len(got))
		}
		h.clock.Advance(27 * time.Second)
		if got := h.posted(); len(got) != 0 {
			t.Fatalf("before retry-after: %d", len(got))
		}
		h.clock.Advance(time.Second)
		if got := h.posted(); len(got) != 2 || got[0].ChatID != "CACME" || got[1].ChatID != "CENG" {
			t.Fatalf("after retry-after: %+v", got)
		}
		out, err := s.OutboxFor(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out {
			if m.Status != "sent" || m.PlatformRef == "" {
				t.Fatalf("outbox %+v", m)
			}
		}
		// A permanent failure is recorded and not retried.
		h.slack.fails = []error{&chat.PermanentError{Err: errors.New("channel_not_found")}}
		h.reply("UENGWANG", "CENG", "", "/ack 1")
		h.clock.Advance(time.Hour)
		h.posted()
		if out, err = s.OutboxFor(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, m := range out {
			if m.Status == "failed" {
				failed++
				expect(t, m.LastError, "channel_not_found")
			}
		}
		if failed != 1 {
			t.Fatalf("%d failed messages", failed)
		}
	})
}

func TestBackoff(t *testing.T) {
	if bot.Backoff(1) != 2*time.Second || bot.Backoff(3) != 8*time.Second || bot.Backoff(30) != 5*time.Minute {
		t.Fatal(bot.Backoff(1), bot.Backoff(3), bot.Backoff(30))
	}
}

// limited is a recorder with a per-channel rate limit.
type limited struct{ recorder }

func (*limited) ChannelLimit() (time.Duration, int) { return time.Second, 2 }

func TestDispatcherKeepsChannelRateLimit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		lim := &limited{}
		h.disp.Senders[chat.PlatformSlack] = lim
		ctx := context.Background()
		if err := s.InTx(ctx, func(tx *storage.Tx) error {
			for i := range 5 {
				if err := tx.Enqueue(ctx, t0, storage.Outgoing{Platform: "slack", ChatID: "CENG", Kind: "k", Body: fmt.Sprint(i)}); err != nil {
					return err
				}
			}
			return tx.Enqueue(ctx, t0, storage.Outgoing{Platform: "slack", ChatID: "CACME", Kind: "k", Body: "other channel"})
		}); err != nil {
			t.Fatal(err)
		}
		drain := func() []chat.Outbound {
			for {
				n, err := h.disp.RunOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					return lim.take()
				}
			}
		}
		// The burst of the limited channel, in order; the other channel is
		// not held up by it (chats are served side by side).
		got := drain()
		var eng []string
		other := 0
		for _, m := range got {
			if m.ChatID == "CENG" {
				eng = append(eng, m.Text)
			} else {
				other++
			}
		}
		if len(got) != 3 || strings.Join(eng, ",") != "0,1" || other != 1 {
			t.Fatalf("burst: %+v", got)
		}
		h.clock.Advance(500 * time.Millisecond)
		if got := drain(); len(got) != 0 {
			t.Fatalf("within the limit: %+v", got)
		}
		h.clock.Advance(500 * time.Millisecond)
		if got := drain(); len(got) != 1 || got[0].Text != "2" {
			t.Fatalf("after a second: %+v", got)
		}
		h.clock.Advance(10 * time.Second)
		if got := drain(); len(got) != 2 {
			t.Fatalf("the rest: %+v", got)
		}
		var attempts []int
		if err := s.DB().Select(&attempts, `SELECT attempts FROM outbox ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		for _, a := range attempts {
			if a != 1 {
				t.Fatalf("holding back counted as attempts: %v", attempts)
			}
		}
	})
}
