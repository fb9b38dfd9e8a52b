package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/slack"
	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

const (
	botToken = "xoxb-test-7f3a9c"
	appToken = "xapp-test-41d2"
	secret   = "8f742231b10e8888abcd99yyyzzz85a5"
)

const cfgYAML = `
zone: Asia/Shanghai
customers:
  - {id: acme, name: 星辰数据, language: zh}
people:
  - {id: li, name: 李雷, role: customer, customer: acme, slack: UCLI}
  - {id: wang, name: 王工, role: engineer, slack: UENGWANG}
  - {id: zhao, name: 赵组长, role: lead, slack: ULEAD}
  - {id: chen, name: 陈经理, role: manager, slack: UMGR}
channels:
  - {platform: slack, id: CACME, kind: customer, customer: acme}
  - {platform: slack, id: CENG, kind: engineering}
  - {platform: slack, id: CMGR, kind: managers}
oncall:
  people: [wang]
`

var t0 = time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)

type env struct {
	t      testing.TB
	store  *storage.Store
	slack  *fakeslack.Server
	http   *httptest.Server
	clock  *chat.ManualClock
	engine *bot.Engine
	disp   *bot.Dispatcher
	svc    *bot.Service
	ad     *slack.Adapter
	logs   *bottest.Logs
	seq    int
}

func newEnv(t *testing.T, appTok string) *env {
	t.Helper()
	return newEnvWith(t, appTok, cfgYAML, "CACME", "CENG", "CMGR")
}

// newEnvWith runs slakeeper on a configuration against a fake Slack that has
// the given channels.
func newEnvWith(t testing.TB, appTok, config string, channels ...string) *env {
	t.Helper()
	s := storagetest.Postgres(t)
	cfg := bottest.Configure(t, s, config)
	fake := fakeslack.New(botToken, appToken, channels...)
	t.Cleanup(fake.Close)
	logs := &bottest.Logs{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := chat.NewManualClock(t0)
	dir := sla.NewDirectory(cfg.Directory, sla.Settings{Zone: cfg.Location, DefaultLang: cfg.Lang, BasePolicy: cfg.BasePolicy, Rotation: cfg.Rotation})
	svc := &bot.Service{Store: s, Dir: dir}
	router := &bot.Router{Svc: svc, Clock: clock, Log: log}
	ad, err := slack.New(context.Background(), slack.Config{BotToken: botToken, AppToken: appTok, SigningSecret: secret, APIURL: fake.APIURL()},
		router, dir, clock, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ad.Close)
	mux := http.NewServeMux()
	ad.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{t: t, store: s, slack: fake, http: srv, clock: clock, svc: svc, ad: ad, logs: logs,
		engine: bot.NewEngine(svc, clock, log), disp: bot.NewDispatcher(s, map[string]chat.Sender{chat.PlatformSlack: ad}, clock, log)}
	t.Cleanup(func() {
		for _, secretText := range []string{botToken, appToken, secret} {
			if strings.Contains(logs.String(), secretText) {
				t.Errorf("a secret reached the logs")
			}
		}
	})
	return e
}

// post sends a signed request, as Slack does, and returns the response.
func (e *env) post(path, contentType string, body []byte, headers http.Header) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+path, bytes.NewReader(body))
	req.Header = headers
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (e *env) signed(path, contentType string, body []byte) (int, string) {
	return e.post(path, contentType, body, fakeslack.Sign(secret, body, e.clock.Now()))
}

func messageEvent(eventID, channel, user, ts, threadTS, text string) []byte {
	ev := map[string]any{"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts, "channel_type": "channel"}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	b, _ := json.Marshal(map[string]any{"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
		"event_id": eventID, "event_time": 1, "event": ev})
	return b
}

func (e *env) say(channel, user, text string) (int, string) {
	e.seq++
	ts := fmt.Sprintf("1764032400.%06d", e.seq)
	e.slack.Said(channel, ts, user, text)
	code, _ := e.signed("/slack/events", "application/json", messageEvent(fmt.Sprintf("Ev%03d", e.seq), channel, user, ts, "", text))
	return code, ts
}

func (e *env) command(user, channel, cmd, text string) string {
	e.t.Helper()
	e.seq++ // Slack gives every invocation its own trigger id
	form := url.Values{"command": {cmd}, "text": {text}, "user_id": {user}, "channel_id": {channel},
		"response_url": {e.slack.ResponseURL("cmd")}, "team_id": {"T1"}, "trigger_id": {fmt.Sprintf("trig-%d", e.seq)}}
	code, body := e.signed("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if code != http.StatusOK {
		e.t.Fatalf("command %s %s: %d", cmd, text, code)
	}
	var r struct{ Text string }
	json.Unmarshal([]byte(body), &r)
	return r.Text
}

// click clicks a card's button, as Slack posts it, and waits for the
// answer on the click's response_url. It returns the HTTP status.
func (e *env) click(user, action string, id int64) int {
	e.t.Helper()
	code, rid := e.press(user, action, id)
	if code == http.StatusOK {
		if _, ok := e.slack.WaitResponse(rid, wait); !ok {
			e.t.Fatalf("no answer to %s's click on %s #%d; logs:\n%s", user, action, id, e.logs.String())
		}
	}
	return code
}

// press clicks a card's button and returns the HTTP status and the id of
// the click's response_url, without waiting for the answer.
func (e *env) press(user, action string, id int64) (int, string) {
	e.t.Helper()
	e.seq++
	rid := fmt.Sprintf("click-%s-%d", user, e.seq)
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": user, "name": user},
		"channel": map[string]any{"id": "CENG"}, "response_url": e.slack.ResponseURL(rid), "trigger_id": fmt.Sprintf("trig-%d", e.seq),
		"actions": []map[string]any{{"action_id": "slakeeper:" + action, "value": fmt.Sprint(id), "type": "button", "block_id": "b"}}})
	code, _ := e.signed("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode()))
	return code, rid
}

// wait bounds how long a test waits for something that should happen at
// once; it only turns a hang into a failure.
const wait = 30 * time.Second

// deliver fires due timers and drains the outbox into the fake Slack.
func (e *env) deliver() { e.t.Helper(); bottest.Deliver(e.t, e.engine, e.disp) }

func (e *env) incidents() int {
	list, err := e.store.ListIncidents(context.Background(), storage.IncidentFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

func has(t *testing.T, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Fatalf("expected %q in:\n%s", want, s)
	}
}

func blockText(m fakeslack.Message) string {
	b, _ := json.Marshal(m.Blocks)
	return string(b)
}

func TestSlackEndToEnd(t *testing.T) {
	e := newEnv(t, "")

	// Slack's URL check.
	code, body := e.signed("/slack/events", "application/json", []byte(`{"type":"url_verification","token":"x","challenge":"c-123"}`))
	if code != 200 || !strings.Contains(body, `"challenge":"c-123"`) {
		t.Fatalf("challenge: %d %s", code, body)
	}

	// A customer message opens an incident; the card appears in the engineering channel.
	code, ts := e.say("CACME", "UCLI", "集群全部宕机了，所有作业都跑不起来")
	if code != 200 || e.incidents() != 1 {
		t.Fatalf("intake: %d, %d incidents", code, e.incidents())
	}
	e.deliver()
	cust := e.slack.Messages("CACME")
	if len(cust) != 1 || cust[0].ThreadTS != ts {
		t.Fatalf("customer reply %+v", cust)
	}
	has(t, cust[0].Text, "登记为事件 #1（核心功能不可用）")
	has(t, cust[0].Text, "响应：11-25 09:30 CST 前（剩余 30分钟）")
	eng := e.slack.Messages("CENG")
	if len(eng) != 1 || len(eng[0].Blocks) != 4 {
		t.Fatalf("card %+v", eng)
	}
	card := eng[0]
	has(t, card.Text, "<@UENGWANG>") // offered to the on-call engineer
	for _, want := range []string{`"text":"#1 · 星辰数据 · 核心功能不可用 · 待响应"`, `"action_id":"slakeeper:ack"`,
		`"action_id":"slakeeper:take"`, `"action_id":"slakeeper:onsite"`, `"action_id":"slakeeper:restore"`, `"confirm"`, `"style":"danger"`} {
		has(t, blockText(card), want)
	}

	// Slack retries the same event: no second incident.
	retry := messageEvent("Ev001", "CACME", "UCLI", ts, "", "集群全部宕机了，所有作业都跑不起来")
	h := fakeslack.Sign(secret, retry, e.clock.Now())
	h.Set("X-Slack-Retry-Num", "1")
	h.Set("X-Slack-Retry-Reason", "http_timeout")
	if code, _ := e.post("/slack/events", "application/json", retry, h); code != 200 || e.incidents() != 1 {
		t.Fatalf("retried event: %d, %d incidents", code, e.incidents())
	}

	// Forged and stale signatures are refused and change nothing.
	forged := messageEvent("Ev900", "CACME", "UCLI", "1764032400.900000", "", "整个平台挂了")
	bad := fakeslack.Sign("not-the-secret", forged, e.clock.Now())
	if code, _ := e.post("/slack/events", "application/json", forged, bad); code != 401 {
		t.Fatalf("forged: %d", code)
	}
	stale := fakeslack.Sign(secret, forged, e.clock.Now().Add(-6*time.Minute))
	if code, _ := e.post("/slack/events", "application/json", forged, stale); code != 401 {
		t.Fatalf("stale: %d", code)
	}
	if code, _ := e.post("/slack/events", "application/json", forged, http.Header{}); code != 401 {
		t.Fatalf("unsigned: %d", code)
	}
	if e.incidents() != 1 {
		t.Fatal("a refused request opened an incident")
	}

	// The bot's own messages and other bots' are ignored.
	own := messageEvent("Ev901", "CACME", "UBOT", "1764032400.901000", "", "集群宕机了")
	e.signed("/slack/events", "application/json", own)
	var botMsg map[string]any
	json.Unmarshal(messageEvent("Ev902", "CACME", "", "1764032400.902000", "", "集群宕机了"), &botMsg)
	botMsg["event"].(map[string]any)["bot_id"] = "B999"
	botMsg["event"].(map[string]any)["subtype"] = "bot_message"
	b, _ := json.Marshal(botMsg)
	e.signed("/slack/events", "application/json", b)
	if e.incidents() != 1 {
		t.Fatal("a bot message opened an incident")
	}

	// A customer's button click is refused politely; nothing changes.
	if code := e.click("UCLI", "ack", 1); code != 200 {
		t.Fatalf("click: %d", code)
	}
	rs := e.slack.Responses()
	if len(rs) != 1 || !strings.Contains(rs[0]["text"].(string), "抱歉，您没有权限执行 /ack") || rs[0]["response_type"] != "ephemeral" {
		t.Fatalf("customer click answer %+v", rs)
	}

	// The engineer clicks Acknowledge: the card is edited in place.
	e.clock.Advance(5 * time.Minute)
	e.click("UENGWANG", "ack", 1)
	has(t, e.slack.Responses()[1]["text"].(string), "已确认事件 #1，负责人：王工")
	e.deliver()
	eng = e.slack.Messages("CENG")
	if len(eng) != 1 || eng[0].Edits != 1 {
		t.Fatalf("card not edited in place: %+v", eng)
	}
	has(t, blockText(eng[0]), "#1 · 星辰数据 · 核心功能不可用 · 已响应")
	if strings.Contains(blockText(eng[0]), "slakeeper:ack") {
		t.Fatal("the acknowledged card still offers Acknowledge")
	}
	if cust := e.slack.Messages("CACME"); len(cust) != 2 || cust[1].ThreadTS != ts || !strings.Contains(cust[1].Text, "王工 已响应") {
		t.Fatalf("customer thread update %+v", cust)
	}

	// Slash commands: the customer is refused in Chinese; the umbrella works.
	has(t, e.command("UCLI", "CACME", "/ack", "1"), "抱歉，您没有权限执行 /ack")
	has(t, e.command("UENGWANG", "CENG", "/sla", "status 1"), "事件 #1 · 星辰数据 · 核心功能不可用 · 已响应")
	has(t, e.command("UENGWANG", "CENG", "/status", "1"), "负责人：王工")

	// A second incident nobody acknowledges escalates to the lead, in the
	// card's thread with a line in the channel, mentioning them.
	// (Reported with /incident: in plain talk, while #1 is in progress, it
	// would join #1's conversation.)
	has(t, e.command("UCLI", "CACME", "/incident", "HDFS宕机了"), "已登记事件 #2")
	e.deliver()
	card2 := e.slack.Messages("CENG")[1]
	e.clock.Advance(50 * time.Minute)
	e.deliver()
	var lead *fakeslack.Message
	for _, m := range e.slack.Messages("CENG") {
		if strings.Contains(m.Text, "<@ULEAD>") {
			lead = &m
		}
	}
	if lead == nil || lead.ThreadTS != card2.TS || !lead.Broadcast {
		t.Fatalf("escalation to the lead: %+v", lead)
	}
	has(t, lead.Text, "升级至组长")
}

func TestSlackRateLimitAndFailures(t *testing.T) {
	e := newEnv(t, "")
	e.slack.RateLimit(1, 3*time.Second)
	e.say("CACME", "UCLI", "集群全部宕机了")
	e.deliver()
	if n := len(e.slack.Messages("")); n != 0 {
		t.Fatalf("%d delivered after a 429: nothing goes to Slack before Retry-After", n)
	}
	e.clock.Advance(2 * time.Second)
	e.deliver()
	if n := len(e.slack.Messages("")); n != 0 {
		t.Fatalf("Retry-After not honoured: %d", n)
	}
	e.clock.Advance(time.Second)
	e.deliver()
	if n := len(e.slack.Messages("")); n != 2 {
		t.Fatalf("after Retry-After: %d", n)
	}
	// A 500 is retried; each message arrives once.
	e.slack.FailNext(2)
	e.click("UENGWANG", "ack", 1)
	e.deliver()
	e.clock.Advance(10 * time.Second)
	e.deliver()
	e.clock.Advance(10 * time.Second)
	e.deliver()
	if cust := e.slack.Messages("CACME"); len(cust) != 2 {
		t.Fatalf("customer messages %d", len(cust))
	}
	if eng := e.slack.Messages("CENG"); len(eng) != 1 || eng[0].Edits != 1 {
		t.Fatalf("card %+v", eng)
	}
	// A message to a channel Slack does not know fails for good.
	out, _ := e.store.OutboxFor(context.Background(), 1)
	for _, m := range out {
		if m.Status != "sent" {
			t.Fatalf("undelivered %+v", m)
		}
	}
}

func TestSlackLongTextAndEscaping(t *testing.T) {
	e := newEnv(t, "")
	long := "集群宕机了 <!channel> & <@U123> " + strings.Repeat("很长的描述", 2000)
	e.say("CACME", "UCLI", long)
	e.deliver()
	for _, m := range e.slack.Messages("") {
		if strings.Contains(m.Text, "<!channel>") || strings.Contains(m.Text, "<@U123>") {
			t.Fatalf("user text not escaped: %.200s", m.Text)
		}
		if len([]rune(m.Text)) > 4000 {
			t.Fatalf("text of %d characters", len([]rune(m.Text)))
		}
	}
	if len(e.slack.Messages("CENG")) != 1 {
		t.Fatal("the card of a long report was refused")
	}
}

func TestSlackSlowCommandAnswersThroughResponseURL(t *testing.T) {
	e := newEnv(t, "")
	slow := &slowHandler{}
	ad, err := slack.New(context.Background(), slack.Config{BotToken: botToken, SigningSecret: secret, APIURL: e.slack.APIURL(),
		ReplyWithin: time.Millisecond}, slow, e.svc.Dir, e.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ad.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e.http = srv
	slow.wg.Add(1)
	if text := e.command("UENGWANG", "CENG", "/list", ""); text != "" {
		t.Fatalf("answered in the request: %q", text)
	}
	slow.wg.Done()
	ad.Close() // waits for the late answer
	rs := e.slack.Responses()
	if len(rs) != 1 || rs[0]["text"] != "slow answer" {
		t.Fatalf("late answer %+v", rs)
	}
}

type slowHandler struct{ wg sync.WaitGroup }

func (s *slowHandler) Handle(context.Context, chat.Inbound) ([]chat.Outbound, error) {
	s.wg.Wait()
	return []chat.Outbound{{Text: "slow answer"}}, nil
}

func TestSlackSocketMode(t *testing.T) {
	e := newEnv(t, appToken)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.ad.RunSocketMode(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("socket mode: %v", err)
		}
	}()
	e.slack.Said("CACME", "1764032400.500000", "UCLI", "集群全部宕机了")
	var ev map[string]any
	json.Unmarshal(messageEvent("EvS1", "CACME", "UCLI", "1764032400.500000", "", "集群全部宕机了"), &ev)
	if _, ok := e.slack.Push("events_api", "env-1", ev, 10*time.Second); !ok {
		t.Fatalf("event not acknowledged; logs:\n%s", e.logs.String())
	}
	if e.incidents() != 1 {
		t.Fatal("socket mode event opened no incident")
	}
	e.slack.Push("events_api", "env-2", ev, 10*time.Second) // redelivered
	if e.incidents() != 1 {
		t.Fatal("redelivery duplicated the incident")
	}
	ack, ok := e.slack.Push("slash_commands", "env-3", map[string]any{"command": "/ack", "text": "1", "user_id": "UCLI",
		"channel_id": "CACME", "response_url": e.slack.ResponseURL("s")}, 10*time.Second)
	if !ok || !strings.Contains(string(ack), "抱歉，您没有权限执行 /ack") {
		t.Fatalf("command ack %s", ack)
	}
	inc, _ := e.store.Incident(context.Background(), 1)
	if inc.Status != sla.StatusOpen {
		t.Fatal("customer acked over socket mode")
	}
	payload := map[string]any{"type": "block_actions", "user": map[string]any{"id": "UENGWANG"}, "channel": map[string]any{"id": "CENG"},
		"response_url": e.slack.ResponseURL("s2"), "actions": []map[string]any{{"action_id": "slakeeper:ack", "value": "1", "type": "button", "block_id": "incident-1"}}}
	if _, ok := e.slack.Push("interactive", "env-4", payload, 10*time.Second); !ok {
		t.Fatal("click not acknowledged")
	}
	// The click is handled after its ack and answered on its response_url.
	r, ok := e.slack.WaitResponse("s2", wait)
	if !ok || !strings.Contains(r["text"].(string), "已确认事件 #1") {
		t.Fatalf("click answer %v; logs:\n%s", r, e.logs.String())
	}
	if inc, _ = e.store.Incident(context.Background(), 1); inc.Status != sla.StatusAcknowledged {
		t.Fatalf("click over socket mode did not acknowledge; logs:\n%s", e.logs.String())
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1764032400, 0)
	body := []byte("token=x&command=/ack")
	h := fakeslack.Sign(secret, body, now)
	if !slack.Verify(secret, h, body, now) || !slack.Verify(secret, h, body, now.Add(4*time.Minute)) {
		t.Fatal("good signature refused")
	}
	for name, ok := range map[string]bool{
		"tampered body": slack.Verify(secret, h, append(body, '1'), now),
		"wrong secret":  slack.Verify("other", h, body, now),
		"stale":         slack.Verify(secret, h, body, now.Add(6*time.Minute)),
		"future":        slack.Verify(secret, h, body, now.Add(-6*time.Minute)),
		"empty secret":  slack.Verify("", h, body, now),
		"no headers":    slack.Verify(secret, http.Header{}, body, now),
	} {
		if ok {
			t.Errorf("%s accepted", name)
		}
	}
}
