package feishu_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/config"
	"github.com/slakeeper/slakeeper/bot/console"
	"github.com/slakeeper/slakeeper/bot/feishu"
	"github.com/slakeeper/slakeeper/bot/feishu/fakefeishu"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

const (
	appID      = "cli_a1b2c3d4e5f6"
	appSecret  = "feishu-app-secret-do-not-log"
	verifyTok  = "vt-Fake-Verification-Token"
	encryptKey = "ek-fake-encrypt-key"
	botOpenID  = "ou_bot0000000000000000000000000"

	acmeGroup = "oc_acme00000000000000000000000001"
	engGroup  = "oc_eng000000000000000000000000002"
	mgrGroup  = "oc_mgr000000000000000000000000003"
	gxGroup   = "oc_globex000000000000000000000004"

	li   = "ou_li00000000000000000000000000001"
	wang = "ou_wang000000000000000000000000002"
	zhao = "ou_zhao000000000000000000000000003"
	amy  = "ou_amy0000000000000000000000000004"
)

const cfgYAML = `
zone: Asia/Shanghai
customers:
  - {id: acme, name: 星辰数据, language: zh}
  - {id: globex, name: Globex, language: en}
people:
  - {id: li, name: 李雷, role: customer, customer: acme, ids: {feishu: ` + li + `}}
  - {id: amy, name: Amy, role: customer, customer: globex, ids: {feishu: ` + amy + `}}
  - {id: wang, name: 王工, role: engineer, ids: {feishu: ` + wang + `}}
  - {id: zhao, name: 赵组长, role: lead, ids: {feishu: ` + zhao + `}}
channels:
  - {platform: feishu, id: ` + acmeGroup + `, kind: customer, customer: acme}
  - {platform: feishu, id: ` + gxGroup + `, kind: customer, customer: globex}
  - {platform: feishu, id: ` + engGroup + `, kind: engineering}
  - {platform: feishu, id: ` + mgrGroup + `, kind: managers}
oncall:
  people: [wang]
`

var t0 = time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)

type env struct {
	t      testing.TB
	store  *storage.Store
	fs     *fakefeishu.Server
	clock  *chat.ManualClock
	engine *bot.Engine
	disp   *bot.Dispatcher
	router *bot.Router
	ad     *feishu.Adapter
	dir    *sla.Directory
	hook   *httptest.Server
	logs   *bottest.Logs
	log    *slog.Logger
}

// platforms are the platforms the test configuration names.
var platforms = chat.NewRegistry(console.Platform, feishu.Platform)

func newEnv(t testing.TB) *env { t.Helper(); return newEnvOn(t, storagetest.Postgres(t)) }

func newEnvOn(t testing.TB, s *storage.Store) *env {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(cfgYAML), platforms)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SyncDirectory(context.Background(), cfg.Directory); err != nil {
		t.Fatal(err)
	}
	clock := chat.NewManualClock(t0)
	fake := fakefeishu.New(fakefeishu.Config{AppID: appID, AppSecret: appSecret, VerificationToken: verifyTok, EncryptKey: encryptKey,
		BotOpenID: botOpenID, Now: clock.Now, Chats: []string{acmeGroup, engGroup, mgrGroup, gxGroup}})
	t.Cleanup(fake.Close)
	logs := &bottest.Logs{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := sla.NewDirectory(cfg.Directory, sla.Settings{Zone: cfg.Location, DefaultLang: cfg.Lang, BasePolicy: cfg.BasePolicy, Rotation: cfg.Rotation})
	svc := &bot.Service{Store: s, Dir: dir}
	router := &bot.Router{Svc: svc, Clock: clock, Log: log}
	ad, err := feishu.New(context.Background(), feishu.Config{AppID: appID, AppSecret: appSecret, VerificationToken: verifyTok,
		EncryptKey: encryptKey, APIURL: fake.URL}, router, dir, clock, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ad.Routes(mux)
	hook := httptest.NewServer(mux)
	t.Cleanup(hook.Close)
	e := &env{t: t, store: s, fs: fake, dir: dir, clock: clock, router: router, ad: ad, hook: hook, logs: logs, log: log,
		engine: bot.NewEngine(svc, clock, log), disp: bot.NewDispatcher(s, map[string]chat.Sender{feishu.Name: ad}, clock, log)}
	t.Cleanup(func() {
		if l := logs.String(); strings.Contains(l, appSecret) || strings.Contains(l, "t-g0") {
			t.Error("the app secret or a tenant token reached the logs")
		}
	})
	return e
}

func (e *env) deliver() { e.t.Helper(); bottest.Deliver(e.t, e.engine, e.disp) }

// event delivers an event to /feishu/events as Feishu does and returns the
// answer.
func (e *env) event(ev fakefeishu.Event) (int, []byte) {
	return e.fs.Deliver(e.hook.URL+"/feishu/events", ev, fakefeishu.Delivery{})
}

// press delivers a card callback to /feishu/card and returns its toast.
func (e *env) press(ev fakefeishu.Event) (kind, text string) {
	e.t.Helper()
	kind, text, _ = e.pressCard(ev)
	return kind, text
}

// pressCard is press, also returning the card the answer puts in place of
// the one pressed, if any ("" if none).
func (e *env) pressCard(ev fakefeishu.Event) (kind, text, card string) {
	e.t.Helper()
	code, body := e.fs.Deliver(e.hook.URL+"/feishu/card", ev, fakefeishu.Delivery{})
	if code != 200 {
		e.t.Fatalf("card callback: %d %s", code, body)
	}
	var r struct {
		Toast struct{ Type, Content string }
		Card  *struct {
			Type string
			Data json.RawMessage
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		e.t.Fatalf("card callback answer %q: %v", body, err)
	}
	if r.Card != nil {
		if r.Card.Type != "raw" {
			e.t.Fatalf("the answer's card is %q, not raw", r.Card.Type)
		}
		card = string(r.Card.Data)
	}
	return r.Toast.Type, r.Toast.Content, card
}

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

func has(t testing.TB, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Fatalf("expected %q in:\n%s", want, s)
	}
}

func TestFeishuEndToEnd(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) { endToEnd(t, newEnvOn(t, s)) })
}

func endToEnd(t *testing.T, e *env) {
	// A customer's report in their group opens an incident; the answer is a
	// reply to it. What they wrote cannot mention the whole group.
	said, ev := e.fs.Say(acmeGroup, li, `集群全部宕机了，所有作业都跑不起来 <at user_id="all"></at> & job_x`, "")
	if code, body := e.event(ev); code != 200 {
		t.Fatalf("event: %d %s", code, body)
	}
	if e.incidents() != 1 {
		t.Fatal("no incident")
	}
	e.deliver()
	rs := e.fs.BotMessages(acmeGroup)
	if len(rs) != 1 || rs[0].ParentID != said || rs[0].MsgType != "text" {
		t.Fatalf("customer reply %+v", rs)
	}
	has(t, rs[0].Text, "登记为事件 #1（核心功能不可用）")

	// The card in the engineering group: header, fields, four buttons, the
	// on-call engineer mentioned; the customer's text shown as written.
	cards := e.fs.BotMessages(engGroup)
	if len(cards) != 1 || cards[0].MsgType != "interactive" || len(cards[0].Buttons) != 4 {
		t.Fatalf("card %+v", cards)
	}
	card := cards[0]
	has(t, card.Content, `<at id=`+wang+`></at>`)
	has(t, card.Text, "#1 · 星辰数据 · 核心功能不可用 · 待响应")
	has(t, card.Text, `集群全部宕机了，所有作业都跑不起来 <at user_id="all"></at> & job_x`) // plain_text: shown, not markup
	if strings.Contains(card.Content, `"tag":"lark_md","content":"集群`) {
		t.Fatal("the customer's text is lark_md")
	}
	if multi := card.Card["config"].(map[string]any)["update_multi"]; multi != true {
		t.Fatal("the card cannot be updated for everyone")
	}

	// A customer's press is refused, with an error toast.
	if kind, text := e.press(e.fs.Press(card.ID, li, 0)); kind != "error" || !strings.Contains(text, "抱歉，您没有权限执行 /ack") {
		t.Fatalf("toast %q %q", kind, text)
	}
	if e.status(1) != sla.StatusOpen {
		t.Fatal("the customer's press acknowledged")
	}

	// The engineer's press acknowledges; the answer carries the updated
	// card, which Feishu shows at once, and the outbox edits it in place.
	pressed := e.fs.Press(card.ID, wang, 0)
	kind, text, answered := e.pressCard(pressed)
	if kind != "success" || !strings.Contains(text, "已确认事件 #1") {
		t.Fatalf("toast %q %q", kind, text)
	}
	has(t, answered, "#1 · 星辰数据 · 核心功能不可用 · 已响应")
	has(t, answered, `"update_multi":true`)
	if strings.Contains(answered, `"slk_action":"ack"`) {
		t.Fatal("the answer's card still offers Acknowledge")
	}
	e.deliver()
	cards = e.fs.BotMessages(engGroup)
	if len(cards) != 1 || cards[0].Edits != 1 || len(cards[0].Buttons) != 3 {
		t.Fatalf("card after ack %+v", cards)
	}
	has(t, cards[0].Text, "· 已响应")
	// The same press delivered again (Feishu retries, or someone replays
	// it) changes nothing.
	if kind, text := e.press(pressed); kind != "" || text != "" {
		t.Fatalf("a replayed press answered %q %q", kind, text)
	}
	e.deliver()
	if c := e.fs.BotMessages(engGroup); len(c) != 1 || c[0].Edits != 1 {
		t.Fatalf("a replayed press changed the card: %+v", c)
	}

	// The customer replies to the bot's answer: it attaches to the
	// incident (the reply's root is the report).
	_, ev = e.fs.Say(acmeGroup, li, "补充：HDFS 也连不上", rs[0].ID)
	if code, _ := e.event(ev); code != 200 {
		t.Fatal(code)
	}
	tl, _ := e.store.Timeline(context.Background(), 1)
	if tl[len(tl)-1].Kind != sla.EventMessage || e.incidents() != 1 {
		t.Fatalf("the reply did not attach: %d incidents", e.incidents())
	}

	// A typed command, with the bot @-mentioned: answered as a reply.
	cmd, ev := e.fs.Say(engGroup, wang, "@_user_1 /status 1", "", fakefeishu.Mention{OpenID: botOpenID, Name: "slakeeper"})
	if code, _ := e.event(ev); code != 200 {
		t.Fatal(code)
	}
	e.deliver()
	ms := e.fs.BotMessages(engGroup)
	if last := ms[len(ms)-1]; last.ParentID != cmd || !strings.Contains(last.Text, "事件 #1 · 星辰数据") {
		t.Fatalf("answer to /status %+v", last)
	}
	// The bot's own messages and other apps' are ignored.
	_, ev = e.fs.Say(acmeGroup, botOpenID, "集群全部宕机了", "")
	e.event(ev)
	if e.incidents() != 1 {
		t.Fatal("the bot's own message opened an incident")
	}

	// A rich-text (post) report opens an incident too.
	_, ev = e.fs.Post(acmeGroup, li, "紧急", []string{"平台无法登录，所有人都登不上"}, "")
	if code, _ := e.event(ev); code != 200 || e.incidents() != 2 {
		t.Fatalf("post: %d, %d incidents", code, e.incidents())
	}

	// An escalation mentions the lead by open_id, under the card.
	e.clock.Advance(50 * time.Minute)
	e.deliver()
	var lead *fakefeishu.Message
	for _, m := range e.fs.BotMessages(engGroup) {
		if strings.Contains(m.Content, `<at user_id=\"`+zhao+`\">`) || strings.Contains(m.Content, `<at id=`+zhao+`>`) {
			lead = &m
		}
	}
	if lead == nil || lead.ParentID == "" {
		t.Fatalf("escalation to the lead %+v", lead)
	}
	if refused := e.fs.Refused(); len(refused) > 0 {
		t.Fatalf("the fake refused calls: %v", refused)
	}
}

// Forged, stale, unsigned, wrongly-tokened and replayed deliveries are
// refused or ignored and change nothing.
func TestFeishuRefusesForgedStaleAndReplayed(t *testing.T) {
	e := newEnv(t)
	_, ev := e.fs.Say(acmeGroup, li, "集群全部宕机了，所有作业都跑不起来", "")
	url := e.hook.URL + "/feishu/events"
	for _, c := range []struct {
		name string
		d    fakefeishu.Delivery
	}{
		{"forged signature", fakefeishu.Delivery{BadSignature: true}},
		{"stale timestamp", fakefeishu.Delivery{At: t0.Add(-6 * time.Minute)}},
		{"timestamp from the future", fakefeishu.Delivery{At: t0.Add(6 * time.Minute)}},
		{"unsigned", fakefeishu.Delivery{Unsigned: true}},
		{"unsigned, not encrypted", fakefeishu.Delivery{Unsigned: true, Plain: true}},
		{"wrong verification token", fakefeishu.Delivery{Token: "vt-guessed"}},
	} {
		if code, _ := e.fs.Deliver(url, ev, c.d); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", c.name, code)
		}
	}
	if e.incidents() != 0 {
		t.Fatal("a refused delivery opened an incident")
	}
	// A press forged the same ways does nothing either.
	e.fs.Say(acmeGroup, li, "x", "")
	press := e.fs.Press("om_none", wang, 0)
	for _, d := range []fakefeishu.Delivery{{BadSignature: true}, {At: t0.Add(-time.Hour)}, {Token: "nope"}} {
		if code, _ := e.fs.Deliver(e.hook.URL+"/feishu/card", press, d); code != http.StatusUnauthorized {
			t.Errorf("forged press %+v: %d", d, code)
		}
	}
	// The real delivery is accepted once; delivered again (a retry, a
	// replay within the five minutes) it changes nothing.
	if code, _ := e.fs.Deliver(url, ev, fakefeishu.Delivery{}); code != 200 || e.incidents() != 1 {
		t.Fatalf("genuine: %d, %d incidents", code, e.incidents())
	}
	e.clock.Advance(2 * time.Minute)
	if code, _ := e.fs.Deliver(url, ev, fakefeishu.Delivery{}); code != 200 || e.incidents() != 1 {
		t.Fatalf("replayed: %d, %d incidents", code, e.incidents())
	}
	tl, _ := e.store.Timeline(context.Background(), 1)
	if n := len(tl); n != 1 {
		t.Fatalf("the replay added to the timeline: %d events", n)
	}

	// The URL verification challenge: answered with the right token only.
	ch := map[string]string{"challenge": "ajls384kdjx98XX", "token": verifyTok, "type": "url_verification"}
	for _, d := range []fakefeishu.Delivery{{Unsigned: true}, {}, {Unsigned: true, Plain: true}} {
		code, body := e.fs.Deliver(url, ch, d)
		if code != 200 || !strings.Contains(string(body), `"challenge":"ajls384kdjx98XX"`) {
			t.Fatalf("challenge %+v: %d %s", d, code, body)
		}
	}
	ch["token"] = "wrong"
	if code, _ := e.fs.Deliver(url, ch, fakefeishu.Delivery{}); code != http.StatusUnauthorized {
		t.Fatalf("challenge with a wrong token: %d", code)
	}
}

// Files (the digest chart and CSV, report documents) are uploaded, sent
// as file messages and captioned.
func TestFeishuSendsFiles(t *testing.T) {
	e := newEnv(t)
	data := []byte("period,customer\n2026Q4,acme\n")
	err := e.router.Svc.SendFiles(context.Background(), commands.Place{Platform: feishu.Name, ChatID: mgrGroup}, t0,
		chat.File{Name: "slakeeper-2026Q4.csv", Type: "text/csv", Caption: "季度报告 <2026Q4>", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	e.deliver()
	ms := e.fs.BotMessages(mgrGroup)
	if len(ms) != 2 || ms[0].MsgType != "file" || ms[0].FileName != "slakeeper-2026Q4.csv" || string(ms[0].FileData) != string(data) {
		t.Fatalf("sent %+v", ms)
	}
	if ms[1].ParentID != ms[0].ID || !strings.Contains(ms[1].Text, "季度报告") {
		t.Fatalf("caption %+v", ms[1])
	}
}

// The tenant token is fetched once, reused, refreshed before it expires
// and again when the platform refuses it; rate limits and unknown chats
// map to the dispatcher's errors, with no secret in them.
func TestFeishuTokenAndErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	send := func(chatID string) (string, error) {
		return e.ad.Send(ctx, chat.Outbound{Platform: feishu.Name, ChatID: chatID, Text: "hello"})
	}
	for i := 0; i < 3; i++ {
		if _, err := send(engGroup); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fs.Calls("token"); n != 1 {
		t.Fatalf("%d token calls for four calls", n)
	}
	e.clock.Advance(100 * time.Minute) // within 30 minutes of the two hours
	if _, err := send(engGroup); err != nil {
		t.Fatal(err)
	}
	if n := e.fs.Calls("token"); n != 2 {
		t.Fatalf("the token was not refreshed before it expired: %d token calls", n)
	}
	e.clock.Advance(3 * time.Hour) // expired at the platform; the adapter refreshes
	if _, err := send(engGroup); err != nil {
		t.Fatal(err)
	}

	e.fs.RateLimit(1, 3*time.Second)
	_, err := send(engGroup)
	var ra *chat.RetryAfter
	if !errors.As(err, &ra) || ra.After != 3*time.Second {
		t.Fatalf("rate limit: %v", err)
	}
	// The message API's own per-chat limit is an HTTP 400 that a later
	// try fixes: retried, not dropped.
	e.fs.FloodChat(1)
	if _, err := send(engGroup); !errors.As(err, &ra) || chat.IsPermanent(err) {
		t.Fatalf("a flooded chat: %v", err)
	}
	_, err = send("oc_unknown")
	if !chat.IsPermanent(err) {
		t.Fatalf("unknown chat: %v", err)
	}
	for _, err := range []error{err, ra} {
		if strings.Contains(err.Error(), appSecret) || strings.Contains(err.Error(), "t-g0") {
			t.Fatalf("a secret in %v", err)
		}
	}

	// A card that was recalled is posted again instead of edited.
	c := &chat.Card{IncidentID: 9, Title: "#9", Text: "x", Actions: []chat.CardAction{{ID: "ack", Label: "确认",
		Confirm: &chat.CardConfirm{Title: "确认？", Text: "确认事件 #9", Yes: "是", No: "否"}}}}
	ref, err := e.ad.Send(ctx, chat.Outbound{Platform: feishu.Name, ChatID: engGroup, Kind: chat.KindCard, Card: c, Text: "#9"})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := e.fs.Message(ref); len(m.Buttons) != 1 || !m.Buttons[0].Confirm {
		t.Fatalf("button without its confirmation: %+v", m.Buttons)
	}
	e.fs.Recall(ref)
	ref2, err := e.ad.Send(ctx, chat.Outbound{Platform: feishu.Name, ChatID: engGroup, Kind: chat.KindCard, Card: c, Text: "#9", EditRef: ref})
	if err != nil || ref2 == ref {
		t.Fatalf("edit of a recalled card: %q %v", ref2, err)
	}
	// A huge card stays within the 30 KB limit.
	big := *c
	big.Text = strings.Repeat("日志", 20000)
	for i := 0; i < 40; i++ {
		big.Fields = append(big.Fields, chat.CardField{Label: "字段", Value: strings.Repeat("值", 900)})
	}
	if _, err := e.ad.Send(ctx, chat.Outbound{Platform: feishu.Name, ChatID: engGroup, Kind: chat.KindCard, Card: &big, Text: "#9"}); err != nil {
		t.Fatalf("a large card: %v", err)
	}
	e.log.Error("send failed", "err", err) // the cleanup checks the logs
}
