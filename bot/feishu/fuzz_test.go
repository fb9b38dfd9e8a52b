package feishu_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/slakeeper/slakeeper/bot/feishu/fakefeishu"
	"github.com/slakeeper/slakeeper/storage"
)

// Both webhooks (/feishu/events, /feishu/card), fed any event encrypted
// and signed as Feishu does (or any raw body, signed): no panic, no 5xx,
// and every incident that exists belongs to a customer with a group.
func FuzzFeishuEvents(f *testing.F) {
	e := newEnv(f)
	_, say := e.fs.Say(acmeGroup, li, "集群全部宕机了", "")
	seed, _ := json.Marshal(say)
	f.Add(seed, false, false)
	_, mention := e.fs.Say(engGroup, wang, "@_user_1 /ack 1", "", fakefeishu.Mention{OpenID: botOpenID, Name: "slakeeper"})
	seed, _ = json.Marshal(mention)
	f.Add(seed, false, false)
	_, post := e.fs.Post(acmeGroup, li, "紧急", []string{"平台无法登录"}, "")
	seed, _ = json.Marshal(post)
	f.Add(seed, false, false)
	seed, _ = json.Marshal(e.fs.Press("om_000001", wang, 0))
	f.Add(seed, false, false)
	f.Add(seed, false, true)
	f.Add([]byte(`{"challenge":"c","token":"vt-Fake-Verification-Token","type":"url_verification"}`), false, false)
	f.Add([]byte(`{"encrypt":"AAAAAAAAAAAAAAAAAAAAAA=="}`), true, false)
	f.Add([]byte(`{"schema":"2.0","header":{"event_type":"card.action.trigger","token":"vt-Fake-Verification-Token"},"event":{"action":{"value":{"slk_action":"ack","slk_incident":"99999999999999999999"}}}}`), false, false)
	f.Fuzz(func(t *testing.T, body []byte, raw, onCard bool) {
		e.t = t
		url := e.hook.URL + "/feishu/events"
		if onCard {
			url = e.hook.URL + "/feishu/card"
		}
		var code int
		if raw {
			code, _ = e.fs.Send(e.fs.Request(url, body, fakefeishu.Delivery{}))
		} else {
			code, _ = e.fs.Deliver(url, json.RawMessage(body), fakefeishu.Delivery{})
		}
		if code >= 500 || code == 0 {
			t.Fatalf("%q: %d", body, code)
		}
		list, err := e.store.ListIncidents(t.Context(), storage.IncidentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range list {
			if inc.CustomerID != "acme" && inc.CustomerID != "globex" {
				t.Fatalf("%q opened #%d for %q", body, inc.ID, inc.CustomerID)
			}
		}
	})
}

// A delivery that never reads as JSON is refused, not retried for ever.
func TestFeishuMalformed(t *testing.T) {
	e := newEnv(t)
	url := e.hook.URL + "/feishu/events"
	for _, c := range []struct {
		body []byte
		want int
	}{
		{[]byte(`{"schema":`), 400},
		{[]byte(`{"encrypt":"not base64!"}`), 401},
		{[]byte(`{"encrypt":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`), 401},
		{make([]byte, 2<<20), 413},
	} {
		if code, _ := e.fs.Send(e.fs.Request(url, c.body, fakefeishu.Delivery{})); code != c.want {
			t.Errorf("%.40q: %d, want %d", c.body, code, c.want)
		}
	}
	if code, _ := e.fs.Deliver(url, json.RawMessage(`{"schema":"2.0","header":{"token":"vt-Fake-Verification-Token","event_type":"im.message.receive_v1"},"event":"x"}`), fakefeishu.Delivery{}); code != http.StatusBadRequest {
		t.Errorf("an event that is not an object: %d", code)
	}
	if e.incidents() != 0 {
		t.Fatal("a malformed delivery opened an incident")
	}
}
