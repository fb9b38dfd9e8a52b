package telegram_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func webhookPost(t testing.TB, url, secret string, body []byte) int {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// Malformed and oversized webhook bodies are refused and change nothing; a
// secret of the right length but wrong is refused like any other.
func TestTelegramMalformedWebhook(t *testing.T) {
	e := newEnv(t, "hook-secret")
	srv := httptest.NewServer(e.ad.WebhookHandler())
	defer srv.Close()
	for _, c := range []struct {
		secret string
		body   []byte
		want   int
	}{
		{"hook-secrex", []byte(`{"update_id":1}`), 401},
		{"hook-secret", []byte(`{"update_id":`), 400},
		{"hook-secret", []byte(`"just a string"`), 400},
		{"hook-secret", bytes.Repeat([]byte(" "), 2<<20), 413},
		{"hook-secret", []byte(`{"update_id":7,"message":{"message_id":1,"chat":{"id":-1009999},"from":{"id":1},"text":"集群宕机了"}}`), 200},
		{"hook-secret", []byte(`{"update_id":8,"callback_query":{"id":"q","from":{"id":200001},"data":"slk:ack:notanumber"}}`), 200},
	} {
		if got := webhookPost(t, srv.URL, c.secret, c.body); got != c.want {
			t.Errorf("%.40q: %d, want %d", c.body, got, c.want)
		}
	}
	if e.incidents() != 0 {
		t.Fatalf("%d incidents from refused or foreign updates", e.incidents())
	}
}

// The webhook, fed any body with the right secret: no panic and no 5xx.
func FuzzTelegramWebhook(f *testing.F) {
	e := newEnv(f, "hook-secret")
	srv := httptest.NewServer(e.ad.WebhookHandler())
	f.Cleanup(srv.Close)
	say, _ := e.tg.Say(acmeGroup, 100001, "李雷", "集群全部宕机了", 0, 0)
	say["update_id"] = 1
	seed, _ := json.Marshal(say)
	f.Add(seed)
	press, _ := e.tg.Press(engGroup, 1, 200001, "王工", "slk:ack:1")
	seed, _ = json.Marshal(press)
	f.Add(seed)
	old, _ := e.tg.PressOld(engGroup, 1, 200001, "王工", "slk:take:1")
	seed, _ = json.Marshal(old)
	f.Add(seed)
	inline, _ := e.tg.PressInline("AgAAAInline", 200001, "王工", "slk:ack:1")
	seed, _ = json.Marshal(inline)
	f.Add(seed)
	f.Add([]byte(`{"update_id":3,"message":{"message_id":1,"chat":{"id":-1001001},"from":{"id":200001},"text":"/sla digest quarter"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e.t = t
		if code := webhookPost(t, srv.URL, "hook-secret", body); code >= 500 {
			t.Fatalf("%q: %d", body, code)
		}
	})
}
