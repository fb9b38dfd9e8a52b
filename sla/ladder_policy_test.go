package sla

import (
	"testing"
	"time"
)

// A ladder setting that changes while an incident's clock is breached (a
// restart with an edited policy, or a critical window that now covers the
// report) must not fire again the steps that fired already: the eager
// schedule remembered each fired step and fired only new ones.
func TestPolicyChangeDoesNotRefireTheLadder(t *testing.T) {
	p1 := DefaultPolicy()
	inc := newCore(t)
	ref := &eager{pending: map[string]Timer{}, fired: map[string]bool{}}
	ref.sync(inc.Timers(p1, t0))
	slots := inc.Reschedule(p1, t0, nil)

	// The ack deadline (t0+30m) passes; the breach fires at t0+31m.
	now := t0.Add(31 * time.Minute)
	ref.sync(inc.Timers(p1, now))
	if want := ref.due(now); len(want) == 0 {
		t.Fatal("eager: nothing due")
	}
	_, next := inc.Fire(p1, now, slots)
	slots = inc.Settle(p1, now, next, map[string]bool{"ack": true, "onsite": true, "restore": true})

	// The lead's escalation moves from 15 to 20 minutes after the deadline.
	p2 := p1
	p2.LeadAfter = 20 * time.Minute
	now = now.Add(time.Minute)
	ref.sync(inc.Timers(p2, now))
	want := ref.due(now)
	due, _ := inc.Fire(p2, now, slots)
	if len(due) != len(want) {
		t.Fatalf("after the policy change: lazy fires %v, eager %v", alertsOf(due, inc, p2), alertsOf(want, inc, p2))
	}
}
