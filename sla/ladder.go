package sla

import (
	"sort"
	"time"
)

// The lazy ladder. An incident's schedule (Timers) names every step of
// every series it needs; storage keeps only one step per series, a Slot:
// the step due next. When a slot comes due the engine derives, from the
// incident and the policy, which steps of its series are due (after
// downtime, all those since the slot's, folded into one alert) and which
// comes next. A core incident keeps four rows instead of sixteen, and an
// acknowledgement cancels one row instead of five.

// Track names the series a timer belongs to: an SLA clock's ladder
// (reminder, breach, escalations and their repeats) is named after the
// clock; the weekly follow-up pings ("followup"), the check that a ping was
// answered ("followup_check") and the report reminders ("report") after
// their kind.
func (t Timer) Track() string {
	switch t.Kind {
	case TimerReminder, TimerBreach, TimerEscalation:
		return string(t.Clock)
	}
	return string(t.Kind)
}

// SlotState is what became of a slot's step.
type SlotState string

// Slot states.
const (
	SlotPending   SlotState = "pending"   // the step is due next
	SlotFired     SlotState = "fired"     // the step fired and none follows
	SlotCancelled SlotState = "cancelled" // the incident no longer needs the series
)

// A Slot is what storage keeps of one series of an incident's schedule:
// a step, what became of it, and the time the series counts from (a
// clock's deadline; when that moves, the series is a new one).
type Slot struct {
	Timer
	Basis time.Time
	State SlotState
}

// sameStep reports whether two timers are the same step (storage keeps
// times to the microsecond).
func sameStep(a, b Timer) bool {
	return a.Clock == b.Clock && a.Kind == b.Kind && a.Level == b.Level &&
		a.Due.Truncate(time.Microsecond).Equal(b.Due.Truncate(time.Microsecond))
}

func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

// onSeries reports whether a stored slot is a step of the incident's
// schedule as it stands: its series counts from the same time, and the
// schedule at the slot's due time names it. It returns that step's basis.
//
// A slot carried over from schema 8 without a basis (the weekly
// follow-up's: schema 10 could not know the time it counts from) that is
// not due yet is on its series only if the schedule at now names its step.
// The schedule at the slot's own due time would name it even when the
// series' start moved earlier (an on-site visit brings the weekly
// follow-up forward, on the same weekly grid), and the weeks between would
// be skipped. One already due keeps its step, so that firing it folds the
// steps since, as for a slot with its basis.
func (i Incident) onSeries(p Policy, s Slot, now time.Time) (basis time.Time, ok bool) {
	at := s.Due
	if s.Basis.IsZero() && s.Due.After(now) {
		at = now
	}
	for _, x := range i.steps(p, at) {
		if sameStep(x.Timer, s.Timer) && (s.Basis.IsZero() || sameTime(x.basis, s.Basis)) {
			return x.basis, true
		}
	}
	return time.Time{}, false
}

// stepAfter returns the first step of a series due after t. The schedule at
// t names it: every fixed step, and of each repeating series the next one
// after t.
func (i Incident) stepAfter(p Policy, track string, t time.Time) (Slot, bool) {
	var best step
	found := false
	for _, x := range i.steps(p, t) {
		if x.Track() == track && x.Due.After(t) && (!found || x.Due.Before(best.Due)) {
			best, found = x, true
		}
	}
	return best.pending(), found
}

func (s step) pending() Slot { return Slot{Timer: s.Timer, Basis: s.basis, State: SlotPending} }

// series groups the schedule at now by track, each in due order; order
// is the tracks in order of first appearance.
func series(ts []step) (order []string, steps map[string][]step) {
	steps = map[string][]step{}
	for _, t := range ts {
		k := t.Track()
		if _, ok := steps[k]; !ok {
			order = append(order, k)
		}
		steps[k] = append(steps[k], t)
	}
	for _, k := range order {
		sort.SliceStable(steps[k], func(a, b int) bool { return steps[k][a].Due.Before(steps[k][b].Due) })
	}
	return order, steps
}

// Reschedule returns the slots the incident needs at now, given the ones
// stored (at most one per track). For each series of the schedule:
//
//   - a stored slot still on it is kept: pending stays (the engine fires it,
//     however late), cancelled resumes, fired moves to the step after it if
//     there is one;
//   - otherwise (a new series, or one whose deadline moved) the slot is its
//     first step, even if that is due already: the engine then fires it at
//     once, folding the steps due since.
//
// A pending slot of a series the incident no longer needs (its clock met,
// the incident closed) is cancelled; fired and cancelled ones are kept.
// The result lists the schedule's tracks in order, then the others.
func (i Incident) Reschedule(p Policy, now time.Time, stored []Slot) []Slot {
	order, steps := series(i.steps(p, now))
	have := make(map[string]int, len(stored))
	for j, s := range stored {
		have[s.Track()] = j
	}
	out := make([]Slot, 0, max(len(order), len(stored)))
	used := make([]bool, len(stored))
	for _, k := range order {
		j, ok := have[k]
		if ok {
			used[j] = true
			if basis, on := i.onSeries(p, stored[j], now); on {
				s := stored[j]
				// A slot without a basis (carried over from schema 8, the
				// weekly follow-up's) takes its step's, so that a deadline
				// that moves later starts a new series instead of resuming
				// this one.
				if s.Basis.IsZero() {
					s.Basis = basis
				}
				switch s.State {
				case SlotPending:
					out = append(out, s)
					continue
				case SlotCancelled:
					s.State = SlotPending
					out = append(out, s)
					continue
				case SlotFired:
					if n, ok := i.stepAfter(p, k, s.Due); ok {
						out = append(out, n)
					} else {
						out = append(out, s)
					}
					continue
				}
			}
		}
		if ok {
			// Same series (same basis), other steps (the policy changed):
			// resume where the stored slot stood, never before it.
			if s := stored[j]; s.Basis.IsZero() || sameTime(s.Basis, steps[k][0].basis) {
				if n, found := resumeAt(steps[k], s); found {
					out = append(out, n)
					continue
				}
			}
		}
		out = append(out, steps[k][0].pending())
	}
	for j, s := range stored {
		if used[j] {
			continue
		}
		if s.State == SlotPending {
			s.State = SlotCancelled
		}
		out = append(out, s)
	}
	return out
}

// Fire returns the steps due at now that the incident's slots stand for,
// and the slots after they fired. Each pending slot due at now stands for
// the steps of its series from its own to now (of a repeating series only
// the latest, as the schedule names it); its slot moves to the first step
// after now, or stays on the last step, fired, when none follows. Pass the
// result's steps to Collapse for the alerts.
func (i Incident) Fire(p Policy, now time.Time, stored []Slot) (due []Timer, slots []Slot) {
	slots = i.Reschedule(p, now, stored)
	_, steps := series(i.steps(p, now))
	for j, s := range slots {
		if s.State != SlotPending || s.Due.After(now) {
			continue
		}
		k := s.Track()
		// The slot's own step (which the schedule at now may no longer name:
		// a repeat superseded by a later one), then the steps since.
		due = append(due, s.Timer)
		last := s.Timer
		for _, x := range steps[k] {
			if x.Due.After(s.Due) && !x.Due.After(now) {
				due = append(due, x.Timer)
				last = x.Timer
			}
		}
		if next, ok := i.stepAfter(p, k, now); ok {
			slots[j] = next
		} else {
			slots[j].Timer, slots[j].State = last, SlotFired
		}
	}
	return due, slots
}

// Settle returns the slots after the incident changed at now (a follow-up
// ping, say) in the round that fired: rescheduled, and a series that
// fired in the round does not fire again at now (the round's alerts stand
// for it).
func (i Incident) Settle(p Policy, now time.Time, slots []Slot, firedTracks map[string]bool) []Slot {
	out := i.Reschedule(p, now, slots)
	for j, s := range out {
		if s.State != SlotPending || s.Due.After(now) || !firedTracks[s.Track()] {
			continue
		}
		if next, ok := i.stepAfter(p, s.Track(), now); ok {
			out[j] = next
		} else {
			out[j].State = SlotFired
		}
	}
	return out
}

// resumeAt is the first step of a series due at or after a stored slot's
// step (after it, when that step fired).
func resumeAt(ss []step, s Slot) (Slot, bool) {
	for _, x := range ss {
		if x.Due.After(s.Due) || (s.State != SlotFired && x.Due.Equal(s.Due)) {
			return x.pending(), true
		}
	}
	return Slot{}, false
}
