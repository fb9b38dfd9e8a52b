package telegram_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A webhook body longer than telegram.MaxUpdate is refused with 413 as
// soon as its declared length says so, before it is read; without the
// secret, 401 before anything is read.
func TestOversizedUpdateRefusedEarly(t *testing.T) {
	e := newEnv(t, "hook-secret")
	srv := httptest.NewServer(e.ad.WebhookHandler())
	defer srv.Close()
	for secret, want := range map[string]int{"hook-secret": http.StatusRequestEntityTooLarge, "wrong": http.StatusUnauthorized} {
		c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		c.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: " + secret +
			"\r\nContent-Length: 1048000\r\n\r\n{\"update_id\":1,"))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil {
			t.Fatalf("secret %q: no answer before the body was complete: %v", secret, err)
		}
		if res.StatusCode != want {
			t.Errorf("secret %q: %d, want %d", secret, res.StatusCode, want)
		}
	}
	if e.incidents() != 0 {
		t.Fatal("an oversized update opened an incident")
	}
}
