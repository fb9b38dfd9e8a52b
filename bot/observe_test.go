package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// gauges gathers r and returns the value of every unlabelled gauge, with
// the error Gather reports for the metrics it left out.
func gauges(t *testing.T, r *prometheus.Registry) (map[string]float64, []string, error) {
	t.Helper()
	mfs, err := r.Gather()
	out := map[string]float64{}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
		if mf.GetType() == dto.MetricType_GAUGE && len(mf.GetMetric()) == 1 {
			out[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return out, names, err
}

// The outbox gauges are read from the database at scrape time, one query
// for both; a database that has gone away leaves them out of the scrape
// and the rest is still served.
func TestOutboxGauges(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		r := prometheus.NewRegistry()
		m := bot.NewMetrics(r, s)
		g, _, err := gauges(t, r)
		if err != nil || g["slakeeper_outbox_depth"] != 0 || g["slakeeper_outbox_oldest_seconds"] != 0 {
			t.Fatalf("empty outbox: %v %v", g, err)
		}

		hourAgo := time.Now().Add(-time.Hour)
		if err := s.InTx(ctx, func(tx *storage.Tx) error {
			if err := tx.Enqueue(ctx, hourAgo, storage.Outgoing{Platform: "slack", ChatID: "C1", Kind: "reply", Body: "first"}); err != nil {
				return err
			}
			return tx.Enqueue(ctx, time.Now(), storage.Outgoing{Platform: "slack", ChatID: "C1", Kind: "reply", Body: "second"})
		}); err != nil {
			t.Fatal(err)
		}
		g, _, err = gauges(t, r)
		if err != nil {
			t.Fatal(err)
		}
		// The age is on the wall clock; a minute's slack covers a slow run.
		if g["slakeeper_outbox_depth"] != 2 || g["slakeeper_outbox_oldest_seconds"] < 3600 || g["slakeeper_outbox_oldest_seconds"] > 3660 {
			t.Fatalf("two pending, the oldest an hour old: %v", g)
		}

		m.Breaches.Inc("ack")
		s.Close()
		g, names, err := gauges(t, r)
		if err == nil || !strings.Contains(err.Error(), "outbox depth") {
			t.Fatalf("a closed database scraped without an error: %v", err)
		}
		if _, ok := g["slakeeper_outbox_depth"]; ok {
			t.Fatalf("depth reported without a database: %v", g)
		}
		if !strings.Contains(strings.Join(names, " "), "slakeeper_breaches_total") {
			t.Fatalf("the rest of the scrape was lost: %v", names)
		}
	})
}

// The metric names, help and labels are what dashboards and alerts were
// written against.
func TestMetricNames(t *testing.T) {
	r := prometheus.NewRegistry()
	m := bot.NewMetrics(r, storagetest.SQLite(t))
	m.IncidentsOpened.Inc("core", "acme")
	m.StateChanges.Inc("acknowledged")
	m.Breaches.Inc("ack")
	m.Alerts.Inc("reminder", "0")
	m.Sends.Inc("slack", "sent")
	m.SendFailures.Inc("slack", "transient")
	m.Intake.Observe(time.Millisecond, "slack")
	m.Commands.Observe(time.Millisecond, "slack")
	mfs, err := r.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, mf := range mfs {
		var labels []string
		for _, l := range mf.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		got[mf.GetName()] = mf.GetType().String() + " " + strings.Join(labels, ",") + " " + mf.GetHelp()
	}
	want := map[string]string{
		"slakeeper_incidents_opened_total": "COUNTER customer,severity Incidents opened, by severity and customer.",
		"slakeeper_state_changes_total":    "COUNTER kind Incident changes, by timeline event kind.",
		"slakeeper_breaches_total":         "COUNTER clock Clocks that missed their deadline, by clock.",
		"slakeeper_alerts_total":           "COUNTER kind,level Reminders, escalations and follow-ups sent, by kind and level.",
		"slakeeper_sends_total":            "COUNTER platform,result Outbox deliveries, by platform and result.",
		"slakeeper_send_failures_total":    "COUNTER platform,reason Failed deliveries, by platform and reason.",
		"slakeeper_intake_seconds":         "HISTOGRAM platform Time to turn a customer message into a stored effect.",
		"slakeeper_command_seconds":        "HISTOGRAM platform Time to answer a command.",
		"slakeeper_outbox_depth":           "GAUGE  Messages waiting to be sent.",
		"slakeeper_outbox_oldest_seconds":  "GAUGE  Age of the oldest message waiting to be sent.",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d metrics, want %d: %v", len(got), len(want), got)
	}
	var bounds []float64
	for _, mf := range mfs {
		if mf.GetName() == "slakeeper_intake_seconds" {
			for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
				bounds = append(bounds, b.GetUpperBound())
			}
		}
	}
	if fmt.Sprint(bounds) != "[0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5]" {
		t.Errorf("intake buckets %v", bounds)
	}
}
