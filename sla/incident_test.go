package sla

import (
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func newCore(t *testing.T) Incident {
	t.Helper()
	inc, ev, err := NewIncident("acme", SeverityCore, "集群全部宕机了", "core-failure", Actor{ID: "li", Name: "Li"}, DefaultPolicy(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != EventOpened || inc.Version != 1 {
		t.Fatalf("event %v version %d", ev.Kind, inc.Version)
	}
	return inc
}

func TestDefaultDeadlines(t *testing.T) {
	p := DefaultPolicy()
	core := p.DeadlinesFor(t0, time.Time{}, SeverityCore)
	if core.Ack != t0.Add(30*time.Minute) || core.Onsite != t0.Add(2*time.Hour) || core.Restore != t0.Add(4*time.Hour) {
		t.Fatalf("core deadlines %+v", core)
	}
	non := p.DeadlinesFor(t0, time.Time{}, SeverityNoncore)
	if non.Ack != t0.Add(30*time.Minute) || !non.Onsite.IsZero() || non.Restore != t0.Add(24*time.Hour) {
		t.Fatalf("noncore deadlines %+v", non)
	}
	// Calendar time: a report at 23:50 on a Saturday is due at 00:20 on Sunday.
	sat := time.Date(2026, 11, 28, 23, 50, 0, 0, time.UTC)
	if d := p.DeadlinesFor(sat, time.Time{}, SeverityNoncore); d.Ack != sat.Add(30*time.Minute) {
		t.Fatalf("ack %v", d.Ack)
	}
}

func TestContractOverride(t *testing.T) {
	p := PolicyOverride{AckWithin: 15 * time.Minute, CoreRestoreWithin: 3 * time.Hour}.Apply(DefaultPolicy())
	if p.AckWithin != 15*time.Minute || p.CoreRestoreWithin != 3*time.Hour || p.CoreOnsiteWithin != 2*time.Hour || p.NoncoreRestoreWithin != 24*time.Hour {
		t.Fatalf("policy %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := PolicyOverride{CoreOnsiteWithin: 5 * time.Hour}.Apply(DefaultPolicy())
	if ErrorCode(bad.Validate()) != EINVALID {
		t.Fatal("on-site after restore accepted")
	}
}

func TestSeverityChangeRecomputesFromReport(t *testing.T) {
	inc := newCore(t)
	later := t0.Add(time.Hour)
	if _, err := inc.SetSeverity(Actor{ID: "wang"}, SeverityNoncore, DefaultPolicy(), later); err != nil {
		t.Fatal(err)
	}
	if inc.Deadlines.Restore != t0.Add(24*time.Hour) || !inc.Deadlines.Onsite.IsZero() || inc.Deadlines.Ack != t0.Add(30*time.Minute) {
		t.Fatalf("deadlines %+v", inc.Deadlines)
	}
	if _, err := inc.SetSeverity(Actor{ID: "wang"}, SeverityNoncore, DefaultPolicy(), later); ErrorCode(err) != ECONFLICT {
		t.Fatalf("same severity: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	eng := Actor{ID: "wang", Name: "Wang"}
	inc := newCore(t)
	steps := []struct {
		name   string
		do     func() (Event, error)
		status Status
	}{
		{"ack", func() (Event, error) { return inc.Acknowledge(eng, t0.Add(10*time.Minute)) }, StatusAcknowledged},
		{"onsite", func() (Event, error) { return inc.ArriveOnsite(eng, t0.Add(90*time.Minute)) }, StatusOnsite},
		{"restore", func() (Event, error) { return inc.Restore(eng, "replaced disk", t0.Add(3*time.Hour)) }, StatusRestored},
		{"close", func() (Event, error) { return inc.Close(eng, t0.Add(5*time.Hour)) }, StatusClosed},
		{"reopen", func() (Event, error) { return inc.Reopen(eng, DefaultPolicy(), t0.Add(6*time.Hour)) }, StatusAcknowledged},
	}
	for _, s := range steps {
		if _, err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if inc.Status != s.status {
			t.Fatalf("%s: status %s", s.name, inc.Status)
		}
	}
	if inc.AckedAt != t0.Add(10*time.Minute) || inc.AssigneeID != "wang" {
		t.Fatalf("ack lost: %+v", inc)
	}
	if inc.Deadlines.Restore != t0.Add(10*time.Hour) {
		t.Fatalf("reopened restore deadline %v", inc.Deadlines.Restore)
	}
	if inc.Version != 6 {
		t.Fatalf("version %d", inc.Version)
	}
}

func TestIllegalTransitions(t *testing.T) {
	eng := Actor{ID: "wang"}
	p := DefaultPolicy()
	cases := []struct {
		name string
		prep func(*Incident)
		do   func(*Incident) error
		code string
	}{
		{"close before restore", nil, func(i *Incident) error { _, err := i.Close(eng, t0); return err }, ECONFLICT},
		{"ack twice", func(i *Incident) { i.Acknowledge(eng, t0) }, func(i *Incident) error { _, err := i.Acknowledge(eng, t0); return err }, ECONFLICT},
		{"ack closed", func(i *Incident) { i.Restore(eng, "x", t0); i.Close(eng, t0) }, func(i *Incident) error { _, err := i.Acknowledge(eng, t0); return err }, ECONFLICT},
		{"onsite restored", func(i *Incident) { i.Restore(eng, "x", t0) }, func(i *Incident) error { _, err := i.ArriveOnsite(eng, t0); return err }, ECONFLICT},
		{"restore twice", func(i *Incident) { i.Restore(eng, "x", t0) }, func(i *Incident) error { _, err := i.Restore(eng, "y", t0); return err }, ECONFLICT},
		{"restore without summary", nil, func(i *Incident) error { _, err := i.Restore(eng, "  ", t0); return err }, EINVALID},
		{"reopen open", nil, func(i *Incident) error { _, err := i.Reopen(eng, p, t0); return err }, ECONFLICT},
		{"sev closed", func(i *Incident) { i.Restore(eng, "x", t0); i.Close(eng, t0) }, func(i *Incident) error { _, err := i.SetSeverity(eng, SeverityNoncore, p, t0); return err }, ECONFLICT},
		{"assign customer", nil, func(i *Incident) error {
			_, err := i.Assign(eng, Person{ID: "li", Role: RoleCustomer}, t0)
			return err
		}, EINVALID},
		{"empty note", nil, func(i *Incident) error { _, err := i.Note(eng, "", t0); return err }, EINVALID},
	}
	for _, c := range cases {
		inc := newCore(t)
		if c.prep != nil {
			c.prep(&inc)
		}
		before := inc
		err := c.do(&inc)
		if ErrorCode(err) != c.code {
			t.Errorf("%s: err %v, want code %s", c.name, err, c.code)
		}
		if !reflect.DeepEqual(inc, before) {
			t.Errorf("%s: failed transition changed the incident", c.name)
		}
		if e, ok := AsError(err); !ok || e.Key == "" || e.Message == "" {
			t.Errorf("%s: error without key or message: %#v", c.name, err)
		}
	}
}

func TestClocksAndTimers(t *testing.T) {
	eng := Actor{ID: "wang"}
	p := DefaultPolicy()
	inc := newCore(t)
	// Per clock: reminder, breach, lead, manager, first repeat; and the follow-up.
	if got := len(inc.Timers(p, t0)); got != 16 {
		t.Fatalf("open core incident has %d timers, want 16", got)
	}
	inc.Acknowledge(eng, t0.Add(40*time.Minute))
	ts := inc.Timers(p, t0.Add(40*time.Minute))
	if len(ts) != 11 || ts[0].Clock != ClockOnsite || ts[0].Due != t0.Add(110*time.Minute) {
		t.Fatalf("timers after ack %+v", ts)
	}
	cs := inc.Clocks()
	if !cs[0].Breached(t0) || !cs[0].Met() {
		t.Fatal("ack at 40m must be a met, breached clock")
	}
	// Restoring remotely meets the on-site clock (C3).
	inc.Restore(eng, "restarted the namenode", t0.Add(time.Hour))
	cs = inc.Clocks()
	if cs[1].MetAt != t0.Add(time.Hour) || cs[1].Breached(t0.Add(5*time.Hour)) {
		t.Fatalf("on-site clock %+v", cs[1])
	}
	for _, x := range inc.Timers(p, t0.Add(time.Hour)) {
		if x.Clock != ClockFollowUp {
			t.Fatalf("restored incident still has %+v", x)
		}
	}
}

func TestEscalationLadder(t *testing.T) {
	p := DefaultPolicy()
	inc := newCore(t)
	var ack []Timer
	now := t0.Add(3 * time.Hour) // 2h30m past the ack deadline
	for _, x := range inc.Timers(p, now) {
		if x.Clock == ClockAck {
			ack = append(ack, x)
		}
	}
	due := t0.Add(30 * time.Minute)
	want := []Timer{
		{ClockAck, TimerReminder, LevelReminder, due.Add(-10 * time.Minute)},
		{ClockAck, TimerBreach, LevelAssignee, due},
		{ClockAck, TimerEscalation, LevelLead, due.Add(15 * time.Minute)},
		{ClockAck, TimerEscalation, LevelManager, due.Add(30 * time.Minute)},
		// Of the repeats backing off (30m, 1h, 2h, 4h after the managers'
		// escalation): the latest due (+2h) and the next (+4h).
		{ClockAck, TimerEscalation, LevelManager, due.Add(120 * time.Minute)},
		{ClockAck, TimerEscalation, LevelManager, due.Add(240 * time.Minute)},
	}
	if len(ack) != len(want) {
		t.Fatalf("ack timers %+v", ack)
	}
	for i := range want {
		if ack[i] != want[i] {
			t.Errorf("timer %d = %+v, want %+v", i, ack[i], want[i])
		}
	}
}

func TestWeeklyFollowUpAndReport(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	p := DefaultPolicy()
	p.FollowUp.Zone = sh
	eng := Actor{ID: "wang"}
	// t0 is Wednesday 2026-11-25 17:00 CST.
	inc, _, _ := NewIncident("acme", SeverityNoncore, "slow", "", Actor{}, p, t0)
	inc.Acknowledge(eng, t0.Add(time.Minute))
	kinds := func(now time.Time) map[TimerKind][]time.Time {
		m := map[TimerKind][]time.Time{}
		for _, x := range inc.Timers(p, now) {
			m[x.Kind] = append(m[x.Kind], x.Due)
		}
		return m
	}
	// No on-site visit: the first ping is the first Friday 10:00 a week after the report.
	friday := time.Date(2026, 12, 4, 10, 0, 0, 0, sh)
	if got := kinds(t0)[TimerFollowUp]; len(got) != 1 || !got[0].Equal(friday) {
		t.Fatalf("first follow-up %v, want %v", got, friday)
	}
	// On site on Thursday: the ping comes that Friday, and the report is asked for daily.
	thu := time.Date(2026, 11, 26, 15, 0, 0, 0, sh)
	inc.ArriveOnsite(eng, thu)
	k := kinds(thu)
	if len(k[TimerFollowUp]) != 1 || !k[TimerFollowUp][0].Equal(time.Date(2026, 11, 27, 10, 0, 0, 0, sh)) {
		t.Fatalf("follow-up after visit %v", k[TimerFollowUp])
	}
	if len(k[TimerReport]) != 1 || !k[TimerReport][0].Equal(thu.Add(24*time.Hour)) {
		t.Fatalf("report reminder %v", k[TimerReport])
	}
	// The ping fires; unanswered, the lead hears after a day; /followup answers it.
	ping := time.Date(2026, 11, 27, 10, 0, 0, 0, sh)
	inc.PingFollowUp(ping)
	if k := kinds(ping); len(k[TimerFollowUpCheck]) != 1 || !k[TimerFollowUpCheck][0].Equal(ping.Add(24*time.Hour)) {
		t.Fatalf("check %v", k[TimerFollowUpCheck])
	}
	if _, err := inc.FollowUp(eng, "called their admin", ping.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if k := kinds(ping.Add(time.Hour)); len(k[TimerFollowUpCheck]) != 0 {
		t.Fatal("answered ping still checked")
	}
	inc.FileReport(eng, "report", ping.Add(2*time.Hour))
	if k := kinds(ping.Add(2 * time.Hour)); len(k[TimerReport]) != 0 {
		t.Fatal("report reminder after filing")
	}
	inc.Restore(eng, "tuned", ping.Add(3*time.Hour))
	inc.Close(eng, ping.Add(4*time.Hour))
	if ts := inc.Timers(p, ping.Add(4*time.Hour)); len(ts) != 0 {
		t.Fatalf("closed incident timers %+v", ts)
	}
	if _, err := inc.FollowUp(eng, "x", ping.Add(5*time.Hour)); ErrorCode(err) != ECONFLICT {
		t.Fatal("follow-up on a closed incident")
	}
}

func TestNextWeekly(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	fri10 := time.Date(2026, 11, 27, 10, 0, 0, 0, sh)
	for _, from := range []time.Time{time.Date(2026, 11, 25, 9, 0, 0, 0, sh), fri10, fri10.Add(-time.Nanosecond)} {
		if got := NextWeekly(from, time.Friday, 10*time.Hour, sh); !got.Equal(fri10) {
			t.Errorf("from %v: %v", from, got)
		}
	}
	if got := NextWeekly(fri10.Add(time.Second), time.Friday, 10*time.Hour, sh); !got.Equal(fri10.AddDate(0, 0, 7)) {
		t.Errorf("just after: %v", got)
	}
}

func TestCollapse(t *testing.T) {
	due := t0
	alerts := Collapse([]Timer{
		{ClockAck, TimerReminder, LevelReminder, due.Add(-10 * time.Minute)},
		{ClockAck, TimerBreach, LevelAssignee, due},
		{ClockAck, TimerEscalation, LevelLead, due.Add(15 * time.Minute)},
		{ClockOnsite, TimerReminder, LevelReminder, due.Add(80 * time.Minute)},
		{ClockFollowUp, TimerFollowUp, LevelAssignee, due},
		{ClockFollowUp, TimerFollowUpCheck, LevelLead, due},
	})
	if len(alerts) != 4 {
		t.Fatalf("%+v", alerts)
	}
	if a := alerts[0]; a.Kind != TimerEscalation || a.Level != LevelLead || a.Collapsed != 2 {
		t.Fatalf("ack alert %+v", a)
	}
	if a := alerts[1]; a.Clock != ClockOnsite || a.Kind != TimerReminder || a.Collapsed != 0 {
		t.Fatalf("onsite alert %+v", a)
	}
}

func TestContractWarranty(t *testing.T) {
	c := Contract{AcceptedOn: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	if c.WarrantyEnds() != time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) {
		t.Fatal(c.WarrantyEnds())
	}
	if !c.InWarranty(t0) || c.InWarranty(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)) || c.InWarranty(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("warranty window")
	}
}

func TestRoles(t *testing.T) {
	if !RoleAdmin.AtLeast(RoleEngineer) || RoleCustomer.AtLeast(RoleEngineer) || Role("root").AtLeast(RoleCustomer) {
		t.Fatal("role order")
	}
	cust := Person{Role: RoleCustomer, CustomerID: "acme"}
	if !cust.CanSee("acme") || cust.CanSee("globex") || (Person{Role: RoleCustomer}).CanSee("") {
		t.Fatal("customer visibility")
	}
}

func TestOnCall(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	r := Rotation{People: []string{"wang", "sam"}, Weekday: time.Monday, At: 9 * time.Hour, Zone: sh}
	mon := time.Date(2026, 11, 23, 9, 0, 0, 0, sh)
	now, next := OnCall(r, nil, mon.Add(time.Hour))
	if now.Start != mon || now.End != mon.AddDate(0, 0, 7) || next.PersonID == now.PersonID || next.Start != now.End {
		t.Fatalf("now %+v next %+v", now, next)
	}
	later, _ := OnCall(r, nil, mon.AddDate(0, 0, 7))
	if later.PersonID != next.PersonID {
		t.Fatalf("the next shift %+v is not %+v", later, next)
	}
	if again, _ := OnCall(r, nil, mon.AddDate(0, 0, 14)); again.PersonID != now.PersonID {
		t.Fatal("rotation does not come round")
	}
	before, _ := OnCall(r, nil, mon.Add(-time.Minute))
	if before.PersonID == now.PersonID || before.End != mon {
		t.Fatalf("before handover %+v", before)
	}
	o := []Override{{PersonID: "zhao", Start: mon.Add(2 * time.Hour), End: mon.Add(5 * time.Hour)}}
	if cur, nxt := OnCall(r, o, mon.Add(3*time.Hour)); cur.PersonID != "zhao" || !cur.Override || nxt.PersonID != now.PersonID ||
		!nxt.Start.Equal(cur.End) || nxt.End != now.End {
		t.Fatalf("override %+v then %+v", cur, nxt)
	}
	if empty, _ := OnCall(Rotation{}, nil, mon); empty.PersonID != "" {
		t.Fatal("empty rotation")
	}
}

// A clock met at exactly its deadline is on time, also when one of the two
// times carries nanoseconds the database does not keep.
func TestMetAtTheDeadlineIsOnTime(t *testing.T) {
	due := time.Date(2026, 11, 25, 9, 30, 0, 123456000, time.UTC)
	for _, met := range []time.Time{due, due.Add(789 * time.Nanosecond)} {
		c := ClockState{Clock: ClockAck, Due: due, MetAt: met}
		if c.Breached(met.Add(time.Hour)) {
			t.Errorf("met at %v against %v: breached", met, due)
		}
	}
	if c := (ClockState{Clock: ClockAck, Due: due, MetAt: due.Add(time.Microsecond)}); !c.Breached(due) {
		t.Error("met a microsecond late: on time")
	}
	if c := (ClockState{Clock: ClockAck, Due: due}); c.Breached(due.Add(999 * time.Nanosecond)) {
		t.Error("running at its deadline: breached")
	}
}

// The managers' reminders back off and then come once a day, at the start
// of the working day in the policy's zone, however long the clock stays
// broken.
func TestRepeatsBackOff(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	p := DefaultPolicy()
	p.FollowUp.Zone = sh
	top := time.Date(2026, 11, 25, 10, 0, 0, 0, sh) // the managers' escalation
	at := func(h, m int) time.Time { return top.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	day := func(d int) time.Time { return time.Date(2026, 11, 25+d, 9, 0, 0, 0, sh) }
	for _, c := range []struct {
		now  time.Time
		want []time.Time
	}{
		{top, []time.Time{at(0, 30)}},
		{at(0, 30), []time.Time{at(0, 30), at(1, 30)}},
		{at(1, 0), []time.Time{at(0, 30), at(1, 30)}},
		{at(3, 29), []time.Time{at(1, 30), at(3, 30)}},
		{at(7, 30), []time.Time{at(7, 30), day(1)}}, // the last step at 17:30, then daily at 09:00
		{day(1), []time.Time{day(1), day(2)}},
		{day(30).Add(5 * time.Hour), []time.Time{day(30), day(31)}},
	} {
		got := p.Repeats(top, c.now)
		if len(got) != len(c.want) {
			t.Errorf("at %v: %v, want %v", c.now, got, c.want)
			continue
		}
		for i := range got {
			if !got[i].Equal(c.want[i]) {
				t.Errorf("at %v: %v, want %v", c.now, got, c.want)
			}
		}
	}
	// Across a clock change the daily reminder keeps its time of day.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no zone data")
	}
	p.FollowUp.Zone = ny
	top = time.Date(2026, 10, 30, 9, 0, 0, 0, ny)
	got := p.Repeats(top, time.Date(2026, 11, 2, 12, 0, 0, 0, ny)) // DST ended on November 1
	if got[0].In(ny).Hour() != 9 || got[1].In(ny).Hour() != 9 || got[1].In(ny).Day() != 3 {
		t.Errorf("across the clock change: %v", got)
	}
	// No steps: daily at once.
	p.RepeatSteps = 0
	if got := p.Repeats(top, top); !got[0].Equal(time.Date(2026, 10, 31, 9, 0, 0, 0, ny)) {
		t.Errorf("no steps: %v", got)
	}
}
