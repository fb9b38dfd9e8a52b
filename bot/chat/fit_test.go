package chat_test

import (
	"context"
	"testing"

	"github.com/slakeeper/slakeeper/bot/chat"
)

type plain struct{}

func (plain) Send(_ context.Context, m chat.Outbound) (string, error) { return "", nil }

func TestFit(t *testing.T) {
	m := chat.Outbound{Text: "card text", Card: &chat.Card{IncidentID: 1}, EditRef: "r1", ThreadID: "t1", Anchor: "a1"}
	all := chat.Capabilities{Cards: true, Edit: true, Threads: true, Files: true}
	if got := chat.Fit(m, all); got.Card == nil || got.EditRef != "r1" || got.ThreadID != "t1" || got.Anchor != "a1" {
		t.Fatalf("a capable platform lost something: %+v", got)
	}
	got := chat.Fit(m, chat.CapabilitiesOf(plain{}))
	if got.Card != nil || got.EditRef != "" || got.ThreadID != "" || got.Anchor != "" || got.Text != "card text" {
		t.Fatalf("plain text only: %+v", got)
	}
	f := chat.Outbound{Kind: chat.KindFile, Text: "q3.csv", File: &chat.File{Name: "q3.csv", Caption: "季度统计", Data: []byte("a,b")}}
	if got := chat.Fit(f, chat.Capabilities{Threads: true}); got.File != nil || got.Text != "📎 q3.csv: 季度统计" {
		t.Fatalf("a file without files: %+v", got)
	}
}
