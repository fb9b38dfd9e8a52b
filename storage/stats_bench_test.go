package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
	"github.com/slakeeper/slakeeper/storage/storagetest"
)

// SeedQuarter fills a PostgreSQL store with n incidents of 20 customers
// reported evenly over 2026Q3: one in five core, one in fifty still open,
// acknowledgements within 0-60 minutes, core on site within 0-3 hours,
// restorations within 0-6 hours (core) or 0-36 hours (other), so that every
// clock has both met and missed cases. It is one INSERT ... SELECT.
func SeedQuarter(tb testing.TB, s *storage.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	var d sla.Roster
	for i := range 20 {
		d.Customers = append(d.Customers, sla.Customer{ID: fmt.Sprintf("c%02d", i), Name: fmt.Sprintf("Customer %d", i), Lang: sla.LangZH})
	}
	if err := s.SyncDirectory(ctx, d); err != nil {
		tb.Fatal(err)
	}
	spacing := float64(92*24*3600) / float64(n)
	_, err := s.DB().ExecContext(ctx, `
		INSERT INTO incidents (customer_id, severity, status, title, area, reported_at, ack_due, onsite_due, restore_due,
			acked_at, onsite_met_at, restored_at, closed_at, version)
		SELECT 'c' || lpad((g % 20)::text, 2, '0'), CASE WHEN core THEN 'core' ELSE 'noncore' END,
			CASE WHEN open THEN 'acknowledged' ELSE 'closed' END, 'fault ' || g,
			(ARRAY['storage','compute','query','streaming','network','hardware','access','performance','other'])[1 + g % 9],
			t, t + interval '30 minutes', CASE WHEN core THEN t + interval '2 hours' END,
			t + CASE WHEN core THEN interval '4 hours' ELSE interval '24 hours' END,
			t + random() * interval '60 minutes', CASE WHEN core THEN t + random() * interval '3 hours' END,
			CASE WHEN NOT open THEN t + random() * CASE WHEN core THEN interval '6 hours' ELSE interval '36 hours' END END,
			CASE WHEN NOT open THEN t + interval '40 hours' END, 1
		FROM (SELECT g, g % 5 = 0 AS core, g % 50 = 0 AS open,
			timestamptz '2026-07-01 00:00:00+00' + g * $2::float8 * interval '1 second' AS t
			FROM generate_series(0, $1 - 1) g) x`, n, spacing)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `VACUUM ANALYZE incidents`); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkQuarterlyStats1M is the quarterly report's statistics over a
// million incidents on PostgreSQL (issue 6; target 1 s): all customers,
// then one customer.
//
//	go test ./storage -run '^$' -bench QuarterlyStats -benchtime 5x
func BenchmarkQuarterlyStats1M(b *testing.B) {
	s := storagetest.Postgres(b)
	start := time.Now()
	SeedQuarter(b, s, 1_000_000)
	b.Logf("seeded 1,000,000 incidents in %v", time.Since(start).Round(time.Millisecond))
	from, to := at(7, 1, 0, 0), at(10, 1, 0, 0)
	for _, customer := range []string{"", "c07"} {
		name := "all"
		if customer != "" {
			name = "one-customer"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				st, err := s.Stats(context.Background(), customer, from, to, at(10, 5, 0, 0))
				if err != nil {
					b.Fatal(err)
				}
				if customer == "" && st.Incidents != 1_000_000 {
					b.Fatalf("%d incidents", st.Incidents)
				}
			}
		})
	}
}
