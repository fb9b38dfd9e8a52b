package slack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/bot/slack"
	"github.com/slakeeper/slakeeper/sla"
)

// shortcut runs the message shortcut on a message (ts, in thread) as Slack
// posts it, and returns the answer on its response_url.
func (e *env) shortcut(user, channel, ts, thread string) map[string]any {
	e.t.Helper()
	e.seq++
	rid := fmt.Sprintf("shortcut-%d", e.seq)
	msg := map[string]any{"type": "message", "user": "UBOT", "text": "…", "ts": ts}
	if thread != "" {
		msg["thread_ts"] = thread
	}
	payload, _ := json.Marshal(map[string]any{"type": "message_action", "callback_id": slack.ShortcutID,
		"user": map[string]any{"id": user, "name": user}, "channel": map[string]any{"id": channel},
		"team": map[string]any{"id": "T1"}, "message_ts": ts, "message": msg,
		"response_url": e.slack.ResponseURL(rid), "trigger_id": fmt.Sprintf("trig-%d", e.seq)})
	code, _ := e.signed("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode()))
	if code != http.StatusOK {
		e.t.Fatalf("shortcut: %d", code)
	}
	answer, ok := e.slack.WaitResponse(rid, wait)
	if !ok {
		e.t.Fatalf("no answer to the shortcut; logs:\n%s", e.logs.String())
	}
	return answer
}

// Slack runs no app slash command inside a thread. The message shortcut,
// on any message of an incident's thread (the card's, where alerts go, or
// the customer's report), answers the engineer with the incident's status
// and its card; the card's buttons then act on it like the card's own.
func TestSlackShortcutActsInAThread(t *testing.T) {
	e := newEnv(t, "")
	_, report := e.say("CACME", "UCLI", "集群全部宕机了，所有作业都跑不起来")
	e.deliver()
	card := e.slack.Messages("CENG")[0]

	// On an alert in the card's thread.
	a := e.shortcut("UENGWANG", "CENG", "1764032500.000001", card.TS)
	text, _ := a["text"].(string)
	has(t, text, "事件 #1")
	blocks, _ := json.Marshal(a["blocks"])
	for _, want := range []string{`"action_id":"slakeeper:ack"`, `"action_id":"slakeeper:take"`, `"value":"1"`} {
		has(t, string(blocks), want)
	}
	if a["response_type"] != "ephemeral" {
		t.Fatalf("the answer is for the engineer alone: %v", a)
	}
	// Its buttons are the card's.
	if code := e.click("UENGWANG", "ack", 1); code != http.StatusOK {
		t.Fatalf("click: %d", code)
	}
	if inc, err := e.svc.Incident(t.Context(), 1); err != nil || inc.Status != sla.StatusAcknowledged {
		t.Fatalf("after the card's button: %+v %v", inc.Status, err)
	}

	// On the customer's report (a thread's parent): the same incident.
	a = e.shortcut("UENGWANG", "CACME", report, "")
	text, _ = a["text"].(string)
	has(t, text, "事件 #1")

	// A customer gets the status in their scope, never the engineers' card.
	a = e.shortcut("UCLI", "CACME", report, "")
	if _, ok := a["blocks"]; ok {
		t.Fatalf("a customer was shown the card: %v", a)
	}

	// On a message of no incident's thread: which incident is meant must
	// be said, and nothing else is shown.
	a = e.shortcut("UENGWANG", "CENG", "1764039999.000001", "")
	text, _ = a["text"].(string)
	if _, ok := a["blocks"]; ok || strings.Contains(text, "事件 #1 ·") {
		t.Fatalf("a message outside any incident's thread: %v", a)
	}
}
