package bot_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// A critical business period (C11): set by a lead, announced with who is
// on site when it begins, and an incident reported in it is chased on the
// tighter ladder: reminder 15 minutes before the deadline, the leads 5 and
// the managers 10 minutes after it (instead of 10, 15 and 30).
func TestCriticalPeriod(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		a := &bot.Announcer{Svc: h.router.Svc, Clock: h.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Lookback: time.Hour}
		ctx := context.Background()
		expect(t, h.reply("UENGWANG", "CENG", "", "/critical acme 2026-11-25T10:00 2026-11-25T20:00"), "只有组长")
		expect(t, h.reply("ULEAD", "CENG", "", "/critical acme 2026-11-25T20:00 2026-11-25T10:00"), "结束时间必须晚于开始时间")
		expect(t, h.reply("ULEAD", "CENG", "", "/critical acme tomorrow 2026-11-25T10:00"), "无法识别时间")
		expect(t, h.reply("ULEAD", "CENG", "", "/critical acme 2026-11-25T10:00 2026-11-25T20:00 @li 年终结算"), "li")
		expect(t, h.reply("ULEAD", "CENG", "", "/critical acme 2026-11-25T10:00 2026-11-25T20:00 @wang 年终结算"),
			"已设定 星辰数据 关键业务保障期：11-25 10:00 CST — 11-25 20:00 CST，现场：王工")
		expect(t, h.reply("UCLI", "CACME", "", "/critical"), "星辰数据：11-25 10:00 CST — 11-25 20:00 CST，现场：王工（年终结算）")
		expect(t, h.reply("UCLI", "CACME", "", "/critical acme 2026-12-01 2026-12-02"), "只有组长")

		critical := func() []chat.Outbound {
			var out []chat.Outbound
			if _, err := a.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			for _, m := range h.posted() {
				if strings.HasPrefix(m.Text, "🛡") {
					out = append(out, m)
				}
			}
			return out
		}
		if got := critical(); len(got) != 0 {
			t.Fatalf("announced before it began: %+v", got)
		}
		h.clock.Advance(time.Hour) // 10:00
		got := critical()
		only(t, got, "CACME", "CENG")
		expect(t, got[0].Text, "🛡 星辰数据 关键业务保障期：11-25 10:00 CST — 11-25 20:00 CST（年终结算）。现场工程师：王工。")
		mentions(t, got[1], "wang")
		if again := critical(); len(again) != 0 {
			t.Fatal("announced twice")
		}

		// Reported at 10:00, in the period: ack due 10:30.
		h.say("UCLI", "CACME", "", "集群全部宕机了，所有作业都跑不起来")
		h.posted()
		expect(t, only(t, h.at(75*time.Minute), "CENG").Text, "⏰")  // 10:15, not 10:20
		h.at(90 * time.Minute)                                      // 10:30: the breach
		expect(t, only(t, h.at(95*time.Minute), "CENG").Text, "组长") // 10:35, not 10:45
		out := h.at(100 * time.Minute)                              // 10:40, not 11:00
		expect(t, out[len(out)-1].Text, "经理")
		expect(t, h.reply("UCLI", "CACME", "", "/status"), "关键业务保障期：11-25 10:00 CST — 11-25 20:00 CST")
	})
}
