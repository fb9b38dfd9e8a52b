package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/slack"
	"github.com/slakeeper/slakeeper/sla"
)

// adapter starts a second adapter on the env's fake Slack with another
// handler and settings; HTTP requests go to it from now on.
func (e *env) adapter(t *testing.T, h chat.Handler, cfg slack.Config) *slack.Adapter {
	t.Helper()
	cfg.BotToken, cfg.SigningSecret, cfg.APIURL = botToken, secret, e.slack.APIURL()
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ad, err := slack.New(context.Background(), cfg, h, e.svc.Dir, e.clock, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ad.Close)
	mux := http.NewServeMux()
	ad.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.http, e.ad = srv, ad
	return ad
}

// A click is acknowledged before anything goes out: the 200 comes while
// Slack's response_url hangs, the command has run, and the answer arrives
// once Slack takes it. Close waits for it.
func TestSlackClickAcknowledgedBeforeItsAnswer(t *testing.T) {
	e := newEnv(t, "")
	e.say("CACME", "UCLI", "集群全部宕机了，所有作业都跑不起来")
	e.deliver()

	e.slack.HoldResponses()
	code, rid := e.press("UENGWANG", "ack", 1)
	if code != http.StatusOK {
		t.Fatalf("click: %d", code)
	}
	if !e.slack.WaitHeld(1, wait) {
		t.Fatalf("the click's answer never reached its response_url; logs:\n%s", e.logs.String())
	}
	if n := len(e.slack.Responses()); n != 0 {
		t.Fatalf("%d answers while response_url hangs", n)
	}
	if inc, _ := e.store.Incident(t.Context(), 1); inc.Status != sla.StatusAcknowledged {
		t.Fatalf("#1 is %s: the click did not run", inc.Status)
	}

	closed := make(chan struct{})
	go func() { e.ad.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned with an answer on its way")
	default:
	}
	e.slack.ReleaseResponses()
	<-closed
	rs := e.slack.Responses()
	if len(rs) != 1 || rs[0]["_id"] != rid || rs[0]["response_type"] != "ephemeral" || !strings.Contains(rs[0]["text"].(string), "已确认事件 #1") {
		t.Fatalf("answer %+v", rs)
	}
}

// failing is a router whose database is gone.
type failing struct{ inbound chan chat.Inbound }

func (f failing) Handle(_ context.Context, in chat.Inbound) ([]chat.Outbound, error) {
	f.inbound <- in
	return nil, errors.New("storage: connection refused")
}

// When the router fails after the click was acknowledged, the person is
// told so on the response_url and the failure is logged; slash commands
// and clicks are in band, messages are not.
func TestSlackClickInternalError(t *testing.T) {
	e := newEnv(t, "")
	f := failing{inbound: make(chan chat.Inbound, 10)}
	e.adapter(t, f, slack.Config{})
	e.click("UENGWANG", "ack", 1)
	if r := e.slack.Responses(); len(r) != 1 || r[0]["text"] != chat.InternalError {
		t.Fatalf("answer %+v", r)
	}
	has(t, e.logs.String(), "connection refused")
	if in := <-f.inbound; !in.InBand || in.Text != "/ack 1" {
		t.Fatalf("click %+v", in)
	}

	if text := e.command("UENGWANG", "CENG", "/ack", "1"); text != chat.InternalError {
		t.Fatalf("command answer %q", text)
	}
	if in := <-f.inbound; !in.InBand {
		t.Fatalf("command %+v", in)
	}
	if code, _ := e.say("CACME", "UCLI", "集群全部宕机了"); code != http.StatusInternalServerError {
		t.Fatalf("event: %d", code)
	}
	if in := <-f.inbound; in.InBand {
		t.Fatalf("message %+v", in)
	}
}

// gate is a router that holds every message until released, and records
// how many are held at once, overall and per channel, and the order of each
// channel's messages.
type gate struct {
	release chan struct{}
	open    sync.Once
	entered chan string

	mu        sync.Mutex
	held, max int
	perChat   map[string]int
	raced     []string // channels with two messages held at once
	order     map[string][]string
	cancelled int // messages whose context ended while they were held
	handled   int
}

func newGate() *gate {
	return &gate{release: make(chan struct{}), entered: make(chan string, 100), perChat: map[string]int{}, order: map[string][]string{}}
}

// let releases the messages held and those to come.
func (g *gate) let() { g.open.Do(func() { close(g.release) }) }

func (g *gate) Handle(ctx context.Context, in chat.Inbound) ([]chat.Outbound, error) {
	g.mu.Lock()
	g.held++
	g.max = max(g.max, g.held)
	if g.perChat[in.ChatID]++; g.perChat[in.ChatID] > 1 {
		g.raced = append(g.raced, in.ChatID)
	}
	g.order[in.ChatID] = append(g.order[in.ChatID], in.Text)
	g.mu.Unlock()
	g.entered <- in.Text
	<-g.release
	g.mu.Lock()
	defer g.mu.Unlock()
	if ctx.Err() != nil {
		g.cancelled++
	}
	g.held--
	g.perChat[in.ChatID]--
	g.handled++
	return nil, nil
}

// waitEntered waits for n messages to be held.
func (g *gate) waitEntered(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(wait)
	for i := range n {
		select {
		case <-g.entered:
		case <-timeout:
			t.Fatalf("%d of %d messages held at once", i, n)
		}
	}
}

// socketEvent is a customer's message as Socket Mode carries it.
func socketEvent(id, channel, text string) map[string]any {
	var ev map[string]any
	json.Unmarshal(messageEvent(id, channel, "UCLI", "1764032400."+strings.TrimPrefix(id, "Ev"), "", text), &ev)
	return ev
}

// socket is Socket Mode running in a test.
type socket struct {
	stop     context.CancelFunc
	returned chan struct{} // closed when RunSocketMode has returned
	err      error
}

func runSocket(t *testing.T, ad *slack.Adapter) *socket {
	ctx, cancel := context.WithCancel(context.Background())
	s := &socket{stop: cancel, returned: make(chan struct{})}
	go func() { s.err = ad.RunSocketMode(ctx); close(s.returned) }()
	t.Cleanup(func() { cancel(); <-s.returned })
	return s
}

// runSocketGated runs Socket Mode with a gate, which a failing test opens
// before it stops Socket Mode.
func runSocketGated(t *testing.T, ad *slack.Adapter, g *gate) *socket {
	s := runSocket(t, ad)
	t.Cleanup(g.let)
	return s
}

// wait stops Socket Mode and returns RunSocketMode's error.
func (s *socket) wait() error {
	s.stop()
	<-s.returned
	return s.err
}

// Socket Mode handles requests of different channels side by side, never
// more than its workers at once, one at a time and in order within a
// channel, and drops none when the pool is full.
func TestSlackSocketModeWorkers(t *testing.T) {
	e := newEnv(t, "")
	g := newGate()
	const workers = 3
	ad := e.adapter(t, g, slack.Config{AppToken: appToken, SocketWorkers: workers})
	sock := runSocketGated(t, ad, g)

	// Three channels, three workers: all three messages are held at once.
	push := func(env, id, channel, text string) {
		t.Helper()
		if err := e.slack.Deliver("events_api", env, socketEvent(id, channel, text), wait); err != nil {
			t.Fatal(err)
		}
	}
	push("env-1", "Ev000001", "C1", "c1-a")
	push("env-2", "Ev000002", "C2", "c2-a")
	push("env-3", "Ev000003", "C3", "c3-a")
	g.waitEntered(t, workers)

	// More than the pool holds: two more channels, two more messages of C1.
	push("env-4", "Ev000004", "C4", "c4-a")
	push("env-5", "Ev000005", "C1", "c1-b")
	push("env-6", "Ev000006", "C5", "c5-a")
	push("env-7", "Ev000007", "C1", "c1-c")
	g.let()
	for i := 1; i <= 7; i++ {
		if _, ok := e.slack.Acked(fmt.Sprintf("env-%d", i), wait); !ok {
			t.Fatalf("env-%d not acknowledged; logs:\n%s", i, e.logs.String())
		}
	}
	if err := sock.wait(); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.max != workers || g.handled != 7 {
		t.Fatalf("%d held at most, %d handled; want %d and 7", g.max, g.handled, workers)
	}
	if len(g.raced) > 0 {
		t.Fatalf("two messages of %v handled at once", g.raced)
	}
	if got := g.order["C1"]; !slices.Equal(got, []string{"c1-a", "c1-b", "c1-c"}) {
		t.Fatalf("C1 handled in the order %v", got)
	}
}

// When Socket Mode is told to stop, it takes no more requests, lets the one
// in flight finish (its context is not cancelled) and acknowledges it before
// it closes the connection and returns.
func TestSlackSocketModeShutdownWaitsForRequestsInFlight(t *testing.T) {
	e := newEnv(t, "")
	g := newGate()
	ad := e.adapter(t, g, slack.Config{AppToken: appToken, SocketWorkers: 2})
	sock := runSocketGated(t, ad, g)
	if err := e.slack.Deliver("events_api", "env-1", socketEvent("Ev000001", "CACME", "集群全部宕机了"), wait); err != nil {
		t.Fatal(err)
	}
	g.waitEntered(t, 1)

	sock.stop()
	select {
	case <-sock.returned:
		t.Fatal("RunSocketMode returned with a request in flight")
	default:
	}
	g.let()
	if err := sock.wait(); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	handled, cancelled := g.handled, g.cancelled
	g.mu.Unlock()
	if handled != 1 || cancelled != 0 {
		t.Fatalf("%d handled, %d cancelled", handled, cancelled)
	}
	if _, ok := e.slack.Acked("env-1", wait); !ok {
		t.Fatal("the request in flight was not acknowledged before the connection closed")
	}
}
