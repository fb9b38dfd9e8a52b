package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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
// few aggregate queries over the period's rows, whatever their number. On
// PostgreSQL they run on two connections at once.
func (s *Store) Stats(ctx context.Context, customerID string, from, to, now time.Time) (sla.Stats, error) {
	st := sla.Stats{CustomerID: customerID, From: from, To: to, Now: now, BySeverity: map[sla.Severity]int{}}
	period := `reported_at >= ? AND reported_at < ?`
	args := []any{ts(from), ts(to)}
	if customerID != "" {
		period += ` AND customer_id = ?`
		args = append(args, customerID)
	}
	// The figures are of faults: duplicates and not-a-fault outcomes are
	// counted apart (dismissed).
	q := statsQuery{s: s, where: period + ` AND outcome = ''`, period: period, args: args, now: now}
	// Sorting for the percentiles is the most work: they get a connection of
	// their own.
	type part = func(context.Context, *sla.Stats) error
	lanes := [][]part{{q.percentiles, q.open, q.breaches}, {q.counts, q.dismissed}}
	if s.dialect != Postgres {
		lanes = [][]part{append(lanes[0], lanes[1]...)}
	}
	errs := make([]error, len(lanes))
	var wg sync.WaitGroup
	for i, lane := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, part := range lane {
				if errs[i] = part(ctx, &st); errs[i] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	for _, c := range st.Compliance {
		st.BreachCount += c.Missed // every missed clock is a breach
	}
	return st, nil
}

// statsQuery is one period's statistics; each method fills its own fields
// of sla.Stats, so that they can run at once.
type statsQuery struct {
	s      *Store
	where  string // the period's faults
	period string // every incident of the period
	args   []any
	now    time.Time
}

func (q statsQuery) bind(query string, before ...any) (string, []any) {
	return q.s.db.Rebind(query), append(append([]any{}, before...), q.args...)
}

// counts computes the counts, the compliance per clock and the problem
// areas in one pass: per area, then summed.
func (q statsQuery) counts(ctx context.Context, st *sla.Stats) error {
	met := func(met, due, cond string) string {
		return fmt.Sprintf(`count(*) FILTER (WHERE %[3]s AND %[1]s <= %[2]s),
			count(*) FILTER (WHERE %[3]s AND (%[1]s > %[2]s OR (%[1]s IS NULL AND %[2]s <= ?)))`, met, due, cond)
	}
	now := ts(q.now)
	// The period's incidents in one pass, minus the few duplicates and
	// false reports among them (found by a partial index): the same sums
	// as filtering them out row by row, for less work on a big table.
	sums := func(where string) string {
		return `SELECT area, count(*), count(*) FILTER (WHERE severity = 'core'), ` +
			met("acked_at", "ack_due", "1 = 1") + `, ` + met("onsite_met_at", "onsite_due", "severity = 'core'") + `, ` +
			met("restored_at", "restore_due", "severity = 'core'") + `, ` + met("restored_at", "restore_due", "severity = 'noncore'") +
			` FROM incidents WHERE ` + where + ` GROUP BY area`
	}
	comp := []sla.Compliance{{Clock: sla.ClockAck}, {Clock: sla.ClockOnsite}, {Clock: sla.ClockRestore, Severity: sla.SeverityCore},
		{Clock: sla.ClockRestore, Severity: sla.SeverityNoncore}}
	// On PostgreSQL this scan runs beside the percentiles' sort: without
	// parallel workers of its own it leaves that sort a processor.
	tx, err := q.s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: q.s.dialect == Postgres})
	if err != nil {
		return fmt.Errorf("counts: %w", err)
	}
	defer tx.Rollback()
	if q.s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return fmt.Errorf("counts: %w", err)
		}
	}
	var n, core int
	areas := map[sla.Area]int{}
	for _, part := range []struct {
		where string
		sign  int
	}{{q.period, 1}, {q.period + ` AND outcome <> ''`, -1}} {
		query, args := q.bind(sums(part.where), now, now, now, now)
		rows, err := tx.QueryxContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("counts: %w", err)
		}
		for rows.Next() {
			var area string
			var an, acore int
			var c [8]int
			if err := rows.Scan(&area, &an, &acore, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7]); err != nil {
				rows.Close()
				return fmt.Errorf("counts: %w", err)
			}
			if area == "" {
				area = string(sla.AreaOther)
			}
			areas[sla.Area(area)] += part.sign * an
			n, core = n+part.sign*an, core+part.sign*acore
			for i := range comp {
				comp[i].Met += part.sign * c[2*i]
				comp[i].Missed += part.sign * c[2*i+1]
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("counts: %w", err)
		}
	}
	for a, c := range areas {
		if c == 0 {
			delete(areas, a)
		}
	}
	// The rest of each clock's incidents are still within their deadline.
	for i, eligible := range []int{n, core, core, n - core} {
		comp[i].Pending = eligible - comp[i].Met - comp[i].Missed
	}
	// The clocks' closed instances (a restore clock before a reopening)
	// count too: a breach stays a breach.
	// (Few incidents have any: an index of those only finds them.)
	hquery, hargs := q.bind(`SELECT h.clock, h.severity, count(*) FILTER (WHERE h.met_at <= h.due_at),
		count(*) FILTER (WHERE h.met_at > h.due_at) FROM clock_history h
		WHERE h.incident_id IN (SELECT id FROM incidents WHERE past_clocks > 0 AND ` + q.where + `) GROUP BY h.clock, h.severity`)
	hrows, err := tx.QueryxContext(ctx, hquery, hargs...)
	if err != nil {
		return fmt.Errorf("counts: clock history: %w", err)
	}
	defer hrows.Close()
	for hrows.Next() {
		var clock, sev string
		var met, missed int
		if err := hrows.Scan(&clock, &sev, &met, &missed); err != nil {
			return fmt.Errorf("counts: clock history: %w", err)
		}
		i := map[string]int{"ack": 0, "onsite": 1, "restore": 2}[clock]
		if clock == "restore" && sev == string(sla.SeverityNoncore) {
			i = 3
		}
		comp[i].Met += met
		comp[i].Missed += missed
	}
	if err := hrows.Err(); err != nil {
		return fmt.Errorf("counts: clock history: %w", err)
	}
	st.Incidents, st.Compliance = n, comp
	st.BySeverity[sla.SeverityCore], st.BySeverity[sla.SeverityNoncore] = core, n-core
	for a, c := range areas {
		st.Areas = append(st.Areas, sla.AreaCount{Area: a, N: c})
	}
	sort.Slice(st.Areas, func(i, j int) bool {
		if st.Areas[i].N != st.Areas[j].N {
			return st.Areas[i].N > st.Areas[j].N
		}
		return st.Areas[i].Area < st.Areas[j].Area
	})
	st.Areas = st.Areas[:min(len(st.Areas), AreasLimit)]
	return nil
}

// percentiles computes the nearest-rank median and p90 of the time to
// acknowledge and to restore.
func (q statsQuery) percentiles(ctx context.Context, st *sla.Stats) error {
	if q.s.dialect == Postgres {
		// percentile_disc is the first value whose cumulative share reaches
		// the fraction: the nearest rank. NULLs are ignored. Both columns in
		// one scan.
		query, args := q.bind(`SELECT count(ack_ms), percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY ack_ms),
			count(restore_ms), percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY restore_ms) FROM incidents WHERE ` + q.where)
		var ack, restore pq.Int64Array
		err := q.s.inReadTx(ctx, func(tx *sqlx.Tx) error {
			return tx.QueryRowxContext(ctx, query, args...).Scan(&st.MTTA.N, &ack, &st.MTTR.N, &restore)
		})
		if err != nil {
			return fmt.Errorf("percentiles: %w", err)
		}
		ms := func(v pq.Int64Array, i int) time.Duration {
			if len(v) <= i {
				return 0 // no values: percentile_disc gives NULL
			}
			return time.Duration(v[i]) * time.Millisecond
		}
		st.MTTA.Median, st.MTTA.P90, st.MTTR.Median, st.MTTR.P90 = ms(ack, 0), ms(ack, 1), ms(restore, 0), ms(restore, 1)
		return nil
	}
	// SQLite has no ordered-set aggregates: rank with a window instead.
	pct := func(col string) (sla.Percentiles, error) {
		var p sla.Percentiles
		var med, p90 sql.NullInt64
		query, args := q.bind(`WITH d AS (SELECT ` + col + ` AS x, ROW_NUMBER() OVER (ORDER BY ` + col + `) AS rn, COUNT(*) OVER () AS n
			FROM incidents WHERE ` + col + ` IS NOT NULL AND ` + q.where + `)
			SELECT COALESCE(max(n), 0), min(CASE WHEN 2 * rn >= n THEN x END), min(CASE WHEN 10 * rn >= 9 * n THEN x END) FROM d`)
		if err := q.s.db.QueryRowxContext(ctx, query, args...).Scan(&p.N, &med, &p90); err != nil {
			return p, fmt.Errorf("percentiles of %s: %w", col, err)
		}
		p.Median, p.P90 = time.Duration(med.Int64)*time.Millisecond, time.Duration(p90.Int64)*time.Millisecond
		return p, nil
	}
	var err error
	if st.MTTA, err = pct("ack_ms"); err != nil {
		return err
	}
	st.MTTR, err = pct("restore_ms")
	return err
}

// inReadTx runs fn in a read-only transaction with room to sort in memory.
func (s *Store) inReadTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: s.dialect == Postgres})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
			return err
		}
	}
	return fn(tx)
}

// breaches lists the worst missed clocks by lateness. Per clock, the worst
// met late are the first entries of its lateness index (x_late_ms, only
// late ones indexed), and the worst still unmet are the unsolved ones whose
// deadline passed longest ago (met, restored or closed incidents have met
// every clock: restoring meets the reply and on-site clocks); the top of
// each is merged.
func (q statsQuery) breaches(ctx context.Context, st *sla.Stats) error {
	var all []sla.BreachLine
	for _, c := range []struct{ clock, met, due, cond string }{{"ack", "acked_at", "ack_due", ""},
		{"onsite", "onsite_met_at", "onsite_due", " AND severity = 'core'"}, {"restore", "restored_at", "restore_due", ""}} {
		late := c.clock + "_late_ms"
		metLate, metArgs := q.bind(`SELECT id, customer_id, ` + c.due + ` AS due_at, FALSE AS open, ` + late + ` / 1000.0 AS late
			FROM incidents WHERE ` + late + ` > 0 AND ` + q.where + ` ORDER BY ` + late + ` DESC, id LIMIT ` + strconv.Itoa(StatsLimit))
		unmet, unmetArgs := q.bind(`SELECT id, customer_id, `+c.due+` AS due_at, TRUE AS open, `+q.s.secs(c.due, "?")+` AS late
			FROM incidents WHERE status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored') AND `+c.met+` IS NULL`+c.cond+` AND `+c.due+` <= ? AND `+
			q.where+` ORDER BY `+c.due+`, id LIMIT `+strconv.Itoa(StatsLimit), ts(q.now), ts(q.now))
		for _, part := range []struct {
			query string
			args  []any
		}{{metLate, metArgs}, {unmet, unmetArgs}} {
			rows, err := q.s.db.QueryxContext(ctx, part.query, part.args...)
			if err != nil {
				return fmt.Errorf("breaches: %w", err)
			}
			for rows.Next() {
				b := sla.BreachLine{Clock: sla.Clock(c.clock)}
				var late float64
				if err := rows.Scan(&b.IncidentID, &b.CustomerID, &b.Due, &b.Open, &late); err != nil {
					rows.Close()
					return fmt.Errorf("breaches: %w", err)
				}
				b.Due, b.Lateness = b.Due.UTC(), dur(late)
				all = append(all, b)
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
	}
	// The closed instances met late (a restore clock before a reopening).
	hist, hargs := q.bind(`SELECT h.incident_id, i.customer_id, h.clock, h.due_at, ` + q.s.secs("h.due_at", "h.met_at") + ` AS late
		FROM clock_history h JOIN (SELECT id, customer_id FROM incidents WHERE past_clocks > 0 AND ` + q.where + `) i ON i.id = h.incident_id
		WHERE h.met_at > h.due_at ORDER BY late DESC, h.incident_id LIMIT ` + strconv.Itoa(StatsLimit))
	rows, err := q.s.db.QueryxContext(ctx, hist, hargs...)
	if err != nil {
		return fmt.Errorf("breaches: clock history: %w", err)
	}
	for rows.Next() {
		var b sla.BreachLine
		var clock string
		var late float64
		if err := rows.Scan(&b.IncidentID, &b.CustomerID, &clock, &b.Due, &late); err != nil {
			rows.Close()
			return fmt.Errorf("breaches: clock history: %w", err)
		}
		b.Clock, b.Due, b.Lateness = sla.Clock(clock), b.Due.UTC(), dur(late)
		all = append(all, b)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	order := map[sla.Clock]int{sla.ClockAck: 0, sla.ClockOnsite: 1, sla.ClockRestore: 2}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Lateness != b.Lateness {
			return a.Lateness > b.Lateness
		}
		if a.IncidentID != b.IncidentID {
			return a.IncidentID < b.IncidentID
		}
		return order[a.Clock] < order[b.Clock]
	})
	st.Breaches = all[:min(len(all), StatsLimit)]
	return nil
}

// open lists the unsolved problems reported before the period's end.
func (q statsQuery) open(ctx context.Context, st *sla.Stats) error {
	var err error
	st.OpenFollowUps, st.OpenCount, err = openItems(ctx, q.s.db, st.CustomerID, st.To)
	return err
}

// openItems lists unsolved incidents reported before the given time, oldest
// first, up to StatsLimit, with their total count.
func openItems(ctx context.Context, q queryer, customerID string, before time.Time) ([]sla.OpenItem, int, error) {
	where := `status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored') AND reported_at < ?`
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

// dismissed counts and lists the period's duplicates and not-a-fault
// outcomes, and counts its incidents awaiting triage: a few rows each,
// found by partial indexes without reading the rest.
func (q statsQuery) dismissed(ctx context.Context, st *sla.Stats) error {
	query, args := q.bind(`SELECT count(*) FILTER (WHERE outcome = 'duplicate'), count(*) FILTER (WHERE outcome = 'notfault')
		FROM incidents WHERE outcome <> '' AND ` + q.period)
	if err := q.s.db.QueryRowxContext(ctx, query, args...).Scan(&st.Duplicates, &st.NotFaults); err != nil {
		return fmt.Errorf("dismissed: %w", err)
	}
	query, _ = q.bind(`SELECT count(*) FROM incidents WHERE status = 'triage' AND ` + q.period)
	if err := q.s.db.QueryRowxContext(ctx, query, args...).Scan(&st.Triage); err != nil {
		return fmt.Errorf("triage: %w", err)
	}
	st.DismissedCount = st.Duplicates + st.NotFaults
	if st.DismissedCount == 0 {
		return nil
	}
	var err error
	st.Dismissed, err = dismissedItems(ctx, q.s.db, q.period+` AND outcome <> ''`, args)
	return err
}

// dismissedItems lists the dismissed incidents matching where, in the
// order they were closed, up to StatsLimit, with the clocks each had
// breached when it was closed.
func dismissedItems(ctx context.Context, q queryer, where string, args []any) ([]sla.DismissedItem, error) {
	var rows []incidentRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT `+incidentCols+` FROM incidents WHERE `+where+
		` ORDER BY closed_at, id LIMIT ?`), append(append([]any{}, args...), StatsLimit)...); err != nil {
		return nil, fmt.Errorf("dismissed incidents: %w", err)
	}
	out := make([]sla.DismissedItem, len(rows))
	for i, r := range rows {
		inc := r.incident()
		out[i] = sla.DismissedItem{IncidentID: inc.ID, CustomerID: inc.CustomerID, Outcome: inc.Outcome, MergedInto: inc.MergedInto,
			Title: inc.Title, ClosedAt: inc.ClosedAt, Breached: sla.BreachedWhenClosed(inc)}
	}
	return out, nil
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
		` UNION ALL SELECT t.incident_id, i.customer_id, 'followup' AS clock, t.due_at FROM timer_slots t JOIN incidents i ON i.id = t.incident_id
			WHERE t.status = 'pending' AND t.kind = 'followup' AND t.due_at > ? AND t.due_at <= ?`+cust+`
		ORDER BY due_at, incident_id LIMIT ?`), append(uargs, StatsLimit)...); err != nil {
		return d, fmt.Errorf("digest: upcoming: %w", err)
	}
	for _, u := range us {
		d.Upcoming = append(d.Upcoming, sla.Upcoming{IncidentID: u.ID, CustomerID: u.CustomerID, Clock: sla.Clock(u.Clock), Due: u.Due.UTC()})
	}
	dcust := ""
	if customerID != "" {
		dcust = ` AND customer_id = ?`
	}
	if d.Overdue, d.OverdueCount, err = overdue(ctx, s.db, dcust, cargs, to); err != nil {
		return d, err
	}
	d.Dismissed, err = dismissedItems(ctx, s.db, `outcome <> '' AND closed_at >= ? AND closed_at < ?`+dcust, append([]any{ts(d.From), ts(to)}, cargs...))
	return d, err
}

// overdue lists the clocks of unsolved incidents still not met past their
// deadline at now, the longest overdue first, up to StatsLimit, with their
// total count. cust narrows it to a customer (" AND customer_id = ?").
func overdue(ctx context.Context, q queryer, cust string, cargs []any, now time.Time) ([]sla.BreachLine, int, error) {
	part := func(clock, met, due string) string {
		return `SELECT id, customer_id, '` + clock + `' AS clock, ` + due + ` AS due_at FROM incidents
			WHERE status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored') AND ` + met + ` IS NULL AND ` + due + ` <= ?` + cust
	}
	union := part("ack", "acked_at", "ack_due") + ` UNION ALL ` + part("onsite", "onsite_met_at", "onsite_due") + ` UNION ALL ` +
		part("restore", "restored_at", "restore_due")
	var args []any
	for range 3 {
		args = append(append(args, ts(now)), cargs...)
	}
	var n int
	if err := q.GetContext(ctx, &n, q.Rebind(`SELECT count(*) FROM (`+union+`) o`), args...); err != nil {
		return nil, 0, fmt.Errorf("overdue clocks: %w", err)
	}
	if n == 0 {
		return nil, 0, nil
	}
	var rows []struct {
		ID         int64     `db:"id"`
		CustomerID string    `db:"customer_id"`
		Clock      string    `db:"clock"`
		Due        time.Time `db:"due_at"`
	}
	if err := q.SelectContext(ctx, &rows, q.Rebind(union+` ORDER BY due_at, id LIMIT ?`), append(args, StatsLimit)...); err != nil {
		return nil, 0, fmt.Errorf("overdue clocks: %w", err)
	}
	out := make([]sla.BreachLine, len(rows))
	for i, r := range rows {
		out[i] = sla.BreachLine{IncidentID: r.ID, CustomerID: r.CustomerID, Clock: sla.Clock(r.Clock), Due: r.Due.UTC(),
			Lateness: now.Sub(r.Due), Open: true}
	}
	return out, n, nil
}

// OpenIncidents lists a customer's (or, with "", everyone's) incidents not
// closed, oldest first, up to StatsLimit, with their total count.
func (s *Store) OpenIncidents(ctx context.Context, customerID string) ([]sla.OpenItem, int, error) {
	return openItems(ctx, s.db, customerID, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
}
