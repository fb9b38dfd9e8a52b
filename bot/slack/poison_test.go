package slack_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/slack"
	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/storage"
)

// An event that fails every time (issue 15) gets 500 twice, so that Slack
// retries it, and is then set aside and acknowledged with 200; a text with
// a NUL, which PostgreSQL refuses, is sanitised and becomes an incident.
func TestSlackPoisonEventSetAside(t *testing.T) {
	e := newEnv(t, "")
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := bot.NewMetrics(prometheus.NewRegistry(), e.store)
	e.svc.Metrics = m
	router := &bot.Router{Svc: e.svc, Clock: e.clock, Log: log}
	q := &bot.Quarantine{Store: e.store, Clock: e.clock, Log: log, Metrics: m}
	e.adapter(t, bottest.Poisonous{Handler: router, EventID: "EvPoison"}, slack.Config{Quarantine: q})

	body := messageEvent("EvPoison", "CACME", "UCLI", "1764032400.000100", "", "平台无法登录，所有人都登不上")
	var codes []int
	for range 4 {
		code, _ := e.post("/slack/events", "application/json", body, fakeslack.Sign(secret, body, e.clock.Now()))
		codes = append(codes, code)
	}
	if want := []int{500, 500, 200, 200}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("answers to the poison event %v, want %v", codes, want)
	}
	list, err := e.store.RejectedInbounds(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Platform != "slack" || list[0].DeliveryID != "EvPoison" || list[0].Attempts != 4 ||
		!strings.Contains(list[0].Excerpt, "EvPoison") {
		t.Fatalf("rejected %+v", list)
	}
	if n := strings.Count(e.logs.String(), "inbound delivery rejected"); n != 1 || m.InboundRejected.Value("slack") != 1 {
		t.Fatalf("the rejection logged %d times, counted %v", n, m.InboundRejected.Value("slack"))
	}

	body = messageEvent("EvNUL", "CACME", "UCLI", "1764032400.000101", "", "集群\x00宕机了")
	if code, _ := e.post("/slack/events", "application/json", body, fakeslack.Sign(secret, body, e.clock.Now())); code != http.StatusOK {
		t.Fatalf("the NUL message: %d", code)
	}
	incs, err := e.store.ListIncidents(context.Background(), storage.IncidentFilter{})
	if err != nil || len(incs) != 1 || incs[0].Title != "集群宕机了" || m.InboundSanitized.Value("slack") != 1 {
		t.Fatalf("incidents %+v %v", incs, err)
	}
}
