package bot

import (
	"context"
	"time"

	"github.com/slakeeper/slakeeper/bot/metrics"
	"github.com/slakeeper/slakeeper/storage"
)

// Metrics are the runtime's Prometheus metrics. A nil *Metrics, or a nil
// field, records nothing, so components work without them.
type Metrics struct {
	IncidentsOpened *metrics.Counter   // severity, customer
	StateChanges    *metrics.Counter   // event kind
	Breaches        *metrics.Counter   // clock
	Alerts          *metrics.Counter   // kind (reminder, breach, escalation, followup, ...), level
	Sends           *metrics.Counter   // platform, result (sent, retry, failed)
	SendFailures    *metrics.Counter   // platform, reason (rate_limited, permanent, transient)
	Intake          *metrics.Histogram // platform
	Commands        *metrics.Histogram // platform
}

// NewMetrics registers the runtime's metrics, including the outbox depth
// and the age of its oldest pending message, read from the database at
// scrape time.
func NewMetrics(r *metrics.Registry, store *storage.Store) *Metrics {
	m := &Metrics{
		IncidentsOpened: r.NewCounter("slakeeper_incidents_opened_total", "Incidents opened, by severity and customer.", "severity", "customer"),
		StateChanges:    r.NewCounter("slakeeper_state_changes_total", "Incident changes, by timeline event kind.", "kind"),
		Breaches:        r.NewCounter("slakeeper_breaches_total", "Clocks that missed their deadline, by clock.", "clock"),
		Alerts:          r.NewCounter("slakeeper_alerts_total", "Reminders, escalations and follow-ups sent, by kind and level.", "kind", "level"),
		Sends:           r.NewCounter("slakeeper_sends_total", "Outbox deliveries, by platform and result.", "platform", "result"),
		SendFailures:    r.NewCounter("slakeeper_send_failures_total", "Failed deliveries, by platform and reason.", "platform", "reason"),
		Intake:          r.NewHistogram("slakeeper_intake_seconds", "Time to turn a customer message into a stored effect.", metrics.DefaultBuckets, "platform"),
		Commands:        r.NewHistogram("slakeeper_command_seconds", "Time to answer a command.", metrics.DefaultBuckets, "platform"),
	}
	r.NewGaugeFunc("slakeeper_outbox_depth", "Messages waiting to be sent.", func() (float64, error) {
		n, _, err := outboxState(store)
		return float64(n), err
	})
	r.NewGaugeFunc("slakeeper_outbox_oldest_seconds", "Age of the oldest message waiting to be sent.", func() (float64, error) {
		_, oldest, err := outboxState(store)
		if err != nil || oldest.IsZero() {
			return 0, err
		}
		return time.Since(oldest).Seconds(), nil
	})
	return m
}

func outboxState(store *storage.Store) (int, time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return store.OutboxDepth(ctx)
}

func (m *Metrics) counter(pick func(*Metrics) *metrics.Counter, values ...string) {
	if m != nil {
		pick(m).Inc(values...)
	}
}

func (m *Metrics) observe(pick func(*Metrics) *metrics.Histogram, d time.Duration, values ...string) {
	if m != nil {
		pick(m).Observe(d, values...)
	}
}
