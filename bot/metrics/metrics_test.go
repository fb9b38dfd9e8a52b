package metrics

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// broken is a collector whose read always fails, like the outbox gauges
// when the database is down.
type broken struct{ desc *prometheus.Desc }

func (b broken) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }
func (b broken) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(b.desc, errors.New("db down"))
}

func scrape(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func TestExposition(t *testing.T) {
	r := New(BuildInfo{Version: "v1.2.3", Revision: "abc123"})
	c := NewCounter2(r, "slakeeper_incidents_opened_total", "Incidents opened.", "severity", "customer")
	c.Inc("core", "acme")
	c.Inc("core", "acme")
	c.Inc("noncore", `we"ird\`)
	c.Inc("noncore", "bad\xffutf8") // refused by client_golang as it is; recorded, not a panic
	k := NewCounter1(r, "slakeeper_breaches_total", "Breaches.", "clock")
	k.Inc("ack")
	h := NewHistogram1(r, "slakeeper_intake_seconds", "Intake latency.", []float64{.01, .1}, "platform")
	h.Observe(5*time.Millisecond, "slack")
	h.Observe(50*time.Millisecond, "slack")
	r.MustRegister(broken{prometheus.NewDesc("slakeeper_broken", "A gauge that fails.", nil, nil)})

	var logs bytes.Buffer
	code, body := scrape(t, Handler(r, slog.New(slog.NewTextHandler(&logs, nil))))
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	for _, want := range []string{
		"# TYPE slakeeper_incidents_opened_total counter",
		`slakeeper_incidents_opened_total{customer="acme",severity="core"} 2`,
		`slakeeper_incidents_opened_total{customer="we\"ird\\",severity="noncore"} 1`,
		`slakeeper_incidents_opened_total{customer="bad` + "\uFFFD" + `utf8",severity="noncore"} 1`,
		`slakeeper_breaches_total{clock="ack"} 1`,
		"# TYPE slakeeper_intake_seconds histogram",
		`slakeeper_intake_seconds_bucket{platform="slack",le="0.01"} 1`,
		`slakeeper_intake_seconds_bucket{platform="slack",le="0.1"} 2`,
		`slakeeper_intake_seconds_bucket{platform="slack",le="+Inf"} 2`,
		`slakeeper_intake_seconds_count{platform="slack"} 2`,
		`slakeeper_build_info{goversion="` + runtime.Version() + `",revision="abc123",version="v1.2.3"} 1`,
		"# TYPE go_goroutines gauge",
		"# TYPE process_start_time_seconds gauge",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q in:\n%s", want, body)
		}
	}
	if strings.Contains(body, "slakeeper_broken") {
		t.Error("a failing collector was written")
	}
	if !strings.Contains(logs.String(), "db down") {
		t.Errorf("the failing collector was not logged: %q", logs.String())
	}
	if c.Value("core", "acme") != 2 || k.Value("ack") != 1 || h.Count("slack") != 2 {
		t.Fatal("values")
	}
}

// Metrics are optional everywhere: nil ones record nothing.
func TestNilRecordsNothing(t *testing.T) {
	var c1 *Counter1
	var c2 *Counter2
	var h *Histogram1
	c1.Inc("x")
	c2.Inc("x", "y")
	h.Observe(time.Second, "x")
}

func TestUnknownRevision(t *testing.T) {
	_, body := scrape(t, Handler(New(BuildInfo{Version: "dev"}), slog.New(slog.DiscardHandler)))
	if !strings.Contains(body, `revision="unknown",version="dev"} 1`) {
		t.Fatalf("build info:\n%s", body)
	}
}
