package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
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
