package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// defaultMetricsAddr is on loopback: the metrics carry customer names in
// their labels, so they are not served where the webhooks are.
const defaultMetricsAddr = "127.0.0.1:9090"

// adminServer listens on addr (defaultMetricsAddr when empty) and returns
// the server for the operator's endpoints: GET /metrics (metrics) and
// GET /healthz. The caller serves it on the listener and shuts it down; a
// listen error is returned and nothing is left open.
func adminServer(addr string, metrics http.Handler) (*http.Server, net.Listener, error) {
	if addr == "" {
		addr = defaultMetricsAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("METRICS_ADDR: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln, nil
}
