package main

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// httpLimits bound what one client of the public listener can hold: the
// webhooks face the open internet, and the signature is checked only once
// a request has been read. docs/security.md lists them.
type httpLimits struct {
	ReadHeaderTimeout time.Duration // the request line and headers
	ReadTimeout       time.Duration // the whole request, body included
	WriteTimeout      time.Duration // from the end of the headers to the end of the answer
	IdleTimeout       time.Duration // a kept-alive connection between requests
	MaxHeaderBytes    int
	// MaxConns is how many connections are open at once; one more is
	// answered 503 Service Unavailable with Retry-After and closed.
	MaxConns int
}

// publicLimits: Slack and Telegram send a small request and wait at most a
// few seconds for the answer (Slack three, before it retries an event), and
// the answer to an event or an update is written once it is stored, so the
// write allowance covers a slow database.
var publicLimits = httpLimits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       10 * time.Second,
	WriteTimeout:      30 * time.Second,
	IdleTimeout:       60 * time.Second,
	MaxHeaderBytes:    32 << 10,
	MaxConns:          1024,
}

// publicServer returns the server for the public listener's handler and
// ln wrapped so that at most l.MaxConns connections are open at once.
func publicServer(ln net.Listener, h http.Handler, l httpLimits) (*http.Server, net.Listener) {
	s := &http.Server{Handler: h, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes}
	return s, &capListener{Listener: ln, free: make(chan struct{}, l.MaxConns), refusing: make(chan struct{}, refusers)}
}

// refusers bounds the connections being told 503 at once; beyond it, a
// connection over the cap is closed without an answer.
const refusers = 64

// tooBusy is the whole answer to a connection over the cap.
const tooBusy = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Connection: close\r\nContent-Length: 17\r\n\r\ntoo many clients\n"

// capListener hands the server at most cap(free) connections at once. A
// connection over the cap is answered tooBusy and closed by a goroutine of
// its own, so that Accept never waits on a client.
type capListener struct {
	net.Listener
	free     chan struct{} // a token per open connection
	refusing chan struct{} // a token per connection being refused
	refused  atomic.Int64
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.free <- struct{}{}:
			return &cappedConn{Conn: c, release: func() { <-l.free }}, nil
		default:
		}
		l.refused.Add(1)
		select {
		case l.refusing <- struct{}{}:
			go l.refuse(c)
		default:
			c.Close()
		}
	}
}

// refuse answers tooBusy, then reads what the client sent for a moment
// before closing: closing with its request unread would reset the
// connection, and the client could lose the answer.
func (l *capListener) refuse(c net.Conn) {
	defer func() { <-l.refusing }()
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(tooBusy)); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// cappedConn gives its token back when it is closed, once.
type cappedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
