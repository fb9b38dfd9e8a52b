package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/telegram"
	"github.com/slakeeper/slakeeper/bot/telegram/faketelegram"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

const token = "7000001:AAH-secret-token-do-not-log"

const (
	acmeGroup int64 = -1001001
	engGroup  int64 = -1002002
	mgrGroup  int64 = -1003003
)

const cfgYAML = `
zone: Asia/Shanghai
customers:
  - {id: acme, name: 星辰数据, language: zh}
people:
  - {id: li, name: 李雷, role: customer, customer: acme, telegram: "100001"}
  - {id: wang, name: 王工, role: engineer, telegram: "200001"}
  - {id: zhao, name: 赵组长, role: lead, telegram: "200002"}
channels:
  - {platform: telegram, id: "-1001001", kind: customer, customer: acme}
  - {platform: telegram, id: "-1002002", kind: engineering}
  - {platform: telegram, id: "-1003003", kind: managers}
oncall:
  people: [wang]
`

var t0 = time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)

type env struct {
	t      testing.TB
	store  *storage.Store
	tg     *faketelegram.Server
	clock  *chat.ManualClock
	engine *bot.Engine
	disp   *bot.Dispatcher
	router *bot.Router
	dir    *sla.Directory
	ad     *telegram.Adapter
	logs   *bottest.Logs
	log    *slog.Logger
}

func newEnv(t testing.TB, secret string) *env {
	t.Helper()
	return newEnvOn(t, storagetest.Postgres(t), secret)
}

// newEnvOn is newEnv on a given store.
func newEnvOn(t testing.TB, s *storage.Store, secret string) *env {
	t.Helper()
	cfg := bottest.Configure(t, s, cfgYAML)
	fake := faketelegram.New(token, acmeGroup, engGroup, mgrGroup)
	t.Cleanup(fake.Close)
	logs := &bottest.Logs{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := chat.NewManualClock(t0)
	dir := sla.NewDirectory(cfg.Directory, sla.Settings{Zone: cfg.Location, DefaultLang: cfg.Lang, BasePolicy: cfg.BasePolicy, Rotation: cfg.Rotation})
	svc := &bot.Service{Store: s, Dir: dir}
	router := &bot.Router{Svc: svc, Clock: clock, Log: log}
	ad, err := telegram.New(context.Background(), telegram.Config{Token: token, APIURL: fake.URL, WebhookSecret: secret, PollTimeout: time.Second},
		router, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: s, tg: fake, clock: clock, router: router, dir: dir, ad: ad, logs: logs, log: log,
		engine: bot.NewEngine(svc, clock, log), disp: bot.NewDispatcher(s, map[string]chat.Sender{chat.PlatformTelegram: ad}, clock, log)}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), "AAH-secret") {
			t.Error("the bot token reached the logs")
		}
	})
	return e
}

// poll runs long polling until the test ends.
func (e *env) poll() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.ad.Poll(ctx, e.store) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

func (e *env) deliver() { e.t.Helper(); bottest.Deliver(e.t, e.engine, e.disp) }

// until waits for the polling goroutine to have handled what the test sent.
func (e *env) until(what string, cond func() bool) { e.t.Helper(); bottest.Until(e.t, what, cond) }

func (e *env) incidents() int {
	list, err := e.store.ListIncidents(context.Background(), storage.IncidentFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

func (e *env) status(id int64) sla.Status {
	inc, err := e.store.Incident(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return inc.Status
}

func has(t *testing.T, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Fatalf("expected %q in:\n%s", want, s)
	}
}

func TestTelegramEndToEnd(t *testing.T) {
	e := newEnv(t, "")
	if err := e.ad.SetCommands(context.Background()); err != nil {
		t.Fatal(err)
	}
	if en, zh := e.tg.Commands(""), e.tg.Commands("zh"); len(en) != len(commands.Defs) || len(zh) != len(commands.Defs) ||
		en[1]["command"] != "ack" || !strings.Contains(zh[1]["description"], "确认事件") {
		t.Fatalf("command menu en=%v zh=%v", en, zh)
	}
	e.poll()

	// A group message opens an incident; the customer gets a reply to it.
	_, said := e.tg.Say(acmeGroup, 100001, "李雷", "集群全部宕机了，所有作业都跑不起来 <见日志> & job_x", 0, 0)
	e.until("the incident", func() bool { return e.incidents() == 1 })
	e.deliver()
	rs := e.tg.BotMessages(acmeGroup)
	if len(rs) != 1 || rs[0].ReplyTo != said || rs[0].ParseMode != "HTML" {
		t.Fatalf("customer reply %+v", rs)
	}
	has(t, rs[0].Plain, "登记为事件 #1（核心功能不可用）")
	has(t, rs[0].Plain, "响应：11-25 09:30 CST 前")

	// The card appears in the engineering group with its keyboard, and
	// mentions the on-call engineer so that they are notified.
	cards := e.tg.BotMessages(engGroup)
	if len(cards) != 1 || len(cards[0].Keyboard) != 1 || len(cards[0].Keyboard[0]) != 4 {
		t.Fatalf("card %+v", cards)
	}
	card := cards[0]
	has(t, card.Text, `<a href="tg://user?id=200001">王工</a>`)
	has(t, card.Plain, "#1 · 星辰数据 · 核心功能不可用 · 待响应")
	has(t, card.Plain, "集群全部宕机了，所有作业都跑不起来 <见日志> & job_x") // escaped, and shown as written
	for i, want := range []string{"slk:ack:1", "slk:take:1", "slk:onsite:1", "slk:restore:1"} {
		if card.Keyboard[0][i].Data != want {
			t.Fatalf("button %d = %q", i, card.Keyboard[0][i].Data)
		}
	}

	// A customer's press is refused politely, and the button stops spinning.
	e.tg.Press(engGroup, card.ID, 100001, "李雷", "slk:ack:1")
	e.until("the refusal", func() bool { return len(e.tg.Answers()) == 1 })
	if a := e.tg.Answers()[0]; !a.Alert || !strings.Contains(a.Text, "抱歉，您没有权限执行 /ack") {
		t.Fatalf("answer %+v", a)
	}
	if e.status(1) != sla.StatusOpen {
		t.Fatal("the customer's press acknowledged")
	}

	// The engineer's press acknowledges; the card is edited in place.
	e.tg.Press(engGroup, card.ID, 200001, "王工", "slk:ack:1")
	e.until("the acknowledgement", func() bool { return len(e.tg.Answers()) == 2 })
	if a := e.tg.Answers()[1]; a.Alert || !strings.Contains(a.Text, "已确认事件 #1") {
		t.Fatalf("answer %+v", a)
	}
	e.deliver()
	cards = e.tg.BotMessages(engGroup)
	if len(cards) != 1 || cards[0].Edits != 1 || len(cards[0].Keyboard[0]) != 3 {
		t.Fatalf("card after ack %+v", cards)
	}
	has(t, cards[0].Plain, "· 已响应")
	rs = e.tg.BotMessages(acmeGroup)
	if len(rs) != 2 || rs[1].ReplyTo != said {
		t.Fatalf("status update in the thread %+v", rs)
	}

	// The customer replies to the bot's message: it attaches to the incident.
	e.tg.Say(acmeGroup, 100001, "李雷", "补充：HDFS 也连不上", rs[0].ID, 0)
	e.until("the attached message", func() bool {
		tl, _ := e.store.Timeline(context.Background(), 1)
		return tl[len(tl)-1].Kind == sla.EventMessage
	})
	if e.incidents() != 1 {
		t.Fatal("a reply opened a second incident")
	}

	// Commands in groups: /ack@ourbot is ours, /ack@otherbot is not.
	e.tg.Say(acmeGroup, 100001, "李雷", "/ack@slakeeper_bot 1", 0, 0)
	// A typed command's answer goes through the outbox, like everything else.
	e.until("the refusal in the group", func() bool { e.deliver(); return len(e.tg.BotMessages(acmeGroup)) == 3 })
	has(t, e.tg.BotMessages(acmeGroup)[2].Plain, "抱歉，您没有权限执行 /ack")
	e.tg.Say(engGroup, 200001, "王工", "/status@otherbot 1", 0, 0)
	e.tg.Say(engGroup, 200001, "王工", "/status 1", 0, 0)
	e.until("the status", func() bool {
		e.deliver()
		ms := e.tg.BotMessages(engGroup)
		return strings.Contains(ms[len(ms)-1].Plain, "事件 #1 · 星辰数据")
	})
	answers := 0
	for _, m := range e.tg.BotMessages(engGroup) {
		if strings.Contains(m.Plain, "事件 #1 · 星辰数据") || strings.Contains(m.Plain, "未知命令") {
			answers++
		}
	}
	if answers != 1 {
		t.Fatalf("%d answers to /status@otherbot and /status: %+v", answers, e.tg.BotMessages(engGroup))
	}

	// Forum topics are honoured.
	e.tg.Say(acmeGroup, 100001, "李雷", "平台无法登录，所有人都登不上", 0, 77)
	e.until("the topic incident", func() bool { return e.incidents() == 2 })
	e.deliver()
	rs = e.tg.BotMessages(acmeGroup)
	if last := rs[len(rs)-1]; last.Topic != 77 || !strings.Contains(last.Plain, "事件 #2") {
		t.Fatalf("reply outside the topic: %+v", last)
	}

	// An escalation mentions the lead by Telegram id, replying to the card.
	e.clock.Advance(50 * time.Minute)
	e.deliver()
	var lead *faketelegram.Message
	for _, m := range e.tg.BotMessages(engGroup) {
		if strings.Contains(m.Text, "tg://user?id=200002") {
			lead = &m
		}
	}
	if lead == nil || lead.ReplyTo == 0 {
		t.Fatalf("escalation to the lead %+v", lead)
	}
	if e.tg.Pending() > 0 {
		e.until("all updates confirmed", func() bool { return e.tg.Pending() == 0 })
	}
}

func TestTelegramRateLimitAndErrors(t *testing.T) {
	e := newEnv(t, "")
	e.poll()
	e.tg.RateLimit(1, 5*time.Second)
	e.tg.Say(acmeGroup, 100001, "李雷", "集群宕机了", 0, 0)
	e.until("the incident", func() bool { return e.incidents() == 1 })
	e.deliver()
	// Telegram's retry_after is for the bot, not one chat: nothing goes
	// until it runs out.
	if n := len(e.tg.BotMessages(acmeGroup)) + len(e.tg.BotMessages(engGroup)); n != 0 {
		t.Fatalf("%d delivered under the rate limit", n)
	}
	e.clock.Advance(4 * time.Second)
	e.deliver()
	if n := len(e.tg.BotMessages(acmeGroup)) + len(e.tg.BotMessages(engGroup)); n != 0 {
		t.Fatalf("retry_after not honoured: %d", n)
	}
	e.clock.Advance(time.Second)
	e.deliver()
	if n := len(e.tg.BotMessages(acmeGroup)) + len(e.tg.BotMessages(engGroup)); n != 2 {
		t.Fatalf("after retry_after: %d", n)
	}

	// A chat Telegram does not know is a permanent failure, and its error
	// does not carry the token.
	_, err := e.ad.Send(context.Background(), chat.Outbound{Platform: "telegram", ChatID: "-999", Text: "x"})
	if !chat.IsPermanent(err) || strings.Contains(err.Error(), token) {
		t.Fatalf("unknown chat: %v", err)
	}
	// Even a network error, whose text holds the URL, does not.
	e.tg.Close()
	_, err = e.ad.Send(context.Background(), chat.Outbound{Platform: "telegram", ChatID: "-1001001", Text: "x"})
	if err == nil || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "AAH-secret") {
		t.Fatalf("network error: %v", err)
	}
	e.log.Error("send failed", "err", err) // the test's cleanup checks the logs
}

func TestTelegramWebhook(t *testing.T) {
	e := newEnv(t, "hook-secret")
	srv := httptest.NewServer(e.ad.WebhookHandler())
	defer srv.Close()
	update, _ := e.tg.Say(acmeGroup, 100001, "李雷", "集群全部宕机了", 0, 0)
	update["update_id"] = 5001
	body, _ := json.Marshal(update)
	post := func(secret string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if post("") != 401 || post("wrong") != 401 || e.incidents() != 0 {
		t.Fatal("a webhook call without the secret was accepted")
	}
	if post("hook-secret") != 200 || e.incidents() != 1 {
		t.Fatal("the webhook update opened no incident")
	}
	if post("hook-secret") != 200 || e.incidents() != 1 {
		t.Fatal("a repeated update opened a second incident")
	}
	if err := (telegramWebhook{e}).set("https://bot.example.com/telegram/webhook"); err != nil {
		t.Fatal(err)
	}
	if w := e.tg.Webhook(); w["url"] != "https://bot.example.com/telegram/webhook" || w["secret_token"] != "hook-secret" {
		t.Fatalf("setWebhook %v", w)
	}
}

type telegramWebhook struct{ e *env }

func (w telegramWebhook) set(url string) error {
	ad, err := telegram.New(context.Background(), telegram.Config{Token: token, APIURL: w.e.tg.URL, WebhookSecret: "hook-secret", WebhookURL: url},
		w.e.router, w.e.dir, w.e.log)
	if err != nil {
		return err
	}
	return ad.SetWebhook(context.Background())
}

// A second replica waits for the polling lock instead of polling too.
func TestTelegramSinglePoller(t *testing.T) {
	e := newEnv(t, "")
	e.poll()
	e.until("the first poller", func() bool { return e.tg.Calls("deleteWebhook") == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := e.ad.Poll(ctx, e.store); err != nil {
		t.Fatal(err)
	}
	if n := e.tg.Calls("deleteWebhook"); n != 1 {
		t.Fatalf("the second replica polled too (%d starts)", n)
	}
}

// Files (the quarterly chart and CSV) go out with sendDocument as a
// multipart upload, the caption escaped for Telegram's HTML.
func TestTelegramSendsFiles(t *testing.T) {
	e := newEnv(t, "")
	data := []byte("period,customer\n2026Q4,acme\n")
	err := e.router.Svc.SendFiles(context.Background(), commands.Place{Platform: chat.PlatformTelegram, ChatID: "-1003003"}, t0,
		chat.File{Name: "slakeeper-2026Q4.csv", Type: "text/csv", Caption: "季度报告 <2026Q4> & more", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	e.deliver()
	msgs := e.tg.BotMessages(mgrGroup)
	if len(msgs) != 1 || msgs[0].Document == nil {
		t.Fatalf("sent %+v", msgs)
	}
	if d := msgs[0].Document; d.Name != "slakeeper-2026Q4.csv" || string(d.Data) != string(data) || msgs[0].Plain != "季度报告 <2026Q4> & more" {
		t.Fatalf("document %q %q caption %q", d.Name, d.Data, msgs[0].Plain)
	}
}
