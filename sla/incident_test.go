package sla

import (
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
		if inc != before {
			t.Errorf("%s: failed transition changed the incident", c.name)
		}
		if e, ok := AsError(err); !ok || e.Key == "" || e.Message == "" {
			t.Errorf("%s: error without key or message: %#v", c.name, err)
		}
	}
}

func TestClocksAndTimers(t *testing.T) {
	eng := Actor{ID: "wang"}
	inc := newCore(t)
	if got := len(inc.Timers(DefaultReminderBefore)); got != 6 {
		t.Fatalf("open core incident has %d timers, want 6", got)
	}
	inc.Acknowledge(eng, t0.Add(40*time.Minute))
	ts := inc.Timers(DefaultReminderBefore)
	if len(ts) != 4 || ts[0].Clock != ClockOnsite || ts[0].Due != t0.Add(110*time.Minute) {
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
	if len(inc.Timers(DefaultReminderBefore)) != 0 {
		t.Fatal("restored incident still has timers")
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
