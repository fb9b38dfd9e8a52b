// Package i18n is slakeeper's message catalog: every text a person reads,
// in Chinese and English, looked up by key and filled with named parameters,
// plus the formatting of times and durations in a zone and a language.
package i18n

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/sla"
)

// T renders the catalog entry key in lang, replacing {name} with params'
// values. An unknown language falls back to Chinese; an unknown key renders
// as the key itself so that a gap is visible, never a crash.
func T(lang sla.Lang, key string, params map[string]any) string {
	e, ok := catalog[key]
	if !ok {
		return key
	}
	s := e.zh
	if lang == sla.LangEN {
		s = e.en
	}
	if len(params) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, 2*len(params))
	for k, v := range params {
		pairs = append(pairs, "{"+k+"}", fmt.Sprint(v))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Has reports whether the catalog has key.
func Has(key string) bool { _, ok := catalog[key]; return ok }

// Keys returns every key of the catalog, sorted.
func Keys() []string {
	ks := make([]string, 0, len(catalog))
	for k := range catalog {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Entry returns both texts of a key, for tests.
func Entry(key string) (zh, en string) { e := catalog[key]; return e.zh, e.en }

// Error renders an error for a reader: a domain error in the reader's
// language, anything else as the generic internal-error message (the caller
// logs the detail).
func Error(lang sla.Lang, err error) string {
	if e, ok := sla.AsError(err); ok && e.Code != sla.EINTERNAL && Has(e.Key) {
		params := make(map[string]any, len(e.Params))
		for k, v := range e.Params {
			params[k] = v
		}
		// Statuses and severities travel as codes; show them by name.
		if s, ok := params["status"].(string); ok {
			params["status"] = Status(lang, sla.Status(s))
		}
		if s, ok := params["severity"].(string); ok {
			params["severity"] = Severity(lang, sla.Severity(s))
		}
		return T(lang, e.Key, params)
	}
	if e, ok := sla.AsError(err); ok && e.Code != sla.EINTERNAL {
		return e.Message
	}
	return T(lang, "err.internal", nil)
}

// Format renders times and durations for one reader.
type Format struct {
	Lang sla.Lang
	Loc  *time.Location
}

// Time shows t in the reader's zone, e.g. "11-25 17:30 CST".
func (f Format) Time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(f.Loc).Format("01-02 15:04 MST")
}

// Duration shows d rounded to the minute: "1h30m" or "1小时30分钟".
func (f Format) Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Minute)
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var b strings.Builder
	unit := func(n int, zh, en string) {
		if n == 0 {
			return
		}
		if f.Lang == sla.LangEN {
			fmt.Fprintf(&b, "%d%s", n, en)
		} else {
			fmt.Fprintf(&b, "%d%s", n, zh)
		}
	}
	unit(days, "天", "d")
	unit(h, "小时", "h")
	unit(m, "分钟", "m")
	if b.Len() == 0 {
		if f.Lang == sla.LangEN {
			return "0m"
		}
		return "0分钟"
	}
	return b.String()
}

// Clock describes one clock at now: when it is due and whether it was met,
// is running, or is late.
func (f Format) Clock(c sla.ClockState, now time.Time) string {
	return f.clock(c, now, T(f.Lang, "clock."+string(c.Clock), nil))
}

// ClockInstance is Clock naming which run of the clock it is: "恢复（第 2
// 次）", for an incident whose clock started again.
func (f Format) ClockInstance(c sla.ClockState, now time.Time) string {
	return f.clock(c, now, T(f.Lang, "clock.instance", map[string]any{"clock": T(f.Lang, "clock."+string(c.Clock), nil), "n": c.Instance}))
}

func (f Format) clock(c sla.ClockState, now time.Time, label string) string {
	p := map[string]any{"clock": label, "due": f.Time(c.Due)}
	switch {
	case c.Met() && c.Breached(now):
		p["late"] = f.Duration(c.MetAt.Sub(c.Due))
		return T(f.Lang, "clock.met_late", p)
	case c.Met():
		return T(f.Lang, "clock.met", p)
	case c.Breached(now):
		p["late"] = f.Duration(now.Sub(c.Due))
		return T(f.Lang, "clock.overdue", p)
	default:
		p["left"] = f.Duration(c.Due.Sub(now))
		return T(f.Lang, "clock.running", p)
	}
}

// Severity names a severity.
func Severity(lang sla.Lang, s sla.Severity) string { return T(lang, "sev."+string(s), nil) }

// Status names a status.
func Status(lang sla.Lang, s sla.Status) string { return T(lang, "status."+string(s), nil) }
