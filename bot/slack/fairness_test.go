package slack_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
)

const twoCustomers = `
zone: Asia/Shanghai
customers:
  - {id: acme, name: 星辰数据, language: zh}
  - {id: globex, name: Globex, language: en}
people:
  - {id: li, name: 李雷, role: customer, customer: acme, slack: UCLI}
  - {id: amy, name: Amy, role: customer, customer: globex, slack: UCAMY}
  - {id: wang, name: 王工, role: engineer, slack: UENGWANG}
channels:
  - {platform: slack, id: CACME, kind: customer, customer: acme}
  - {platform: slack, id: CGLOBEX, kind: customer, customer: globex}
  - {platform: slack, id: CENG, kind: engineering}
`

// A noisy neighbour: one customer's burst of reports queues a card per
// incident in the engineering channel, which Slack lets us write once a
// second. Another customer's report that comes after it is not served
// after the whole burst (forty seconds here, half an hour for 2,000): the
// customers waiting in a channel take turns, so its card is among the
// first few posts there, seconds later.
func TestNoisyNeighbourWaitsItsTurn(t *testing.T) {
	e := newEnvWith(t, "", twoCustomers, "CACME", "CGLOBEX", "CENG")
	e.slack.ChannelLimit(time.Second, 3) // the fake keeps Slack's limit and answers 429 over it
	ctx := context.Background()
	open := func(customer, user, channel, title string) sla.Incident {
		t.Helper()
		p, _ := e.svc.Dir.ByIdentity(chat.PlatformSlack, user)
		e.seq++
		inc, err := e.svc.Open(ctx, commands.OpenRequest{CustomerID: customer, Severity: sla.SeverityNoncore, Title: title, Reporter: p,
			Now: e.clock.Now(), Place: commands.Place{Platform: chat.PlatformSlack, ChatID: channel, MessageID: fmt.Sprintf("1764032400.%06d", e.seq)}})
		if err != nil {
			t.Fatal(err)
		}
		return inc
	}
	for i := range 40 {
		open("acme", "UCLI", "CACME", fmt.Sprintf("第 %d 个作业失败", i+1))
	}
	other := open("globex", "UCAMY", "CGLOBEX", "our nightly load failed")

	// The dispatcher as serve runs it: the wall clock, the adapter's limit.
	disp := bot.NewDispatcher(e.store, map[string]chat.Sender{chat.PlatformSlack: e.ad}, chat.SystemClock{}, slog.New(slog.DiscardHandler))
	wanted := fmt.Sprintf("#%d", other.ID)
	for {
		if _, err := disp.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		posts := e.slack.Messages("CENG")
		for i, m := range posts {
			if strings.Contains(m.Text, wanted) || strings.Contains(blockText(m), wanted+" · Globex") {
				if i >= 4 {
					t.Fatalf("the other customer's card was post %d in the engineering channel", i+1)
				}
				t.Logf("the other customer's card was post %d of the engineering channel, behind a burst of 40", i+1)
				if n := e.slack.Limited(); n != 0 {
					t.Fatalf("Slack answered 429 %d times: the dispatcher did not keep the limit", n)
				}
				return
			}
		}
		if len(posts) >= 8 {
			t.Fatalf("8 posts in the engineering channel and the other customer's card is not among them")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
