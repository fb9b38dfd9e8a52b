package commands

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

// Namer gives a customer's display name.
type Namer func(customerID string) string

func clockLabel(l sla.Lang, c sla.Compliance) string {
	label := i18n.T(l, "clock."+string(c.Clock), nil)
	if c.Severity == "" {
		return label
	}
	return i18n.T(l, "digest.clock_of", map[string]any{"clock": label, "severity": i18n.Severity(l, c.Severity)})
}

func pct(c sla.Compliance) string {
	p, ok := c.Percent()
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", p)
}

func (n Namer) of(id string) string {
	if id == "" {
		return ""
	}
	if n == nil {
		return id
	}
	return n(id)
}

// StatsText renders statistics (a weekly digest or a quarterly report) in a
// reader's language; title names the period.
func StatsText(f i18n.Format, title string, st sla.Stats, name Namer) string {
	l := f.Lang
	scope := i18n.T(l, "digest.all_customers", nil)
	if st.CustomerID != "" {
		scope = name.of(st.CustomerID)
	}
	d := func(p sla.Percentiles, which time.Duration) string {
		if p.N == 0 {
			return "—"
		}
		return f.Duration(which)
	}
	lines := []string{
		i18n.T(l, "digest.stats_header", map[string]any{"title": title, "scope": scope, "from": f.Time(st.From), "to": f.Time(st.To)}),
		i18n.T(l, "digest.incidents", map[string]any{"n": st.Incidents, "core": st.BySeverity[sla.SeverityCore], "noncore": st.BySeverity[sla.SeverityNoncore]}),
		i18n.T(l, "digest.mtta", map[string]any{"median": d(st.MTTA, st.MTTA.Median), "p90": d(st.MTTA, st.MTTA.P90), "n": st.MTTA.N}),
		i18n.T(l, "digest.mttr", map[string]any{"median": d(st.MTTR, st.MTTR.Median), "p90": d(st.MTTR, st.MTTR.P90), "n": st.MTTR.N}),
		i18n.T(l, "digest.compliance", nil),
	}
	for _, c := range st.Compliance {
		lines = append(lines, i18n.T(l, "digest.compliance_line", map[string]any{"clock": clockLabel(l, c), "pct": pct(c),
			"met": c.Met, "missed": c.Missed, "pending": c.Pending}))
	}
	lines = append(lines, i18n.T(l, "digest.breaches", map[string]any{"n": st.BreachCount}))
	for _, b := range st.Breaches {
		lines = append(lines, breachLine(f, b, name))
	}
	lines = append(lines, i18n.T(l, "digest.open", map[string]any{"n": st.OpenCount}))
	for _, o := range st.OpenFollowUps {
		lines = append(lines, openLine(f, o, name))
	}
	if st.Triage > 0 {
		lines = append(lines, i18n.T(l, "digest.triage", map[string]any{"n": st.Triage}))
	}
	if st.DismissedCount > 0 {
		lines = append(lines, i18n.T(l, "digest.dismissed", map[string]any{"n": st.DismissedCount, "dup": st.Duplicates, "notfault": st.NotFaults}))
		for _, d := range st.Dismissed {
			lines = append(lines, dismissedLine(f, d, name))
		}
	}
	if len(st.Areas) > 0 {
		var areas []string
		for _, a := range st.Areas {
			areas = append(areas, i18n.T(l, "area."+string(a.Area), nil)+" "+strconv.Itoa(a.N))
		}
		lines = append(lines, i18n.T(l, "digest.areas", map[string]any{"areas": strings.Join(areas, "，")}))
	}
	return strings.Join(lines, "\n")
}

func breachLine(f i18n.Format, b sla.BreachLine, name Namer) string {
	key := "digest.breach_line"
	if b.Open {
		key = "digest.breach_open"
	}
	return i18n.T(f.Lang, key, map[string]any{"id": b.IncidentID, "customer": name.of(b.CustomerID),
		"clock": i18n.T(f.Lang, "clock."+string(b.Clock), nil), "due": f.Time(b.Due), "late": f.Duration(b.Lateness)})
}

// dismissedLine names a duplicate or a not-a-fault outcome and every clock
// it had breached: leaving the figures must not hide a breach.
func dismissedLine(f i18n.Format, d sla.DismissedItem, name Namer) string {
	l := f.Lang
	what := i18n.T(l, "digest.notfault_item", nil)
	if d.Outcome == sla.OutcomeDuplicate {
		what = i18n.T(l, "digest.duplicate_item", map[string]any{"into": d.MergedInto})
	}
	line := i18n.T(l, "digest.dismissed_line", map[string]any{"id": d.IncidentID, "customer": name.of(d.CustomerID), "what": what,
		"title": d.Title})
	if len(d.Breached) > 0 {
		var cs []string
		for _, c := range d.Breached {
			cs = append(cs, i18n.T(l, "clock."+string(c), nil))
		}
		line += i18n.T(l, "digest.dismissed_breached", map[string]any{"clocks": strings.Join(cs, i18n.T(l, "list.sep", nil))})
	}
	return line
}

func openLine(f i18n.Format, o sla.OpenItem, name Namer) string {
	return i18n.T(f.Lang, "digest.open_line", map[string]any{"id": o.IncidentID, "customer": name.of(o.CustomerID),
		"severity": i18n.Severity(f.Lang, o.Severity), "status": i18n.Status(f.Lang, o.Status), "title": o.Title,
		"since": f.Time(o.ReportedAt)})
}

// DailyText renders the managers' daily digest.
func DailyText(f i18n.Format, d sla.DailyDigest, name Namer) string {
	l := f.Lang
	scope := i18n.T(l, "digest.all_customers", nil)
	if d.CustomerID != "" {
		scope = name.of(d.CustomerID)
	}
	lines := []string{i18n.T(l, "digest.daily_header", map[string]any{"scope": scope, "at": f.Time(d.To)}),
		i18n.T(l, "digest.open", map[string]any{"n": d.OpenCount})}
	for _, o := range d.Open {
		lines = append(lines, openLine(f, o, name))
	}
	lines = append(lines, i18n.T(l, "digest.breaches_24h", map[string]any{"n": len(d.Breaches)}))
	for _, b := range d.Breaches {
		lines = append(lines, breachLine(f, b, name))
	}
	if d.OverdueCount > 0 {
		lines = append(lines, i18n.T(l, "digest.overdue", map[string]any{"n": d.OverdueCount}))
		for _, b := range d.Overdue {
			lines = append(lines, breachLine(f, b, name))
		}
	}
	if len(d.Dismissed) > 0 {
		lines = append(lines, i18n.T(l, "digest.dismissed_24h", map[string]any{"n": len(d.Dismissed)}))
		for _, x := range d.Dismissed {
			lines = append(lines, dismissedLine(f, x, name))
		}
	}
	lines = append(lines, i18n.T(l, "digest.upcoming", map[string]any{"n": len(d.Upcoming)}))
	for _, u := range d.Upcoming {
		lines = append(lines, i18n.T(l, "digest.upcoming_line", map[string]any{"id": u.IncidentID, "customer": name.of(u.CustomerID),
			"clock": i18n.T(l, "clock."+string(u.Clock), nil), "due": f.Time(u.Due)}))
	}
	return strings.Join(lines, "\n")
}

// StatsCSV renders statistics as CSV, one row per scope (a customer, or
// "*" for all), durations in minutes and compliance in percent. The header
// is in the reader's language; a column of customer names stands beside
// the ids, which a spreadsheet can join on.
func StatsCSV(l sla.Lang, period string, sts []sla.Stats, name Namer) []byte {
	var b bytes.Buffer
	if l == sla.LangZH {
		b.WriteString("\ufeff") // so that Excel reads UTF-8
	}
	w := csv.NewWriter(&b)
	var header []string
	for _, col := range csvColumns {
		header = append(header, i18n.T(l, "csv."+col, nil))
	}
	w.Write(header)
	mins := func(p sla.Percentiles, d time.Duration) string {
		if p.N == 0 {
			return ""
		}
		return strconv.FormatFloat(d.Minutes(), 'f', 1, 64)
	}
	for _, st := range sts {
		scope, scopeName := st.CustomerID, name.of(st.CustomerID)
		if scope == "" {
			scope, scopeName = "*", i18n.T(l, "digest.all_customers", nil)
		}
		row := []string{period, scope, scopeName, strconv.Itoa(st.Incidents), strconv.Itoa(st.BySeverity[sla.SeverityCore]),
			strconv.Itoa(st.BySeverity[sla.SeverityNoncore]), mins(st.MTTA, st.MTTA.Median), mins(st.MTTA, st.MTTA.P90),
			mins(st.MTTR, st.MTTR.Median), mins(st.MTTR, st.MTTR.P90)}
		for _, c := range st.Compliance {
			p, ok := c.Percent()
			cell := ""
			if ok {
				cell = strconv.FormatFloat(p, 'f', 1, 64)
			}
			row = append(row, cell)
		}
		top := ""
		if len(st.Areas) > 0 {
			top = i18n.T(l, "area."+string(st.Areas[0].Area), nil)
		}
		row = append(row, strconv.Itoa(st.BreachCount), strconv.Itoa(st.OpenCount), top, strconv.Itoa(st.Duplicates), strconv.Itoa(st.NotFaults))
		w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// csvColumns name the columns of StatsCSV, each the catalog key "csv.<name>".
var csvColumns = []string{"period", "customer", "customer_name", "incidents", "core", "noncore", "mtta_median_min", "mtta_p90_min",
	"mttr_median_min", "mttr_p90_min", "ack_pct", "onsite_pct", "restore_core_pct", "restore_noncore_pct", "breaches",
	"open_followups", "top_area", "duplicates", "not_faults"}
