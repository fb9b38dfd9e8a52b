package slack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
)

// A captured command or click, replayed with its valid signature inside the
// five minutes, does nothing the second time; oversized and malformed
// payloads are refused without effect.
func TestSlackReplayAndMalformedPayloads(t *testing.T) {
	e := newEnv(t, "")
	e.say("CACME", "UCLI", "集群全部宕机了，所有作业都跑不起来")
	form := url.Values{"command": {"/ack"}, "text": {"1"}, "user_id": {"UENGWANG"}, "channel_id": {"CENG"},
		"response_url": {e.slack.ResponseURL("cmd")}}
	body := []byte(form.Encode())
	h := fakeslack.Sign(secret, body, e.clock.Now())
	code, first := e.post("/slack/commands", "application/x-www-form-urlencoded", body, h.Clone())
	if code != 200 || !strings.Contains(first, "已确认事件 #1") {
		t.Fatalf("first: %d %s", code, first)
	}
	e.say("CACME", "UCLI", "/note 1 还是不行") // the incident moves on
	inc, _ := e.store.Incident(t.Context(), 1)
	code, again := e.post("/slack/commands", "application/x-www-form-urlencoded", body, h.Clone())
	after, _ := e.store.Incident(t.Context(), 1)
	if code != 200 || again != "" || after.Version != inc.Version || after.Status != sla.StatusAcknowledged {
		t.Fatalf("replay: %d %q, version %d -> %d", code, again, inc.Version, after.Version)
	}
	// A click replayed likewise.
	click, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": "UENGWANG"},
		"channel": map[string]any{"id": "CENG"}, "response_url": e.slack.ResponseURL("click"),
		"actions": []map[string]any{{"action_id": "slakeeper:onsite", "value": "1", "type": "button", "block_id": "b"}}})
	cbody := []byte(url.Values{"payload": {string(click)}}.Encode())
	ch := fakeslack.Sign(secret, cbody, e.clock.Now())
	e.post("/slack/interactions", "application/x-www-form-urlencoded", cbody, ch.Clone())
	if _, ok := e.slack.WaitResponse("click", wait); !ok {
		t.Fatal("the click was not answered")
	}
	onsite, _ := e.store.Incident(t.Context(), 1)
	e.clock.Advance(60e9)
	e.post("/slack/interactions", "application/x-www-form-urlencoded", cbody, ch.Clone())
	e.ad.Close() // waits for the replay's handling, which follows its 200
	if n := len(e.slack.Responses()); n != 1 {
		t.Fatalf("%d answers: the replay was answered", n)
	}
	if again, _ := e.store.Incident(t.Context(), 1); onsite.Status != sla.StatusOnsite || again.Version != onsite.Version {
		t.Fatalf("replayed click: %s, version %d -> %d", onsite.Status, onsite.Version, again.Version)
	}

	for _, c := range []struct {
		path, ctype string
		body        []byte
		want        int
	}{
		{"/slack/events", "application/json", []byte(`{"type":"event_callback","event":`), 400},
		{"/slack/events", "application/json", []byte(`[1,2,3]`), 400},
		{"/slack/events", "application/json", bytes.Repeat([]byte("x"), 2<<20), 413},
		{"/slack/commands", "application/x-www-form-urlencoded", []byte("command=%zz"), 400},
		{"/slack/interactions", "application/x-www-form-urlencoded", []byte("payload=%7Bnot+json"), 400},
		{"/slack/interactions", "application/x-www-form-urlencoded", []byte("payload=x;y"), 400},
		{"/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {`{"type":"block_actions","user":{"id":"UENGWANG"},` +
			`"actions":[{"action_id":"slakeeper:close","value":"1; DROP TABLE incidents","type":"button","block_id":"b"}]}`}}.Encode()), 200},
	} {
		if code, _ := e.signed(c.path, c.ctype, c.body); code != c.want {
			t.Errorf("%s %.40q: %d, want %d", c.path, c.body, code, c.want)
		}
	}
	if inc, _ := e.store.Incident(t.Context(), 1); e.incidents() != 1 || inc.Status != sla.StatusOnsite {
		t.Fatalf("%d incidents, #1 %s after the malformed payloads", e.incidents(), inc.Status)
	}
}

// Every Slack endpoint, fed any body with a valid signature: no panic, no
// 5xx, no 401, and every incident that exists belongs to acme, the only
// customer with a channel, and was reported by acme's own person or an
// unknown user of acme's channel, or opened by staff.
func FuzzSlackEndpoints(f *testing.F) {
	e := newEnvWith(f, "", cfgYAML, "CACME", "CENG", "CMGR")
	f.Add(uint8(0), []byte(messageEvent("Ev1", "CACME", "UCLI", "1764032400.000001", "", "集群宕机了")))
	f.Add(uint8(0), []byte(`{"type":"url_verification","challenge":"x"}`))
	f.Add(uint8(1), []byte("command=%2Fack&text=1&user_id=UENGWANG&channel_id=CENG"))
	f.Add(uint8(1), []byte("command=%2Fsla&text=digest+quarter+2026Q9&user_id=UMGR&channel_id=CMGR"))
	f.Add(uint8(2), []byte(`payload={"type":"block_actions","user":{"id":"UENGWANG"},"actions":[{"action_id":"slakeeper:ack","value":"1"}]}`))
	f.Add(uint8(2), []byte("payload="))
	paths := []string{"/slack/events", "/slack/commands", "/slack/interactions"}
	types := []string{"application/json", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded"}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		e.t = t // the target runs one input at a time
		i := int(which) % len(paths)
		code, _ := e.signed(paths[i], types[i], body)
		e.ad.Close() // a click is handled after its 200
		if code >= 500 || code == http.StatusUnauthorized {
			t.Fatalf("%s %q: %d", paths[i], body, code)
		}
		list, err := e.store.ListIncidents(t.Context(), storage.IncidentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range list {
			switch {
			case inc.CustomerID != "acme":
				t.Fatalf("%s %q opened #%d for %q", paths[i], body, inc.ID, inc.CustomerID)
			case inc.ReportedBy != "" && inc.ReportedBy != "li" && inc.ReportedBy != "wang" && inc.ReportedBy != "zhao" && inc.ReportedBy != "chen":
				t.Fatalf("%s %q: #%d reported by %q, nobody in the directory", paths[i], body, inc.ID, inc.ReportedBy)
			}
		}
	})
}
