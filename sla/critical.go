package sla

import "time"

// CriticalWindow is a customer's critical business period (C11): the
// channel is told who is on site, and incidents reported in it escalate on
// the policy's tighter critical ladder.
type CriticalWindow struct {
	ID         int64 // 0 for a window from the configuration
	CustomerID string
	Start, End time.Time
	Note       string
	Onsite     []string // person ids of the engineers on site
}

// Contains reports whether t falls in the window.
func (w CriticalWindow) Contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// Key identifies the window in scheduled posts.
func (w CriticalWindow) Key() string {
	return w.CustomerID + "@" + w.Start.UTC().Format("20060102T1504") + "-" + w.End.UTC().Format("20060102T1504")
}

// DefaultCriticalLadder is the tighter escalation ladder of critical periods:
// earlier reminders, the leads after 5 minutes and the managers after 10,
// repeated every 15.
var DefaultCriticalLadder = PolicyOverride{ReminderBefore: 15 * time.Minute, LeadAfter: 5 * time.Minute,
	ManagerAfter: 10 * time.Minute, RepeatEvery: 15 * time.Minute}

// During returns the policy for an incident reported at reported: p itself,
// or, when reported falls in one of the windows, p with its critical ladder.
// The clocks (the promises) never change; only how fast people are chased.
func (p Policy) During(windows []CriticalWindow, reported time.Time) Policy {
	for _, w := range windows {
		if w.Contains(reported) {
			c := p.Critical
			return PolicyOverride{ReminderBefore: c.ReminderBefore, LeadAfter: c.LeadAfter, ManagerAfter: c.ManagerAfter,
				RepeatEvery: c.RepeatEvery}.Apply(p)
		}
	}
	return p
}

// ParseWhen reads a time as people write a period's bounds: "2026-12-20"
// (a day) or "2026-12-20T08:00", in zone. A day alone is its midnight, or,
// for the end of a period (end true), the next midnight, so that the
// period runs through that day. The error is EINVALID err.bad_time.
func ParseWhen(s string, zone *time.Location, end bool) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, zone); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, Errorf(EINVALID, "err.bad_time", map[string]any{"value": s}, "%q is not a time", s)
}
