package feishu_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/slakeeper/slakeeper/bot/bottest"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/feishu"
	"github.com/slakeeper/slakeeper/bot/feishu/fakefeishu"
)

// countingQuarantine sets a delivery aside on its third failure.
type countingQuarantine struct {
	mu       sync.Mutex
	failures map[string]int
}

func (q *countingQuarantine) Failed(_ context.Context, d chat.FailedDelivery) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.failures[d.DeliveryID]++
	return q.failures[d.DeliveryID] >= 3, nil
}

// An event that fails every time is answered 500 (Feishu retries it) until
// the quarantine sets it aside; then it is answered 200, and the events
// behind it are handled as usual.
func TestFeishuPoisonEventIsSetAside(t *testing.T) {
	e := newEnv(t)
	_, poison := e.fs.Say(acmeGroup, li, "集群全部宕机了", "")
	q := &countingQuarantine{failures: map[string]int{}}
	ad, err := feishu.New(context.Background(), feishu.Config{AppID: appID, AppSecret: appSecret, VerificationToken: verifyTok,
		EncryptKey: encryptKey, APIURL: e.fs.URL, Quarantine: q},
		bottest.Poisonous{Handler: e.router, EventID: poison.EventID()}, e.dir, e.clock, e.log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ad.WebhookHandler())
	defer srv.Close()
	for i, want := range []int{500, 500, 200, 200} {
		if code, _ := e.fs.Deliver(srv.URL, poison, fakefeishu.Delivery{}); code != want {
			t.Fatalf("delivery %d: %d, want %d", i+1, code, want)
		}
	}
	_, next := e.fs.Say(acmeGroup, li, "平台无法登录，所有人都登不上", "")
	if code, _ := e.fs.Deliver(srv.URL, next, fakefeishu.Delivery{}); code != http.StatusOK || e.incidents() != 1 {
		t.Fatalf("the event behind it: %d, %d incidents", code, e.incidents())
	}
}
