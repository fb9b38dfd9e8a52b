package feishu_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/feishu"
	"github.com/slakeeper/slakeeper/bot/feishu/fakefeishu"
	"github.com/slakeeper/slakeeper/sla"
)

// The endpoint matrix: each Feishu endpoint, fed a customer's report and
// an engineer's press that would each change something, refuses them
// unsigned, wrongly signed, stale, from the future, with a wrong
// verification token, oversized or with the wrong method; and nothing
// changes: no incident, no acknowledgement, nothing sent.
func TestFeishuEndpointMatrix(t *testing.T) {
	e := newEnv(t)
	_, ev := e.fs.Say(acmeGroup, li, "集群全部宕机了，所有作业都跑不起来", "")
	if code, _ := e.event(ev); code != http.StatusOK {
		t.Fatal(code)
	}
	e.deliver()
	card := e.fs.BotMessages(engGroup)[0]
	before, _ := e.store.Incident(context.Background(), 1)
	sent := func() int { return len(e.fs.BotMessages(acmeGroup)) + len(e.fs.BotMessages(engGroup)) }
	sentBefore, patchesBefore := sent(), e.fs.Calls("patch")

	_, report := e.fs.Say(acmeGroup, li, "平台无法登录，所有人都登不上", "")
	press := e.fs.Press(card.ID, wang, 0) // acknowledge
	deliveries := []struct {
		name string
		d    fakefeishu.Delivery
		want int
	}{
		{"unsigned", fakefeishu.Delivery{Unsigned: true}, http.StatusUnauthorized},
		{"unsigned and not encrypted", fakefeishu.Delivery{Unsigned: true, Plain: true}, http.StatusUnauthorized},
		{"wrong signature", fakefeishu.Delivery{BadSignature: true}, http.StatusUnauthorized},
		{"stale", fakefeishu.Delivery{At: t0.Add(-feishu.MaxSkew - time.Second)}, http.StatusUnauthorized},
		{"from the future", fakefeishu.Delivery{At: t0.Add(feishu.MaxSkew + time.Second)}, http.StatusUnauthorized},
		{"wrong verification token", fakefeishu.Delivery{Token: "vt-guessed"}, http.StatusUnauthorized},
	}
	for _, path := range []string{"/feishu/events", "/feishu/card"} {
		url := e.hook.URL + path
		for _, ev := range []fakefeishu.Event{report, press} {
			for _, c := range deliveries {
				if code, _ := e.fs.Deliver(url, ev, c.d); code != c.want {
					t.Errorf("%s %s: %d, want %d", path, c.name, code, c.want)
				}
			}
			// Oversized: refused before the signature is even checked.
			big := append(e.fs.Body(ev, fakefeishu.Delivery{}), bytes.Repeat([]byte(" "), feishu.MaxEvent)...)
			if code, _ := e.fs.Send(e.fs.Request(url, big, fakefeishu.Delivery{})); code != http.StatusRequestEntityTooLarge {
				t.Errorf("%s oversized: %d", path, code)
			}
			// The wrong method: the genuine body, signed, but not POSTed.
			for _, method := range []string{http.MethodGet, http.MethodPut} {
				req := e.fs.Request(url, e.fs.Body(ev, fakefeishu.Delivery{}), fakefeishu.Delivery{})
				req.Method = method
				if code, _ := e.fs.Send(req); code != http.StatusMethodNotAllowed {
					t.Errorf("%s %s: %d", path, method, code)
				}
			}
		}
	}
	e.deliver()
	after, _ := e.store.Incident(context.Background(), 1)
	if e.incidents() != 1 || after.Version != before.Version || after.Status != sla.StatusOpen {
		t.Fatalf("a refused delivery changed something: %d incidents, #1 %s v%d -> v%d", e.incidents(), after.Status, before.Version, after.Version)
	}
	if sent() != sentBefore || e.fs.Calls("patch") != patchesBefore {
		t.Fatalf("a refused delivery sent something: %d -> %d messages, %d -> %d card updates", sentBefore, sent(), patchesBefore, e.fs.Calls("patch"))
	}
}

// A customer on Feishu is refused, in their language, when they type an
// engineer's command (with or without the bot @-mentioned) or press an
// engineer's button, and nothing changes.
func TestFeishuCustomerRefusedEngineerCommands(t *testing.T) {
	e := newEnv(t)
	_, ev := e.fs.Say(acmeGroup, li, "集群全部宕机了，所有作业都跑不起来", "")
	e.event(ev)
	e.deliver()
	card := e.fs.BotMessages(engGroup)[0]
	before, _ := e.store.Incident(context.Background(), 1)

	for _, c := range []struct {
		group, who, text string
		mention          bool
		want             string
	}{
		{acmeGroup, li, "/ack 1", false, "抱歉，您没有权限执行 /ack"},
		{acmeGroup, li, "@_user_1 /take 1", true, "抱歉，您没有权限执行 /take"},
		{acmeGroup, li, "/restore 1 好了", false, "抱歉，您没有权限执行 /restore"},
		{gxGroup, amy, "/ack 1", false, "Sorry, you may not use /ack."},
		{gxGroup, amy, "@_user_1 /onsite 1", true, "Sorry, you may not use /onsite."},
	} {
		var ms []fakefeishu.Mention
		if c.mention {
			ms = append(ms, fakefeishu.Mention{OpenID: botOpenID, Name: "slakeeper"})
		}
		id, ev := e.fs.Say(c.group, c.who, c.text, "", ms...)
		if code, _ := e.event(ev); code != http.StatusOK {
			t.Fatalf("%s: %d", c.text, code)
		}
		e.deliver()
		ms2 := e.fs.BotMessages(c.group)
		if last := ms2[len(ms2)-1]; last.ParentID != id || !strings.Contains(last.Text, c.want) {
			t.Errorf("%s by %s: answered %+v, want a reply saying %q", c.text, c.who, last, c.want)
		}
	}
	for i := range card.Buttons {
		kind, text, answered := e.pressCard(e.fs.Press(card.ID, li, i))
		if kind != "error" || !strings.Contains(text, "抱歉，您没有权限执行") || answered != "" {
			t.Errorf("button %d pressed by a customer: %q %q, card %q", i, kind, text, answered)
		}
	}
	e.deliver()
	after, _ := e.store.Incident(context.Background(), 1)
	if after.Version != before.Version || after.Status != sla.StatusOpen || e.fs.Calls("patch") != 0 {
		t.Fatalf("a refused command changed #1: %s v%d -> v%d, %d card updates", after.Status, before.Version, after.Version, e.fs.Calls("patch"))
	}
	if strings.Contains(e.fs.BotMessages(gxGroup)[0].Text, "星辰数据") {
		t.Fatal("a refusal told another customer about acme's incident")
	}
}
