package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// rejectedConfig adds an admin who reads Chinese.
var rejectedConfig = strings.Replace(authzConfig, "channels:", "  - {id: sun, name: 孙管理员, role: admin, language: zh, slack: UADMINZH}\nchannels:", 1)

// The quarantine sets a delivery aside on its third failure, not for a
// failure that says nothing about it (a lost connection, a deadlock), and
// admins see what was set aside with /rejected, in their language; no one
// else may.
func TestQuarantineAndRejectedCommand(t *testing.T) {
	s := storagetest.Postgres(t)
	h := newHarnessWith(t, s, rejectedConfig)
	ctx := context.Background()
	if got := h.reply("UADMIN", "CENG", "", "/rejected"); got != "No inbound delivery has been set aside." {
		t.Fatalf("/rejected with none: %q", got)
	}
	q := &bot.Quarantine{Store: s, Clock: h.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: h.router.Svc.Metrics}
	fail := func(err error) bool {
		t.Helper()
		rejected, qerr := q.Failed(ctx, chat.FailedDelivery{Platform: "telegram", DeliveryID: "u1001", Err: err,
			Payload: []byte(`{"update_id":1001,"message":{"text":"集群\u0000宕机了"}}`)})
		if qerr != nil {
			t.Fatal(qerr)
		}
		return rejected
	}
	refused := fmt.Errorf("insert message: %w", &pq.Error{Code: "22021", Message: "invalid byte sequence for encoding \"UTF8\": 0x00"})
	transient := fmt.Errorf("insert message: %w", &pq.Error{Code: "40P01", Message: "deadlock detected"})
	if fail(refused) || fail(transient) || fail(errors.New("connection lost: "+context.DeadlineExceeded.Error())) {
		t.Fatal("set aside before its third failure")
	}
	if !fail(refused) {
		t.Fatal("not set aside on its third failure")
	}
	if got := h.router.Svc.Metrics.InboundRejected.Value("telegram"); got != 1 {
		t.Fatalf("slakeeper_inbound_rejected_total = %v", got)
	}

	en := h.reply("UADMIN", "CENG", "", "/rejected")
	for _, want := range []string{"Latest inbound deliveries set aside (1", "telegram u1001, 3 attempts: 22021 insert message", `"update_id":1001`} {
		if !strings.Contains(en, want) {
			t.Fatalf("/rejected lacks %q:\n%s", want, en)
		}
	}
	zh := h.reply("UADMINZH", "CENG", "", "/rejected")
	for _, want := range []string{"最近被搁置的入站消息（1 条", "telegram u1001，尝试 3 次：22021"} {
		if !strings.Contains(zh, want) {
			t.Fatalf("/rejected in Chinese lacks %q:\n%s", want, zh)
		}
	}
	for _, user := range []string{"UMGR", "UCLI"} {
		if r := h.say(user, "CENG", "", "/rejected"); len(r) != 1 || !r[0].Refused || strings.Contains(r[0].Text, "u1001") {
			t.Fatalf("%s ran /rejected: %+v", user, r)
		}
	}
}
