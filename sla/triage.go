package sla

import (
	"strconv"
	"strings"
	"time"
)

// NewTriage opens an incident for a message the classifier was not sure
// is a fault: it waits in StatusTriage for an engineer to decide, with
// every clock running from the message as if it were a fault of the
// severity guessed, so that the promises hold whatever the decision.
func NewTriage(customerID string, guess Severity, title, reason string, reporter Actor, p Policy, now time.Time) (Incident, Event, error) {
	inc, ev, err := NewIncident(customerID, guess, title, reason, reporter, p, now)
	if err != nil {
		return inc, ev, err
	}
	inc.Status = StatusTriage
	ev.Data["triage"] = "1"
	return inc, ev, nil
}

func (i *Incident) triageFirst() error {
	return Errorf(ECONFLICT, "err.triage_first", map[string]any{"id": i.ID},
		"incident #%d awaits triage: decide first with /triage %d core|noncore|notfault", i.ID, i.ID)
}

// Decide records an engineer's decision that the incident is a fault of
// severity sev: a triaged incident becomes open (or acknowledged, if
// someone already answered the customer); one closed as not a fault by
// mistake comes back. The deadlines are those of sev from the report.
func (i *Incident) Decide(a Actor, sev Severity, p Policy, now time.Time) (Event, error) {
	if sev != SeverityCore && sev != SeverityNoncore {
		return Event{}, Errorf(EINVALID, "err.severity", map[string]any{"value": string(sev)}, "unknown severity %q", sev)
	}
	from := i.Status
	switch {
	case i.Status == StatusTriage:
	case i.Outcome == OutcomeNotFault:
		i.Outcome, i.ClosedAt = OutcomeFault, time.Time{}
	default:
		return Event{}, Errorf(ECONFLICT, "err.triage_state", map[string]any{"id": i.ID, "status": string(i.Status)},
			"incident #%d is not waiting for triage", i.ID)
	}
	prev := i.Severity
	i.redue(p, sev)
	i.Severity = sev
	switch {
	case !i.RestoredAt.IsZero():
		i.Status = StatusRestored
	case !i.OnsiteAt.IsZero():
		i.Status = StatusOnsite
	case !i.AckedAt.IsZero():
		i.Status = StatusAcknowledged
	default:
		i.Status = StatusOpen
	}
	return i.event(EventTriaged, a, now, "", map[string]string{"decision": string(sev), "from": string(prev), "was": string(from)}), nil
}

// breachedAt names the clocks breached at now, "ack,restore", for the
// record of an incident that leaves the figures: a breach must stay visible.
func (i Incident) breachedAt(now time.Time) string {
	var names []string
	for _, c := range i.Clocks() {
		if c.Breached(now) {
			names = append(names, string(c.Clock))
		}
	}
	return strings.Join(names, ",")
}

func (i *Incident) dismissedErr() error {
	if i.Outcome == OutcomeDuplicate {
		return Errorf(ECONFLICT, "err.dismissed_duplicate", map[string]any{"id": i.ID, "into": i.MergedInto},
			"incident #%d was merged into #%d", i.ID, i.MergedInto)
	}
	return Errorf(ECONFLICT, "err.dismissed_notfault", map[string]any{"id": i.ID},
		"incident #%d was closed as not a fault; if that was wrong: /triage %d core|noncore", i.ID, i.ID)
}

// DismissNotFault closes the incident as not a fault: its clocks stop, it
// leaves the compliance figures, and the digests list it with any clock it
// had already breached.
func (i *Incident) DismissNotFault(a Actor, reason string, now time.Time) (Event, error) {
	if i.Dismissed() {
		return Event{}, i.dismissedErr()
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Event{}, Errorf(EINVALID, "err.notfault_reason", nil, "say why it is not a fault")
	}
	data := map[string]string{"was": string(i.Status)}
	if b := i.breachedAt(now); b != "" {
		data["breached"] = b
	}
	i.Outcome, i.Status, i.ClosedAt = OutcomeNotFault, StatusClosed, now
	return i.event(EventNotFault, a, now, reason, data), nil
}

// MergeInto closes the incident as a duplicate of target, an incident of
// the same customer that is still being worked on.
func (i *Incident) MergeInto(a Actor, target Incident, now time.Time) (Event, error) {
	if target.ID == i.ID {
		return Event{}, Errorf(EINVALID, "err.merge_self", map[string]any{"id": i.ID}, "an incident cannot be merged into itself")
	}
	if target.CustomerID != i.CustomerID {
		return Event{}, Errorf(EINVALID, "err.merge_customer", map[string]any{"id": i.ID, "into": target.ID},
			"#%d and #%d are different customers' incidents", i.ID, target.ID)
	}
	if i.Dismissed() {
		return Event{}, i.dismissedErr()
	}
	if target.Dismissed() || target.Status == StatusClosed {
		return Event{}, Errorf(ECONFLICT, "err.merge_target", map[string]any{"into": target.ID},
			"incident #%d is closed: reopen it first, or merge into an incident still in progress", target.ID)
	}
	data := map[string]string{"into": strconv.FormatInt(target.ID, 10), "was": string(i.Status)}
	if b := i.breachedAt(now); b != "" {
		data["breached"] = b
	}
	i.Outcome, i.MergedInto, i.Status, i.ClosedAt = OutcomeDuplicate, target.ID, StatusClosed, now
	return i.event(EventMerged, a, now, target.Title, data), nil
}

// Absorb records on the surviving incident that dup was merged into it.
func (i *Incident) Absorb(a Actor, dup Incident, now time.Time) Event {
	return i.event(EventMerged, a, now, dup.Title, map[string]string{"from": strconv.FormatInt(dup.ID, 10)})
}

// Reply records a staff member's message to the customer in the incident's
// conversation. With firstResponse, a reply while the reply clock runs
// meets it, as a help desk's first response does.
func (i *Incident) Reply(a Actor, text string, firstResponse bool, now time.Time) Event {
	var data map[string]string
	if firstResponse && i.AckedAt.IsZero() && i.Status.Active() {
		i.AckedAt, i.AckedBy = now, a.ID
		data = map[string]string{"first_response": "1"}
	}
	return i.event(EventReply, a, now, text, data)
}
