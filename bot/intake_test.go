package bot_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/classify"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// unsure makes the classifier decide only what it is nearly certain of, so
// that an ordinary message goes to triage whatever the model's details.
func (h *harness) unsure() { h.router.Svc.Classifier = bottest.UnsureClassifier(h.store) }

func (h *harness) messages(customer string) []storage.Message {
	h.t.Helper()
	ms, err := h.store.Messages(context.Background(), storage.MessageFilter{CustomerID: customer})
	if err != nil {
		h.t.Fatal(err)
	}
	return ms
}

func noIncident(t *testing.T, s *storage.Store, id int64) {
	t.Helper()
	if _, err := s.Incident(context.Background(), id); sla.ErrorCode(err) != sla.ENOTFOUND {
		t.Fatalf("incident #%d exists (%v)", id, err)
	}
}

// A message the classifier is not sure of: the customer is answered at
// once, the engineers get a triage card, the reply clock runs from the
// message, and an engineer's decision opens the incident proper and
// teaches the classifier.
func TestTriageDecidedByEngineer(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.unsure()
		h.say("UCLI", "CACME", "", "hive 里昨天的数据和今天对不上")
		out := h.posted()
		if len(out) != 2 || out[0].ChatID != "CACME" || out[0].ThreadID == "" || out[1].ChatID != "CENG" {
			t.Fatalf("posted %+v", out)
		}
		expect(t, out[0].Text, "已收到您的消息（编号 #1）。工程师正在确认是否需要故障处理，将在 11-25 09:30 CST 前答复您。")
		expect(t, out[1].Text, "#1 · 星辰数据 · 待定（可能为")
		expect(t, out[1].Text, "· 待分诊")
		expect(t, out[1].Text, "分类器无法确定这是否是故障")
		c := out[1].Card
		if c == nil || len(c.Actions) != 4 || c.Actions[0].ID != chat.ActionTriageCore || c.Actions[1].ID != chat.ActionTriageNoncore ||
			c.Actions[2].ID != chat.ActionTriageNotFault || c.Actions[2].Confirm == nil {
			t.Fatalf("triage card %+v", c)
		}
		mentions(t, out[1], h.onCall())
		inc := h.incident(1)
		if inc.Status != sla.StatusTriage || !inc.Deadlines.Ack.Equal(t0.Add(30*time.Minute)) {
			t.Fatalf("triaged incident %+v", inc)
		}
		ms := h.messages("acme")
		if len(ms) != 1 || ms[0].Decision != sla.DecisionTriage || ms[0].Verdict != classify.VerdictTriage || ms[0].IncidentID != 1 {
			t.Fatalf("stored %+v", ms)
		}

		// Acknowledging before deciding is refused, and changes nothing.
		expect(t, h.reply("UENGWANG", "CENG", "", "/ack 1"), "事件 #1 正在等待分诊：请先判断是否为故障")
		expect(t, h.reply("UENGSAM", "CENG", "", "/onsite 1"), "Incident #1 awaits triage: decide first with /triage 1 core|noncore|notfault")
		expect(t, h.reply("UENGSAM", "CENG", "", "/triage 1 maybe"), "Usage: /triage [id] core|noncore|notfault [why]")
		if got := h.incident(1); got.Version != inc.Version {
			t.Fatalf("refusals changed the incident: %+v", got)
		}

		// The engineer decides: a non-core fault, clocks from the message.
		h.clock.Advance(10 * time.Minute)
		expect(t, h.reply("UENGWANG", "CENG", "", "/triage 1 noncore"), "事件 #1 已确认为故障（非核心故障），时限从客户报告时起算：")
		inc = h.incident(1)
		if inc.Status != sla.StatusOpen || inc.Severity != sla.SeverityNoncore || !inc.Deadlines.Restore.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("decided %+v", inc)
		}
		out = h.posted()
		if len(out) != 2 || out[0].ThreadID != ms[0].MessageID || out[1].EditRef != "ts-CENG" {
			t.Fatalf("decision posts %+v", out)
		}
		expect(t, out[0].Text, "工程师已确认：您的报告登记为事件 #1（非核心故障）")
		expect(t, out[0].Text, "恢复：11-26 09:00 CST 前")
		if out[1].Card == nil || out[1].Card.Actions[0].ID != "ack" {
			t.Fatalf("card after the decision %+v", out[1].Card)
		}
		ex, err := s.ClassifierExamples(context.Background())
		if err != nil || len(ex) != 1 || ex[0].Label != classify.LabelNoncore || ex[0].Source != "triage" ||
			ex[0].Body != "hive 里昨天的数据和今天对不上" || ex[0].DecidedBy != "wang" || ex[0].IncidentID != 1 {
			t.Fatalf("corrections %+v %v", ex, err)
		}
		// A decided incident is not triaged again.
		expect(t, h.reply("UENGWANG", "CENG", "", "/triage 1 core"), "事件 #1 不在待分诊状态")
	})
}

// Nobody decides: the reply clock escalates like any other, from the
// customer's message.
func TestUndecidedTriageEscalates(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.unsure()
		h.say("UCLI", "CACME", "", "hive 里昨天的数据和今天对不上")
		h.posted()
		expect(t, only(t, h.at(20*time.Minute), "CENG").Text, "⏰ 事件 #1（星辰数据）响应时限将在 10分钟 后到期")
		expect(t, only(t, h.at(30*time.Minute), "CENG").Text, "🚨 事件 #1（星辰数据）响应时限已超时")
	})
}

// "Not a fault" from the triage card closes it: the customer is told, and
// the statistics leave it out but list it.
func TestTriageNotAFault(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.unsure()
		h.say("UAMY", "CGLOBEX", "", "the numbers in yesterday's report look different from last week")
		h.posted()
		expect(t, h.reply("UENGSAM", "CENG", "", "/triage 1 notfault they changed the report's filter"),
			"Incident #1 is closed as not a fault: left out of compliance, listed in the digests.")
		inc := h.incident(1)
		if inc.Status != sla.StatusClosed || inc.Outcome != sla.OutcomeNotFault || inc.ClosedAt.IsZero() {
			t.Fatalf("%+v", inc)
		}
		out := h.posted()
		expect(t, only(t, out, "CGLOBEX", "CENG").Text, "About #1: an engineer found this is not a fault to handle (they changed the report's filter).")
		if out[1].Card == nil || len(out[1].Card.Actions) != 0 {
			t.Fatalf("closed card still has buttons: %+v", out[1].Card)
		}
		// A wrong "not a fault" is undone by deciding again.
		expect(t, h.reply("UENGSAM", "CENG", "", "/reopen 1"), "Incident #1 was closed as not a fault. If that was wrong: /triage 1 core|noncore")
		expect(t, h.reply("UENGSAM", "CENG", "", "/triage 1 noncore"), "Incident #1 is confirmed as a fault (non-core)")
		if inc := h.incident(1); inc.Status != sla.StatusOpen || inc.Outcome != sla.OutcomeFault || !inc.ClosedAt.IsZero() {
			t.Fatalf("re-decided %+v", inc)
		}
		ex, _ := s.ClassifierExamples(context.Background())
		if len(ex) != 2 || ex[0].Label != classify.LabelNone || ex[1].Label != classify.LabelNoncore {
			t.Fatalf("corrections %+v", ex)
		}
	})
}

// Only customers report: a staff member's message in a customer channel
// never opens an incident; a reply to the one incident awaiting a reply is
// its first response.
func TestStaffMessagesOpenNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		if rs := h.say("UENGWANG", "CACME", "", "我们已经在排查宕机原因了，请稍等"); len(rs) != 0 {
			t.Fatalf("answered %v", rs)
		}
		if got := h.posted(); len(got) != 0 {
			t.Fatalf("posted %+v", got)
		}
		noIncident(t, s, 1)

		h.say("UCLI", "CACME", "", "集群全部宕机了，所有作业都跑不起来")
		h.posted()
		h.clock.Advance(5 * time.Minute)
		h.say("UENGWANG", "CACME", "", "收到，我们已经在排查宕机原因了，请稍等")
		inc := h.incident(1)
		if inc.Status != sla.StatusOpen || !inc.AckedAt.Equal(t0.Add(5*time.Minute)) || inc.AckedBy != "wang" {
			t.Fatalf("first response %+v", inc)
		}
		noIncident(t, s, 2)
		out := h.posted()
		c := only(t, out, "CENG") // the card shows the reply clock met; the customer saw the reply
		if out[0].EditRef == "" {
			t.Fatalf("card not edited: %+v", c)
		}
		expect(t, c.Text, "响应：11-25 09:30 CST 前 ✓ 已按时完成")
		// Acknowledging later keeps the first response's time.
		h.reply("UENGWANG", "CENG", "", "/ack 1")
		if inc := h.incident(1); inc.Status != sla.StatusAcknowledged || !inc.AckedAt.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("after ack %+v", inc)
		}
		var decisions []sla.Decision
		for _, m := range h.messages("acme") {
			decisions = append(decisions, m.Decision)
		}
		if strings.Join(toStrings(decisions), ",") != "staff,opened,first_response" {
			t.Fatalf("decisions %v", decisions)
		}
		ms := h.messages("acme")
		if !ms[0].Staff || ms[0].AuthorID != "wang" || ms[0].Verdict != "" || ms[2].IncidentID != 1 {
			t.Fatalf("stored %+v", ms)
		}
	})
}

func toStrings[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// A deployment that turned first responses off leaves the reply clock to
// /ack.
func TestStaffReplyNotFirstResponse(t *testing.T) {
	h := newHarness(t, storagetest.SQLite(t))
	h.router.Svc.Dir.StaffRepliesNotFirstResponse = true
	h.say("UCLI", "CACME", "", "集群全部宕机了")
	h.say("UENGWANG", "CACME", "", "收到，正在排查")
	if inc := h.incident(1); !inc.AckedAt.IsZero() {
		t.Fatalf("reply met the clock: %+v", inc)
	}
	if ms := h.messages("acme"); ms[1].Decision != sla.DecisionReply || ms[1].IncidentID != 1 {
		t.Fatalf("stored %+v", ms)
	}
}

// A customer's follow-up joins their incident in progress; a clearly
// different fault opens its own.
func TestFollowUpAttaches(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "有一个 Spark 作业失败了，报 OutOfMemoryError")
		h.posted()
		if inc := h.incident(1); inc.Severity != sla.SeverityNoncore {
			t.Fatalf("%+v", inc)
		}
		h.clock.Advance(10 * time.Minute)
		h.say("UCLI", "CACME", "", "还是不行，现在所有作业都失败了，核心报表出不来")
		noIncident(t, s, 2)
		got := only(t, h.posted(), "CENG")
		expect(t, got.Text, "⚠️ 事件 #1 客户补充（李雷），听起来已影响核心功能：还是不行，现在所有作业都失败了，核心报表出不来")
		expect(t, got.Text, "/sev 1 core")
		tl, _ := s.Timeline(context.Background(), 1)
		if last := tl[len(tl)-1]; last.Kind != sla.EventMessage || last.Data["suggests"] != "core" {
			t.Fatalf("timeline %+v", last)
		}

		h.say("UCLI", "CACME", "", "另外 kafka 那边消费也很慢，积压越来越多")
		if inc := h.incident(2); inc.Title != "另外 kafka 那边消费也很慢，积压越来越多" {
			t.Fatalf("%+v", inc)
		}
		h.posted()
		h.say("UCLI", "CACME", "", "谢谢，辛苦了")
		noIncident(t, s, 3)
		var decisions []string
		for _, m := range h.messages("acme") {
			decisions = append(decisions, string(m.Decision)+"#"+strconv.FormatInt(m.IncidentID, 10))
		}
		if strings.Join(decisions, ",") != "opened#1,attached#1,opened#2,attached#2" {
			t.Fatalf("decisions %v", decisions)
		}
	})
}

// A new fault written in the thread of an incident that is over opens a
// new incident linked to it, which takes the thread over; thanks there
// opens nothing.
func TestNewFaultInClosedThread(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "HDFS 写入报错，有一个目录写不进去")
		thread := h.posted()[0].ThreadID
		h.reply("UENGWANG", "CENG", "", "/ack 1")
		h.reply("UENGWANG", "CENG", "", "/restore 1 修复了目录权限")
		h.reply("UENGWANG", "CENG", "", "/close 1")
		h.posted()

		h.say("UCLI", "CACME", thread, "谢谢")
		noIncident(t, s, 2)
		expect(t, only(t, h.posted(), "CENG").Text, "事件 #1 客户补充（李雷）：谢谢")
		h.say("UCLI", "CACME", thread, "又出问题了，现在整个 HDFS 都写不进去，所有作业失败")
		inc := h.incident(2)
		if inc.RelatedTo != 1 || inc.Severity != sla.SeverityCore || inc.Status != sla.StatusOpen {
			t.Fatalf("linked incident %+v", inc)
		}
		out := h.posted()
		if out[0].ChatID != "CACME" || out[0].ThreadID != thread {
			t.Fatalf("customer not answered in the thread: %+v", out[0])
		}
		expect(t, out[0].Text, "登记为事件 #2（核心功能不可用）（与事件 #1 相关）")
		expect(t, out[1].Text, "相关事件: #1")
		// The thread now belongs to the new incident.
		h.say("UCLI", "CACME", thread, "日志里是 DiskOutOfSpaceException")
		tl, _ := s.Timeline(context.Background(), 2)
		if last := tl[len(tl)-1]; last.Kind != sla.EventMessage || last.Body != "日志里是 DiskOutOfSpaceException" {
			t.Fatalf("thread after the new fault: %+v", last)
		}
		old, _ := s.Timeline(context.Background(), 1)
		if last := old[len(old)-1]; last.Kind != sla.EventMessage || last.Data["opened"] != "2" {
			t.Fatalf("old incident does not point to the new one: %+v", last)
		}
		noIncident(t, s, 3)
	})
}

// Duplicates and false reports leave the compliance figures but stay in
// the digests, with any clock they had breached named; every refusal is
// clear, in the reader's language, and changes nothing.
func TestMergeAndNotFaultLeaveTheFigures(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "HDFS 写入报错，有一个目录写不进去")
		h.say("UAMY", "CGLOBEX", "", "the sales dashboard is down for everyone")
		expect(t, h.reply("UCLI", "CACME", "", "/incident 集群全部宕机了"), "已登记事件 #3")
		dupThread := ""
		for _, m := range h.posted() {
			if m.ChatID == "CACME" && m.IncidentID == 3 {
				dupThread = m.ThreadID
			}
		}
		h.at(45 * time.Minute) // every reply clock is breached

		// Refusals.
		expect(t, h.reply("UENGWANG", "CENG", "", "/notfault 2 test"), "抱歉，/notfault 需要组长或更高的权限。")
		expect(t, h.reply("UENGSAM", "CENG", "", "/merge 1 into 2"), "Incidents #1 and #2 belong to different customers and cannot be merged.")
		expect(t, h.reply("UENGSAM", "CENG", "", "/merge 1 into 1"), "An incident cannot be merged into itself.")
		expect(t, h.reply("UENGSAM", "CENG", "", "/merge 1 into 99"), "Incident #99 not found.")
		expect(t, h.reply("UENGSAM", "CENG", "", "/merge 1 with 3"), "Usage: /merge <id> into <id>")
		expect(t, h.reply("UCLI", "CACME", "", "/merge 3 into 1"), "抱歉，您没有权限执行 /merge")
		expect(t, h.reply("ULEAD", "CENG", "", "/notfault 1"), "用法：/notfault [编号] <原因>")
		for id := int64(1); id <= 3; id++ {
			if inc := h.incident(id); inc.Dismissed() || inc.Status != sla.StatusOpen {
				t.Fatalf("a refusal changed #%d: %+v", id, inc)
			}
		}

		// #3 is a duplicate of #1: its clocks stop, its customer is told,
		// its messages move.
		expect(t, h.reply("UENGWANG", "CENG", "", "/merge 3 into 1"), "事件 #3 已合并到 #1")
		dup := h.incident(3)
		if dup.Outcome != sla.OutcomeDuplicate || dup.MergedInto != 1 || dup.Status != sla.StatusClosed {
			t.Fatalf("duplicate %+v", dup)
		}
		out := h.posted()
		var told bool
		for _, m := range out {
			if m.ChatID == "CACME" && strings.Contains(m.Text, "您的报告 #3 与事件 #1 是同一个问题") {
				told = m.ThreadID == dupThread
			}
		}
		if !told {
			t.Fatalf("customer not told in the duplicate's thread %q: %+v", dupThread, out)
		}
		expect(t, h.reply("UENGWANG", "CENG", "", "/merge 1 into 3"), "事件 #3 已关闭：请先 /reopen 3")
		expect(t, h.reply("UENGWANG", "CENG", "", "/ack 3"), "事件 #3 已合并到 #1，请在 #1 上操作。")
		// The duplicate's thread now leads to the survivor.
		if dupThread != "" {
			h.say("UCLI", "CACME", dupThread, "现在还是全部宕机")
			tl, _ := s.Timeline(context.Background(), 1)
			if last := tl[len(tl)-1]; last.Kind != sla.EventMessage || last.Body != "现在还是全部宕机" {
				t.Fatalf("reply in the duplicate's thread went to %+v", last)
			}
		}

		// #1 is not a fault, says the lead.
		expect(t, h.reply("ULEAD", "CENG", "", "/notfault 1 客户在做权限测试"), "事件 #1 已作为非故障关闭")
		expect(t, h.reply("ULEAD", "CENG", "", "/notfault 1 again"), "事件 #1 已作为非故障关闭。如判断有误：/triage 1 core|noncore")
		h.posted()

		now := h.clock.Now()
		st, err := s.Stats(context.Background(), "", t0.Add(-time.Hour), t0.Add(time.Hour), now)
		if err != nil {
			t.Fatal(err)
		}
		if st.Incidents != 1 || st.Compliance[0].Missed != 1 || st.DismissedCount != 2 || st.Duplicates != 1 || st.NotFaults != 1 {
			t.Fatalf("stats %+v", st)
		}
		if len(st.Dismissed) != 2 || st.Dismissed[1].IncidentID != 3 || st.Dismissed[1].MergedInto != 1 ||
			len(st.Dismissed[1].Breached) != 1 || st.Dismissed[1].Breached[0] != sla.ClockAck || st.Dismissed[0].Outcome != sla.OutcomeNotFault {
			t.Fatalf("dismissed %+v", st.Dismissed)
		}
		digest := h.reply("UMGR", "CMGR", "", "/digest weekly")
		expect(t, digest, "事件 1 起")
		expect(t, digest, "误报/重复 2 起（重复 1，非故障 1），不计入以上统计：")
		expect(t, digest, "• #3 星辰数据 重复，已合并到 #1：集群全部宕机了（关闭前已超时：响应）")
		expect(t, digest, "• #1 星辰数据 非故障：HDFS 写入报错，有一个目录写不进去（关闭前已超时：响应）")
		h.clock.Advance(time.Minute)
		daily := h.reply("UMGR", "CMGR", "", "/digest daily")
		expect(t, daily, "过去 24 小时超时 3 项：")
		expect(t, daily, "过去 24 小时误报/重复 2 起：")
	})
}

// The engineers' decisions are kept as labelled examples, and the
// classifier trains on them beside the corpus.
func TestCorrectionsTeachTheClassifier(t *testing.T) {
	s := storagetest.SQLite(t)
	h := newHarness(t, s)
	h.unsure()
	h.say("UCLI", "CACME", "", "大屏右上角那个数字今天一直是 0")
	h.reply("UENGWANG", "CENG", "", "/triage 1 core")
	h.say("UCLI", "CACME", "", "/incident 帮忙看一下报表")
	h.reply("UENGWANG", "CENG", "", "/sev 2 core")
	c := bot.NewClassifier(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := c.Retrain(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The shipped model's texts and the two corrections, whose texts are
	// not in the corpus.
	if got, want := c.Model().Examples(), classify.Default().Examples()+2; got != want {
		t.Fatalf("trained on %d examples", got)
	}
}

// A revisit recorded with /note shows in /status of the customer, on both
// databases; one from an earlier period says this period has none yet.
func TestStatusShowsRevisit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		expect(t, h.reply("UENGWANG", "CENG", "", "/status acme"), "本期（2026-10）尚无回访记录")
		expect(t, h.reply("UENGWANG", "CENG", "", "/note acme 客户反馈系统运行稳定"), "已记录对 星辰数据 的回访")
		st := h.reply("UENGWANG", "CENG", "", "/status acme")
		expect(t, st, "最近一次回访：11-25 09:00 CST")
		if strings.Contains(st, "尚无回访记录") {
			t.Fatalf("a recorded revisit is not seen:\n%s", st)
		}
		h.clock.Advance(70 * 24 * time.Hour) // the next quarter
		st = h.reply("UENGWANG", "CENG", "", "/status acme")
		expect(t, st, "本期（2027-01）尚无回访记录")
		expect(t, st, "最近一次回访：11-25 09:00 CST")
	})
}
