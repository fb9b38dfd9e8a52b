package metrics

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	r := New()
	c := r.NewCounter("slakeeper_incidents_opened_total", "Incidents opened.", "severity", "customer")
	c.Inc("core", "acme")
	c.Inc("core", "acme")
	c.Add(3, "noncore", `we"ird\`)
	h := r.NewHistogram("slakeeper_intake_seconds", "Intake latency.", []float64{.01, .1}, "platform")
	h.Observe(5*time.Millisecond, "slack")
	h.Observe(50*time.Millisecond, "slack")
	r.NewGaugeFunc("slakeeper_outbox_depth", "Messages waiting.", func() (float64, error) { return 7, nil })
	r.NewGaugeFunc("slakeeper_broken", "A gauge that fails.", func() (float64, error) { return 0, errors.New("db down") })
	var b bytes.Buffer
	r.Write(&b)
	for _, want := range []string{
		"# TYPE slakeeper_incidents_opened_total counter",
		`slakeeper_incidents_opened_total{severity="core",customer="acme"} 2`,
		`slakeeper_incidents_opened_total{severity="noncore",customer="we\"ird\\"} 3`,
		"# TYPE slakeeper_intake_seconds histogram",
		`slakeeper_intake_seconds_bucket{platform="slack",le="0.01"} 1`,
		`slakeeper_intake_seconds_bucket{platform="slack",le="0.1"} 2`,
		`slakeeper_intake_seconds_bucket{platform="slack",le="+Inf"} 2`,
		`slakeeper_intake_seconds_count{platform="slack"} 2`,
		"slakeeper_outbox_depth 7",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "slakeeper_broken") {
		t.Error("a failing gauge was written")
	}
	if c.Value("core", "acme") != 2 || h.Count("slack") != 2 {
		t.Fatal("values")
	}
	var nilCounter *Counter
	nilCounter.Inc("x") // metrics are optional everywhere
}
