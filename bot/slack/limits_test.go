package slack_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/slack"
	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
)

// sendPart posts head (a request line and headers) and then body, and
// keeps the connection open without sending the rest: it returns the
// status the server answered with before the body was complete.
func sendPart(t *testing.T, addr, head string, body []byte) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Write(append([]byte(head), body...)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer before the body was complete: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}

// A body longer than its endpoint's limit (slack.MaxEventBody,
// slack.MaxFormBody) is refused with 413 as soon as that is
// known, before the rest of it is read: a declared length over the limit at
// once, a chunked body once the limit is passed.
func TestOversizedBodyRefusedEarly(t *testing.T) {
	e := newEnv(t, "")
	addr := strings.TrimPrefix(e.http.URL, "http://")
	sig := fakeslack.Sign(secret, nil, e.clock.Now())
	signHeaders := fmt.Sprintf("X-Slack-Request-Timestamp: %s\r\nX-Slack-Signature: %s\r\n", sig.Get("X-Slack-Request-Timestamp"), sig.Get("X-Slack-Signature"))
	for _, path := range []string{"/slack/events", "/slack/commands", "/slack/interactions"} {
		head := "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + signHeaders + "Content-Length: 10485760\r\n\r\n"
		if code := sendPart(t, addr, head, []byte("{")); code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s, 10 MiB declared: %d", path, code)
		}
		chunk := strings.Repeat("x", slack.MaxEventBody+1)
		head = "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + signHeaders + "Transfer-Encoding: chunked\r\n\r\n"
		if code := sendPart(t, addr, head, []byte(fmt.Sprintf("%x\r\n%s\r\n", len(chunk), chunk))); code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s, a chunked body over the limit: %d", path, code)
		}
	}
	if e.incidents() != 0 {
		t.Fatal("an oversized body opened an incident")
	}
}
