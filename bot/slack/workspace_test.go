package slack_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/sla"
)

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
