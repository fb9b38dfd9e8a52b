package bot_test

import (
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// A customer's report that begins with a path is a report, not an unknown
// command; our own commands still work in their channel, and staff still
// hear that a command they mistyped is unknown.
func TestReportBeginningWithSlash(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		if rs := h.say("UCLI", "CACME", "", "/opt/app 目录下的服务全部宕机了"); len(rs) != 0 {
			t.Fatalf("the report was answered as a command: %v", rs)
		}
		if inc := h.incident(1); inc.CustomerID != "acme" || inc.ReportedBy != "li" || !strings.Contains(inc.Title, "/opt/app") {
			t.Fatalf("incident %+v", inc)
		}
		if rs := h.say("UCLI", "CACME", "", "/etc/hosts 改过之后 /data 也挂载不上"); len(rs) != 0 {
			t.Fatalf("a follow-up beginning with a path was answered as a command: %v", rs)
		}
		expect(t, h.reply("UENGWANG", "CENG", "", "/ack 1"), "已确认事件 #1")
		if inc := h.incident(1); inc.Status != sla.StatusAcknowledged {
			t.Fatalf("#1 is %s after /ack", inc.Status)
		}
		expect(t, h.reply("UCLI", "CACME", "", "/status 1"), "#1")
		expect(t, h.reply("UENGWANG", "CENG", "", "/frobnicate"), "未知命令 /frobnicate")
	})
}
