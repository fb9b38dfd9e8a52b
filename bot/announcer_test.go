package bot_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// A customer's year, day by day: acceptance on 2026-03-01, four quarterly
// inspections announced a week ahead and on the day, the August and
// December health checks, the warranty warnings 30 and 7 days before the
// end, and the next August's health check after the warranty ended. A
// restart (a new announcer) posts nothing twice; a post missed while the
// bot was down is made if still useful and skipped if stale.
func TestContractYear(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		sh, _ := time.LoadLocation("Asia/Shanghai")
		logs := &strings.Builder{}
		newAnnouncer := func() *bot.Announcer {
			return &bot.Announcer{Svc: h.router.Svc, Calendar: sla.DefaultCalendar(sh), Clock: h.clock,
				Log: slog.New(slog.NewTextHandler(logs, nil))}
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
			for _, m := range h.posted() {
				first, _, _ := strings.Cut(m.Text, "\n")
				got = append(got, fmt.Sprintf("%s %s %s", h.clock.Now().In(sh).Format("2006-01-02"), m.ChatID, first))
			}
		}
		want := []string{
			// 2026Q2: the week-ahead notice fell in the downtime and was stale by then.
			"2026-05-16 CACME 📅 星辰数据：今天（2026-05-16）进行本季度（2026Q2）巡检，检查内容：",
			"2026-08-08 CACME 📅 星辰数据：本季度（2026Q3）巡检定于 2026-08-15 进行，届时将检查：",
			"2026-08-08 CACME 🩺 星辰数据：系统健康检查定于 2026-08-15 进行，内容：",
			"2026-08-15 CACME 📅 星辰数据：今天（2026-08-15）进行本季度（2026Q3）巡检，检查内容：",
			"2026-08-15 CACME 🩺 星辰数据：今天（2026-08-15）进行系统健康检查，内容：",
			"2026-11-08 CACME 📅 星辰数据：本季度（2026Q4）巡检定于 2026-11-15 进行，届时将检查：",
			"2026-11-15 CACME 📅 星辰数据：今天（2026-11-15）进行本季度（2026Q4）巡检，检查内容：",
			"2026-12-08 CACME 🩺 星辰数据：系统健康检查定于 2026-12-15 进行，内容：",
			"2026-12-15 CACME 🩺 星辰数据：今天（2026-12-15）进行系统健康检查，内容：",
			"2027-01-30 CMGR ⏳ 星辰数据 的免费维护期将于 2027-03-01 结束（还有 30 天）。季度巡检随之停止，健康检查继续。",
			"2027-02-08 CACME 📅 星辰数据：本季度（2027Q1）巡检定于 2027-02-15 进行，届时将检查：",
			"2027-02-15 CACME 📅 星辰数据：今天（2027-02-15）进行本季度（2027Q1）巡检，检查内容：",
			"2027-02-22 CMGR ⏳ 星辰数据 的免费维护期将于 2027-03-01 结束（还有 7 天）。季度巡检随之停止，健康检查继续。",
			// After the warranty: no inspection in 2027Q2 or Q3, but the health check goes on.
			"2027-08-08 CACME 🩺 星辰数据：系统健康检查定于 2027-08-15 进行，内容：",
			"2027-08-15 CACME 🩺 星辰数据：今天（2027-08-15）进行系统健康检查，内容：",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("the year's posts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !strings.Contains(logs.String(), "job=inspection-ahead customer=acme period=2026Q2") {
			t.Fatalf("the stale post was not logged:\n%s", logs.String())
		}
	})
}

func TestInspectionChecklist(t *testing.T) {
	s := storagetest.SQLite(t)
	h := newHarness(t, s)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	a := &bot.Announcer{Svc: h.router.Svc, Calendar: sla.DefaultCalendar(sh), Clock: h.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h.clock.Advance(time.Date(2026, 8, 15, 9, 0, 0, 0, sh).Sub(h.clock.Now()))
	if n, err := a.Tick(context.Background()); err != nil || n != 2 {
		t.Fatalf("posted %d, %v", n, err)
	}
	out := h.posted()
	for _, want := range []string{"备份切换测试", "电源与机房环境", "文件系统清理", "补丁情况", "日志与错误记录"} {
		expect(t, out[0].Text, want)
	}
	for _, want := range []string{"操作系统", "网络", "终端", "整体性能", "回顾系统使用情况"} {
		expect(t, out[1].Text, want)
	}
}

func TestSchedule(t *testing.T) {
	sch := bot.NewSchedule(time.UTC, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ran := make(chan struct{}, 10)
	if err := sch.Add("@every 1s", "tick", func(ctx context.Context) error { ran <- struct{}{}; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := sch.Add("not a spec", "bad", nil); err == nil {
		t.Fatal("bad spec accepted")
	}
	sch.Start()
	<-ran // robfig/cron's own clock; the job's effect is what is waited for
	sch.Stop()
}
