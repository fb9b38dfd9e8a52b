package slack_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/slack"
	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/sla"
)

// serveTeam restarts e's Slack endpoints as serve starts them, through
// slack.Platform, with SLACK_TEAM_ID set to team ("" for not set).
func serveTeam(t *testing.T, e *env, team string) {
	t.Helper()
	vars := map[string]string{"SLACK_BOT_TOKEN": botToken, "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": e.slack.APIURL(), "SLACK_TEAM_ID": team}
	log := slog.New(slog.NewJSONHandler(e.logs, nil))
	mux := http.NewServeMux()
	r, err := slack.Platform.Start(t.Context(), chat.Env{Getenv: func(k string) string { return vars[k] },
		Handler: &bot.Router{Svc: e.svc, Clock: e.clock, Log: log}, Directory: e.svc.Dir, Clock: e.clock, Log: log, Mux: mux})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	e.ad = r.Sender.(*slack.Adapter)
	e.http = httptest.NewServer(mux)
	t.Cleanup(e.http.Close)
}

// commandForm is a slash command as Slack posts it from workspace team.
func commandForm(e *env, team, user, channel, cmd, text, responseID string) []byte {
	e.seq++
	return []byte(url.Values{"command": {cmd}, "text": {text}, "user_id": {user}, "channel_id": {channel}, "team_id": {team},
		"response_url": {e.slack.ResponseURL(responseID)}, "trigger_id": {"trig-" + responseID}}.Encode())
}

func clickForm(e *env, team, user, action, id, responseID string) []byte {
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "team": map[string]any{"id": team}, "user": map[string]any{"id": user},
		"channel": map[string]any{"id": "CENG"}, "response_url": e.slack.ResponseURL(responseID), "trigger_id": "trig-" + responseID,
		"actions": []map[string]any{{"action_id": "slakeeper:" + action, "value": id, "type": "button", "block_id": "b"}}})
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

// With SLACK_TEAM_ID set, a validly signed event, command or click from
// another workspace changes nothing: the event is acknowledged (Slack must
// not retry it) and logged, the command and the click are answered with a
// refusal in both languages.
func TestOtherWorkspaceRefused(t *testing.T) {
	e := newEnv(t, "")
	serveTeam(t, e, "T1")
	const form = "application/x-www-form-urlencoded"

	ev := bytes.Replace(messageEvent("EvX1", "CACME", "UCLI", "1764032400.000101", "", "集群全部宕机了，所有作业都跑不起来"),
		[]byte(`"team_id":"T1"`), []byte(`"team_id":"T2"`), 1)
	if code, _ := e.signed("/slack/events", "application/json", ev); code != http.StatusOK {
		t.Fatalf("another workspace's event: %d, want 200 so that Slack does not retry", code)
	}
	if n := e.incidents(); n != 0 {
		t.Fatalf("another workspace's event opened %d incidents", n)
	}
	if !strings.Contains(e.logs.String(), "another workspace") {
		t.Fatalf("the refused event was not logged:\n%s", e.logs.String())
	}

	code, body := e.signed("/slack/commands", form, commandForm(e, "T2", "UCLI", "CACME", "/incident", "集群全部宕机了", "c1"))
	if code != http.StatusOK || !strings.Contains(body, "not served") || !strings.Contains(body, "不服务") || e.incidents() != 0 {
		t.Fatalf("another workspace's /incident: %d %s, %d incidents", code, body, e.incidents())
	}

	// Our own workspace is served.
	if code, _ := e.signed("/slack/events", "application/json", messageEvent("EvX2", "CACME", "UCLI", "1764032400.000102", "",
		"集群全部宕机了，所有作业都跑不起来")); code != http.StatusOK || e.incidents() != 1 {
		t.Fatalf("our workspace's event: %d, %d incidents", code, e.incidents())
	}
	before, _ := e.store.Incident(t.Context(), 1)
	code, body = e.signed("/slack/commands", form, commandForm(e, "T2", "UENGWANG", "CENG", "/ack", "1", "c2"))
	if code != http.StatusOK || !strings.Contains(body, "not served") {
		t.Fatalf("another workspace's /ack: %d %s", code, body)
	}
	if code, _ := e.signed("/slack/interactions", form, clickForm(e, "T2", "UENGWANG", "ack", "1", "k1")); code != http.StatusOK {
		t.Fatalf("another workspace's click: %d", code)
	}
	answer, ok := e.slack.WaitResponse("k1", wait)
	if !ok || !strings.Contains(answer["text"].(string), "not served") || !strings.Contains(answer["text"].(string), "不服务") {
		t.Fatalf("another workspace's click answered %v", answer)
	}
	e.ad.Close()
	if after, _ := e.store.Incident(t.Context(), 1); after.Version != before.Version || after.Status != before.Status {
		t.Fatalf("another workspace moved #1: %s v%d -> %s v%d", before.Status, before.Version, after.Status, after.Version)
	}

	code, body = e.signed("/slack/commands", form, commandForm(e, "T1", "UENGWANG", "CENG", "/ack", "1", "c3"))
	if code != http.StatusOK || !strings.Contains(body, "已确认事件 #1") {
		t.Fatalf("our workspace's /ack: %d %s", code, body)
	}
}

// Without SLACK_TEAM_ID every workspace is served, and serve says so at
// start.
func TestUncheckedWorkspaceWarned(t *testing.T) {
	e := newEnv(t, "")
	serveTeam(t, e, "")
	if !strings.Contains(e.logs.String(), "SLACK_TEAM_ID is not set") {
		t.Fatalf("no warning at start:\n%s", e.logs.String())
	}
	if code, _ := e.signed("/slack/events", "application/json", messageEvent("EvY1", "CACME", "UCLI", "1764032400.000201", "",
		"集群全部宕机了，所有作业都跑不起来")); code != http.StatusOK || e.incidents() != 1 {
		t.Fatalf("event: %d, %d incidents", code, e.incidents())
	}
}

// A captured command or click replayed with the signature's hex digits in
// upper case is the same delivery: it does nothing the second time.
func TestReplayWithUpperCaseSignature(t *testing.T) {
	e := newEnv(t, "")
	const form = "application/x-www-form-urlencoded"
	body := commandForm(e, "T1", "UCLI", "CACME", "/incident", "集群全部宕机了，所有作业都跑不起来", "c1")
	h := fakeslack.Sign(secret, body, e.clock.Now())
	if code, out := e.post("/slack/commands", form, body, h.Clone()); code != http.StatusOK || e.incidents() != 1 {
		t.Fatalf("first /incident: %d %s, %d incidents", code, out, e.incidents())
	}
	upper := h.Clone()
	upper.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(h.Get("X-Slack-Signature"), "v0=")))
	if code, out := e.post("/slack/commands", form, body, upper); code != http.StatusOK || e.incidents() != 1 {
		t.Fatalf("replayed /incident with upper-case hex: %d %s, %d incidents", code, out, e.incidents())
	}

	cbody := clickForm(e, "T1", "UENGWANG", "ack", "1", "k1")
	ch := fakeslack.Sign(secret, cbody, e.clock.Now())
	e.post("/slack/interactions", form, cbody, ch.Clone())
	if _, ok := e.slack.WaitResponse("k1", wait); !ok {
		t.Fatal("the click was not answered")
	}
	e.ad.Close()
	acked, _ := e.store.Incident(t.Context(), 1)
	cupper := ch.Clone()
	cupper.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(ch.Get("X-Slack-Signature"), "v0=")))
	if code, _ := e.post("/slack/interactions", form, cbody, cupper); code != http.StatusOK {
		t.Fatalf("replayed click: %d", code)
	}
	e.ad.Close() // waits for the replay's handling, which follows its 200
	n := 0
	for _, r := range e.slack.Responses() {
		if r["_id"] == "k1" {
			n++
		}
	}
	again, _ := e.store.Incident(t.Context(), 1)
	if n != 1 || acked.Status != sla.StatusAcknowledged || again.Version != acked.Version {
		t.Fatalf("replayed click with upper-case hex: answered %d times; %s v%d -> v%d", n, acked.Status, acked.Version, again.Version)
	}
}
