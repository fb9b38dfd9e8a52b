package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// floodReports are distinct faults, none a follow-up of another.
var floodReports = []string{
	"HDFS 集群全部宕机了，所有作业都跑不起来",
	"Kafka 全部无法写入，生产数据中断了",
	"Hive 查询全部报错，报表系统无法使用",
	"YARN 资源管理器挂了，任务都提交不了",
	"ZooKeeper 节点全部失联，服务注册中断",
	"Spark 集群整体不可用，所有计算任务失败",
	"Flink 实时作业全部停止，大屏没有数据",
	"HBase 读写全部超时，线上查询不可用",
	"数据同步服务崩溃了，今天的数据都没进来",
	"调度平台无法登录，所有定时任务都没跑",
	"对象存储全部不可访问，文件都下载不了",
	"ClickHouse 集群宕机，分析查询全部失败",
}

// One customer's flood of fault reports past the intake limit joins the
// latest incident instead of opening one per report; the engineers hear
// of it with a count at the first folded report and every tenth, not at
// each; once the window has passed, a report opens an incident again.
func TestFloodFoldsIntoTheLatestIncident(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s)
		h.router.Svc.Dir.Flood = sla.FloodLimit{Max: 3, Within: 10 * time.Minute}
		ctx := context.Background()
		li, _ := h.router.Svc.Dir.ByIdentity(chat.PlatformSlack, "UCLI")
		for _, title := range []string{"报表导出很慢", "有个用户无法登录", "页面样式错乱"} {
			if _, err := h.router.Svc.Open(ctx, commands.OpenRequest{CustomerID: "acme", Severity: sla.SeverityNoncore, Title: title,
				Reporter: li, Now: h.clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		h.posted()
		for _, text := range floodReports {
			h.clock.Advance(10 * time.Second)
			h.say("UCLI", "CACME", "", text)
		}
		if n := incidentCount(t, s); n != 3 {
			t.Fatalf("%d incidents after a flood of %d reports past a limit of 3", n, len(floodReports))
		}
		var told []string
		for _, m := range h.posted() {
			if m.ChatID == "CENG" && strings.Contains(m.Text, "🌊") {
				told = append(told, m.Text)
			}
		}
		if len(told) == 0 || len(told) >= len(floodReports)/2 {
			t.Fatalf("the engineers were told %d times of %d folded reports: %q", len(told), len(floodReports), told)
		}
		expect(t, told[0], "并入事件 #3")
		expect(t, told[0], "已开 3 起事件")
		for _, m := range h.messages("acme") {
			if m.Decision != sla.DecisionAttached {
				t.Fatalf("a flood message was %s (incident %d): %q", m.Decision, m.IncidentID, m.Body)
			}
		}

		// The window passes: a report is read as usual again (it opens an
		// incident, or joins one it continues), never folded.
		h.clock.Advance(11 * time.Minute)
		const later = "Impala 全部查询失败，整个数仓不可用"
		h.say("UCLI", "CACME", "", later)
		for id := int64(1); id <= int64(incidentCount(t, s)); id++ {
			for _, ev := range timeline(t, h, id) {
				if ev.Body == later && ev.Data["folded"] != "" {
					t.Fatalf("a report after the window was folded into #%d", id)
				}
			}
		}
	})
}

func incidentCount(t *testing.T, s *storage.Store) int {
	t.Helper()
	list, err := s.ListIncidents(context.Background(), storage.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}
