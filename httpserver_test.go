package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// testLimits are publicLimits made small enough to watch.
var testLimits = httpLimits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond,
	WriteTimeout: 2 * time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 4 << 10, MaxConns: 2}

// startPublic serves h on a loopback port as serve does and returns its
// address.
func startPublic(t *testing.T, h http.Handler, l httpLimits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, ln := publicServer(ln, h, l)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes c, after anything it
// answers, within d. A generous d only turns a hang into a failure.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// A client that sends its headers, or part of its body, and then stalls is
// disconnected once the read timeouts pass; it does not hold a connection.
func TestSlowClientDisconnected(t *testing.T) {
	addr := startPublic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
	}), testLimits)
	for name, req := range map[string]string{
		"stalled headers": "POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slow: ",
		"stalled body":    "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"type\":",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		if !closedWithin(c, 20*time.Second) {
			t.Errorf("%s: still connected long after the read timeout", name)
		}
		c.Close()
	}
	// Headers over MaxHeaderBytes are refused.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	big := make([]byte, 8<<10)
	for i := range big {
		big[i] = 'a'
	}
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + string(big) + "\r\n\r\n"))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized headers: %v %v", res, err)
	}
}

// Past MaxConns open connections, another is answered 503 with
// Retry-After and closed; once a connection closes, there is room again.
func TestConnectionCap(t *testing.T) {
	addr := startPublic(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), testLimits)
	get := func() (*http.Response, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
			return nil, err
		}
		return http.ReadResponse(bufio.NewReader(c), nil)
	}
	// Two clients hold their connections (kept alive after a request, so
	// the server has surely accepted them).
	var held []net.Conn
	for range testLimits.MaxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("connection within the cap: %v %v", res, err)
		}
		res.Body.Close()
		held = append(held, c)
	}
	res, err := get()
	if err != nil {
		t.Fatalf("over the cap: %v (want a 503 answer)", err)
	}
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("over the cap: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	held[0].Close()
	// The server notices the close when its read fails: give it a moment.
	for i := 0; ; i++ {
		res, err := get()
		if err == nil && res.StatusCode == http.StatusOK {
			break
		}
		if i == 200 {
			t.Fatalf("no room after a connection closed: %v %v", res, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
