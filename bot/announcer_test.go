package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// A customer's year, day by day: acceptance on 2026-03-01, four quarterly
// inspections announced a week ahead and on the day and their reports
// asked for daily until the engineer files them, the August and December
// health checks likewise, the quarterly revisits (one recorded late, so it
// is asked for again), the warranty warnings 30 and 7 days before the end,
// and the next August's health check after the warranty ended. A restart
// (a new announcer) posts nothing twice; a post missed while the bot was
// down is made if still useful and skipped if stale. The managers' digests
// have their own test.
func TestContractYear(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		sh, _ := time.LoadLocation("Asia/Shanghai")
		logs := &strings.Builder{}
		newAnnouncer := func() *bot.Announcer {
			return &bot.Announcer{Svc: h.router.Svc, Clock: h.clock, Log: slog.New(slog.NewTextHandler(logs, nil))}
		}
		a := newAnnouncer()
		ctx := context.Background()
		start := time.Date(2026, 2, 1, 9, 5, 0, 0, sh)
		h.clock.Advance(start.Sub(h.clock.Now()))
		var got []string
		down := func(day time.Time) bool { // the bot is down for a week in May
			return !day.Before(time.Date(2026, 5, 8, 0, 0, 0, 0, sh)) && day.Before(time.Date(2026, 5, 16, 0, 0, 0, 0, sh))
		}
		for day := start; day.Before(time.Date(2027, 9, 1, 0, 0, 0, 0, sh)); day = day.AddDate(0, 0, 1) {
			h.clock.Advance(day.Sub(h.clock.Now()))
			if down(day) {
				continue
			}
			if day.Month() == time.May && day.Day() == 16 {
				h.clock.Advance(time.Hour) // back at 10:05
			}
			if _, err := a.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if day.Day() == 1 {
				a = newAnnouncer() // a restart every month
				if n, _ := a.Tick(ctx); n != 0 {
					t.Fatalf("the restart posted %d again on %s", n, day.Format("2006-01-02"))
				}
			}
			var posted []chat.Outbound
			for _, m := range h.posted() {
				posted = append(posted, m)
				first, _, _ := strings.Cut(m.Text, "\n")
				if m.ChatID == "CMGR" && (strings.HasPrefix(first, "🗞") || strings.HasPrefix(first, "📊") || m.Kind == chat.KindFile) {
					continue // the digests
				}
				got = append(got, fmt.Sprintf("%s %s %s", h.clock.Now().In(sh).Format("2006-01-02"), m.ChatID, first))
			}
			// The engineer files each report two days after the occasion, and
			// records each revisit the day it is asked for, except July's.
			for _, m := range posted {
				switch {
				case strings.Contains(m.Text, "（已过 2 天）") && strings.Contains(m.Text, "/report inspection"):
					expect(t, h.reply("UENGWANG", "CENG", "", "/report inspection acme 各模块运行正常，已清理日志，备份切换正常。"), "已存档")
				case strings.Contains(m.Text, "（已过 2 天）") && strings.Contains(m.Text, "/report healthcheck"):
					expect(t, h.reply("UENGWANG", "CENG", "", "/report 健康检查 acme 系统整体性能良好。"), "已存档")
				case strings.HasPrefix(m.Text, "☎️") && !(day.Month() == time.July && day.Year() == 2026):
					expect(t, h.reply("UENGWANG", "CENG", "", "/note acme 客户反馈系统运行稳定"), "已记录对 星辰数据 的回访")
				}
			}
			for _, m := range h.posted() {
				first, _, _ := strings.Cut(m.Text, "\n")
				got = append(got, fmt.Sprintf("%s %s %s", h.clock.Now().In(sh).Format("2006-01-02"), m.ChatID, first))
			}
		}
		want := []string{
			"2026-04-15 CENG ☎️ 回访提醒：请询问 星辰数据 系统使用情况，并用 /note acme <回访记录> 记录。",
			// 2026Q2: the week-ahead notice fell in the downtime and was stale by then.
			"2026-05-16 CACME 📅 星辰数据：今天（2026-05-16）进行本季度（2026Q2）巡检，检查内容：",
			"2026-05-17 CENG 📝 星辰数据：季度巡检（2026Q2，2026-05-16）的评估报告尚未提交（已过 1 天）。请用 /report inspection acme <报告内容> 提交。",
			"2026-05-18 CENG 📝 星辰数据：季度巡检（2026Q2，2026-05-16）的评估报告尚未提交（已过 2 天）。请用 /report inspection acme <报告内容> 提交。",
			"2026-05-18 CACME 📋 季度巡检评估报告（2026Q2，2026-05-16）",
			"2026-05-18 CACME 星辰数据-季度巡检评估报告-2026Q2.docx",
			"2026-07-15 CENG ☎️ 回访提醒：请询问 星辰数据 系统使用情况，并用 /note acme <回访记录> 记录。",
			"2026-08-08 CACME 📅 星辰数据：本季度（2026Q3）巡检定于 2026-08-15 进行，届时将检查：",
			"2026-08-08 CACME 🩺 星辰数据：系统健康检查定于 2026-08-15 进行，内容：",
			"2026-08-15 CACME 📅 星辰数据：今天（2026-08-15）进行本季度（2026Q3）巡检，检查内容：",
			"2026-08-15 CACME 🩺 星辰数据：今天（2026-08-15）进行系统健康检查，内容：",
			"2026-08-15 CENG ☎️ 本期（2026-07）尚未记录对 星辰数据 的回访，请尽快回访并用 /note acme <回访记录> 记录。",
			"2026-08-16 CENG 📝 星辰数据：季度巡检（2026Q3，2026-08-15）的评估报告尚未提交（已过 1 天）。请用 /report inspection acme <报告内容> 提交。",
			"2026-08-16 CENG 📝 星辰数据：健康检查（2026-08，2026-08-15）的评估报告尚未提交（已过 1 天）。请用 /report healthcheck acme <报告内容> 提交。",
			"2026-08-17 CENG 📝 星辰数据：季度巡检（2026Q3，2026-08-15）的评估报告尚未提交（已过 2 天）。请用 /report inspection acme <报告内容> 提交。",
			"2026-08-17 CENG 📝 星辰数据：健康检查（2026-08，2026-08-15）的评估报告尚未提交（已过 2 天）。请用 /report healthcheck acme <报告内容> 提交。",
			"2026-08-17 CACME 📋 季度巡检评估报告（2026Q3，2026-08-15）",
			"2026-08-17 CACME 星辰数据-季度巡检评估报告-2026Q3.docx",
			"2026-08-17 CACME 📋 健康检查评估报告（2026-08，2026-08-15）",
			"2026-08-17 CACME 星辰数据-健康检查评估报告-2026-08.docx",
			"2026-10-15 CENG ☎️ 回访提醒：请询问 星辰数据 系统使用情况，并用 /note acme <回访记录> 记录。",
			"2026-11-08 CACME 📅 星辰数据：本季度（2026Q4）巡检定于 2026-11-15 进行，届时将检查：",
			"2026-11-15 CACME 📅 星辰数据：今天（2026-11-15）进行本季度（2026Q4）巡检，检查内容：",
			"2026-11-16 CENG 📝 星辰数据：季度巡检（2026Q4，2026-11-15）的评估报告尚未提交（已过 1 天）。请用 /report inspection acme <报告内容> 提交。",
			"2026-11-17 CENG 📝 星辰数据：季度巡检（2026Q4，2026-11-15）的评估报告尚未提交（已过 2 天）。请用 /report inspection acme <报告内容> 提交。",
			"2026-11-17 CACME 📋 季度巡检评估报告（2026Q4，2026-11-15）",
			"2026-11-17 CACME 星辰数据-季度巡检评估报告-2026Q4.docx",
			"2026-12-08 CACME 🩺 星辰数据：系统健康检查定于 2026-12-15 进行，内容：",
			"2026-12-15 CACME 🩺 星辰数据：今天（2026-12-15）进行系统健康检查，内容：",
			"2026-12-16 CENG 📝 星辰数据：健康检查（2026-12，2026-12-15）的评估报告尚未提交（已过 1 天）。请用 /report healthcheck acme <报告内容> 提交。",
			"2026-12-17 CENG 📝 星辰数据：健康检查（2026-12，2026-12-15）的评估报告尚未提交（已过 2 天）。请用 /report healthcheck acme <报告内容> 提交。",
			"2026-12-17 CACME 📋 健康检查评估报告（2026-12，2026-12-15）",
			"2026-12-17 CACME 星辰数据-健康检查评估报告-2026-12.docx",
			"2027-01-15 CENG ☎️ 回访提醒：请询问 星辰数据 系统使用情况，并用 /note acme <回访记录> 记录。",
			"2027-01-30 CMGR ⏳ 星辰数据 的免费维护期将于 2027-03-01 结束（还有 30 天）。季度巡检随之停止，健康检查继续。",
			"2027-02-08 CACME 📅 星辰数据：本季度（2027Q1）巡检定于 2027-02-15 进行，届时将检查：",
			"2027-02-15 CACME 📅 星辰数据：今天（2027-02-15）进行本季度（2027Q1）巡检，检查内容：",
			"2027-02-16 CENG 📝 星辰数据：季度巡检（2027Q1，2027-02-15）的评估报告尚未提交（已过 1 天）。请用 /report inspection acme <报告内容> 提交。",
			"2027-02-17 CENG 📝 星辰数据：季度巡检（2027Q1，2027-02-15）的评估报告尚未提交（已过 2 天）。请用 /report inspection acme <报告内容> 提交。",
			"2027-02-17 CACME 📋 季度巡检评估报告（2027Q1，2027-02-15）",
			"2027-02-17 CACME 星辰数据-季度巡检评估报告-2027Q1.docx",
			"2027-02-22 CMGR ⏳ 星辰数据 的免费维护期将于 2027-03-01 结束（还有 7 天）。季度巡检随之停止，健康检查继续。",
			// After the warranty: no inspection in 2027Q2 or Q3, but the
			// health checks and the revisits go on.
			"2027-04-15 CENG ☎️ 回访提醒：请询问 星辰数据 系统使用情况，并用 /note acme <回访记录> 记录。",
			"2027-07-15 CENG ☎️ 回访提醒：请询问 星辰数据 系统使用情况，并用 /note acme <回访记录> 记录。",
			"2027-08-08 CACME 🩺 星辰数据：系统健康检查定于 2027-08-15 进行，内容：",
			"2027-08-15 CACME 🩺 星辰数据：今天（2027-08-15）进行系统健康检查，内容：",
			"2027-08-16 CENG 📝 星辰数据：健康检查（2027-08，2027-08-15）的评估报告尚未提交（已过 1 天）。请用 /report healthcheck acme <报告内容> 提交。",
			"2027-08-17 CENG 📝 星辰数据：健康检查（2027-08，2027-08-15）的评估报告尚未提交（已过 2 天）。请用 /report healthcheck acme <报告内容> 提交。",
			"2027-08-17 CACME 📋 健康检查评估报告（2027-08，2027-08-15）",
			"2027-08-17 CACME 星辰数据-健康检查评估报告-2027-08.docx",
		}
		// Each chat's posts in order; chats are served side by side, so
		// within a day one chat's posts may come between another's.
		byDayAndChat := func(lines []string) {
			dayAndChat := func(line string) string { f := strings.Fields(line); return f[0] + " " + f[1] }
			slices.SortStableFunc(lines, func(a, b string) int { return strings.Compare(dayAndChat(a), dayAndChat(b)) })
		}
		byDayAndChat(got)
		byDayAndChat(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("the year's posts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !strings.Contains(logs.String(), "job=inspection-ahead customer=acme period=2026Q2") {
			t.Fatalf("the stale post was not logged:\n%s", logs.String())
		}
		// Every report is kept, and the status shows the warranty over.
		st := h.reply("UENGWANG", "CENG", "", "/status acme")
		for _, want := range []string{"免费维护期已于 2027-03-01 结束", "最近的健康检查报告：2027-08", "最近的季度巡检报告：2027Q1", "下一次健康检查：2027-12-15"} {
			expect(t, st, want)
		}
		if strings.Contains(st, "下一次季度巡检") || strings.Contains(st, "尚未提交") {
			t.Errorf("status after the warranty:\n%s", st)
		}
	})
}

func TestInspectionChecklist(t *testing.T) {
	s := storagetest.SQLite(t)
	h := newHarness(t, s)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	a := &bot.Announcer{Svc: h.router.Svc, Calendar: sla.DefaultCalendar(sh), Clock: h.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h.clock.Advance(time.Date(2026, 8, 15, 9, 0, 0, 0, sh).Sub(h.clock.Now()))
	if _, err := a.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []chat.Outbound
	for _, m := range h.posted() {
		if m.ChatID == "CACME" {
			out = append(out, m)
		}
	}
	if len(out) != 2 {
		t.Fatalf("%d posts to the customer", len(out))
	}
	for _, want := range []string{"备份切换测试", "电源与机房环境", "文件系统清理", "补丁情况", "日志与错误记录"} {
		expect(t, out[0].Text, want)
	}
	for _, want := range []string{"操作系统", "网络", "终端", "整体性能", "回顾系统使用情况"} {
		expect(t, out[1].Text, want)
	}
}

func TestSchedule(t *testing.T) {
	var logs syncBuffer
	sch := bot.NewSchedule(time.UTC, slog.New(slog.NewTextHandler(&logs, nil)))
	ran := make(chan struct{}, 10)
	if err := sch.Add("@every 1s", "tick", func(ctx context.Context) error { ran <- struct{}{}; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := sch.Add("not a spec", "bad", nil); err == nil {
		t.Fatal("bad spec accepted")
	}
	// A job that panics is reported and the schedule goes on.
	if err := sch.Add("@every 1h", "panics", func(ctx context.Context) error { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	// A job still running when it is due again is skipped, not run twice.
	release, started := make(chan struct{}), make(chan struct{}, 10)
	if err := sch.Add("@every 1h", "slow", func(ctx context.Context) error {
		started <- struct{}{}
		<-release
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sch.RunNow("panics")
	sch.RunNow("slow")
	wait(t, started, "the slow job to start")
	sch.RunNow("slow")
	sch.Start()
	wait(t, ran, "the scheduled job") // robfig/cron's own clock; the job's effect is what is waited for
	close(release)
	sch.Stop()
	if len(started) != 0 {
		t.Fatal("a job still running was started again")
	}
	for _, want := range []string{"panic", "boom", "skip"} {
		expect(t, logs.String(), want)
	}
}

// wait fails the test, instead of hanging it, if ch stays empty for a
// minute: these are robfig/cron's own goroutines, not the test's clock.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("waited a minute for %s", what)
	}
}

// syncBuffer is a bytes.Buffer safe for the schedule's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
