package sla

import (
	"fmt"
	"sort"
	"strings"
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
	// ReportRemindDays is for how many days after an inspection or health
	// check the engineers are reminded, daily, until its report is filed;
	// default 30.
	ReportRemindDays int
	// RevisitMonths is how often each account's engineer is reminded to ask
	// the customer how the system serves them (C13); default 3 (quarterly).
	// RevisitDay is the day of each such period the reminder comes (0 = its
	// first day); default 14. A revisit not recorded by RevisitNagDay of the
	// period is asked for again; default 45.
	RevisitMonths int
	RevisitDay    int
	RevisitNagDay int
	// DigestAt is the time of day of the managers' daily digest (and the
	// weekly one on Mondays, and the quarterly report on a quarter's first
	// day); default 08:30.
	DigestAt time.Duration
}

// DefaultCalendar is the plan's calendar in a zone.
func DefaultCalendar(zone *time.Location) Calendar {
	return Calendar{Zone: zone, InspectionDay: 45, HealthChecks: []MonthDay{{time.August, 15}, {time.December, 15}},
		NoticeAhead: 7 * 24 * time.Hour, At: 9 * time.Hour, WarrantyWarnings: []int{30, 7}, ReportRemindDays: 30,
		RevisitMonths: 3, RevisitDay: 14, RevisitNagDay: 45, DigestAt: 8*time.Hour + 30*time.Minute}
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
	PostReport   PostKind = "report"   // an occasion's report is not filed yet (to the engineers)
	PostRevisit  PostKind = "revisit"  // time to ask the customer how the system serves them
	PostDigest   PostKind = "digest"   // the managers' daily, weekly or quarterly digest
)

// Revisit is the OccasionKind-like name under which revisits are recorded
// as done.
const Revisit = "revisit"

// Digest kinds.
const (
	DigestDaily   = "daily"
	DigestWeekly  = "weekly"
	DigestQuarter = "quarter"
)

// Done says whether a customer's occasion report ("inspection",
// "healthcheck") or revisit ("revisit") of a period has been recorded.
type Done func(kind, period string) bool

// Post is one scheduled message. Job, CustomerID and Period key it, so that
// it is posted once however often the schedule is evaluated.
type Post struct {
	Job        string
	CustomerID string
	Period     string
	Kind       PostKind
	Occasion   Occasion  // for ahead and today
	DaysLeft   int       // for warranty warnings
	Digest     string    // for digests: daily, weekly or quarter
	From, To   time.Time // for digests and revisits: the period covered
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

// Quarter returns the calendar quarter containing t: its first day, the
// first day of the next one, and its name ("2026Q3").
func (c Calendar) Quarter(t time.Time) (start, end time.Time, name string) {
	t = t.In(c.zone())
	q := (int(t.Month()) - 1) / 3
	start = c.day(t.Year(), time.Month(3*q+1), 1)
	return start, start.AddDate(0, 3, 0), fmt.Sprintf("%dQ%d", t.Year(), q+1)
}

// ParseQuarter reads "2026Q3" (or "2026q3").
func (c Calendar) ParseQuarter(s string) (start, end time.Time, ok bool) {
	var y, q int
	if n, err := fmt.Sscanf(strings.ToUpper(s), "%dQ%d", &y, &q); err != nil || n != 2 || q < 1 || q > 4 || y < 2000 || y > 2200 {
		return time.Time{}, time.Time{}, false
	}
	start = c.day(y, time.Month(3*q-2), 1)
	return start, start.AddDate(0, 3, 0), true
}

// RevisitPeriod returns the revisit period containing t: its first day, the
// next period's first day, and its name (the first month, "2026-07").
func (c Calendar) RevisitPeriod(t time.Time) (start, end time.Time, name string) {
	months := c.RevisitMonths
	if months <= 0 || 12%months != 0 {
		months = 3
	}
	t = t.In(c.zone())
	m := (int(t.Month())-1)/months*months + 1
	start = c.day(t.Year(), time.Month(m), 1)
	return start, start.AddDate(0, months, 0), start.Format("2006-01")
}

// revisits adds the revisit reminders of an accepted customer: one on
// RevisitDay of each period, and one more on RevisitNagDay if none was
// recorded by then.
func (c Calendar) revisits(cu Customer, from, now time.Time, done Done, due func(Post)) {
	if cu.Contract.AcceptedOn.IsZero() {
		return
	}
	for t := from; ; {
		start, end, name := c.RevisitPeriod(t)
		for _, n := range []struct {
			job string
			day int
		}{{"revisit", c.RevisitDay}, {"revisit-again", c.RevisitNagDay}} {
			d := start.AddDate(0, 0, n.day)
			if d.Before(cu.Contract.AcceptedOn) || !d.Before(end) || (n.job == "revisit-again" && done(Revisit, name)) {
				continue
			}
			due(Post{Job: n.job, CustomerID: cu.ID, Period: name, Kind: PostRevisit, From: start, To: end,
				Due: d.Add(c.At), Stale: end})
		}
		if !end.Before(now) {
			return
		}
		t = end
	}
}

// Digests returns the managers' digests due in (now-lookback, now]: daily,
// weekly on Mondays (the week before), and the quarterly report on the
// first day of a quarter (the quarter before). A digest goes stale when the
// next one of its kind is due.
func (c Calendar) Digests(now time.Time, lookback time.Duration) []Post {
	var out []Post
	from := now.Add(-lookback)
	n := now.In(c.zone())
	for d := c.day(n.Year(), n.Month(), n.Day()); !d.Add(c.DigestAt).Before(from.AddDate(0, 0, -1)); d = d.AddDate(0, 0, -1) {
		at := d.Add(c.DigestAt)
		if !at.After(from) || at.After(now) {
			continue
		}
		out = append(out, Post{Job: "digest-daily", Period: d.Format("2006-01-02"), Kind: PostDigest, Digest: DigestDaily,
			From: at.Add(-24 * time.Hour), To: at, Due: at, Stale: at.Add(24 * time.Hour)})
		if d.Weekday() == time.Monday {
			out = append(out, Post{Job: "digest-weekly", Period: d.Format("2006-01-02"), Kind: PostDigest, Digest: DigestWeekly,
				From: at.AddDate(0, 0, -7), To: at, Due: at, Stale: at.AddDate(0, 0, 7)})
		}
		if d.Day() == 1 && (d.Month()-1)%3 == 0 {
			start, end, name := c.Quarter(d.AddDate(0, 0, -1))
			out = append(out, Post{Job: "digest-quarter", Period: name, Kind: PostDigest, Digest: DigestQuarter,
				From: start, To: end, Due: at, Stale: at.AddDate(0, 0, 14)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out
}

// Posts returns the posts of a customer due in (now-lookback, now]: the
// notices ahead of and on the day of each occasion, the daily reminders for
// occasion reports not yet done, the revisit reminders, and the warranty
// warnings. A post whose Stale time has passed is returned too, so that the
// caller can record that it was skipped.
func (c Calendar) Posts(cu Customer, now time.Time, lookback time.Duration, done Done) []Post {
	if done == nil {
		done = func(string, string) bool { return false }
	}
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
	// After the day, a daily reminder until the report is filed.
	for _, o := range c.Occasions(cu, from.AddDate(0, 0, -c.ReportRemindDays-2), now.Add(24*time.Hour)) {
		if done(string(o.Kind), o.Period) {
			continue
		}
		for n := 1; n <= c.ReportRemindDays; n++ {
			d := o.Day.AddDate(0, 0, n)
			due(Post{Job: string(o.Kind) + "-report", CustomerID: cu.ID, Period: o.Period + "@" + d.Format("2006-01-02"),
				Kind: PostReport, Occasion: o, DaysLeft: n, Due: d.Add(c.At), Stale: d.AddDate(0, 0, 1)})
		}
	}
	c.revisits(cu, from, now, done, due)
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
	sort.SliceStable(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out
}
