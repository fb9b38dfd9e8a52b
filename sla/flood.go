package sla

import "time"

// FloodLimit is the per-customer intake limit: past Max incidents opened
// for one customer within Within, a new fault report from that customer
// joins the latest of them instead of opening another, and the engineers
// are told how many came. A burst of hundreds of reports (a monitoring
// script, a copy-paste loop) is one incident with a count, not hundreds.
type FloodLimit struct {
	Max    int
	Within time.Duration
}

// NoFloodLimit turns the limit off (for load tests that open incident after
// incident for one customer).
var NoFloodLimit = FloodLimit{Max: -1}

// DefaultFloodLimit folds past 10 incidents in 10 minutes.
var DefaultFloodLimit = FloodLimit{Max: 10, Within: 10 * time.Minute}

// Off reports whether the limit is turned off (a negative Max).
func (f FloodLimit) Off() bool { return f.Max < 0 }

// Limit is how many incidents within the window the limit allows.
func (f FloodLimit) Limit() int { return f.orDefault().Max }

// orDefault is f, or DefaultFloodLimit for the zero value.
func (f FloodLimit) orDefault() FloodLimit {
	if f.Max == 0 || f.Within <= 0 {
		return DefaultFloodLimit
	}
	return f
}

// Window is how far back the limit counts.
func (f FloodLimit) Window() time.Duration { return f.orDefault().Within }

// Since is the start of the window that counts at now.
func (f FloodLimit) Since(now time.Time) time.Time { return now.Add(-f.orDefault().Within) }

// Folds reports whether a customer with opened incidents opened in the
// window must have the next report folded.
func (f FloodLimit) Folds(opened int) bool { return !f.Off() && opened >= f.orDefault().Max }

// Tell reports whether the engineers hear of the n-th report of a flood
// (counted from the first folded one): the first, then every tenth.
func (FloodLimit) Tell(n int) bool { return n == 1 || n%10 == 0 }
