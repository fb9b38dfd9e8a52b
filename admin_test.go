package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// The admin listener serves /metrics and /healthz; an address it cannot
// listen on is an error naming METRICS_ADDR, not a server without metrics.
func TestAdminServer(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, _, err := adminServer(busy.Addr().String(), http.NotFoundHandler()); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
		t.Fatalf("listening on a busy address: %v", err)
	}

	srv, ln, err := adminServer("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "metrics\n") }))
	if err != nil {
		t.Fatal(err)
	}
	if srv.ReadHeaderTimeout == 0 {
		t.Error("no ReadHeaderTimeout")
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	for path, want := range map[string]string{"/metrics": "metrics\n", "/healthz": "ok\n"} {
		res, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("%s: %d %q", path, res.StatusCode, body)
		}
	}
	srv.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Fatal(err)
	}
}
