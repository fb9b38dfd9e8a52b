package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// A command's effect and its delivery's dedupe commit together: when the
// effect's transaction fails after the delivery was marked (here a trigger
// fails the first timeline write, as a crash between the two would), the
// mark is rolled back with it and the platform's redelivery runs the
// command. Once it ran, a further redelivery changes nothing and is not
// answered again. A command given as a message (not in band) is answered
// through the outbox, in the thread the adapter asked for.
func TestCommandDedupeCommitsWithItsEffect(t *testing.T) {
	s := storagetest.Postgres(t)
	h := newHarness(t, s)
	ctx := context.Background()
	h.say("UCLI", "CACME", "", "集群全部宕机了，所有作业都跑不起来")
	h.posted()
	if _, err := s.DB().ExecContext(ctx, `
		CREATE SEQUENCE crash_once;
		CREATE FUNCTION crash_once() RETURNS trigger AS $$
		BEGIN
			IF nextval('crash_once') = 1 THEN RAISE EXCEPTION 'injected crash'; END IF;
			RETURN NEW;
		END $$ LANGUAGE plpgsql;
		CREATE TRIGGER crash_once BEFORE INSERT ON timeline FOR EACH ROW EXECUTE FUNCTION crash_once();`); err != nil {
		t.Fatal(err)
	}
	ack := chat.Inbound{Platform: chat.PlatformSlack, ChatID: "CENG", MessageID: "m-ack", ReplyIn: "m-ack",
		UserID: "UENGWANG", UserName: "wang", Text: "/ack 1", EventID: "delivery-1"}
	handle := func() ([]chat.Outbound, error) { return h.router.Handle(ctx, ack) }

	if _, err := handle(); err == nil {
		t.Fatal("the failed effect was not reported, so the platform would not deliver again")
	}
	if inc := h.incident(1); inc.Status != sla.StatusOpen {
		t.Fatalf("status %s after the failed effect", inc.Status)
	}
	if replies, err := handle(); err != nil || len(replies) != 0 {
		t.Fatalf("the redelivery: %v %v", replies, err)
	}
	if inc := h.incident(1); inc.Status != sla.StatusAcknowledged {
		t.Fatalf("the redelivered command did not run: status %s", inc.Status)
	}
	var answers []chat.Outbound
	for _, m := range h.posted() {
		if m.Kind == chat.KindReply {
			answers = append(answers, m)
		}
	}
	if len(answers) != 1 || answers[0].ChatID != "CENG" || answers[0].ThreadID != "m-ack" || !strings.Contains(answers[0].Text, "#1") {
		t.Fatalf("answers %+v", answers)
	}

	// Delivered again after it ran: nothing changes, nothing is said.
	before := len(timeline(t, h, 1))
	if replies, err := handle(); err != nil || len(replies) != 0 {
		t.Fatalf("a third delivery: %v %v", replies, err)
	}
	if got := len(timeline(t, h, 1)); got != before {
		t.Fatalf("timeline grew from %d to %d", before, got)
	}
	if out := h.posted(); len(out) != 0 {
		t.Fatalf("a redelivered command was answered again: %+v", out)
	}

	// A read-only command is answered once too.
	status := chat.Inbound{Platform: chat.PlatformSlack, ChatID: "CENG", UserID: "UENGWANG", Text: "/status 1", EventID: "delivery-2"}
	for range 2 {
		if _, err := h.router.Handle(ctx, status); err != nil {
			t.Fatal(err)
		}
	}
	if out := h.posted(); len(out) != 1 || !strings.Contains(out[0].Text, "#1") {
		t.Fatalf("status answered %d times: %+v", len(out), out)
	}
}

func timeline(t *testing.T, h *harness, id int64) []sla.Event {
	t.Helper()
	tl, err := h.store.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}
