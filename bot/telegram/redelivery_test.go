package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/telegram"
	"github.com/slakeeper/slakeeper/bot/telegram/faketelegram"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// crashing is the router of a process that dies once, when told, right
// after a command's change is stored: before the press is answered and
// before Telegram hears that the update arrived.
type crashing struct {
	h   chat.Handler
	mu  sync.Mutex
	die func()
}

func (c *crashing) Handle(ctx context.Context, in chat.Inbound) ([]chat.Outbound, error) {
	out, err := c.h.Handle(ctx, in)
	c.mu.Lock()
	die := c.die
	c.die = nil
	c.mu.Unlock()
	if die != nil {
		die()
	}
	return out, err
}

func (c *crashing) dieAfterNext(die func()) { c.mu.Lock(); c.die = die; c.mu.Unlock() }

// adapter is a second adapter on the same fake Telegram and directory,
// handing updates to h.
func (e *env) adapter(h chat.Handler, secret string) *telegram.Adapter {
	e.t.Helper()
	ad, err := telegram.New(context.Background(), telegram.Config{Token: token, APIURL: e.tg.URL, WebhookSecret: secret, PollTimeout: time.Second},
		h, e.dir, e.log)
	if err != nil {
		e.t.Fatal(err)
	}
	return ad
}

func (e *env) assignee(id int64) string {
	inc, err := e.store.Incident(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return inc.AssigneeID
}

// events counts an incident's timeline events of a kind.
func (e *env) events(id int64, kind sla.EventKind) int {
	tl, err := e.store.Timeline(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range tl {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// card opens incident #1 from the customer's group through send and
// returns its card in the engineering group.
func (e *env) card(send func(update map[string]any)) faketelegram.Message {
	e.t.Helper()
	u, _ := e.tg.Say(acmeGroup, 100001, "李雷", "集群全部宕机了，所有作业都跑不起来", 0, 0)
	send(u)
	e.until("the incident", func() bool { return e.incidents() == 1 })
	e.deliver()
	cards := e.tg.BotMessages(engGroup)
	if len(cards) != 1 {
		e.t.Fatalf("cards %+v", cards)
	}
	return cards[0]
}

// A press Telegram delivers to the webhook again (the process died after
// storing it; a retry after a lost answer) runs its command once: a take
// redelivered after someone else took the incident does not take it back.
func TestTelegramPressRedeliveredByWebhook(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnvOn(t, s, "hook-secret")
		r := &crashing{h: e.router}
		srv := httptest.NewServer(e.adapter(r, "hook-secret").WebhookHandler())
		defer srv.Close()
		post := func(u map[string]any) (int, error) {
			body, _ := json.Marshal(u)
			req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "hook-secret")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, err
			}
			res.Body.Close()
			return res.StatusCode, nil
		}
		deliver := func(u map[string]any) {
			t.Helper()
			if code, err := post(u); err != nil || code != http.StatusOK {
				t.Fatalf("webhook: %d %v", code, err)
			}
		}
		card := e.card(deliver)

		// 王工 takes the incident; the process dies before it answers.
		press, q := e.tg.Press(engGroup, card.ID, 200001, "王工", "slk:take:1")
		r.dieAfterNext(func() { panic(http.ErrAbortHandler) })
		if _, err := post(press); err == nil {
			t.Fatal("the webhook call survived the crash")
		}
		if got := e.assignee(1); got != "wang" {
			t.Fatalf("assignee after the press: %q", got)
		}
		if n := len(e.tg.Answers()); n != 0 {
			t.Fatalf("%d answers from a process that died", n)
		}

		// Meanwhile 赵组长 takes it over.
		take, _ := e.tg.Say(engGroup, 200002, "赵组长", "/take 1", 0, 0)
		deliver(take)
		if got := e.assignee(1); got != "zhao" {
			t.Fatalf("assignee after /take: %q", got)
		}

		// Telegram delivers the press again: nothing changes, and the empty
		// answer stops the button spinning.
		deliver(press)
		if got := e.assignee(1); got != "zhao" {
			t.Fatalf("the redelivered press took the incident back: %q", got)
		}
		if a := e.tg.Answers(); len(a) != 1 || a[0] != (faketelegram.Answer{QueryID: q}) {
			t.Fatalf("answers %+v", a)
		}

		// And once more, as if that 200 were lost: the press is answered
		// again, which Telegram refuses for a query answered already; the
		// update is still taken.
		deliver(press)
		if got, n := e.assignee(1), e.events(1, sla.EventAssigned); got != "zhao" || n != 2 {
			t.Fatalf("assignee %q after %d assignments", got, n)
		}
		if n, calls := len(e.tg.Answers()), e.tg.Calls("answerCallbackQuery"); n != 1 || calls != 2 {
			t.Fatalf("%d answers of %d calls", n, calls)
		}
	})
}

// A press long polling fetches again (the process died after storing it,
// before confirming the offset) runs its command once, and its answer
// stops the button spinning.
func TestTelegramPressRefetchedByPolling(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnvOn(t, s, "")
		r := &crashing{h: e.router}
		ctx, die := context.WithCancel(context.Background())
		dead := make(chan struct{})
		go func() { defer close(dead); e.adapter(r, "").Poll(ctx, e.store) }()
		t.Cleanup(func() { die(); <-dead })
		card := e.card(func(map[string]any) {})

		_, q := e.tg.Press(engGroup, card.ID, 200001, "王工", "slk:take:1")
		r.dieAfterNext(die)
		e.until("the first poller's death", func() bool {
			select {
			case <-dead:
				return true
			default:
				return false
			}
		})
		if got := e.assignee(1); got != "wang" {
			t.Fatalf("assignee after the press: %q", got)
		}
		if n, pending := len(e.tg.Answers()), e.tg.Pending(); n != 0 || pending != 1 {
			t.Fatalf("%d answers and %d pending updates after the crash", n, pending)
		}

		// The next poller gets the press again.
		e.poll()
		e.until("the answer", func() bool { return len(e.tg.Answers()) == 1 })
		if a := e.tg.Answers()[0]; a != (faketelegram.Answer{QueryID: q}) {
			t.Fatalf("answer to the redelivered press %+v", a) // not "already assigned"
		}
		e.until("the press confirmed", func() bool { return e.tg.Pending() == 0 })
		if got, n := e.assignee(1), e.events(1, sla.EventAssigned); got != "wang" || n != 1 {
			t.Fatalf("assignee %q after %d assignments", got, n)
		}
	})
}

// A card older than 48 hours comes back as an inaccessible message (its
// chat and id, no content): its buttons still act, from their data alone.
// A press on an inline-mode message, which is no card of a group, is
// refused in both languages and changes nothing.
func TestTelegramPressOnOldCardAndInline(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnvOn(t, s, "")
		e.poll()
		card := e.card(func(map[string]any) {})
		before := e.events(1, sla.EventAcked)

		_, q := e.tg.PressInline("AgAAAInline", 200001, "王工", "slk:ack:1")
		e.until("the refusal", func() bool { return len(e.tg.Answers()) == 1 })
		a := e.tg.Answers()[0]
		if a.QueryID != q || !a.Alert || !strings.Contains(a.Text, "事件卡片") || !strings.Contains(a.Text, "incident card") {
			t.Fatalf("answer to an inline press %+v", a)
		}
		if e.status(1) != sla.StatusOpen || e.events(1, sla.EventAcked) != before {
			t.Fatal("an inline press acted")
		}

		e.clock.Advance(49 * time.Hour)
		_, q = e.tg.PressOld(engGroup, card.ID, 200001, "王工", "slk:ack:1")
		e.until("the answer", func() bool { return len(e.tg.Answers()) == 2 })
		if a := e.tg.Answers()[1]; a.QueryID != q || a.Alert || !strings.Contains(a.Text, "已确认事件 #1") {
			t.Fatalf("answer to a press on an old card %+v", a)
		}
		if e.status(1) != sla.StatusAcknowledged {
			t.Fatalf("status %s after a press on an old card", e.status(1))
		}
		e.until("all updates confirmed", func() bool { return e.tg.Pending() == 0 })
	})
}

// recording is a router that remembers what it was handed.
type recording struct {
	h  chat.Handler
	mu sync.Mutex
	in []chat.Inbound
}

func (r *recording) Handle(ctx context.Context, in chat.Inbound) ([]chat.Outbound, error) {
	r.mu.Lock()
	r.in = append(r.in, in)
	r.mu.Unlock()
	return r.h.Handle(ctx, in)
}

// A message's queued answer goes to the message itself, in its topic; a
// press is answered in band, by the toast, and carries its update id like
// a message does.
func TestTelegramInboundAnswerPlaces(t *testing.T) {
	e := newEnv(t, "")
	r := &recording{h: e.router}
	ad := e.adapter(r, "")
	ctx := context.Background()
	for _, u := range []map[string]any{
		first(e.tg.Say(engGroup, 200001, "王工", "/status", 0, 77)),
		first(e.tg.Press(engGroup, 5, 200001, "王工", "slk:ack:1")),
	} {
		body, _ := json.Marshal(u)
		var up models.Update
		if err := json.Unmarshal(body, &up); err != nil {
			t.Fatal(err)
		}
		if err := ad.OnUpdate(ctx, &up); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.tg.Messages(engGroup)
	if len(r.in) != 2 {
		t.Fatalf("inbound %+v", r.in)
	}
	if m := r.in[0]; m.InBand || m.ReplyIn != fmt.Sprintf("77/%d", msgs[0].ID) || m.EventID == "" {
		t.Fatalf("message inbound %+v", m)
	}
	if p := r.in[1]; !p.InBand || p.EventID == "" || p.EventID == r.in[0].EventID || p.ChatID != "-1002002" {
		t.Fatalf("press inbound %+v", p)
	}
}

func first(u map[string]any, _ any) map[string]any { return u }
