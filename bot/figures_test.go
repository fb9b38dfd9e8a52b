package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

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
