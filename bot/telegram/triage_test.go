package telegram_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/sla"
)

// On Telegram: a triage card with its inline keyboard, decided by a press;
// an engineer's message in the customer's group opens nothing; a new fault
// replied to a closed incident's message opens a linked incident.
func TestTelegramTriageAndThreads(t *testing.T) {
	e := newEnv(t, "")
	e.router.Svc.Classifier = bottest.UnsureClassifier(e.store)
	e.poll()

	_, said := e.tg.Say(acmeGroup, 100001, "李雷", "hive 里昨天的数据和今天对不上", 0, 0)
	e.until("the triage", func() bool { return e.incidents() == 1 })
	e.deliver()
	rs := e.tg.BotMessages(acmeGroup)
	if len(rs) != 1 || rs[0].ReplyTo != said {
		t.Fatalf("customer answer %+v", rs)
	}
	has(t, rs[0].Plain, "工程师正在确认是否需要故障处理")
	card := e.tg.BotMessages(engGroup)[0]
	has(t, card.Plain, "待分诊")
	var data []string
	for _, b := range card.Keyboard[0] {
		data = append(data, b.Data)
	}
	if strings.Join(data, " ") != "slk:triage_core:1 slk:triage_noncore:1 slk:triage_notfault:1 slk:take:1" {
		t.Fatalf("triage keyboard %v", data)
	}

	// The engineer presses "non-core fault".
	e.tg.Press(engGroup, card.ID, 200001, "王工", "slk:triage_noncore:1")
	e.until("the answer", func() bool { return len(e.tg.Answers()) == 1 })
	if a := e.tg.Answers()[0]; a.Alert || !strings.Contains(a.Text, "事件 #1 已确认为故障（非核心故障）") {
		t.Fatalf("answer %+v", a)
	}
	e.deliver()
	card = e.tg.BotMessages(engGroup)[0]
	if card.Edits != 1 || card.Keyboard[0][0].Data != "slk:ack:1" {
		t.Fatalf("card after the decision %+v", card)
	}
	has(t, e.tg.BotMessages(acmeGroup)[1].Plain, "工程师已确认：您的报告登记为事件 #1（非核心故障）")

	// An engineer's message in the customer's group opens nothing.
	e.tg.Say(acmeGroup, 200001, "王工", "我们已经在排查宕机原因了，请稍等", 0, 0)
	e.until("the first response", func() bool {
		inc, _ := e.store.Incident(context.Background(), 1)
		return !inc.AckedAt.IsZero()
	})
	if e.incidents() != 1 {
		t.Fatal("a staff message opened an incident")
	}

	// Restored and closed; then a new fault replied to the bot's message
	// opens a linked incident.
	e.tg.Say(engGroup, 200001, "王工", "/restore 1 修正了分区", 0, 0)
	e.tg.Say(engGroup, 200001, "王工", "/close 1", 0, 0)
	e.until("closed", func() bool { return e.status(1) == sla.StatusClosed })
	e.deliver()
	e.tg.Say(acmeGroup, 100001, "李雷", "又出问题了，现在整个 hive 都查不了，所有报表都出不来", rs[0].ID, 0)
	e.until("the linked incident", func() bool { return e.incidents() == 2 })
	inc, _ := e.store.Incident(context.Background(), 2)
	if inc.RelatedTo != 1 || inc.Severity != sla.SeverityCore {
		t.Fatalf("linked %+v", inc)
	}
	if e.tg.Pending() > 0 {
		e.until("all updates confirmed", func() bool { return e.tg.Pending() == 0 })
	}
}
