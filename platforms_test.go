package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/feishu/fakefeishu"
	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/bot/telegram/faketelegram"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// sendFunc is a chat.Sender in one function.
type sendFunc func(ctx context.Context, m chat.Outbound) (string, error)

func (f sendFunc) Send(ctx context.Context, m chat.Outbound) (string, error) { return f(ctx, m) }

// A new platform is one package that exports a chat.Platform plus one line
// in platforms.go; the console, Slack and Telegram register the same way.
// "webchat" here is a whole platform in a few lines: it is switched on by
// its variable, validates its ids in the configuration, adds a webhook to
// the public listener and sends the outbox. Nothing else (config, schema,
// serve) is told about it, yet a customer's report on it becomes an
// incident whose card reaches its engineering channel, and an engineer's
// command there acts on it. It declares no capabilities (chat.Capable), so
// it is sent plain text: the card as text, each change as a new message.
func TestANewPlatformIsOneRegistration(t *testing.T) {
	sent := make(chan chat.Outbound, 64)
	webchat := chat.Platform{
		Name:     "webchat",
		Env:      []string{"WEBCHAT_ENABLED"},
		HowToRun: "set WEBCHAT_ENABLED",
		Enabled:  func(getenv func(string) string) bool { return getenv("WEBCHAT_ENABLED") != "" },
		CheckUserID: func(id string) error {
			if !strings.HasPrefix(id, "w-") {
				return io.ErrUnexpectedEOF
			}
			return nil
		},
		Start: func(_ context.Context, env chat.Env) (chat.Running, error) {
			env.Mux.HandleFunc("POST /webchat", func(w http.ResponseWriter, r *http.Request) {
				var in chat.Inbound
				if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
					http.Error(w, "bad message", http.StatusBadRequest)
					return
				}
				in.Platform = "webchat"
				if _, err := env.Handler.Handle(r.Context(), in); err != nil {
					http.Error(w, "try again", http.StatusInternalServerError)
				}
			})
			return chat.Running{Sender: sendFunc(func(_ context.Context, m chat.Outbound) (string, error) {
				sent <- m
				return "ref-" + m.Kind, nil
			})}, nil
		},
	}
	old := platforms
	platforms = chat.NewRegistry(append(old.All(), webchat)...) // the one line
	t.Cleanup(func() { platforms = old })

	cfg := filepath.Join(t.TempDir(), "cfg.yaml")
	writeFile(t, cfg, `customers: [{id: acme, name: Acme, language: en}]
people: [{id: wang, name: Wang, role: engineer, ids: {webchat: w-wang}}]
channels:
  - {platform: webchat, id: acme-support, kind: customer, customer: acme}
  - {platform: webchat, id: engineers, kind: engineering}
`)
	// The platform's own id check is the configuration's.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "people: [{id: li, role: engineer, ids: {webchat: li}}]\n")
	if err := run(context.Background(), []string{"check-config", bad}, env(nil), nil, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "people[0].ids.webchat") {
		t.Fatalf("a bad webchat id: %v", err)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	vars := map[string]string{"DATABASE_URL": storagetest.NewPostgresDB(t), "CONFIG": cfg, "WEBCHAT_ENABLED": "1", "HTTP_ADDR": addr, "METRICS_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env(vars), nil, io.Discard, io.Discard) }() // serve: a platform is enabled
	say := func(in chat.Inbound) {
		t.Helper()
		body, _ := json.Marshal(in)
		for i := 0; ; i++ {
			res, err := http.Post("http://"+addr+"/webchat", "application/json", bytes.NewReader(body))
			if err == nil && res.StatusCode == http.StatusOK {
				res.Body.Close()
				return
			}
			if i > 6000 { // a minute: serve trains its classifier first
				t.Fatalf("webchat: %v %v", res, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var seen []chat.Outbound
	await := func(what string, ok func(chat.Outbound) bool) chat.Outbound {
		t.Helper()
		timeout := time.After(time.Minute)
		for i := 0; ; i++ {
			if i < len(seen) {
				if ok(seen[i]) {
					return seen[i]
				}
				continue
			}
			select {
			case m := <-sent:
				seen = append(seen, m)
				i--
			case <-timeout:
				t.Fatalf("never sent: %s; sent %+v", what, seen)
			}
		}
	}
	say(chat.Inbound{ChatID: "acme-support", UserID: "c-1", UserName: "Ann", MessageID: "m1", EventID: "e1", Text: "the whole cluster is down, nothing works"})
	card := await("the incident card", func(m chat.Outbound) bool { return m.ChatID == "engineers" && m.Kind == chat.KindCard })
	if card.Card != nil || card.IncidentID != 1 || !strings.Contains(card.Text, "#1") {
		t.Fatalf("card %+v: want its plain form", card)
	}
	await("the customer's answer", func(m chat.Outbound) bool {
		return m.ChatID == "acme-support" && strings.Contains(m.Text, "incident #1")
	})
	say(chat.Inbound{ChatID: "engineers", UserID: "w-wang", MessageID: "m2", EventID: "e2", Text: "/ack 1"})
	update := await("the card, acknowledged", func(m chat.Outbound) bool {
		return m.ChatID == "engineers" && m.Kind == chat.KindCard && strings.Contains(m.Text, "Wang")
	})
	if update.EditRef != "" || update.Card != nil {
		t.Fatalf("a platform that cannot edit was asked to: %+v", update)
	}
	await("the answer to /ack, through the outbox", func(m chat.Outbound) bool {
		return m.ChatID == "engineers" && m.Kind == chat.KindReply && strings.Contains(m.Text, "#1")
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An adapter compiles against the chat seam and the domain, never against
// the runtime, the storage or a database driver.
func TestAdaptersDoNotImportTheRuntime(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	forbidden := []string{"github.com/slakeeper/slakeeper/bot", "github.com/slakeeper/slakeeper/storage", "github.com/lib/pq", "modernc.org/sqlite"}
	for _, pkg := range []string{"./bot/console", "./bot/slack", "./bot/telegram", "./bot/feishu"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") && f != "github.com/slakeeper/slakeeper/bot" {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}

// serve with Slack, Telegram and Feishu at once, each against its fake: a
// Feishu customer's report, delivered encrypted and signed to
// /feishu/events, becomes an incident whose card (with its buttons)
// reaches the Feishu engineering group and whose answer is a reply in the
// customer's group; Slack and Telegram reports, meanwhile, reach their own
// engineering channels and the Feishu one. The Feishu secrets never reach the logs.
func TestServeSlackTelegramAndFeishu(t *testing.T) {
	dsn := storagetest.NewPostgresDB(t)
	slack := fakeslack.New("xoxb-serve3", "", "C0ACMESUP", "C0ENGINEERS")
	defer slack.Close()
	const tgToken = "7000003:AAH-serve3-token"
	tg := faketelegram.New(tgToken, -100, -200)
	defer tg.Close()
	const (
		appSecret  = "feishu-serve3-secret"
		encryptKey = "feishu-serve3-encrypt-key"
		custGroup  = "oc_serve3customer0000000000000001"
		engGroup   = "oc_serve3engineers000000000000002"
		li         = "ou_serve3li000000000000000000001"
	)
	fs := fakefeishu.New(fakefeishu.Config{AppID: "cli_serve3", AppSecret: appSecret, VerificationToken: "vt-serve3",
		EncryptKey: encryptKey, BotOpenID: "ou_serve3bot0000000000000000000", Chats: []string{custGroup, engGroup}})
	defer fs.Close()
	cfg := filepath.Join(t.TempDir(), "cfg.yaml")
	writeFile(t, cfg, `customers:
  - {id: acme, name: Acme}
  - {id: globex, name: Globex, language: en}
  - {id: xingchen, name: 星辰数据, language: zh}
people:
  - {id: wang, name: Wang, role: engineer, slack: UW, ids: {feishu: ou_serve3wang0000000000000000002}}
  - {id: li, name: 李雷, role: customer, customer: xingchen, ids: {feishu: `+li+`}}
channels:
  - {platform: slack, id: C0ACMESUP, kind: customer, customer: acme}
  - {platform: slack, id: C0ENGINEERS, kind: engineering}
  - {platform: telegram, id: "-100", kind: customer, customer: globex}
  - {platform: telegram, id: "-200", kind: engineering}
  - {platform: feishu, id: `+custGroup+`, kind: customer, customer: xingchen}
  - {platform: feishu, id: `+engGroup+`, kind: engineering}
`)
	addr := freeAddr(t)
	vars := map[string]string{"DATABASE_URL": dsn, "CONFIG": cfg, "HTTP_ADDR": addr, "METRICS_ADDR": "127.0.0.1:0",
		"SLACK_BOT_TOKEN": "xoxb-serve3", "SLACK_SIGNING_SECRET": "s3cret3", "SLACK_API_URL": slack.APIURL(),
		"TELEGRAM_BOT_TOKEN": tgToken, "TELEGRAM_API_URL": tg.URL,
		"FEISHU_APP_ID": "cli_serve3", "FEISHU_APP_SECRET": appSecret, "FEISHU_VERIFICATION_TOKEN": "vt-serve3",
		"FEISHU_ENCRYPT_KEY": encryptKey, "FEISHU_API_URL": fs.URL}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), nil, io.Discard, &logs) }()
	base := "http://" + addr
	until := func(what string, ok func() bool) {
		t.Helper()
		for i := 0; !ok(); i++ {
			if i > 6000 { // a minute: serve trains its classifier first
				t.Fatalf("never: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	until("ready", func() bool {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})

	// Feishu: the customer's report, encrypted and signed as Feishu sends it.
	said, ev := fs.Say(custGroup, li, "集群全部宕机了，所有作业都跑不起来", "")
	if code, body := fs.Deliver(base+"/feishu/events", ev, fakefeishu.Delivery{}); code != http.StatusOK {
		t.Fatalf("feishu event: %d %s", code, body)
	}
	until("the card in the Feishu engineering group", func() bool { return len(fs.BotMessages(engGroup)) > 0 })
	card := fs.BotMessages(engGroup)[0]
	if card.MsgType != "interactive" || len(card.Buttons) == 0 || !strings.Contains(card.Text, "#1 · 星辰数据") {
		t.Fatalf("feishu card %+v", card)
	}
	until("the answer in the Feishu customer group", func() bool { return len(fs.BotMessages(custGroup)) > 0 })
	if a := fs.BotMessages(custGroup)[0]; a.ParentID != said || !strings.Contains(a.Text, "登记为事件 #1") {
		t.Fatalf("feishu answer %+v", a)
	}

	// Telegram and Slack run beside it.
	tg.Say(-100, 42, "Ann", "the whole cluster is down", 0, 0)
	until("the card on Telegram", func() bool { return len(tg.BotMessages(-200)) > 0 })
	slack.Said("C0ACMESUP", "1764032400.000100", "UX", "the whole cluster is down")
	body := []byte(`{"type":"event_callback","event_id":"Ev3","event":{"type":"message","channel":"C0ACMESUP","user":"UX","text":"the whole cluster is down","ts":"1764032400.000100"}}`)
	req, _ := http.NewRequest(http.MethodPost, base+"/slack/events", bytes.NewReader(body))
	req.Header = fakeslack.Sign("s3cret3", body, time.Now())
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("slack event: %v %v", res, err)
	}
	res.Body.Close()
	until("the card on Slack", func() bool { return len(slack.Messages("C0ENGINEERS")) > 0 })
	// The engineers are one team: every incident's card reaches every
	// engineering channel, the Feishu group's as cards with buttons.
	until("the other platforms' cards in the Feishu engineering group", func() bool { return len(fs.BotMessages(engGroup)) == 3 })
	ms := fs.BotMessages(engGroup)
	for i := 1; i <= 3; i++ { // Telegram's and Slack's in either order
		found := false
		for _, m := range ms {
			found = found || m.MsgType == "interactive" && len(m.Buttons) > 0 && strings.HasPrefix(m.Text, fmt.Sprintf("#%d ·", i))
		}
		if !found {
			t.Fatalf("no card of #%d in the Feishu engineering group: %+v", i, ms)
		}
	}
	if refused := fs.Refused(); len(refused) > 0 {
		t.Fatalf("the fake Feishu refused calls: %v", refused)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{appSecret, encryptKey, "t-g0", tgToken, "xoxb-serve3"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("%q reached the logs", secret)
		}
	}
}
