package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/telegram"
	"github.com/slakeeper/slakeeper/storage"
)

// errRefused is how the poison update fails, as a text the database
// refuses would.
var errRefused = errors.New("insert message: the database refuses this update")

// quarantined is an adapter on the env's fake Telegram handing updates to
// h, whose updates that fail every time are set aside after three
// attempts; metrics counts them.
func (e *env) quarantined(h chat.Handler, secret string) (*telegram.Adapter, *bot.Metrics) {
	e.t.Helper()
	m := bot.NewMetrics(prometheus.NewRegistry(), e.store)
	e.router.Svc.Metrics = m
	q := &bot.Quarantine{Store: e.store, Clock: e.clock, Log: e.log, Metrics: m}
	ad, err := telegram.New(context.Background(), telegram.Config{Token: token, APIURL: e.tg.URL, WebhookSecret: secret,
		PollTimeout: time.Second, Quarantine: q}, h, e.dir, e.log)
	if err != nil {
		e.t.Fatal(err)
	}
	return ad, m
}

// pollWith runs long polling with ad until the test ends.
func (e *env) pollWith(ad *telegram.Adapter) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ad.Poll(ctx, e.store) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// rejected returns the deliveries set aside.
func (e *env) rejected() []storage.RejectedInbound {
	e.t.Helper()
	list, err := e.store.RejectedInbounds(context.Background(), 10)
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func (e *env) title(id int64) string {
	e.t.Helper()
	inc, err := e.store.Incident(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return inc.Title
}

// checkRejected checks that exactly the update was set aside after three
// attempts, logged once at error level and counted once.
func (e *env) checkRejected(updateID int64, m *bot.Metrics) {
	e.t.Helper()
	list := e.rejected()
	if len(list) != 1 || list[0].Platform != "telegram" || list[0].DeliveryID != fmt.Sprintf("u%d", updateID) || list[0].Attempts < 3 ||
		!strings.Contains(list[0].ErrorText, "refuses this update") || !strings.Contains(list[0].Excerpt, "平台无法登录") {
		e.t.Fatalf("rejected %+v", list)
	}
	if n := strings.Count(e.logs.String(), "inbound delivery rejected"); n != 1 {
		e.t.Fatalf("the rejection logged %d times:\n%s", n, e.logs.String())
	}
	if !strings.Contains(e.logs.String(), `"level":"ERROR","msg":"inbound delivery rejected`) {
		e.t.Fatalf("the rejection not logged at error level:\n%s", e.logs.String())
	}
	if v := m.InboundRejected.Value("telegram"); v != 1 {
		e.t.Fatalf("slakeeper_inbound_rejected_total{platform=telegram} = %v", v)
	}
}

// An update that fails every time (issue 15) no longer stops long polling:
// after three attempts it is set aside and confirmed, and the customer's
// report behind it becomes an incident.
func TestTelegramPoisonUpdateSetAsideByPolling(t *testing.T) {
	e := newEnv(t, "")
	poison, _ := e.tg.Say(acmeGroup, 100001, "李雷", "平台无法登录，所有人都登不上", 0, 0)
	id := poison["update_id"].(int64)
	e.tg.Say(acmeGroup, 100001, "李雷", "集群全部宕机了，所有作业都跑不起来", 0, 0)
	ad, m := e.quarantined(bottest.Poisonous{Handler: e.router, EventID: fmt.Sprintf("u%d", id), Err: errRefused}, "")
	e.pollWith(ad)

	// Three fetches a second apart: longer than until's usual patience
	// on a loaded machine.
	for deadline := time.Now().Add(time.Minute); e.incidents() == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	e.until("the report behind the poison update", func() bool { return e.incidents() == 1 })
	if got := e.title(1); !strings.Contains(got, "集群全部宕机了") {
		t.Fatalf("incident #1 is %q", got)
	}
	e.until("both updates confirmed", func() bool { return e.tg.Pending() == 0 })
	e.checkRejected(id, m)
	if n := e.tg.Calls("getUpdates"); n < 3 {
		t.Fatalf("the poison update was fetched %d times", n)
	}
}

// The same by webhook: the poison update gets 500 twice, so that Telegram
// retries it, and then 200 once it is set aside; a further retry is a 200
// too and is not logged again.
func TestTelegramPoisonUpdateSetAsideByWebhook(t *testing.T) {
	e := newEnv(t, "hook-secret")
	poison, _ := e.tg.Say(acmeGroup, 100001, "李雷", "平台无法登录，所有人都登不上", 0, 0)
	id := poison["update_id"].(int64)
	ad, m := e.quarantined(bottest.Poisonous{Handler: e.router, EventID: fmt.Sprintf("u%d", id), Err: errRefused}, "hook-secret")
	srv := httptest.NewServer(ad.WebhookHandler())
	defer srv.Close()
	body, _ := json.Marshal(poison)
	var codes []int
	for range 4 {
		codes = append(codes, webhookPost(t, srv.URL, "hook-secret", body))
	}
	if want := []int{500, 500, 200, 200}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("answers to the poison update %v, want %v", codes, want)
	}
	report, _ := e.tg.Say(acmeGroup, 100001, "李雷", "集群全部宕机了，所有作业都跑不起来", 0, 0)
	body, _ = json.Marshal(report)
	if code := webhookPost(t, srv.URL, "hook-secret", body); code != http.StatusOK || e.incidents() != 1 {
		t.Fatalf("the report after the poison update: %d, %d incidents", code, e.incidents())
	}
	e.checkRejected(id, m)
}

// A text with a NUL byte, which PostgreSQL refuses (SQLSTATE 22021), is
// sanitised and becomes an incident, by long polling and by webhook.
func TestTelegramNULTextOnPostgres(t *testing.T) {
	const text = "集群\x00宕机了"
	check := func(e *env) {
		e.t.Helper()
		if got := e.title(1); got != "集群宕机了" {
			e.t.Fatalf("incident #1 is %q", got)
		}
		if !strings.Contains(e.logs.String(), "inbound message sanitised") {
			e.t.Fatal("the sanitising was not logged")
		}
		if v := e.router.Svc.Metrics.InboundSanitized.Value("telegram"); v != 1 {
			e.t.Fatalf("slakeeper_inbound_sanitized_total{platform=telegram} = %v", v)
		}
		if len(e.rejected()) != 0 {
			e.t.Fatalf("rejected %+v", e.rejected())
		}
	}
	t.Run("polling", func(t *testing.T) {
		e := newEnv(t, "")
		ad, _ := e.quarantined(e.router, "")
		e.pollWith(ad)
		e.tg.Say(acmeGroup, 100001, "李雷", text, 0, 0)
		e.until("the incident", func() bool { return e.incidents() == 1 })
		e.until("the update confirmed", func() bool { return e.tg.Pending() == 0 })
		check(e)
	})
	t.Run("webhook", func(t *testing.T) {
		e := newEnv(t, "hook-secret")
		ad, _ := e.quarantined(e.router, "hook-secret")
		srv := httptest.NewServer(ad.WebhookHandler())
		defer srv.Close()
		u, _ := e.tg.Say(acmeGroup, 100001, "李雷", text, 0, 0)
		body, _ := json.Marshal(u)
		if !strings.Contains(string(body), `\u0000`) {
			t.Fatalf("the update holds no NUL: %s", body)
		}
		if code := webhookPost(t, srv.URL, "hook-secret", body); code != http.StatusOK || e.incidents() != 1 {
			t.Fatalf("webhook: %d, %d incidents", code, e.incidents())
		}
		check(e)
	})
}
