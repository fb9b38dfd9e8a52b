// Package metrics is slakeeper's thin layer over prometheus/client_golang: a
// private registry with the Go runtime and process collectors and
// slakeeper_build_info, the handler that serves it, and counters and
// histograms whose label values are passed as typed arguments, so a call
// site cannot give the wrong number of labels and recording never panics.
package metrics

import (
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// BuildInfo names the running build in slakeeper_build_info.
type BuildInfo struct {
	Version  string // the release, or "dev"
	Revision string // the commit; "unknown" when empty
}

// New returns a registry of its own (not the global default) holding the Go
// runtime collector (go_*), the process collector (process_*) and
// slakeeper_build_info, whose value is 1 and whose labels are version,
// revision and goversion.
func New(build BuildInfo) *prometheus.Registry {
	if build.Revision == "" {
		build.Revision = "unknown"
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "slakeeper_build_info",
		Help:        "A metric with a constant value of 1, labelled by the version, revision and Go version of this build.",
		ConstLabels: prometheus.Labels{"version": build.Version, "revision": build.Revision, "goversion": runtime.Version()},
	})
	info.Set(1)
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), info)
	return r
}

// Handler serves g in the Prometheus exposition formats. A collector that
// fails (the database is unreachable) leaves only its own metrics out of
// the scrape; the error is logged at warn level on log.
func Handler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// DefaultBuckets suit request latencies in seconds.
var DefaultBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// Counter1 is a counter with one label. A nil *Counter1 records nothing.
type Counter1 struct{ vec *prometheus.CounterVec }

// NewCounter1 registers a counter with one label on r; it panics if the
// name is registered twice, which is a programming error found at start.
func NewCounter1(r prometheus.Registerer, name, help, label string) *Counter1 {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
	r.MustRegister(vec)
	return &Counter1{vec}
}

// Inc adds one for the label value.
func (c *Counter1) Inc(v string) {
	if c != nil {
		inc(c.vec, v)
	}
}

// Value is the count for the label value, for tests. Reading a series
// that was never recorded creates it at zero.
func (c *Counter1) Value(v string) float64 { return counterValue(c.vec, v) }

// Counter2 is a counter with two labels. A nil *Counter2 records nothing.
type Counter2 struct{ vec *prometheus.CounterVec }

// NewCounter2 registers a counter with two labels on r; it panics if the
// name is registered twice.
func NewCounter2(r prometheus.Registerer, name, help, label1, label2 string) *Counter2 {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label1, label2})
	r.MustRegister(vec)
	return &Counter2{vec}
}

// Inc adds one for the label values, in the order the labels were named.
func (c *Counter2) Inc(v1, v2 string) {
	if c != nil {
		inc(c.vec, v1, v2)
	}
}

// Value is the count for the label values, for tests. Reading a series
// that was never recorded creates it at zero.
func (c *Counter2) Value(v1, v2 string) float64 { return counterValue(c.vec, v1, v2) }

// Histogram1 is a histogram of seconds with one label. A nil *Histogram1
// records nothing.
type Histogram1 struct{ vec *prometheus.HistogramVec }

// NewHistogram1 registers a histogram with one label on r; it panics if
// the name is registered twice.
func NewHistogram1(r prometheus.Registerer, name, help string, buckets []float64, label string) *Histogram1 {
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{label})
	r.MustRegister(vec)
	return &Histogram1{vec}
}

// Observe records a duration for the label value.
func (h *Histogram1) Observe(d time.Duration, v string) {
	if h == nil {
		return
	}
	if o, err := h.vec.GetMetricWithLabelValues(valid(v)); err == nil {
		o.Observe(d.Seconds())
	}
}

// Count is how many observations the label value has, for tests.
func (h *Histogram1) Count(v string) uint64 {
	o, err := h.vec.GetMetricWithLabelValues(valid(v))
	if err != nil {
		return 0
	}
	pm, ok := o.(prometheus.Metric)
	var m dto.Metric
	if !ok || pm.Write(&m) != nil {
		return 0
	}
	return m.GetHistogram().GetSampleCount()
}

// inc cannot fail: the wrappers fix the number of values and valid makes
// them UTF-8, which is all client_golang checks. Should it fail anyway,
// the observation is dropped rather than the process stopped.
func inc(vec *prometheus.CounterVec, values ...string) {
	for i, v := range values {
		values[i] = valid(v)
	}
	if c, err := vec.GetMetricWithLabelValues(values...); err == nil {
		c.Inc()
	}
}

func counterValue(vec *prometheus.CounterVec, values ...string) float64 {
	for i, v := range values {
		values[i] = valid(v)
	}
	c, err := vec.GetMetricWithLabelValues(values...)
	if err != nil {
		return 0
	}
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// valid replaces invalid UTF-8 (from a chat platform's ids, say), which
// client_golang refuses as a label value.
func valid(v string) string { return strings.ToValidUTF8(v, "\uFFFD") }
