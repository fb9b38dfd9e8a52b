package bot

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slakeeper/slakeeper/bot/metrics"
	"github.com/slakeeper/slakeeper/storage"
)

// Metrics are the runtime's Prometheus metrics. A nil *Metrics, or a nil
// field, records nothing, so components work without them.
type Metrics struct {
	IncidentsOpened *metrics.Counter2   // severity, customer
	StateChanges    *metrics.Counter1   // event kind
	Breaches        *metrics.Counter1   // clock
	Alerts          *metrics.Counter2   // kind (reminder, breach, escalation, followup, ...), level
	Sends           *metrics.Counter2   // platform, result (sent, retry, failed)
	SendFailures    *metrics.Counter2   // platform, reason (rate_limited, permanent, transient)
	Intake          *metrics.Histogram1 // platform
	Commands        *metrics.Histogram1 // platform
	// InboundRejected counts deliveries set aside after failing every
	// time; InboundSanitized, messages that lost invalid characters.
	InboundRejected  *metrics.Counter1 // platform
	InboundSanitized *metrics.Counter1 // platform
}

// NewMetrics registers the runtime's metrics on r, including the outbox
// depth and the age of its oldest pending message, read from the database
// at scrape time. It panics if r already holds one of them.
func NewMetrics(r prometheus.Registerer, store *storage.Store) *Metrics {
	m := &Metrics{
		IncidentsOpened: metrics.NewCounter2(r, "slakeeper_incidents_opened_total", "Incidents opened, by severity and customer.", "severity", "customer"),
		StateChanges:    metrics.NewCounter1(r, "slakeeper_state_changes_total", "Incident changes, by timeline event kind.", "kind"),
		Breaches:        metrics.NewCounter1(r, "slakeeper_breaches_total", "Clocks that missed their deadline, by clock.", "clock"),
		Alerts:          metrics.NewCounter2(r, "slakeeper_alerts_total", "Reminders, escalations and follow-ups sent, by kind and level.", "kind", "level"),
		Sends:           metrics.NewCounter2(r, "slakeeper_sends_total", "Outbox deliveries, by platform and result.", "platform", "result"),
		SendFailures:    metrics.NewCounter2(r, "slakeeper_send_failures_total", "Failed deliveries, by platform and reason.", "platform", "reason"),
		Intake:          metrics.NewHistogram1(r, "slakeeper_intake_seconds", "Time to turn a customer message into a stored effect.", metrics.DefaultBuckets, "platform"),
		Commands:        metrics.NewHistogram1(r, "slakeeper_command_seconds", "Time to answer a command.", metrics.DefaultBuckets, "platform"),
		InboundRejected: metrics.NewCounter1(r, "slakeeper_inbound_rejected_total",
			"Inbound deliveries set aside after failing every time, by platform.", "platform"),
		InboundSanitized: metrics.NewCounter1(r, "slakeeper_inbound_sanitized_total",
			"Inbound messages whose invalid characters (NUL, invalid UTF-8) were removed, by platform.", "platform"),
	}
	r.MustRegister(&outboxCollector{store})
	return m
}

var (
	outboxDepthDesc  = prometheus.NewDesc("slakeeper_outbox_depth", "Messages waiting to be sent.", nil, nil)
	outboxOldestDesc = prometheus.NewDesc("slakeeper_outbox_oldest_seconds", "Age of the oldest message waiting to be sent.", nil, nil)
)

// outboxCollector reads the outbox once per scrape for both of its gauges.
type outboxCollector struct{ store *storage.Store }

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDepthDesc
	ch <- outboxOldestDesc
}

// Collect reports a database error as an invalid metric: the handler logs
// it and serves the rest of the scrape without the two gauges.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, oldest, err := c.store.OutboxDepth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxDepthDesc, err)
		return
	}
	// The age is on the wall clock: how long a message has really waited.
	age := 0.0
	if !oldest.IsZero() {
		age = time.Since(oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, age)
}
