package sla

import "time"

// Policy holds the clocks of the service-quality plan. All durations are in
// calendar time (7x24) and measured from the report.
type Policy struct {
	AckWithin            time.Duration // C2: a reply to every report
	CoreOnsiteWithin     time.Duration // C3: on site (or restored remotely) for a core fault
	CoreRestoreWithin    time.Duration // C3: a core fault handled
	NoncoreRestoreWithin time.Duration // C4: a non-core fault restored

	// ReminderBefore is how long before each deadline the engineers are
	// reminded; zero sends no reminder.
	ReminderBefore time.Duration
	// The escalation ladder after a breach: level 1 (the assignee or the
	// on-call engineer, and the engineering channel) at the deadline, level 2
	// (the leads) LeadAfter it, level 3 (the managers) ManagerAfter it; then
	// the managers are reminded with a back-off until the clock is met:
	// RepeatEvery after level 3, then twice that, and so on, RepeatSteps
	// times (30m, 1h, 2h, 4h by default), then once a day at RepeatDailyAt
	// (the start of the working day, in FollowUp.Zone).
	LeadAfter     time.Duration
	ManagerAfter  time.Duration
	RepeatEvery   time.Duration
	RepeatSteps   int
	RepeatDailyAt time.Duration

	// FollowUp is the weekly follow-up of unsolved problems (C6) and the
	// daily reminder for a missing service report (C5).
	FollowUp FollowUpPolicy

	// Critical is the ladder (ReminderBefore, LeadAfter, ManagerAfter,
	// RepeatEvery) for incidents reported in a critical business period
	// (C11); its other fields are ignored.
	Critical PolicyOverride
}

// FollowUpPolicy says when unsolved incidents are chased.
type FollowUpPolicy struct {
	Weekday time.Weekday   // the weekly ping's day
	At      time.Duration  // the weekly ping's time of day
	Zone    *time.Location // the zone of Weekday and At; nil means UTC
	// After is how long after the report an incident without an on-site
	// visit is followed up (default one week).
	After time.Duration
	// AnswerWithin is how long a ping may go unanswered by /followup before
	// the lead is told.
	AnswerWithin time.Duration
	// ReportEvery is how often a missing service report is asked for.
	ReportEvery time.Duration
}

// DefaultPolicy is the seed's plan: 30m to acknowledge, core on site in 2h and
// restored in 4h, non-core restored in 24h.
func DefaultPolicy() Policy {
	return Policy{
		AckWithin:            30 * time.Minute,
		CoreOnsiteWithin:     2 * time.Hour,
		CoreRestoreWithin:    4 * time.Hour,
		NoncoreRestoreWithin: 24 * time.Hour,
		ReminderBefore:       DefaultReminderBefore,
		LeadAfter:            15 * time.Minute,
		ManagerAfter:         30 * time.Minute,
		RepeatEvery:          30 * time.Minute,
		RepeatSteps:          DefaultRepeatSteps,
		RepeatDailyAt:        DefaultRepeatDailyAt,
		FollowUp: FollowUpPolicy{Weekday: time.Friday, At: 10 * time.Hour, After: 7 * 24 * time.Hour,
			AnswerWithin: 24 * time.Hour, ReportEvery: 24 * time.Hour},
		Critical: DefaultCriticalLadder,
	}
}

// The back-off of repeated escalations by default: four doublings, then
// daily at nine.
const (
	DefaultRepeatSteps   = 4
	DefaultRepeatDailyAt = 9 * time.Hour
)

// PolicyOverride is a contract's deviation from a base policy; a zero field
// keeps the base value.
type PolicyOverride struct {
	AckWithin            time.Duration
	CoreOnsiteWithin     time.Duration
	CoreRestoreWithin    time.Duration
	NoncoreRestoreWithin time.Duration
	ReminderBefore       time.Duration
	LeadAfter            time.Duration
	ManagerAfter         time.Duration
	RepeatEvery          time.Duration
	RepeatSteps          int // negative: none
	// RepeatDailyAt applies when HasRepeatDailyAt (midnight is a time too).
	RepeatDailyAt    time.Duration
	HasRepeatDailyAt bool
}

// Apply returns p with the override's non-zero fields in place.
func (o PolicyOverride) Apply(p Policy) Policy {
	if o.AckWithin > 0 {
		p.AckWithin = o.AckWithin
	}
	if o.CoreOnsiteWithin > 0 {
		p.CoreOnsiteWithin = o.CoreOnsiteWithin
	}
	if o.CoreRestoreWithin > 0 {
		p.CoreRestoreWithin = o.CoreRestoreWithin
	}
	if o.NoncoreRestoreWithin > 0 {
		p.NoncoreRestoreWithin = o.NoncoreRestoreWithin
	}
	if o.ReminderBefore > 0 {
		p.ReminderBefore = o.ReminderBefore
	}
	if o.LeadAfter > 0 {
		p.LeadAfter = o.LeadAfter
	}
	if o.ManagerAfter > 0 {
		p.ManagerAfter = o.ManagerAfter
	}
	if o.RepeatEvery > 0 {
		p.RepeatEvery = o.RepeatEvery
	}
	switch {
	case o.RepeatSteps > 0:
		p.RepeatSteps = o.RepeatSteps
	case o.RepeatSteps < 0: // set to none
		p.RepeatSteps = 0
	}
	if o.HasRepeatDailyAt {
		p.RepeatDailyAt = o.RepeatDailyAt
	}
	return p
}

// Validate reports an EINVALID error when a clock is missing or the clocks
// contradict each other (a core fault cannot be restored before someone is
// on site).
func (p Policy) Validate() error {
	if p.AckWithin <= 0 || p.CoreOnsiteWithin <= 0 || p.CoreRestoreWithin <= 0 || p.NoncoreRestoreWithin <= 0 {
		return Errorf(EINVALID, "policy.nonpositive", nil, "every clock of the policy must be positive")
	}
	if p.CoreOnsiteWithin > p.CoreRestoreWithin {
		return Errorf(EINVALID, "policy.order", nil, "the core on-site clock must not be longer than the core restore clock")
	}
	if p.ReminderBefore < 0 || p.LeadAfter <= 0 || p.ManagerAfter < p.LeadAfter || p.RepeatEvery <= 0 || p.RepeatSteps < 0 ||
		p.RepeatSteps > 12 || p.RepeatDailyAt < 0 || p.RepeatDailyAt >= 24*time.Hour {
		return Errorf(EINVALID, "policy.ladder", nil, "the escalation ladder needs lead_after > 0, manager_after >= lead_after, repeat_every > 0, repeat_steps from 0 to 12 and a time of day for repeat_daily_at")
	}
	if c := p.During([]CriticalWindow{{End: time.Unix(1, 0)}}, time.Unix(0, 0)); c.LeadAfter <= 0 || c.ManagerAfter < c.LeadAfter || c.RepeatEvery <= 0 {
		return Errorf(EINVALID, "policy.ladder", nil, "the critical ladder needs lead_after > 0, manager_after >= lead_after and repeat_every > 0")
	}
	f := p.FollowUp
	if f.At < 0 || f.At >= 24*time.Hour || f.After <= 0 || f.AnswerWithin <= 0 || f.ReportEvery <= 0 {
		return Errorf(EINVALID, "policy.followup", nil, "the follow-up needs a time of day and positive after, answer_within and report_every")
	}
	return nil
}

// RestoreWithin is the restore clock for a severity.
func (p Policy) RestoreWithin(s Severity) time.Duration {
	if s == SeverityCore {
		return p.CoreRestoreWithin
	}
	return p.NoncoreRestoreWithin
}

// Deadlines are the points in time by which each clock of an incident must
// be met. Onsite is zero for non-core incidents, which have no on-site clock.
type Deadlines struct {
	Ack     time.Time
	Onsite  time.Time
	Restore time.Time
}

// DeadlinesFor derives an incident's deadlines from when it was reported, its
// severity and the policy. restoreFrom is when the restore clock started: the
// report time, or the last reopening.
func (p Policy) DeadlinesFor(reported, restoreFrom time.Time, s Severity) Deadlines {
	d := Deadlines{Ack: reported.Add(p.AckWithin)}
	if restoreFrom.IsZero() {
		restoreFrom = reported
	}
	d.Restore = restoreFrom.Add(p.RestoreWithin(s))
	if s == SeverityCore {
		d.Onsite = reported.Add(p.CoreOnsiteWithin)
	}
	return d
}

// Repeats returns, of the reminders after the managers' escalation at top,
// the latest at or before now (if any) and the first after now: top +
// RepeatEvery, then each gap twice the one before, RepeatSteps times; then
// every day at RepeatDailyAt in FollowUp.Zone.
func (p Policy) Repeats(top, now time.Time) []time.Time {
	var last time.Time
	t, gap := top, p.RepeatEvery
	for k := 0; k < p.RepeatSteps && gap > 0; k++ {
		t = t.Add(gap)
		if t.After(now) {
			if last.IsZero() {
				return []time.Time{t}
			}
			return []time.Time{last, t}
		}
		last, gap = t, 2*gap
	}
	zone := p.FollowUp.Zone
	if zone == nil {
		zone = time.UTC
	}
	// Daily, at the time of day, on local calendar days (a day of a clock
	// change is 23 or 25 hours long).
	day := func(t time.Time) time.Time {
		lt := t.In(zone)
		return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, zone).Add(p.RepeatDailyAt)
	}
	first := day(t)
	if !first.After(t) {
		first = day(t.In(zone).AddDate(0, 0, 1))
	}
	if first.After(now) {
		if last.IsZero() {
			return []time.Time{first}
		}
		return []time.Time{last, first}
	}
	cur := day(now)
	if cur.After(now) {
		cur = day(now.In(zone).AddDate(0, 0, -1))
	}
	return []time.Time{cur, day(cur.In(zone).AddDate(0, 0, 1))}
}
