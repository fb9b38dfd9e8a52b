package sla

import "time"

// Stats are the service statistics of a period (C8): incidents reported in
// [From, To), of one customer or (CustomerID "") of all, evaluated at Now.
type Stats struct {
	CustomerID string
	From, To   time.Time
	Now        time.Time

	Incidents  int
	BySeverity map[Severity]int
	// MTTA is the time from report to acknowledgement, MTTR from report to
	// restoration, over the incidents that got there.
	MTTA, MTTR Percentiles
	// Compliance per clock: ack, onsite (core), and restore per severity.
	Compliance []Compliance
	// Breaches are the missed clocks of the period's incidents, latest first
	// by lateness; BreachCount counts all of them.
	Breaches    []BreachLine
	BreachCount int
	// OpenFollowUps are the unsolved problems (not closed) reported before
	// To, oldest first; OpenCount counts all of them.
	OpenFollowUps []OpenItem
	OpenCount     int
	// Areas are the most frequent problem areas, most frequent first.
	Areas []AreaCount
	// Dismissed are the period's incidents closed as duplicates or as not
	// a fault: left out of every figure above, and listed, with the clocks
	// they had breached, so that none hides a breach. DismissedCount
	// counts all of them; Duplicates and NotFaults split it.
	Dismissed             []DismissedItem
	DismissedCount        int
	Duplicates, NotFaults int
	// Triage counts the incidents still awaiting an engineer's decision.
	Triage int
}

// DismissedItem is an incident closed as a duplicate or as not a fault.
type DismissedItem struct {
	IncidentID int64
	CustomerID string
	Outcome    Outcome
	MergedInto int64
	Title      string
	ClosedAt   time.Time
	// Breached are the clocks it had missed when it was closed.
	Breached []Clock
}

// BreachedWhenClosed names the clocks an incident had missed by the time
// it was closed (at its deadlines, per its severity).
func BreachedWhenClosed(inc Incident) []Clock {
	var out []Clock
	for _, c := range inc.Clocks() {
		if c.Breached(inc.ClosedAt) {
			out = append(out, c.Clock)
		}
	}
	return out
}

// Percentiles of durations, nearest-rank: the median is the value at rank
// ceil(0.5 n) of the sorted values, p90 at rank ceil(0.9 n).
type Percentiles struct {
	N           int
	Median, P90 time.Duration
}

// Compliance counts how often a clock was met in time.
type Compliance struct {
	Clock    Clock
	Severity Severity // for the restore clock; "" for ack and onsite
	Met      int      // met by the deadline
	Missed   int      // met late, or not met and past the deadline at Now
	Pending  int      // not met, deadline still ahead at Now
}

// Percent is the share of decided clocks met in time, 0-100; ok is false
// when no clock was decided yet.
func (c Compliance) Percent() (pct float64, ok bool) {
	if c.Met+c.Missed == 0 {
		return 0, false
	}
	return 100 * float64(c.Met) / float64(c.Met+c.Missed), true
}

// BreachLine is one missed clock and how late it was (or is, while open).
type BreachLine struct {
	IncidentID int64
	CustomerID string
	Clock      Clock
	Due        time.Time
	Lateness   time.Duration
	Open       bool // still not met at Now
}

// OpenItem is an unsolved incident.
type OpenItem struct {
	IncidentID int64
	CustomerID string
	Severity   Severity
	Status     Status
	Title      string
	ReportedAt time.Time
}

// AreaCount is how many incidents were about an area.
type AreaCount struct {
	Area Area
	N    int
}

// Upcoming is a deadline or follow-up coming soon, for the daily digest.
type Upcoming struct {
	IncidentID int64
	CustomerID string
	Clock      Clock // ack, onsite, restore or followup
	Due        time.Time
}

// DailyDigest is what the managers' daily digest shows.
type DailyDigest struct {
	CustomerID string
	From, To   time.Time
	Open       []OpenItem
	OpenCount  int
	// Breaches are the clocks breached in [From, To), from the engine's
	// record, with their lateness at To (or when met).
	Breaches []BreachLine
	// Upcoming are the unmet deadlines and pending follow-ups in (To, To+24h].
	Upcoming []Upcoming
	// Dismissed are the incidents closed as duplicates or not a fault in
	// [From, To), with the clocks they had breached.
	Dismissed []DismissedItem
	// Overdue are the clocks still not met past their deadline at To,
	// however long ago they breached: a breach that lasts is in every
	// daily digest. OverdueCount counts all of them.
	Overdue      []BreachLine
	OverdueCount int
}
