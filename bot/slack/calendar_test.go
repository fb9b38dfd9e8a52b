package slack_test

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"strings"
	"testing"
)

const releaseYAML = `
zone: Asia/Shanghai
customers:
  - {id: acme, name: 星辰数据, language: zh, accepted_on: 2026-03-01}
  - {id: globex, name: Globex Ltd, language: en, accepted_on: 2026-06-15}
  - {id: initech, name: Initech, language: en}
people:
  - {id: li, name: 李雷, role: customer, customer: acme, slack: UCLI}
  - {id: wang, name: 王工, role: engineer, slack: UENGWANG}
  - {id: zhao, name: 赵组长, role: lead, slack: ULEAD}
  - {id: chen, name: 陈经理, role: manager, slack: UMGR}
channels:
  - {platform: slack, id: CACME, kind: customer, customer: acme}
  - {platform: slack, id: CGLOBEX, kind: customer, customer: globex}
  - {platform: slack, id: CINITECH, kind: customer, customer: initech}
  - {platform: slack, id: CENG, kind: engineering}
  - {platform: slack, id: CMGR, kind: managers}
oncall:
  people: [wang]
`

// A release notice reaches every customer channel in the customer's
// language; a channel the bot cannot post to shows as failed in the
// notice's status. Only managers and admins announce.
func TestReleaseNotice(t *testing.T) {
	// Slack knows no CINITECH: the bot was never invited there.
	e := newEnvWith(t, "", releaseYAML, "CACME", "CGLOBEX", "CENG", "CMGR")
	has(t, e.command("ULEAD", "CENG", "/announce", "release 3.2.0 fixes"), "需要经理或更高的权限")
	has(t, e.command("UCLI", "CACME", "/announce", "release 3.2.0 fixes"), "没有权限")
	reply := e.command("UMGR", "CMGR", "/announce", "release 3.2.0 zh: 修复了 HDFS 写入超时问题 en: Fixed HDFS write timeouts")
	has(t, reply, "3 个客户频道")
	has(t, e.command("UMGR", "CMGR", "/announce", "status 3.2.0"), "发送中 3")
	e.deliver()

	acme, globex := e.slack.Messages("CACME"), e.slack.Messages("CGLOBEX")
	if len(acme) != 1 || len(globex) != 1 {
		t.Fatalf("notices: %d to acme, %d to globex", len(acme), len(globex))
	}
	has(t, acme[0].Text, "版本发布通知：3.2.0\n修复了 HDFS 写入超时问题")
	has(t, globex[0].Text, "Release notice: 3.2.0\nFixed HDFS write timeouts")
	if strings.Contains(acme[0].Text, "Fixed") || strings.Contains(globex[0].Text, "修复") {
		t.Fatalf("a notice in the wrong language: %q / %q", acme[0].Text, globex[0].Text)
	}

	status := e.command("UMGR", "CMGR", "/announce", "status 3.2.0")
	has(t, status, "已送达 2，发送中 0，失败 1")
	has(t, status, "✗ 失败 Initech（slack CINITECH）")
	has(t, status, "channel_not_found")
	has(t, status, "✓ 已送达 星辰数据（slack CACME）")
	// The latest release is the default; a second notice of the same version
	// is refused and sends nothing.
	has(t, e.command("UMGR", "CMGR", "/announce", "status"), "3.2.0")
	has(t, e.command("UMGR", "CMGR", "/announce", "release 3.2.0 again"), "已经发布过")
	has(t, e.command("UMGR", "CMGR", "/announce", "status 9.9"), "没有版本 9.9")
	has(t, e.command("UMGR", "CMGR", "/announce", "shout hello"), "用法")
	e.deliver()
	if n := len(e.slack.Messages("CACME")); n != 1 {
		t.Fatalf("%d notices to acme after the refused one", n)
	}
}

// /digest quarter posts the report and uploads its chart and CSV through
// Slack's three-step file upload, into the channel it was asked in.
func TestQuarterlyReportFiles(t *testing.T) {
	e := newEnvWith(t, "", releaseYAML, "CACME", "CGLOBEX", "CINITECH", "CENG", "CMGR")
	e.say("CACME", "UCLI", "集群全部宕机了，所有作业都跑不起来")
	e.deliver()
	has(t, e.command("UENGWANG", "CENG", "/digest", "quarter"), "需要组长或更高的权限")
	reply := e.command("UMGR", "CMGR", "/digest", "quarter 2026Q4")
	has(t, reply, "2026Q4 季度服务统计报告")
	has(t, reply, "事件 1 起：核心 1，非核心 0")
	e.deliver()
	var files []string
	for _, m := range e.slack.Messages("CMGR") {
		for _, f := range m.Files {
			files = append(files, f.Name)
			switch {
			case strings.HasSuffix(f.Name, ".png"):
				if _, err := png.Decode(bytes.NewReader(f.Data)); err != nil {
					t.Fatalf("the chart is not a PNG: %v", err)
				}
			case strings.HasSuffix(f.Name, ".csv"):
				rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(f.Data, []byte("\ufeff")))).ReadAll()
				if err != nil || len(rows) != 5 || rows[0][0] != "季度" || rows[1][1] != "*" || rows[2][1] != "acme" || rows[2][2] != "星辰数据" ||
					rows[2][3] != "1" {
					t.Fatalf("csv %v %v", rows, err)
				}
			}
		}
	}
	if strings.Join(files, " ") != "slakeeper-2026Q4.png slakeeper-2026Q4.csv" {
		t.Fatalf("files %v", files)
	}
	has(t, e.command("UMGR", "CMGR", "/digest", "quarter 2026Q9"), "无法识别季度")
	has(t, e.command("UMGR", "CMGR", "/digest", "daily nobody"), "nobody")
}
