package sla

import "time"

// TimerKind is what a timer does when it comes due.
type TimerKind string

// Timer kinds.
const (
	TimerReminder      TimerKind = "reminder"       // a clock's deadline is near
	TimerBreach        TimerKind = "breach"         // a clock's deadline passed: escalation level 1
	TimerEscalation    TimerKind = "escalation"     // level 2 and 3 after a breach
	TimerFollowUp      TimerKind = "followup"       // the weekly follow-up ping (C6)
	TimerFollowUpCheck TimerKind = "followup_check" // a ping went unanswered
	TimerReport        TimerKind = "report"         // a service report is missing (C5)
)

// Pseudo-clocks name the timers that belong to no SLA clock.
const (
	ClockFollowUp Clock = "followup"
	ClockReport   Clock = "report"
)

// Escalation levels.
const (
	LevelReminder = 0
	LevelAssignee = 1 // the assignee or the on-call engineer, and the engineering channel
	LevelLead     = 2
	LevelManager  = 3
)

// DefaultReminderBefore is how long before a deadline the reminder fires.
const DefaultReminderBefore = 10 * time.Minute

// Timer is a point in time at which something must happen to an incident.
type Timer struct {
	Clock Clock
	Kind  TimerKind
	Level int
	Due   time.Time
}

// Timers returns the timers the incident needs at now. For every SLA clock
// still running: the reminder, the breach and the escalation ladder; of the
// ladder's repeats, the latest one due and the next one. For an incident not
// closed that had an on-site visit or is a week old: the weekly follow-up
// ping (the latest due slot and the next), and the unanswered-ping check.
// For an on-site visit without a report: the daily report reminder.
//
// Storage keeps exactly this set pending (timers that fired stay fired), so
// meeting a clock cancels its timers in the same transaction, and a repeat
// that is due is never cancelled before the engine fires it.
func (i Incident) Timers(p Policy, now time.Time) []Timer {
	ss := i.steps(p, now)
	ts := make([]Timer, len(ss))
	for j, s := range ss {
		ts[j] = s.Timer
	}
	return ts
}

// step is a timer of the schedule and the time its series counts from (a
// clock's deadline, the start of the weekly pings, the ping answered, the
// visit reported): when that moves, the series is a new one.
type step struct {
	Timer
	basis time.Time
}

// steps is Timers with each timer's basis.
func (i Incident) steps(p Policy, now time.Time) []step {
	var ts []step
	add := func(basis time.Time, t Timer) { ts = append(ts, step{Timer: t, basis: basis}) }
	if i.Status.Active() {
		for _, c := range i.Clocks() {
			if c.Met() {
				continue
			}
			if p.ReminderBefore > 0 {
				add(c.Due, Timer{Clock: c.Clock, Kind: TimerReminder, Level: LevelReminder, Due: c.Due.Add(-p.ReminderBefore)})
			}
			add(c.Due, Timer{Clock: c.Clock, Kind: TimerBreach, Level: LevelAssignee, Due: c.Due})
			if p.LeadAfter > 0 && p.LeadAfter < p.ManagerAfter {
				add(c.Due, Timer{Clock: c.Clock, Kind: TimerEscalation, Level: LevelLead, Due: c.Due.Add(p.LeadAfter)})
			}
			top := c.Due.Add(p.ManagerAfter)
			add(c.Due, Timer{Clock: c.Clock, Kind: TimerEscalation, Level: LevelManager, Due: top})
			for _, d := range p.Repeats(top, now) {
				add(c.Due, Timer{Clock: c.Clock, Kind: TimerEscalation, Level: LevelManager, Due: d})
			}
		}
	}
	if i.Status != StatusClosed {
		start := i.ReportedAt.Add(p.FollowUp.After)
		if !i.OnsiteAt.IsZero() && i.OnsiteAt.Before(start) {
			start = i.OnsiteAt
		}
		for _, d := range weeklySlots(start, p.FollowUp, now) {
			add(start, Timer{Clock: ClockFollowUp, Kind: TimerFollowUp, Level: LevelAssignee, Due: d})
		}
		if !i.LastPingAt.IsZero() && i.LastFollowUpAt.Before(i.LastPingAt) {
			add(i.LastPingAt, Timer{Clock: ClockFollowUp, Kind: TimerFollowUpCheck, Level: LevelLead, Due: i.LastPingAt.Add(p.FollowUp.AnswerWithin)})
		}
	}
	if i.NeedsReport() && p.FollowUp.ReportEvery > 0 {
		for _, d := range slots(i.OnsiteAt.Add(p.FollowUp.ReportEvery), p.FollowUp.ReportEvery, now) {
			add(i.OnsiteAt, Timer{Clock: ClockReport, Kind: TimerReport, Level: LevelAssignee, Due: d})
		}
	}
	return ts
}

// slots returns, of the series first, first+every, ..., the latest at or
// before now (if any) and the first after now.
func slots(first time.Time, every time.Duration, now time.Time) []time.Time {
	if every <= 0 {
		return nil
	}
	if first.After(now) {
		return []time.Time{first}
	}
	n := now.Sub(first) / every
	last := first.Add(n * every)
	return []time.Time{last, last.Add(every)}
}

// weeklySlots is slots for the weekly follow-up: the weekday and time of day
// in the policy's zone, on or after start.
func weeklySlots(start time.Time, f FollowUpPolicy, now time.Time) []time.Time {
	first := NextWeekly(start, f.Weekday, f.At, f.Zone)
	if first.After(now) {
		return []time.Time{first}
	}
	// Step in local calendar weeks, so a zone's clock changes keep the slot
	// at the same time of day.
	last := first
	for next := last.AddDate(0, 0, 7); !next.After(now); next = next.AddDate(0, 0, 7) {
		last = next
	}
	return []time.Time{last, last.AddDate(0, 0, 7)}
}

// NextWeekly returns the first time at or after t that falls on weekday at
// time of day at, in zone (UTC when nil).
func NextWeekly(t time.Time, weekday time.Weekday, at time.Duration, zone *time.Location) time.Time {
	if zone == nil {
		zone = time.UTC
	}
	lt := t.In(zone)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, zone)
	for i := 0; i < 8; i++ {
		d := day.AddDate(0, 0, i)
		if d.Weekday() != weekday {
			continue
		}
		c := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, zone).Add(at)
		if !c.Before(t) {
			return c
		}
	}
	return day.AddDate(0, 0, 14) // unreachable: some day within 8 matches
}

// Alert is what the engine announces for one incident after a batch of due
// timers: per clock, the highest step that came due, and how many lower
// ones it stands for.
type Alert struct {
	Clock     Clock
	Kind      TimerKind
	Level     int
	Due       time.Time // when the timer was due
	Collapsed int       // how many other due timers of this clock it replaces
	// Earliest is when the earliest of the timers it stands for was due.
	Earliest time.Time
}

var kindRank = map[TimerKind]int{TimerReminder: 0, TimerBreach: 1, TimerEscalation: 2, TimerFollowUp: 0, TimerFollowUpCheck: 1, TimerReport: 0}

// Collapse turns the due timers of one incident into alerts: one per SLA
// clock (and one per kind of follow-up timer), the highest step (the latest
// at equal rank), so that a pile of overdue
// reminders after downtime becomes one message. The result is in clock order
// of first appearance.
func Collapse(due []Timer) []Alert {
	var out []Alert
	idx := map[string]int{}
	for _, t := range due {
		a := Alert{Clock: t.Clock, Kind: t.Kind, Level: t.Level, Due: t.Due, Earliest: t.Due}
		key := string(t.Clock)
		if t.Kind != TimerReminder && t.Kind != TimerBreach && t.Kind != TimerEscalation {
			key += "/" + string(t.Kind)
		}
		j, ok := idx[key]
		if !ok {
			idx[key] = len(out)
			out = append(out, a)
			continue
		}
		cur := out[j]
		higher := kindRank[t.Kind] > kindRank[cur.Kind] ||
			(kindRank[t.Kind] == kindRank[cur.Kind] && (t.Level > cur.Level || (t.Level == cur.Level && t.Due.After(cur.Due))))
		a.Collapsed = cur.Collapsed + 1
		a.Earliest = cur.Earliest
		if t.Due.Before(a.Earliest) {
			a.Earliest = t.Due
		}
		if higher {
			out[j] = a
		} else {
			out[j].Collapsed++
			out[j].Earliest = a.Earliest
		}
	}
	return out
}
