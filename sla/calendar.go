package sla

import (
	"fmt"
	"sort"
	"time"
)

// OccasionKind is a scheduled service the plan promises.
type OccasionKind string

// Occasions of the plan.
const (
	// OccasionInspection is the quarterly inspection during the warranty (C7, C12).
	OccasionInspection OccasionKind = "inspection"
	// OccasionHealthCheck is the health check in August and at year end, in
	// warranty or not (C9).
	OccasionHealthCheck OccasionKind = "healthcheck"
)

// MonthDay is a day of the year.
type MonthDay struct {
	Month time.Month
	Day   int
}

// Calendar says when the scheduled services happen and when they are
// announced, in one zone.
type Calendar struct {
	Zone *time.Location
	// InspectionDay is the day of a quarter (0 = its first day) on which
	// each customer's inspection falls; default 45, mid-quarter.
	InspectionDay int
	// HealthChecks are the health check days; default Aug 15 and Dec 15.
	HealthChecks []MonthDay
	// NoticeAhead is how long before an occasion the customer is told;
	// default a week. They are told again on the day.
	NoticeAhead time.Duration
	// At is the time of day the posts go out; default 09:00.
	At time.Duration
	// WarrantyWarnings are how many days before the end of free
	// maintenance the managers are warned; default 30 and 7 (C1).
	WarrantyWarnings []int
}

// DefaultCalendar is the plan's calendar in a zone.
func DefaultCalendar(zone *time.Location) Calendar {
	return Calendar{Zone: zone, InspectionDay: 45, HealthChecks: []MonthDay{{time.August, 15}, {time.December, 15}},
		NoticeAhead: 7 * 24 * time.Hour, At: 9 * time.Hour, WarrantyWarnings: []int{30, 7}}
}

// Occasion is one inspection or health check of one customer.
type Occasion struct {
	Kind   OccasionKind
	Period string    // "2026Q3" for an inspection, "2026-08" for a health check
	Day    time.Time // local midnight of the day
}

// PostKind is what a scheduled post is.
type PostKind string

// Scheduled posts.
const (
	PostAhead    PostKind = "ahead"    // an occasion is coming (a week ahead)
	PostOnTheDay PostKind = "today"    // an occasion is today
	PostWarranty PostKind = "warranty" // free maintenance ends soon (to the managers)
)

// Post is one scheduled message. Job, CustomerID and Period key it, so that
// it is posted once however often the schedule is evaluated.
type Post struct {
	Job        string
	CustomerID string
	Period     string
	Kind       PostKind
	Occasion   Occasion  // for ahead and today
	DaysLeft   int       // for warranty warnings
	Due        time.Time // when it should go out
	Stale      time.Time // after this it is no longer worth sending
}

func (c Calendar) zone() *time.Location {
	if c.Zone == nil {
		return time.UTC
	}
	return c.Zone
}

func (c Calendar) day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, c.zone())
}

// Occasions returns a customer's occasions whose day falls in [from, to):
// quarterly inspections on days inside the free maintenance period, and
// every health check, warranty or not.
func (c Calendar) Occasions(cu Customer, from, to time.Time) []Occasion {
	var out []Occasion
	f, t := from.In(c.zone()), to.In(c.zone())
	for y := f.Year() - 1; y <= t.Year()+1; y++ {
		for q := 0; q < 4; q++ {
			d := c.day(y, time.Month(3*q+1), 1).AddDate(0, 0, c.InspectionDay)
			if !d.Before(from) && d.Before(to) && cu.Contract.InWarranty(d) {
				out = append(out, Occasion{Kind: OccasionInspection, Period: fmt.Sprintf("%dQ%d", y, q+1), Day: d})
			}
		}
		for _, md := range c.HealthChecks {
			d := c.day(y, md.Month, md.Day)
			if !d.Before(from) && d.Before(to) && !cu.Contract.AcceptedOn.IsZero() && !d.Before(cu.Contract.AcceptedOn) {
				out = append(out, Occasion{Kind: OccasionHealthCheck, Period: fmt.Sprintf("%d-%02d", y, md.Month), Day: d})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day.Before(out[j].Day) })
	return out
}

// Posts returns the posts of a customer due in (now-lookback, now]: the
// notices ahead of and on the day of each occasion, and the warranty
// warnings. A post whose Stale time has passed is returned too, so that the
// caller can record that it was skipped.
func (c Calendar) Posts(cu Customer, now time.Time, lookback time.Duration) []Post {
	var out []Post
	from := now.Add(-lookback)
	due := func(p Post) {
		if p.Due.After(from) && !p.Due.After(now) {
			out = append(out, p)
		}
	}
	for _, o := range c.Occasions(cu, from.Add(-c.NoticeAhead-48*time.Hour), now.Add(c.NoticeAhead+48*time.Hour)) {
		at := o.Day.Add(c.At)
		due(Post{Job: string(o.Kind) + "-ahead", CustomerID: cu.ID, Period: o.Period, Kind: PostAhead, Occasion: o,
			Due: o.Day.Add(-c.NoticeAhead).Add(c.At), Stale: at})
		due(Post{Job: string(o.Kind) + "-today", CustomerID: cu.ID, Period: o.Period, Kind: PostOnTheDay, Occasion: o,
			Due: at, Stale: o.Day.AddDate(0, 0, 1)})
	}
	if end := cu.Contract.WarrantyEnds(); !end.IsZero() {
		e := end.In(c.zone())
		endDay := c.day(e.Year(), e.Month(), e.Day())
		warnings := append([]int(nil), c.WarrantyWarnings...)
		sort.Sort(sort.Reverse(sort.IntSlice(warnings)))
		for i, n := range warnings {
			stale := endDay
			if i+1 < len(warnings) {
				stale = endDay.AddDate(0, 0, -warnings[i+1]) // the next warning supersedes it
			}
			due(Post{Job: fmt.Sprintf("warranty-%d", n), CustomerID: cu.ID, Period: endDay.Format("2006-01-02"), Kind: PostWarranty,
				DaysLeft: n, Due: endDay.AddDate(0, 0, -n).Add(c.At), Stale: stale})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out
}
