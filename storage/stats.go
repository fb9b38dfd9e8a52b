package storage

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/slakeeper/slakeeper/sla"
)

// StatsLimit bounds the lists in Stats (breaches, open follow-ups) and
// AreasLimit the problem areas; the counts are always complete.
const (
	StatsLimit = 20
	AreasLimit = 5
)

// secs is the SQL for b - a in seconds.
func (s *Store) secs(a, b string) string {
	if s.dialect == Postgres {
		return "EXTRACT(EPOCH FROM (" + b + " - " + a + "))"
	}
	// The driver stores UTC times as "2006-01-02 15:04:05.999999999 +0000 UTC".
	jd := func(x string) string { return "julianday(replace(" + x + ", ' +0000 UTC', ''))" }
	return "((" + jd(b) + " - " + jd(a) + ") * 86400.0)"
}

func dur(secs float64) time.Duration {
	return time.Duration(math.Round(secs*1000)) * time.Millisecond
}

// Stats computes the statistics of the incidents reported in [from, to) of
// one customer (or all, with customerID ""), evaluated at now, in SQL: a
// few aggregate queries over the period's rows, whatever their number.
func (s *Store) Stats(ctx context.Context, customerID string, from, to, now time.Time) (sla.Stats, error) {
	st := sla.Stats{CustomerID: customerID, From: from, To: to, Now: now, BySeverity: map[sla.Severity]int{}}
	where := `reported_at >= ? AND reported_at < ?`
	args := []any{ts(from), ts(to)}
	if customerID != "" {
		where += ` AND customer_id = ?`
		args = append(args, customerID)
	}
	q := func(query string, extra ...any) (string, []any) {
		return s.db.Rebind(query), append(append([]any{}, extra...), args...)
	}
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: s.dialect == Postgres})
	if err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	defer tx.Rollback()

	// Counts and compliance, one pass.
	clock := func(met, due, cond string) string {
		return fmt.Sprintf(`COALESCE(sum(CASE WHEN %[3]s AND %[1]s IS NOT NULL AND %[1]s <= %[2]s THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN %[3]s AND ((%[1]s IS NOT NULL AND %[1]s > %[2]s) OR (%[1]s IS NULL AND %[2]s <= ?)) THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN %[3]s AND %[1]s IS NULL AND %[2]s > ? THEN 1 ELSE 0 END), 0)`, met, due, cond)
	}
	var n, core int
	comp := []sla.Compliance{{Clock: sla.ClockAck}, {Clock: sla.ClockOnsite}, {Clock: sla.ClockRestore, Severity: sla.SeverityCore},
		{Clock: sla.ClockRestore, Severity: sla.SeverityNoncore}}
	query, qargs := q(`SELECT count(*), COALESCE(sum(CASE WHEN severity = 'core' THEN 1 ELSE 0 END), 0), `+
		clock("acked_at", "ack_due", "1 = 1")+`, `+
		clock("onsite_met_at", "onsite_due", "severity = 'core'")+`, `+
		clock("restored_at", "restore_due", "severity = 'core'")+`, `+
		clock("restored_at", "restore_due", "severity = 'noncore'")+
		` FROM incidents WHERE `+where, ts(now), ts(now), ts(now), ts(now), ts(now), ts(now), ts(now), ts(now))
	dest := []any{&n, &core}
	for i := range comp {
		dest = append(dest, &comp[i].Met, &comp[i].Missed, &comp[i].Pending)
	}
	if err := tx.QueryRowxContext(ctx, query, qargs...).Scan(dest...); err != nil {
		return st, fmt.Errorf("stats: counts: %w", err)
	}
	st.Incidents, st.Compliance = n, comp
	st.BySeverity[sla.SeverityCore], st.BySeverity[sla.SeverityNoncore] = core, n-core

	// Nearest-rank median and p90 of time to acknowledge and to restore.
	pct := func(met string) (sla.Percentiles, error) {
		var p sla.Percentiles
		var med, p90 sql.NullFloat64
		query, qargs := q(`WITH d AS (SELECT x, ROW_NUMBER() OVER (ORDER BY x) AS rn, COUNT(*) OVER () AS n
			FROM (SELECT ` + s.secs("reported_at", met) + ` AS x FROM incidents WHERE ` + met + ` IS NOT NULL AND ` + where + `) s)
			SELECT COALESCE(max(n), 0), min(CASE WHEN 2 * rn >= n THEN x END), min(CASE WHEN 10 * rn >= 9 * n THEN x END) FROM d`)
		if err := tx.QueryRowxContext(ctx, query, qargs...).Scan(&p.N, &med, &p90); err != nil {
			return p, fmt.Errorf("stats: percentiles of %s: %w", met, err)
		}
		p.Median, p.P90 = dur(med.Float64), dur(p90.Float64)
		return p, nil
	}
	if st.MTTA, err = pct("acked_at"); err != nil {
		return st, err
	}
	if st.MTTR, err = pct("restored_at"); err != nil {
		return st, err
	}

	// Breaches: every missed clock, with its lateness.
	missed := func(clk, met, due string) string {
		return `SELECT id, customer_id, '` + clk + `' AS clock, ` + due + ` AS due_at, ` + met + ` IS NULL AS open, ` +
			s.secs(due, "COALESCE("+met+", ?)") + ` AS late FROM incidents WHERE ` + due + ` IS NOT NULL AND ` +
			`((` + met + ` IS NOT NULL AND ` + met + ` > ` + due + `) OR (` + met + ` IS NULL AND ` + due + ` <= ?)) AND ` + where
	}
	bargs := []any{}
	for range 3 {
		bargs = append(bargs, ts(now), ts(now))
		bargs = append(bargs, args...)
	}
	union := missed("ack", "acked_at", "ack_due") + ` UNION ALL ` + missed("onsite", "onsite_met_at", "onsite_due") +
		` UNION ALL ` + missed("restore", "restored_at", "restore_due")
	if err := tx.GetContext(ctx, &st.BreachCount, s.db.Rebind(`SELECT count(*) FROM (`+union+`) b`), bargs...); err != nil {
		return st, fmt.Errorf("stats: breach count: %w", err)
	}
	rows, err := tx.QueryxContext(ctx, s.db.Rebind(`SELECT id, customer_id, clock, due_at, open, late FROM (`+union+`) b
		ORDER BY late DESC, id, clock LIMIT ?`), append(bargs, StatsLimit)...)
	if err != nil {
		return st, fmt.Errorf("stats: breaches: %w", err)
	}
	for rows.Next() {
		var b sla.BreachLine
		var clk string
		var late float64
		if err := rows.Scan(&b.IncidentID, &b.CustomerID, &clk, &b.Due, &b.Open, &late); err != nil {
			rows.Close()
			return st, fmt.Errorf("stats: breaches: %w", err)
		}
		b.Clock, b.Due, b.Lateness = sla.Clock(clk), b.Due.UTC(), dur(late)
		st.Breaches = append(st.Breaches, b)
	}
	if err := rows.Close(); err != nil {
		return st, err
	}

	// Unsolved problems reported before the period's end.
	if st.OpenFollowUps, st.OpenCount, err = openItems(ctx, tx, customerID, to); err != nil {
		return st, err
	}

	// The most frequent problem areas.
	query, qargs = q(`SELECT area, count(*) AS n FROM incidents WHERE ` + where + ` GROUP BY area ORDER BY n DESC, area LIMIT ?`)
	rows, err = tx.QueryxContext(ctx, query, append(qargs, AreasLimit)...)
	if err != nil {
		return st, fmt.Errorf("stats: areas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a sla.AreaCount
		var area string
		if err := rows.Scan(&area, &a.N); err != nil {
			return st, fmt.Errorf("stats: areas: %w", err)
		}
		if area == "" {
			area = string(sla.AreaOther)
		}
		a.Area = sla.Area(area)
		st.Areas = append(st.Areas, a)
	}
	return st, rows.Err()
}

// openItems lists unsolved incidents reported before the given time, oldest
// first, up to StatsLimit, with their total count.
func openItems(ctx context.Context, q queryer, customerID string, before time.Time) ([]sla.OpenItem, int, error) {
	where := `status <> 'closed' AND reported_at < ?`
	args := []any{ts(before)}
	if customerID != "" {
		where += ` AND customer_id = ?`
		args = append(args, customerID)
	}
	var n int
	if err := q.GetContext(ctx, &n, q.Rebind(`SELECT count(*) FROM incidents WHERE `+where), args...); err != nil {
		return nil, 0, fmt.Errorf("open incidents: %w", err)
	}
	var rows []struct {
		ID         int64     `db:"id"`
		CustomerID string    `db:"customer_id"`
		Severity   string    `db:"severity"`
		Status     string    `db:"status"`
		Title      string    `db:"title"`
		ReportedAt time.Time `db:"reported_at"`
	}
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT id, customer_id, severity, status, title, reported_at FROM incidents
		WHERE `+where+` ORDER BY reported_at, id LIMIT ?`), append(args, StatsLimit)...); err != nil {
		return nil, 0, fmt.Errorf("open incidents: %w", err)
	}
	out := make([]sla.OpenItem, len(rows))
	for i, r := range rows {
		out[i] = sla.OpenItem{IncidentID: r.ID, CustomerID: r.CustomerID, Severity: sla.Severity(r.Severity),
			Status: sla.Status(r.Status), Title: r.Title, ReportedAt: r.ReportedAt.UTC()}
	}
	return out, n, nil
}

// DailyDigest gathers the daily digest for the 24 hours before to.
func (s *Store) DailyDigest(ctx context.Context, customerID string, to time.Time) (sla.DailyDigest, error) {
	d := sla.DailyDigest{CustomerID: customerID, From: to.Add(-24 * time.Hour), To: to}
	var err error
	if d.Open, d.OpenCount, err = openItems(ctx, s.db, customerID, to); err != nil {
		return d, err
	}
	cust, cargs := "", []any{}
	if customerID != "" {
		cust, cargs = ` AND i.customer_id = ?`, []any{customerID}
	}
	var bs []struct {
		ID         int64        `db:"incident_id"`
		CustomerID string       `db:"customer_id"`
		Clock      string       `db:"clock"`
		Due        time.Time    `db:"due_at"`
		Met        sql.NullTime `db:"met_at"`
	}
	if err := s.db.SelectContext(ctx, &bs, s.db.Rebind(`SELECT b.incident_id, i.customer_id, b.clock, b.due_at, b.met_at
		FROM breaches b JOIN incidents i ON i.id = b.incident_id WHERE b.breached_at >= ? AND b.breached_at < ?`+cust+`
		ORDER BY b.due_at, b.incident_id LIMIT ?`), append(append([]any{ts(d.From), ts(to)}, cargs...), StatsLimit)...); err != nil {
		return d, fmt.Errorf("digest: breaches: %w", err)
	}
	for _, b := range bs {
		end := to
		if b.Met.Valid && b.Met.Time.Before(to) {
			end = b.Met.Time
		}
		d.Breaches = append(d.Breaches, sla.BreachLine{IncidentID: b.ID, CustomerID: b.CustomerID, Clock: sla.Clock(b.Clock),
			Due: b.Due.UTC(), Lateness: end.Sub(b.Due), Open: !b.Met.Valid || !b.Met.Time.Before(to)})
	}
	next := to.Add(24 * time.Hour)
	upcoming := func(clk, met, due string) string {
		return `SELECT id AS incident_id, customer_id, '` + clk + `' AS clock, ` + due + ` AS due_at FROM incidents i
			WHERE status <> 'closed' AND ` + met + ` IS NULL AND ` + due + ` > ? AND ` + due + ` <= ?` + cust
	}
	var us []struct {
		ID         int64     `db:"incident_id"`
		CustomerID string    `db:"customer_id"`
		Clock      string    `db:"clock"`
		Due        time.Time `db:"due_at"`
	}
	uargs := []any{}
	for range 3 {
		uargs = append(append(uargs, ts(to), ts(next)), cargs...)
	}
	uargs = append(append(uargs, ts(to), ts(next)), cargs...)
	if err := s.db.SelectContext(ctx, &us, s.db.Rebind(upcoming("ack", "acked_at", "ack_due")+` UNION ALL `+
		upcoming("onsite", "onsite_met_at", "onsite_due")+` UNION ALL `+upcoming("restore", "restored_at", "restore_due")+
		` UNION ALL SELECT t.incident_id, i.customer_id, 'followup' AS clock, t.due_at FROM timers t JOIN incidents i ON i.id = t.incident_id
			WHERE t.status = 'pending' AND t.kind = 'followup' AND t.due_at > ? AND t.due_at <= ?`+cust+`
		ORDER BY due_at, incident_id LIMIT ?`), append(uargs, StatsLimit)...); err != nil {
		return d, fmt.Errorf("digest: upcoming: %w", err)
	}
	for _, u := range us {
		d.Upcoming = append(d.Upcoming, sla.Upcoming{IncidentID: u.ID, CustomerID: u.CustomerID, Clock: sla.Clock(u.Clock), Due: u.Due.UTC()})
	}
	return d, nil
}

// OpenIncidents lists a customer's (or, with "", everyone's) incidents not
// closed, oldest first, up to StatsLimit, with their total count.
func (s *Store) OpenIncidents(ctx context.Context, customerID string) ([]sla.OpenItem, int, error) {
	return openItems(ctx, s.db, customerID, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
}
