package sla

import "time"

// Rotation is a weekly on-call rotation: People take turns, handing over on
// Weekday at time of day At in Zone.
type Rotation struct {
	People  []string // person ids, in turn order
	Weekday time.Weekday
	At      time.Duration
	Zone    *time.Location
}

// Override puts a person on call for a while, ahead of the rotation.
type Override struct {
	PersonID string
	Start    time.Time
	End      time.Time
	By       string
}

// Shift is who is on call from Start until End.
type Shift struct {
	PersonID string
	Start    time.Time
	End      time.Time
	Override bool
}

// shiftAt returns the rotation's shift holding t. Shifts are numbered by
// whole weeks since the first handover of 2024, so the turn order is the
// same on every replica and across restarts.
func (r Rotation) shiftAt(t time.Time) Shift {
	if len(r.People) == 0 {
		return Shift{}
	}
	zone := r.Zone
	if zone == nil {
		zone = time.UTC
	}
	first := NextWeekly(time.Date(2024, 1, 1, 0, 0, 0, 0, zone), r.Weekday, r.At, zone)
	next := NextWeekly(t.Add(time.Nanosecond), r.Weekday, r.At, zone)
	start := next.AddDate(0, 0, -7)
	// Count local calendar days between the anchor and this shift's start.
	fy, fm, fd := first.Date()
	sy, sm, sd := start.Date()
	days := time.Date(sy, sm, sd, 0, 0, 0, 0, time.UTC).Sub(time.Date(fy, fm, fd, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour)
	n := int(days / 7)
	i := ((n % len(r.People)) + len(r.People)) % len(r.People)
	return Shift{PersonID: r.People[i], Start: start, End: next}
}

// OnCall returns who is on call at t, and the shift after that. An override
// covering t wins over the rotation; it ends at its own End.
func OnCall(r Rotation, overrides []Override, t time.Time) (now, next Shift) {
	now = r.shiftAt(t)
	for _, o := range overrides {
		if !t.Before(o.Start) && t.Before(o.End) {
			now = Shift{PersonID: o.PersonID, Start: o.Start, End: o.End, Override: true}
		}
	}
	if now.End.IsZero() {
		return now, Shift{}
	}
	// After now's shift: the rotation's shift holding that moment, from that
	// moment on (an override may end in the middle of a rotation shift),
	// unless another override covers it.
	next = r.shiftAt(now.End)
	if next.Start.Before(now.End) {
		next.Start = now.End
	}
	for _, o := range overrides {
		if !now.End.Before(o.Start) && now.End.Before(o.End) {
			next = Shift{PersonID: o.PersonID, Start: now.End, End: o.End, Override: true}
		}
	}
	return now, next
}
