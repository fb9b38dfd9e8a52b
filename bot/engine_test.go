package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// at moves the clock to t0+d and returns what was posted.
func (h *harness) at(d time.Duration) []chat.Outbound {
	h.t.Helper()
	if now := h.clock.Now(); t0.Add(d).Before(now) {
		h.t.Fatalf("clock cannot go back from %v to %v", now.Sub(t0), d)
	}
	h.clock.Advance(t0.Add(d).Sub(h.clock.Now()))
	return h.posted()
}

// only asserts the posts went to exactly these channels, and returns the
// first one's text.
func only(t *testing.T, out []chat.Outbound, chats ...string) chat.Outbound {
	t.Helper()
	var got []string
	for _, m := range out {
		got = append(got, m.ChatID)
	}
	if strings.Join(got, ",") != strings.Join(chats, ",") {
		var texts []string
		for _, m := range out {
			texts = append(texts, m.ChatID+": "+m.Text)
		}
		t.Fatalf("posted to %v, want %v:\n%s", got, chats, strings.Join(texts, "\n"))
	}
	if len(out) == 0 {
		return chat.Outbound{}
	}
	return out[0]
}

func mentions(t *testing.T, m chat.Outbound, ids ...string) {
	t.Helper()
	if strings.Join(m.Mentions, ",") != strings.Join(ids, ",") {
		t.Fatalf("mentions %v, want %v in %q", m.Mentions, ids, m.Text)
	}
}

// rotationName is the name of who the rotation has on call now.
func (h *harness) rotationName() string {
	h.t.Helper()
	cur, _ := sla.OnCall(h.router.Svc.Dir.Rotation, nil, h.clock.Now())
	p, _ := h.router.Svc.Dir.Person(cur.PersonID)
	return p.Name
}

func (h *harness) onCall() string {
	h.t.Helper()
	cur, _, err := h.router.Svc.OnCall(context.Background(), h.clock.Now())
	if err != nil || cur.PersonID == "" {
		h.t.Fatalf("on call: %+v %v", cur, err)
	}
	return cur.PersonID
}

func (h *harness) pendingClocks(id int64) map[sla.Clock]int {
	h.t.Helper()
	ts, err := h.store.PendingTimers(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	m := map[sla.Clock]int{}
	for _, x := range ts {
		m[x.Clock]++
	}
	return m
}

// The whole life of a core incident on a controlled clock: the reminder
// before the 30-minute deadline, the breach, escalation to the lead and the
// manager and its repeat; ack stops only the ack clock, on-site the on-site
// clock, restore the restore clock.
func TestCoreIncidentClocks(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		ctx := context.Background()
		h.say("UCLI", "CACME", "", "集群全部宕机了")
		oncall := h.onCall()
		opened := h.posted()
		mentions(t, only(t, opened, "CACME", "CENG"))
		mentions(t, opened[1], oncall) // offered to the on-call engineer

		only(t, h.at(19*time.Minute))
		m := only(t, h.at(20*time.Minute), "CENG")
		expect(t, m.Text, "⏰ 事件 #1（星辰数据）响应时限将在 10分钟 后到期（11-25 09:30 CST）")
		mentions(t, m, oncall)

		m = only(t, h.at(30*time.Minute), "CENG")
		expect(t, m.Text, "🚨 事件 #1（星辰数据）响应时限已超时 0分钟")
		mentions(t, m, oncall)

		m = only(t, h.at(45*time.Minute), "CENG")
		expect(t, m.Text, "升级至组长")
		mentions(t, m, "zhao")

		out := h.at(60 * time.Minute)
		m = only(t, out, "CENG", "CMGR")
		expect(t, m.Text, "响应时限已超时 30分钟（应于 11-25 09:30 CST 前），升级至经理")
		mentions(t, m, "chen")
		mentions(t, out[1], "chen")

		// Then the managers alone are reminded, backing off: 30m, 1h, 2h…
		only(t, h.at(89*time.Minute))
		m = only(t, h.at(90*time.Minute), "CMGR")
		expect(t, m.Text, "🔁 事件 #1（星辰数据）响应时限已超时 1小时，仍未完成（应于 11-25 09:30 CST 前）。下次提醒：11-25 11:30 CST。")
		mentions(t, m, "chen")

		// The engineer acknowledges 65 minutes late: the ack clock stops, the
		// others run on (one slot each: the step due next).
		h.at(95 * time.Minute)
		h.reply("UENGWANG", "CENG", "", "/ack 1")
		h.posted()
		if c := h.pendingClocks(1); c[sla.ClockAck] != 0 || c[sla.ClockOnsite] != 1 || c[sla.ClockRestore] != 1 {
			t.Fatalf("after ack: %v", c)
		}
		only(t, h.at(100*time.Minute))
		m = only(t, h.at(110*time.Minute), "CENG")
		expect(t, m.Text, "到场时限将在 10分钟 后到期")
		mentions(t, m, "wang") // the assignee now

		h.at(115 * time.Minute)
		h.reply("UENGWANG", "CENG", "", "/onsite 1")
		h.posted()
		if c := h.pendingClocks(1); c[sla.ClockOnsite] != 0 || c[sla.ClockRestore] != 1 {
			t.Fatalf("after on site: %v", c)
		}
		only(t, h.at(120*time.Minute))
		expect(t, only(t, h.at(230*time.Minute), "CENG").Text, "恢复时限将在 10分钟 后到期")
		h.at(235 * time.Minute)
		h.reply("UENGWANG", "CENG", "", "/restore 1 换了磁盘")
		h.posted()
		if c := h.pendingClocks(1); c[sla.ClockRestore] != 0 || c[sla.ClockAck] != 0 || c[sla.ClockOnsite] != 0 {
			t.Fatalf("after restore: %v", c)
		}
		only(t, h.at(240*time.Minute))

		// The breach is recorded with how late the clock was met.
		bs, err := s.Breaches(ctx, 1)
		if err != nil || len(bs) != 1 || bs[0].Clock != sla.ClockAck || bs[0].Lateness() != 65*time.Minute {
			t.Fatalf("breaches %+v %v", bs, err)
		}
		// The timeline holds every step.
		tl, _ := s.Timeline(ctx, 1)
		count := map[sla.EventKind]int{}
		for _, e := range tl {
			count[e.Kind]++
		}
		if count[sla.EventReminder] != 3 || count[sla.EventBreach] != 1 || count[sla.EventEscalation] != 3 {
			t.Fatalf("timeline counts %v", count)
		}
		// And the metrics saw the same.
		met := h.router.Svc.Metrics
		if met.Breaches.Value("ack") != 1 || met.Alerts.Value("reminder", "0") != 3 || met.Alerts.Value("escalation", "3") != 2 ||
			met.IncidentsOpened.Value("core", "acme") != 1 || met.StateChanges.Value("acknowledged") != 1 {
			t.Fatalf("metrics: breaches %v, reminders %v, level-3 %v", met.Breaches.Value("ack"), met.Alerts.Value("reminder", "0"), met.Alerts.Value("escalation", "3"))
		}
	})
}

func TestNoncoreIncidentClock(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCAMY", "CGLOBEX", "", "one dashboard is slow")
		h.posted()
		h.at(4 * time.Minute) // Globex's contract: reply within 15 minutes
		h.reply("UENGSAM", "CENG", "", "/ack 1")
		h.posted()
		only(t, h.at(23*time.Hour+49*time.Minute))
		m := only(t, h.at(23*time.Hour+50*time.Minute), "CENG")
		expect(t, m.Text, "恢复时限将在 10分钟 后到期")
		mentions(t, m, "sam")
		expect(t, only(t, h.at(24*time.Hour), "CENG").Text, "🚨 事件 #1（Globex）恢复时限已超时")
		h.at(24*time.Hour + 5*time.Minute)
		h.reply("UENGSAM", "CENG", "", "/restore 1 rebuilt the index")
		h.posted()
		bs, _ := s.Breaches(context.Background(), 1)
		if len(bs) != 1 || bs[0].Clock != sla.ClockRestore || bs[0].Lateness() != 5*time.Minute {
			t.Fatalf("breaches %+v", bs)
		}
		only(t, h.at(26*time.Hour))
	})
}

// After five hours of downtime, every overdue step is handled at once, and
// the pile of them becomes one message per channel.
func TestCatchUpCollapses(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "集群全部宕机了")
		h.posted()
		h.clock.Advance(5 * time.Hour) // the engine was down
		out := h.posted()
		m := only(t, out, "CENG", "CMGR")
		for _, want := range []string{"响应时限已超时 4小时30分钟", "到场时限已超时 3小时", "恢复时限已超时 1小时", "合并了"} {
			expect(t, m.Text, want)
		}
		if strings.Count(m.Text, "\n") != 2 {
			t.Fatalf("one line per clock expected:\n%s", m.Text)
		}
		if got := h.posted(); len(got) != 0 {
			t.Fatalf("catch-up fired twice: %d", len(got))
		}
		// The ladder goes on from now: the next repeats (on site and restore
		// at 15:00), to the managers alone, not a flood.
		only(t, h.at(5*time.Hour+59*time.Minute))
		m = only(t, h.at(6*time.Hour), "CMGR")
		expect(t, m.Text, "🔁 事件 #1（星辰数据）到场时限已超时 4小时")
		expect(t, m.Text, "🔁 事件 #1（星辰数据）恢复时限已超时 2小时")
	})
}

// C6: an incident still open a week after the report is chased every week;
// an unanswered ping reaches the lead; /followup answers it; closing stops it.
func TestWeeklyFollowUp(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "某个报表查询很慢")
		h.posted()
		h.reply("UENGWANG", "CENG", "", "/ack 1")
		// Restored for now, but not solved: the incident stays open for follow-up.
		h.reply("UENGWANG", "CENG", "", "/restore 1 临时扩容，根因待查")
		h.posted()
		// Reported Wednesday 09:00; the first Friday 10:00 a week later is Dec 4.
		friday := time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC).Sub(t0)
		only(t, h.at(friday-time.Minute))
		m := only(t, h.at(friday), "CENG")
		expect(t, m.Text, "📋 每周跟进：事件 #1（星辰数据）")
		mentions(t, m, "wang")
		m = only(t, h.at(friday+24*time.Hour), "CENG")
		expect(t, m.Text, "每周跟进已 1天 无人记录")
		mentions(t, m, "zhao")

		expect(t, h.reply("UENGWANG", "CENG", "", "/followup 1 与客户电话沟通，约定下周升级补丁"), "已记录事件 #1 的跟进")
		tl, _ := s.Timeline(context.Background(), 1)
		if last := tl[len(tl)-1]; last.Kind != sla.EventFollowUp || last.ActorID != "wang" {
			t.Fatalf("timeline %+v", last)
		}
		h.at(friday + 7*24*time.Hour - time.Hour)
		m = only(t, h.at(friday+7*24*time.Hour), "CENG")
		expect(t, m.Text, "📋 每周跟进")

		h.reply("UENGWANG", "CENG", "", "/followup 1 已升级补丁，问题解决")
		h.reply("UENGWANG", "CENG", "", "/close 1")
		h.posted()
		only(t, h.at(friday+30*24*time.Hour))
	})
}

// C5: after an on-site visit the engineer is reminded daily until /report
// produces the maintenance service work report from the timeline.
func TestServiceReport(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "集群全部宕机了")
		h.reply("UENGWANG", "CENG", "", "/ack 1")
		h.at(time.Hour)
		h.reply("UENGWANG", "CENG", "", "/onsite 1")
		h.at(2 * time.Hour)
		h.reply("UENGWANG", "CENG", "", "/restore 1 更换 NameNode 磁盘并恢复元数据")
		h.reply("UENGWANG", "CENG", "", "/close 1")
		h.posted()
		m := only(t, h.at(25*time.Hour), "CENG")
		expect(t, m.Text, "尚未提交《维护技术服务工作报告》，请用 /report 1 生成")
		mentions(t, m, "wang")
		expect(t, only(t, h.at(49*time.Hour), "CENG").Text, "/report 1")

		expect(t, h.reply("UCLI", "CACME", "", "/report 1"), "抱歉，您没有权限执行 /report")
		r := h.reply("UENGWANG", "CENG", "", "/report 1")
		for _, want := range []string{"《维护技术服务工作报告》", "客户：星辰数据", "故障现象：集群全部宕机了",
			"到达现场：11-25 10:00 CST", "响应：11-25 09:30 CST 前 ✓ 已按时完成", "到场：11-25 11:00 CST 前 ✓ 已按时完成",
			"处理措施：更换 NameNode 磁盘并恢复元数据", "到达现场（王工）", "遗留问题：无。"} {
			expect(t, r, want)
		}
		en := h.reply("UENGSAM", "CENG", "", "/report 1")
		expect(t, en, "Maintenance service work report")
		expect(t, en, "Reply: by 11-25 09:30 CST ✓ met")
		h.posted() // the customer's copies (TestCustomersCopyOfTheReport)
		only(t, h.at(30*24*time.Hour))
	})
}

func TestOnCallOverride(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		st := h.reply("UENGSAM", "CENG", "", "/oncall")
		expect(t, st, "On call now: ")
		expect(t, st, "until 11-30 09:00 CST")
		expect(t, h.reply("UENGSAM", "CENG", "", "/oncall sam 2h"), "Only leads and above")
		expect(t, h.reply("ULEAD", "CENG", "", "/oncall sam forever"), "不是有效的时长")
		expect(t, h.reply("ULEAD", "CENG", "", "/oncall li 2h"), "不认识“li”")
		expect(t, h.reply("ULEAD", "CENG", "", "/oncall zhao 2h"), "赵组长 值班至 11-25 11:00 CST")
		// After the override, the rotation's engineer again, from its end.
		st = h.reply("ULEAD", "CENG", "", "/oncall")
		expect(t, st, "当前值班：赵组长（至 11-25 11:00 CST）")
		expect(t, st, "下一班："+h.rotationName()+"（11-25 11:00 CST 起）")
		h.say("UCLI", "CACME", "", "集群全部宕机了")
		mentions(t, h.posted()[1], "zhao")
		mentions(t, only(t, h.at(30*time.Minute), "CENG"), "zhao")
		expect(t, h.reply("UCLI", "CACME", "", "/oncall"), "抱歉，您没有权限执行 /oncall")
	})
}

// Two engines on one PostgreSQL database fire every timer exactly once.
func TestTwoEnginesFireOnce(t *testing.T) {
	s := storagetest.Postgres(t)
	h := newHarness(t, s)
	const n = 30
	for i := range n {
		// Reported with /incident: explicit reports each open an incident
		// (the same words in plain talk would join the first one).
		expect(t, h.reply("UCLI", "CACME", "", fmt.Sprintf("/incident 集群全部宕机了 %d", i)), "已登记事件")
	}
	h.clock.Advance(20 * time.Minute)
	other := bot.NewEngine(h.router.Svc, h.clock, h.router.Log)
	var wg sync.WaitGroup
	fired := make([]int, 2)
	for i, e := range []*bot.Engine{h.engine, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				k, err := e.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
				}
				fired[i] += k
			}
		}()
	}
	wg.Wait()
	if fired[0]+fired[1] != n {
		t.Fatalf("fired %v, want %d in all", fired, n)
	}
	var reminders int
	if err := s.DB().Get(&reminders, `SELECT count(*) FROM timeline WHERE kind = 'reminder'`); err != nil || reminders != n {
		t.Fatalf("%d reminder events, %v", reminders, err)
	}
	var alerts int
	if err := s.DB().Get(&alerts, `SELECT count(*) FROM outbox WHERE kind = 'alert'`); err != nil || alerts != n {
		t.Fatalf("%d alert messages", alerts)
	}
}

// The engine and the dispatcher as they run in production: woken by the
// service when it writes, by each other, and by the clock.
func TestRunLoops(t *testing.T) {
	s := storagetest.SQLite(t)
	h := newHarness(t, s)
	h.router.Svc.Kick = func() { h.disp.Kick(); h.engine.Wake() }
	h.engine.Kick = h.disp.Kick
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.engine.Run(ctx) }()
	go func() { defer wg.Done(); h.disp.Run(ctx) }()
	var seen []chat.Outbound
	has := func(want string) func() bool {
		return func() bool {
			seen = append(seen, h.slack.take()...)
			for _, m := range seen {
				if strings.Contains(m.Text, want) {
					return true
				}
			}
			return false
		}
	}
	h.say("UCLI", "CACME", "", "集群全部宕机了")
	bottest.Until(t, "the customer's reply", has("登记为事件 #1"))
	h.clock.Advance(20 * time.Minute)
	h.engine.Wake()
	bottest.Until(t, "the reminder", has("⏰ 事件 #1"))
	cancel()
	wg.Wait()
}

// hanging is a platform that never answers until its context is cancelled.
type hanging struct{ entered chan struct{} }

func (h hanging) Send(ctx context.Context, m chat.Outbound) (string, error) {
	select {
	case h.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return "", ctx.Err()
}

// At shutdown the dispatcher's last round has a deadline: a platform that
// hangs cannot hold the process, and what it did not take stays in the
// outbox for the next start.
func TestDispatcherDrainDeadline(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "集群全部宕机了")
		stuck := hanging{entered: make(chan struct{}, 1)}
		h.disp.Senders[chat.PlatformSlack] = stuck
		h.disp.Drain = 50 * time.Millisecond
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); h.disp.Run(ctx) }()
		wait(t, stuck.entered, "a send to start")
		stop()
		wait(t, done, "the dispatcher to give up its last round")
		left, err := s.ClaimOutbox(context.Background(), h.clock.Now().Add(time.Hour), time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			t.Fatal("the messages not sent were lost")
		}
	})
}
