package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands/docx"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// A missed deadline cannot be erased: a non-core incident restored two
// hours late, reopened, restored in time and closed still shows the first
// breach, and the quarter counts both restore clocks.
func TestReopenKeepsTheBreach(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "有一个报表导出失败了")
		if inc := h.incident(1); inc.Severity != sla.SeverityNoncore {
			t.Fatalf("%+v", inc)
		}
		h.reply("UENGWANG", "CENG", "", "/ack 1")
		h.clock.Advance(26 * time.Hour)
		expect(t, h.reply("UENGWANG", "CENG", "", "/restore 1 重新生成了导出"), "✗ 超时 2小时 完成")
		expect(t, h.reply("UENGWANG", "CENG", "", "/reopen 1"), "恢复时限重新计时")
		h.clock.Advance(time.Hour)
		h.reply("UENGWANG", "CENG", "", "/restore 1 修正了导出脚本")
		h.reply("UENGWANG", "CENG", "", "/close 1")

		st := h.reply("UENGWANG", "CENG", "", "/status 1")
		expect(t, st, "恢复（第 1 次）：11-26 09:00 CST 前 ✗ 超时 2小时 完成")
		expect(t, st, "恢复（第 2 次）：11-27 11:00 CST 前 ✓ 已按时完成")
		inc := h.incident(1)
		if len(inc.PastClocks) != 1 || inc.PastClocks[0].Clock != sla.ClockRestore || inc.PastClocks[0].Instance != 1 ||
			!inc.PastClocks[0].MetAt.Equal(t0.Add(26*time.Hour)) {
			t.Fatalf("clock history %+v", inc.PastClocks)
		}
		var card string
		for _, m := range h.posted() {
			if m.Card != nil && m.IncidentID == 1 {
				card = m.Text
			}
		}
		expect(t, card, "恢复（第 1 次）：11-26 09:00 CST 前 ✗ 超时 2小时 完成")

		st2, err := s.Stats(context.Background(), "acme", t0.Add(-time.Hour), t0.Add(time.Hour), h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		restore := st2.Compliance[3]
		if restore.Met != 1 || restore.Missed != 1 || st2.BreachCount != 1 || len(st2.Breaches) != 1 ||
			st2.Breaches[0].Lateness != 2*time.Hour || st2.Breaches[0].Clock != sla.ClockRestore {
			t.Fatalf("the quarter forgot the breach: %+v %+v", restore, st2.Breaches)
		}
		digest := h.reply("UMGR", "CMGR", "", "/digest quarter acme 2026Q4")
		expect(t, digest, "恢复（非核心故障）：50.0%（按时 1，超时 1，进行中 0）")
		expect(t, digest, "超时 1 项：")

		// The history refuses to be rewritten, by anyone.
		if _, err := s.DB().Exec(s.DB().Rebind(`UPDATE clock_history SET met_at = due_at WHERE incident_id = ?`), 1); err == nil ||
			!strings.Contains(err.Error(), "append-only") {
			t.Fatalf("clock history rewritten: %v", err)
		}
	})
}

// A severity changed after a clock was met does not change that clock's
// outcome; an on-site visit made under core stays counted when the
// incident is downgraded.
func TestSeverityChangeKeepsMetClocks(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "集群全部宕机了，所有作业都跑不起来")
		h.clock.Advance(3 * time.Hour)
		h.reply("UENGWANG", "CENG", "", "/onsite 1") // an hour late
		expect(t, h.reply("UENGWANG", "CENG", "", "/sev 1 noncore"), "事件 #1 的级别改为 非核心故障")
		st := h.reply("UENGWANG", "CENG", "", "/status 1")
		expect(t, st, "到场：11-25 11:00 CST 前 ✗ 超时 1小时 完成")
		expect(t, st, "响应：11-25 09:30 CST 前 ✗ 超时 2小时30分钟 完成")
		stats, err := s.Stats(context.Background(), "", t0.Add(-time.Hour), t0.Add(time.Hour), h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if onsite := stats.Compliance[1]; onsite.Missed != 1 {
			t.Fatalf("the late visit left the figures: %+v", stats.Compliance)
		}
	})
}

// Met at exactly the deadline is on time everywhere: the card, /status and
// the statistics, also when the clock carries nanoseconds the database
// does not keep.
func TestMetAtTheDeadline(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.clock.Advance(123456789 * time.Nanosecond)
		h.say("UCLI", "CACME", "", "集群全部宕机了，所有作业都跑不起来")
		h.posted()
		h.clock.Advance(30 * time.Minute)
		h.reply("UENGWANG", "CENG", "", "/ack 1")
		var card string
		for _, m := range h.posted() {
			if m.Card != nil {
				card = m.Text
			}
		}
		expect(t, card, "响应：11-25 09:30 CST 前 ✓ 已按时完成")
		expect(t, h.reply("UENGWANG", "CENG", "", "/status 1"), "响应：11-25 09:30 CST 前 ✓ 已按时完成")
		st, err := s.Stats(context.Background(), "", t0.Add(-time.Hour), t0.Add(time.Hour), h.clock.Now())
		if err != nil || st.Compliance[0].Met != 1 || st.Compliance[0].Missed != 0 {
			t.Fatalf("%+v %v", st.Compliance, err)
		}
	})
}

// A month of a core outage nobody acknowledges: the ladder runs once, then
// the managers are reminded with a back-off and once a day at nine, in
// their channel alone; the engineering channel hears only the ladder and
// the weekly follow-ups; every daily digest names the overdue clocks.
func TestAMonthOfAnUnacknowledgedBreach(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "集群全部宕机了，所有作业都跑不起来")
		h.posted()
		type post struct {
			at   time.Time
			chat string
			text string
		}
		var posts []post
		for hour := 1; hour <= 30*24; hour++ {
			for _, m := range h.at(time.Duration(hour) * time.Hour) {
				posts = append(posts, post{h.clock.Now(), m.ChatID, m.Text})
			}
		}
		sh := h.router.Svc.Dir.Zone
		perDay := map[string]map[int]int{"CENG": {}, "CMGR": {}}
		var first, later []string
		for _, p := range posts {
			day := int(p.at.Sub(t0) / (24 * time.Hour))
			perDay[p.chat][day]++
			if day == 0 {
				first = append(first, p.chat)
				continue
			}
			later = append(later, p.chat)
			switch p.chat {
			case "CMGR":
				if !strings.HasPrefix(p.text, "🔁") || p.at.In(sh).Hour() != 9 {
					t.Errorf("day %d, %s: not the daily reminder at nine: %q", day, p.at.In(sh).Format("15:04"), p.text)
				}
			case "CENG":
				if !strings.Contains(p.text, "每周跟进") {
					t.Errorf("day %d: the engineers were pinged: %q", day, p.text)
				}
			}
		}
		for day := 1; day < 30; day++ {
			if perDay["CMGR"][day] != 1 {
				t.Errorf("day %d: %d reminders to the managers", day, perDay["CMGR"][day])
			}
		}
		t.Logf("first day: %d posts to the engineers, %d to the managers; then %d to the managers (one a day) and %d follow-ups",
			perDay["CENG"][0], perDay["CMGR"][0], len(later)-countOf(later, "CENG"), countOf(later, "CENG"))
		// The follow-up is weekly, with its check a day later: two a week.
		if perDay["CENG"][0] > 12 || perDay["CMGR"][0] > 12 || countOf(later, "CENG") > 8 {
			t.Errorf("a flood: %v", perDay)
		}
		h.clock.Advance(time.Minute)
		daily := h.reply("UMGR", "CMGR", "", "/digest daily")
		expect(t, daily, "仍未完成的超时时限 3 项：")
		expect(t, daily, "• #1 星辰数据 响应：11-25 09:30 CST 到期，仍未完成，已超时 29天23小时31分钟")
	})
}

func countOf(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// After /report the customer gets the maintenance service work report (C5)
// in the thread of their report, in their language, with a Word document
// to file; an English customer's in English.
func TestCustomersCopyOfTheReport(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "集群全部宕机了，所有作业都跑不起来")
		thread := h.posted()[0].ThreadID
		h.reply("UENGSAM", "CENG", "", "/onsite 1")
		h.reply("UENGSAM", "CENG", "", "/restore 1 replaced the NameNode disk")
		h.posted()
		// Sam reads English; the customer's copy is in Chinese.
		expect(t, h.reply("UENGSAM", "CENG", "", "/report 1"), "sent to the customer, with a Word document")
		out := h.posted()
		var text string
		var file *chat.Outbound
		for i, m := range out {
			if m.ChatID != "CACME" || m.ThreadID != thread {
				continue
			}
			if m.File != nil {
				file = &out[i]
			} else {
				text = m.Text
			}
		}
		expect(t, text, "《维护技术服务工作报告》")
		expect(t, text, "处理措施：replaced the NameNode disk")
		if file == nil || !strings.HasSuffix(file.File.Name, ".docx") || file.File.Name != "维护技术服务工作报告-事件1.docx" || file.File.Type != docx.Type {
			t.Fatalf("no document in the customer's thread: %+v", out)
		}
		doc, err := docx.Text(file.File.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"《维护技术服务工作报告》", "客户：星辰数据", "故障现象：集群全部宕机了，所有作业都跑不起来",
			"到达现场（Sam）", "到场：11-25 11:00 CST 前 ✓ 已按时完成", "处理措施：replaced the NameNode disk"} {
			expect(t, doc, want)
		}

		h.say("UAMY", "CGLOBEX", "", "the whole platform is down, nobody can log in")
		h.reply("UENGWANG", "CENG", "", "/restore 2 重启了 KDC")
		h.posted()
		h.reply("UENGWANG", "CENG", "", "/report 2")
		for _, m := range h.posted() {
			if m.ChatID == "CGLOBEX" && m.File != nil {
				doc, err := docx.Text(m.File.Data)
				if err != nil || m.File.Name != "service-report-incident-2.docx" {
					t.Fatalf("%s: %v", m.File.Name, err)
				}
				expect(t, doc, "Maintenance service work report")
				expect(t, doc, "Customer: Globex")
				return
			}
		}
		t.Fatal("the English customer got no document")
	})
}

// An inspection's assessment report goes to the customer with its document
// too (C7).
func TestCustomersCopyOfAnInspectionReport(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		expect(t, h.reply("UENGWANG", "CENG", "", "/report inspection acme 各模块运行正常，备份切换测试通过"), "已存档 星辰数据 季度巡检")
		var doc string
		for _, m := range h.posted() {
			if m.ChatID == "CACME" && m.File != nil {
				var err error
				if doc, err = docx.Text(m.File.Data); err != nil || !strings.HasSuffix(m.File.Name, ".docx") {
					t.Fatalf("%s: %v", m.File.Name, err)
				}
			}
		}
		expect(t, doc, "季度巡检评估报告")
		expect(t, doc, "各模块运行正常，备份切换测试通过")
	})
}

// The engineering channel speaks the language it is set to: a channel set
// to both gets every post in Chinese and English, and an English
// customer's incident card in English.
func TestBilingualEngineeringChannel(t *testing.T) {
	cfg := strings.Replace(testConfig, "{platform: slack, id: CENG, kind: engineering}", "{platform: slack, id: CENG, kind: engineering, language: both}", 1)
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarnessWith(t, s, cfg)
		h.say("UAMY", "CGLOBEX", "", "the whole platform is down, nobody can log in")
		out := h.posted()
		only(t, out, "CGLOBEX", "CENG")
		expect(t, out[1].Text, "#1 · Globex · core · open")
		if strings.Contains(out[1].Text, "核心功能不可用") {
			t.Fatalf("an English customer's card in Chinese:\n%s", out[1].Text)
		}
		h.reply("UENGWANG", "CENG", "", "/note 1 checking the KDC")
		note := only(t, h.posted(), "CENG").Text
		expect(t, note, "事件 #1 备注（王工）：checking the KDC")
		expect(t, note, "Incident #1 note (by 王工): checking the KDC")
		// A Chinese customer's card stays in Chinese there.
		h.say("UCLI", "CACME", "", "集群全部宕机了")
		out = h.posted()
		expect(t, out[1].Text, "#2 · 星辰数据 · 核心功能不可用 · 待响应")
	})
}

// The quarterly report's chart and CSV name the customers, in the reader's
// language, on both databases.
func TestQuarterlyFilesNameTheCustomers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.say("UCLI", "CACME", "", "集群全部宕机了，所有作业都跑不起来")
		h.posted()
		expect(t, h.reply("UMGR", "CMGR", "", "/digest quarter 2026Q4"), "2026Q4 季度服务统计报告")
		var png, csvFile *chat.Outbound
		out := h.posted()
		for i, m := range out {
			if m.File == nil {
				continue
			}
			switch m.File.Type {
			case "image/png":
				png = &out[i]
			case "text/csv":
				csvFile = &out[i]
			}
		}
		if png == nil || csvFile == nil || len(png.File.Data) < 1000 {
			t.Fatalf("files %+v", out)
		}
		csv := string(csvFile.File.Data)
		for _, want := range []string{"季度,客户编号,客户名称", "acme,星辰数据,1,1,0", "globex,Globex,0"} {
			expect(t, csv, want)
		}
	})
}
