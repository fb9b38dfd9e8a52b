// Package metrics is a small Prometheus registry: labelled counters and
// histograms, gauges read at scrape time, and the text exposition format
// served on GET /metrics. It has no dependencies.
package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Registry holds the metrics of one process.
type Registry struct {
	mu     sync.Mutex
	order  []string
	series map[string]writer
}

type writer interface {
	write(w io.Writer, name string)
}

// New returns an empty registry.
func New() *Registry { return &Registry{series: map[string]writer{}} }

func (r *Registry) add(name string, m writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.series[name]; dup {
		panic("metrics: " + name + " registered twice")
	}
	r.series[name] = m
	r.order = append(r.order, name)
}

// labelKey joins label values; they are escaped when written.
func labelKey(values []string) string { return strings.Join(values, "\x00") }

// rebuild writes a label set, escaping values as the format requires.
func rebuild(names, values []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(values[i]) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

// Counter is a labelled counter.
type Counter struct {
	help   string
	labels []string
	mu     sync.Mutex
	values map[string]float64
}

// NewCounter registers a counter with label names.
func (r *Registry) NewCounter(name, help string, labelNames ...string) *Counter {
	c := &Counter{help: help, labels: labelNames, values: map[string]float64{}}
	r.add(name, c)
	return c
}

// Inc adds one for the label values (one per label name).
func (c *Counter) Inc(values ...string) { c.Add(1, values...) }

// Add adds n for the label values.
func (c *Counter) Add(n float64, values ...string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.values[labelKey(values)] += n
	c.mu.Unlock()
}

// Value returns the count for the label values.
func (c *Counter) Value(values ...string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.values[labelKey(values)]
}

func (c *Counter) write(w io.Writer, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, c.help, name)
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s%s %s\n", name, labelsOf(c.labels, k), num(c.values[k]))
	}
}

func labelsOf(names []string, key string) string {
	if len(names) == 0 {
		return ""
	}
	return rebuild(names, strings.Split(key, "\x00"))
}

func num(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Histogram is a labelled histogram of seconds.
type Histogram struct {
	help    string
	labels  []string
	buckets []float64
	mu      sync.Mutex
	series  map[string]*hist
}

type hist struct {
	counts []uint64
	sum    float64
	n      uint64
}

// DefaultBuckets suit request latencies in seconds.
var DefaultBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// NewHistogram registers a histogram with label names.
func (r *Registry) NewHistogram(name, help string, buckets []float64, labelNames ...string) *Histogram {
	h := &Histogram{help: help, labels: labelNames, buckets: buckets, series: map[string]*hist{}}
	r.add(name, h)
	return h
}

// Observe records a duration for the label values.
func (h *Histogram) Observe(d time.Duration, values ...string) {
	if h == nil {
		return
	}
	v := d.Seconds()
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.series[labelKey(values)]
	if s == nil {
		s = &hist{counts: make([]uint64, len(h.buckets))}
		h.series[labelKey(values)] = s
	}
	for i, b := range h.buckets {
		if v <= b {
			s.counts[i]++
		}
	}
	s.sum += v
	s.n++
}

// Count returns how many observations the label values have.
func (h *Histogram) Count(values ...string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.series[labelKey(values)]; s != nil {
		return s.n
	}
	return 0
}

func (h *Histogram) write(w io.Writer, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, h.help, name)
	keys := make([]string, 0, len(h.series))
	for k := range h.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := h.series[k]
		values := []string{}
		if len(h.labels) > 0 {
			values = strings.Split(k, "\x00")
		}
		for i, b := range h.buckets {
			fmt.Fprintf(w, "%s_bucket%s %d\n", name, rebuild(append(h.labels[:len(h.labels):len(h.labels)], "le"), append(values, num(b))), s.counts[i])
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", name, rebuild(append(h.labels[:len(h.labels):len(h.labels)], "le"), append(values, "+Inf")), s.n)
		fmt.Fprintf(w, "%s_sum%s %s\n%s_count%s %d\n", name, labelsOf(h.labels, k), num(s.sum), name, labelsOf(h.labels, k), s.n)
	}
}

// GaugeFunc is a gauge read at scrape time.
type GaugeFunc struct {
	help string
	read func() (float64, error)
}

// NewGaugeFunc registers a gauge whose value read returns when scraped; a
// read error leaves the gauge out of that scrape.
func (r *Registry) NewGaugeFunc(name, help string, read func() (float64, error)) {
	r.add(name, &GaugeFunc{help: help, read: read})
}

func (g *GaugeFunc) write(w io.Writer, name string) {
	v, err := g.read()
	if err != nil {
		return
	}
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, g.help, name, name, num(v))
}

// Write writes every metric in the text exposition format.
func (r *Registry) Write(w io.Writer) {
	r.mu.Lock()
	names := append([]string(nil), r.order...)
	r.mu.Unlock()
	for _, n := range names {
		r.series[n].write(w, n)
	}
}

// Handler serves the registry.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		r.Write(w)
	})
}
