package slack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/sla"
)

// On Slack: a message the classifier is unsure of reaches the engineering
// channel as a triage card and is decided by a button; an engineer's
// message in the customer's channel opens nothing; a follow-up joins the
// incident.
func TestSlackTriageStaffAndFollowUp(t *testing.T) {
	e := newEnv(t, "")
	e.svc.Classifier = bottest.UnsureClassifier(e.store)

	_, ts := e.say("CACME", "UCLI", "hive 里昨天的数据和今天对不上")
	e.deliver()
	cust := e.slack.Messages("CACME")
	if len(cust) != 1 || cust[0].ThreadTS != ts {
		t.Fatalf("customer answer %+v", cust)
	}
	has(t, cust[0].Text, "已收到您的消息（编号 #1）。工程师正在确认是否需要故障处理，将在 11-25 09:30 CST 前答复您。")
	card := e.slack.Messages("CENG")[0]
	for _, want := range []string{"待分诊", `"action_id":"slakeeper:triage_core"`, `"action_id":"slakeeper:triage_noncore"`,
		`"action_id":"slakeeper:triage_notfault"`, `"confirm"`} {
		has(t, blockText(card), want)
	}
	if strings.Contains(blockText(card), "slakeeper:ack") {
		t.Fatal("a triage card offers Acknowledge")
	}

	// The customer may not decide; the engineer's click decides.
	e.click("UCLI", "triage_core", 1)
	has(t, e.slack.Responses()[0]["text"].(string), "抱歉，您没有权限执行 /triage")
	e.clock.Advance(4 * time.Minute)
	e.click("UENGWANG", "triage_core", 1)
	has(t, e.slack.Responses()[1]["text"].(string), "事件 #1 已确认为故障（核心功能不可用）")
	e.deliver()
	card = e.slack.Messages("CENG")[0]
	if card.Edits != 1 || !strings.Contains(blockText(card), "slakeeper:ack") || strings.Contains(blockText(card), "待分诊") {
		t.Fatalf("card after the decision: %s", blockText(card))
	}
	cust = e.slack.Messages("CACME")
	if len(cust) != 2 || cust[1].ThreadTS != ts {
		t.Fatalf("customer told %+v", cust)
	}
	has(t, cust[1].Text, "工程师已确认：您的报告登记为事件 #1（核心功能不可用）")
	has(t, cust[1].Text, "到场：11-25 11:00 CST 前")

	// The engineer writes in the customer's channel: no incident, and it
	// is the first response.
	e.clock.Advance(2 * time.Minute)
	e.say("CACME", "UENGWANG", "我们已经在排查了，请稍等")
	if e.incidents() != 1 {
		t.Fatalf("a staff message opened an incident")
	}
	inc, _ := e.store.Incident(t.Context(), 1)
	if !inc.AckedAt.Equal(t0.Add(6*time.Minute)) || inc.Status != sla.StatusOpen {
		t.Fatalf("first response %+v", inc)
	}

	// The customer follows up at top level: it joins incident #1.
	e.say("CACME", "UCLI", "还是不行，现在所有查询都报错了")
	if e.incidents() != 1 {
		t.Fatal("a follow-up opened a second incident")
	}
	e.deliver()
	eng := e.slack.Messages("CENG")
	has(t, eng[len(eng)-1].Text, "事件 #1 客户补充（李雷）：还是不行，现在所有查询都报错了")
}
