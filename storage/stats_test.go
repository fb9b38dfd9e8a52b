package storage_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// seeded describes one incident of the hand-computed quarter: offsets from
// the report, zero when the clock was never met.
type seeded struct {
	customer string
	sev      sla.Severity
	title    string
	reported time.Time
	ack      time.Duration
	onsite   time.Duration
	restore  time.Duration
	closed   bool
}

func at(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, time.UTC)
}

// quarter is 2026Q3 for acme, with one incident before it and one of
// another customer; the expected figures below are worked out by hand from
// the default policy (ack 30m, core on site 2h and restored 4h, non-core
// restored 24h).
var quarter = []seeded{
	{"acme", sla.SeverityCore, "HDFS 写入失败", at(7, 1, 10, 0), 10 * time.Minute, time.Hour, 3 * time.Hour, true},                  // #1 all met
	{"acme", sla.SeverityCore, "HDFS namenode down", at(7, 2, 10, 0), 40 * time.Minute, 150 * time.Minute, 5 * time.Hour, true}, // #2 all missed
	{"acme", sla.SeverityNoncore, "Hive 查询报错", at(7, 3, 10, 0), 20 * time.Minute, 0, 20 * time.Hour, true},                      // #3 met
	{"acme", sla.SeverityNoncore, "Spark 作业很慢", at(8, 1, 10, 0), 30 * time.Minute, 0, 30 * time.Hour, true},                     // #4 ack met on the dot, restore 6h late
	{"acme", sla.SeverityNoncore, "网络抖动", at(9, 30, 23, 0), 5 * time.Minute, 0, 0, false},                                       // #5 restore still open
	{"acme", sla.SeverityCore, "磁盘满了", at(8, 15, 10, 0), 0, 0, 0, false},                                                        // #6 nothing met
	{"acme", sla.SeverityCore, "before the quarter", at(6, 30, 23, 59), 5 * time.Minute, 0, 0, false},                           // #7 outside, still open
	{"globex", sla.SeverityNoncore, "report is slow", at(8, 2, 10, 0), time.Hour, 0, 2 * time.Hour, true},                       // #8 other customer
}

func seedQuarter(t *testing.T, s *storage.Store) {
	t.Helper()
	ctx := context.Background()
	p := sla.DefaultPolicy()
	err := s.InTx(ctx, func(tx *storage.Tx) error {
		for _, q := range quarter {
			inc, _, err := sla.NewIncident(q.customer, q.sev, q.title, "", sla.Actor{}, p, q.reported)
			if err != nil {
				return err
			}
			set := func(d time.Duration) time.Time {
				if d == 0 {
					return time.Time{}
				}
				return q.reported.Add(d)
			}
			inc.AckedAt, inc.OnsiteMetAt, inc.RestoredAt = set(q.ack), set(q.onsite), set(q.restore)
			switch {
			case q.closed:
				inc.Status, inc.ClosedAt = sla.StatusClosed, inc.RestoredAt
			case !inc.AckedAt.IsZero():
				inc.Status = sla.StatusAcknowledged
			}
			if err := tx.InsertIncident(ctx, &inc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestQuarterlyStatsByHand(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		setup(t, s)
		seedQuarter(t, s)
		ctx := context.Background()
		from, to, now := at(7, 1, 0, 0), at(10, 1, 0, 0), at(10, 5, 0, 0)
		st, err := s.Stats(ctx, "acme", from, to, now)
		if err != nil {
			t.Fatal(err)
		}
		if st.Incidents != 6 || st.BySeverity[sla.SeverityCore] != 3 || st.BySeverity[sla.SeverityNoncore] != 3 {
			t.Errorf("incidents %d %v, want 6 (3 core, 3 non-core)", st.Incidents, st.BySeverity)
		}
		// Acknowledged after 10, 40, 20, 30 and 5 minutes: sorted 5 10 20 30 40.
		if want := (sla.Percentiles{N: 5, Median: 20 * time.Minute, P90: 40 * time.Minute}); st.MTTA != want {
			t.Errorf("MTTA %+v, want %+v", st.MTTA, want)
		}
		// Restored after 3, 5, 20 and 30 hours: median rank 2, p90 rank 4.
		if want := (sla.Percentiles{N: 4, Median: 5 * time.Hour, P90: 30 * time.Hour}); st.MTTR != want {
			t.Errorf("MTTR %+v, want %+v", st.MTTR, want)
		}
		want := []sla.Compliance{
			{Clock: sla.ClockAck, Met: 4, Missed: 2},
			{Clock: sla.ClockOnsite, Met: 1, Missed: 2},
			{Clock: sla.ClockRestore, Severity: sla.SeverityCore, Met: 1, Missed: 2},
			{Clock: sla.ClockRestore, Severity: sla.SeverityNoncore, Met: 1, Missed: 2},
		}
		if !reflect.DeepEqual(st.Compliance, want) {
			t.Errorf("compliance %+v, want %+v", st.Compliance, want)
		}
		if pct, _ := st.Compliance[0].Percent(); fmt.Sprintf("%.1f", pct) != "66.7" {
			t.Errorf("ack compliance %.2f%%, want 66.7%%", pct)
		}
		// #2 missed all three clocks, #4 and #5 the restore, #6 all three.
		if st.BreachCount != 8 || len(st.Breaches) != 8 {
			t.Fatalf("%d breaches (%d listed), want 8", st.BreachCount, len(st.Breaches))
		}
		late := func(b sla.BreachLine) string {
			return fmt.Sprintf("#%d %s %v open=%v", b.IncidentID, b.Clock, b.Lateness, b.Open)
		}
		wantLate := []string{
			"#6 ack " + now.Sub(at(8, 15, 10, 30)).String() + " open=true",
			"#6 onsite " + now.Sub(at(8, 15, 12, 0)).String() + " open=true",
			"#6 restore " + now.Sub(at(8, 15, 14, 0)).String() + " open=true",
			"#5 restore 73h0m0s open=true", // due Oct 1 23:00, still open on Oct 5 00:00
			"#4 restore 6h0m0s open=false",
			"#2 restore 1h0m0s open=false",
			"#2 onsite 30m0s open=false",
			"#2 ack 10m0s open=false",
		}
		for i, b := range st.Breaches {
			if got := late(b); got != wantLate[i] {
				t.Errorf("breach %d: %s, want %s", i, got, wantLate[i])
			}
		}
		// Unsolved: #7 (before the quarter), #6 and #5, oldest first.
		if st.OpenCount != 3 || len(st.OpenFollowUps) != 3 || st.OpenFollowUps[0].IncidentID != 7 || st.OpenFollowUps[2].IncidentID != 5 {
			t.Errorf("open follow-ups %d %+v", st.OpenCount, st.OpenFollowUps)
		}
		wantAreas := []sla.AreaCount{{Area: sla.AreaStorage, N: 3}, {Area: sla.AreaCompute, N: 1}, {Area: sla.AreaNetwork, N: 1}, {Area: sla.AreaQuery, N: 1}}
		if !reflect.DeepEqual(st.Areas, wantAreas) {
			t.Errorf("areas %+v, want %+v", st.Areas, wantAreas)
		}

		// Overall adds globex's incident, acknowledged late.
		all, err := s.Stats(ctx, "", from, to, now)
		if err != nil {
			t.Fatal(err)
		}
		if all.Incidents != 7 || all.Compliance[0].Missed != 3 || all.MTTA.N != 6 || all.MTTA.P90 != time.Hour {
			t.Errorf("overall: %d incidents, ack %+v, MTTA %+v", all.Incidents, all.Compliance[0], all.MTTA)
		}

		// Evaluated inside the quarter, #5's restore is pending, not missed.
		mid, err := s.Stats(ctx, "acme", from, to, at(9, 30, 23, 30))
		if err != nil {
			t.Fatal(err)
		}
		if c := mid.Compliance[3]; c.Met != 1 || c.Missed != 1 || c.Pending != 1 {
			t.Errorf("non-core restore at the quarter's end %+v, want 1 met, 1 missed, 1 pending", c)
		}

		// An empty period has no figures and does not fail.
		empty, err := s.Stats(ctx, "acme", at(1, 1, 0, 0), at(4, 1, 0, 0), now)
		if err != nil || empty.Incidents != 0 || empty.MTTA.N != 0 || empty.BreachCount != 0 {
			t.Errorf("empty quarter %+v %v", empty, err)
		}
		if _, ok := empty.Compliance[0].Percent(); ok {
			t.Error("no decided clock must have no percentage")
		}
	})
}

func TestDailyDigest(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		setup(t, s)
		seedQuarter(t, s)
		ctx := context.Background()
		// #5's restore clock is due Oct 1 23:00 and breached then.
		err := s.InTx(ctx, func(tx *storage.Tx) error {
			return tx.RecordBreach(ctx, 5, sla.ClockRestore, at(10, 1, 23, 0), at(10, 1, 23, 0))
		})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.DailyDigest(ctx, "acme", at(10, 2, 8, 30))
		if err != nil {
			t.Fatal(err)
		}
		if d.OpenCount != 3 || len(d.Breaches) != 1 || d.Breaches[0].IncidentID != 5 || d.Breaches[0].Lateness != 9*time.Hour+30*time.Minute {
			t.Errorf("digest %+v", d)
		}
		// Seen the day before, #5's restore deadline is in the next 24 hours.
		d, err = s.DailyDigest(ctx, "acme", at(10, 1, 8, 30))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Breaches) != 0 || len(d.Upcoming) != 1 || d.Upcoming[0].IncidentID != 5 || d.Upcoming[0].Clock != sla.ClockRestore {
			t.Errorf("digest the day before %+v", d)
		}
	})
}
