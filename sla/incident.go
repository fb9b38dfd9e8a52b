package sla

import (
	"strings"
	"time"
)

// Severity says how badly a fault hurts the customer.
type Severity string

// Severities of the plan.
const (
	// SeverityCore: a core function is unavailable (C3).
	SeverityCore Severity = "core"
	// SeverityNoncore: a fault that leaves core functions working (C4).
	SeverityNoncore Severity = "noncore"
)

// ParseSeverity accepts core/noncore in English or Chinese; anything else is
// an EINVALID error.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "core", "p1", "critical", "核心", "严重":
		return SeverityCore, nil
	case "noncore", "non-core", "minor", "p2", "非核心", "一般":
		return SeverityNoncore, nil
	}
	return "", Errorf(EINVALID, "err.severity", map[string]any{"value": s}, "unknown severity %q: use core or noncore", s)
}

// Status is where an incident is in its life.
type Status string

// Statuses, in the order an incident normally passes them.
const (
	// StatusTriage: the classifier was not sure the customer's message is a
	// fault; an engineer decides. Its clocks run from the message.
	StatusTriage       Status = "triage"
	StatusOpen         Status = "open"
	StatusAcknowledged Status = "acknowledged"
	StatusOnsite       Status = "onsite"
	StatusRestored     Status = "restored"
	StatusClosed       Status = "closed"
)

// Active reports whether the incident still needs work (not restored or closed).
func (s Status) Active() bool {
	return s == StatusTriage || s == StatusOpen || s == StatusAcknowledged || s == StatusOnsite
}

// Outcome says how an incident that was not a fault of its own ended.
type Outcome string

// Outcomes. An incident with an outcome is closed, its clocks stopped; it
// is left out of the compliance figures and listed in the digests.
const (
	OutcomeFault     Outcome = ""          // the normal case: a fault, restored and closed
	OutcomeDuplicate Outcome = "duplicate" // merged into another incident
	OutcomeNotFault  Outcome = "notfault"  // the report was not a fault
)

// Clock names one of an incident's deadlines.
type Clock string

// The clocks of the plan.
const (
	ClockAck     Clock = "ack"
	ClockOnsite  Clock = "onsite"
	ClockRestore Clock = "restore"
)

// Incident is a fault a customer reported, with its clocks.
type Incident struct {
	ID             int64
	CustomerID     string
	Severity       Severity
	Status         Status
	Title          string
	Reason         string // why the classifier (or a person) chose the severity
	Area           Area   // what part of the platform it is about, from the title
	ReportedAt     time.Time
	ReportedBy     string // person id; empty for an unknown customer user
	ReporterName   string
	AssigneeID     string
	Deadlines      Deadlines
	AckedAt        time.Time
	AckedBy        string
	OnsiteAt       time.Time
	OnsiteMetAt    time.Time // first arrival on site or restoration, whichever came first (C3)
	RestoredAt     time.Time
	RestoreSummary string
	ClosedAt       time.Time
	ReopenedAt     time.Time
	LastPingAt     time.Time // the last weekly follow-up ping (C6)
	LastFollowUpAt time.Time // the last contact recorded with /followup
	ReportFiledAt  time.Time // the last service report (C5)
	// PastClocks are the clocks' earlier instances, oldest first: a restore
	// clock closed when the incident was reopened, an on-site clock met
	// before the severity dropped to non-core. They are recorded once,
	// never rewritten, and counted by the statistics beside the current
	// ones.
	PastClocks []ClockState
	Outcome    Outcome // duplicate or not a fault; "" for a fault
	MergedInto int64   // the incident a duplicate was merged into
	RelatedTo  int64   // an earlier incident this one came up in (a new fault in its thread)
	Version    int     // bumped by every change; storage uses it for optimistic locking
}

// Dismissed reports whether the incident was closed as a duplicate or as
// not a fault.
func (i Incident) Dismissed() bool { return i.Outcome != OutcomeFault }

// Event is one entry of an incident's timeline, produced by every change.
type Event struct {
	Kind    EventKind
	At      time.Time
	ActorID string
	Actor   string // display name, also for unknown users
	Body    string
	Data    map[string]string
}

// EventKind names what happened.
type EventKind string

// Timeline event kinds.
const (
	EventOpened     EventKind = "opened"
	EventMessage    EventKind = "message"
	EventAcked      EventKind = "acknowledged"
	EventAssigned   EventKind = "assigned"
	EventSeverity   EventKind = "severity_changed"
	EventOnsite     EventKind = "onsite"
	EventRestored   EventKind = "restored"
	EventClosed     EventKind = "closed"
	EventReopened   EventKind = "reopened"
	EventNote       EventKind = "note"
	EventReminder   EventKind = "reminder"
	EventBreach     EventKind = "breach"
	EventEscalation EventKind = "escalation"
	EventFollowUp   EventKind = "followup"
	EventReport     EventKind = "report"
	EventTriaged    EventKind = "triaged"     // an engineer decided a triaged message is a fault
	EventMerged     EventKind = "merged"      // merged into another incident, or another merged into this one
	EventNotFault   EventKind = "not_a_fault" // closed as not a fault
	EventReply      EventKind = "reply"       // a staff member wrote to the customer in the conversation
)

// EventKinds lists every kind, for schema checks and tests.
var EventKinds = []EventKind{EventOpened, EventMessage, EventAcked, EventAssigned, EventSeverity,
	EventOnsite, EventRestored, EventClosed, EventReopened, EventNote, EventReminder, EventBreach,
	EventEscalation, EventFollowUp, EventReport, EventTriaged, EventMerged, EventNotFault, EventReply}

// Actor is who makes a change.
type Actor struct {
	ID   string
	Name string
}

// NewIncident opens an incident reported at now; the deadlines come from the
// policy. title must not be empty.
func NewIncident(customerID string, sev Severity, title, reason string, reporter Actor, p Policy, now time.Time) (Incident, Event, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return Incident{}, Event{}, Errorf(EINVALID, "err.empty_title", nil, "describe the problem")
	}
	if sev != SeverityCore && sev != SeverityNoncore {
		return Incident{}, Event{}, Errorf(EINVALID, "err.severity", map[string]any{"value": string(sev)}, "unknown severity %q", sev)
	}
	inc := Incident{
		CustomerID:   customerID,
		Severity:     sev,
		Status:       StatusOpen,
		Title:        title,
		Reason:       reason,
		Area:         ProblemArea(title),
		ReportedAt:   now,
		ReportedBy:   reporter.ID,
		ReporterName: reporter.Name,
		Deadlines:    p.DeadlinesFor(now, time.Time{}, sev),
	}
	return inc, inc.event(EventOpened, reporter, now, title, map[string]string{"severity": string(sev), "reason": reason}), nil
}

func (i *Incident) event(k EventKind, a Actor, now time.Time, body string, data map[string]string) Event {
	i.Version++
	return Event{Kind: k, At: now, ActorID: a.ID, Actor: a.Name, Body: body, Data: data}
}

func (i *Incident) conflict(key, msg string) error {
	return Errorf(ECONFLICT, key, map[string]any{"id": i.ID, "status": string(i.Status)}, "incident #%d is %s: %s", i.ID, i.Status, msg)
}

// Acknowledge meets the ack clock. It fails with ECONFLICT unless the incident
// is open.
func (i *Incident) Acknowledge(a Actor, now time.Time) (Event, error) {
	if i.Dismissed() {
		return Event{}, i.dismissedErr()
	}
	if i.Status == StatusTriage {
		return Event{}, i.triageFirst()
	}
	if i.Status != StatusOpen {
		return Event{}, i.conflict("err.ack_state", "only an open incident can be acknowledged")
	}
	i.Status = StatusAcknowledged
	i.meetAck(a, now) // a reply in the conversation may have met the clock already
	if i.AssigneeID == "" {
		i.AssigneeID = a.ID
	}
	return i.event(EventAcked, a, now, "", nil), nil
}

// meetAck records an implicit acknowledgement: arriving on site or restoring
// answers the customer too.
func (i *Incident) meetAck(a Actor, now time.Time) {
	if i.AckedAt.IsZero() {
		i.AckedAt, i.AckedBy = now, a.ID
	}
}

// Assign makes the named person the incident's assignee. Closed incidents
// cannot be reassigned.
func (i *Incident) Assign(a Actor, assignee Person, now time.Time) (Event, error) {
	if i.Dismissed() {
		return Event{}, i.dismissedErr()
	}
	if i.Status == StatusClosed {
		return Event{}, i.conflict("err.closed", "a closed incident cannot be changed")
	}
	if !assignee.Role.IsStaff() {
		return Event{}, Errorf(EINVALID, "err.assign_customer", map[string]any{"name": assignee.Name}, "%s is not an engineer", assignee.Name)
	}
	if i.AssigneeID == assignee.ID {
		return Event{}, Errorf(ECONFLICT, "err.already_assigned", map[string]any{"id": i.ID, "name": assignee.Name}, "incident #%d is already assigned to %s", i.ID, assignee.Name)
	}
	i.AssigneeID = assignee.ID
	return i.event(EventAssigned, a, now, assignee.Name, map[string]string{"assignee": assignee.ID}), nil
}

// SetSeverity changes the severity and recomputes the deadlines from the
// original report time (or the last reopening for the restore clock).
func (i *Incident) SetSeverity(a Actor, sev Severity, p Policy, now time.Time) (Event, error) {
	if i.Dismissed() {
		return Event{}, i.dismissedErr()
	}
	if i.Status == StatusClosed {
		return Event{}, i.conflict("err.closed", "a closed incident cannot be changed")
	}
	if sev != SeverityCore && sev != SeverityNoncore {
		return Event{}, Errorf(EINVALID, "err.severity", map[string]any{"value": string(sev)}, "unknown severity %q", sev)
	}
	if i.Status == StatusTriage {
		return i.Decide(a, sev, p, now) // choosing a severity decides the triage
	}
	if sev == i.Severity {
		return Event{}, Errorf(ECONFLICT, "err.same_severity", map[string]any{"id": i.ID, "severity": string(sev)}, "incident #%d is already %s", i.ID, sev)
	}
	from := i.Severity
	i.redue(p, sev)
	i.Severity = sev
	return i.event(EventSeverity, a, now, "", map[string]string{"from": string(from), "to": string(sev)}), nil
}

// ArriveOnsite records that an engineer is on site. It meets the on-site
// clock (and the ack clock if nobody had acknowledged yet).
func (i *Incident) ArriveOnsite(a Actor, now time.Time) (Event, error) {
	if i.Dismissed() {
		return Event{}, i.dismissedErr()
	}
	if i.Status == StatusTriage {
		return Event{}, i.triageFirst()
	}
	if i.Status != StatusOpen && i.Status != StatusAcknowledged {
		return Event{}, i.conflict("err.onsite_state", "an engineer can only arrive on site at an open or acknowledged incident")
	}
	i.meetAck(a, now)
	i.Status = StatusOnsite
	i.OnsiteAt = now // the latest visit; OnsiteMetAt keeps the first
	if i.OnsiteMetAt.IsZero() {
		i.OnsiteMetAt = now
	}
	return i.event(EventOnsite, a, now, "", nil), nil
}

// Restore records that normal use is restored, with a summary of what was
// done. Restoring remotely meets the on-site clock as well (C3).
func (i *Incident) Restore(a Actor, summary string, now time.Time) (Event, error) {
	if i.Dismissed() {
		return Event{}, i.dismissedErr()
	}
	if i.Status == StatusTriage {
		return Event{}, i.triageFirst()
	}
	if !i.Status.Active() {
		return Event{}, i.conflict("err.restore_state", "it is not in progress")
	}
	summary = strings.TrimSpace(summary)
	if summary == "" {
		return Event{}, Errorf(EINVALID, "err.restore_summary", nil, "say what was done to restore service")
	}
	i.meetAck(a, now)
	if i.OnsiteMetAt.IsZero() {
		i.OnsiteMetAt = now
	}
	i.Status = StatusRestored
	i.RestoredAt = now
	i.RestoreSummary = summary
	return i.event(EventRestored, a, now, summary, nil), nil
}

// Close ends an incident. Only a restored incident may be closed.
func (i *Incident) Close(a Actor, now time.Time) (Event, error) {
	if i.Dismissed() {
		return Event{}, i.dismissedErr()
	}
	if i.Status != StatusRestored {
		return Event{}, i.conflict("err.close_state", "only a restored incident can be closed")
	}
	i.Status = StatusClosed
	i.ClosedAt = now
	return i.event(EventClosed, a, now, "", nil), nil
}

// Reopen brings back a restored or closed incident whose problem returned.
// The ack and on-site clocks stay met; the restore clock starts again at now.
func (i *Incident) Reopen(a Actor, p Policy, now time.Time) (Event, error) {
	if i.Dismissed() {
		return Event{}, i.dismissedErr()
	}
	if i.Status != StatusRestored && i.Status != StatusClosed {
		return Event{}, i.conflict("err.reopen_state", "only a restored or closed incident can be reopened")
	}
	i.Status = StatusAcknowledged
	if i.AckedAt.IsZero() {
		i.Status = StatusOpen
	}
	// The restore clock that was met (in time or not) stays as it was; a
	// new instance starts.
	i.PastClocks = append(i.PastClocks, ClockState{Clock: ClockRestore, Due: i.Deadlines.Restore, MetAt: i.RestoredAt,
		Instance: i.instance(ClockRestore), Severity: i.Severity})
	i.RestoredAt, i.ClosedAt, i.RestoreSummary = time.Time{}, time.Time{}, ""
	i.ReopenedAt = now
	i.Deadlines = p.DeadlinesFor(i.ReportedAt, now, i.Severity)
	return i.event(EventReopened, a, now, "", nil), nil
}

// Note adds free text to the timeline without changing state.
func (i *Incident) Note(a Actor, text string, now time.Time) (Event, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Event{}, Errorf(EINVALID, "err.empty_note", nil, "the note is empty")
	}
	return i.event(EventNote, a, now, text, nil), nil
}

// AttachMessage records a customer's message in the incident's thread.
func (i *Incident) AttachMessage(a Actor, text string, now time.Time) Event {
	return i.event(EventMessage, a, now, text, nil)
}

// ClockState is one clock of an incident at a moment.
type ClockState struct {
	Clock Clock
	Due   time.Time
	MetAt time.Time // zero while the clock runs
	// Instance numbers the clock's runs: the restore clock starts again at
	// every reopening.
	Instance int
	// Severity is the incident's severity while this instance ran.
	Severity Severity
}

// Met reports whether the clock was met (in time or late).
func (c ClockState) Met() bool { return !c.MetAt.IsZero() }

// Precision is the resolution at which times are kept (PostgreSQL's
// microseconds) and compared: a clock met at exactly its deadline is on
// time whether the times come from memory or from the database.
const Precision = time.Microsecond

// Breached reports whether the clock was missed: met after its deadline, or
// still running past it at now.
func (c ClockState) Breached(now time.Time) bool {
	due := c.Due.Truncate(Precision)
	if c.Met() {
		return c.MetAt.Truncate(Precision).After(due)
	}
	return now.Truncate(Precision).After(due)
}

// Clocks returns the incident's clocks in order: ack, on site (core only),
// restore.
func (i Incident) Clocks() []ClockState {
	cs := []ClockState{{Clock: ClockAck, Due: i.Deadlines.Ack, MetAt: i.AckedAt, Instance: i.instance(ClockAck), Severity: i.Severity}}
	if i.Severity == SeverityCore {
		cs = append(cs, ClockState{Clock: ClockOnsite, Due: i.Deadlines.Onsite, MetAt: i.OnsiteMetAt, Instance: i.instance(ClockOnsite),
			Severity: i.Severity})
	}
	cs = append(cs, ClockState{Clock: ClockRestore, Due: i.Deadlines.Restore, MetAt: i.RestoredAt, Instance: i.instance(ClockRestore),
		Severity: i.Severity})
	return cs
}

// instance is the number of a clock's current instance: one more than its
// closed ones.
func (i Incident) instance(c Clock) int {
	n := 1
	for _, p := range i.PastClocks {
		if p.Clock == c {
			n++
		}
	}
	return n
}

// redue gives the deadlines of severity sev under p, from the report (the
// restore clock from the last reopening), to the clocks still running: a
// clock that was met keeps the deadline it was met against, and an on-site
// clock met under a core severity that drops to non-core is closed as it
// was, so that no outcome is ever rewritten.
func (i *Incident) redue(p Policy, sev Severity) {
	d := p.DeadlinesFor(i.ReportedAt, i.ReopenedAt, sev)
	if !i.AckedAt.IsZero() {
		d.Ack = i.Deadlines.Ack
	}
	if !i.RestoredAt.IsZero() {
		d.Restore = i.Deadlines.Restore
	}
	if i.Severity == SeverityCore && !i.OnsiteMetAt.IsZero() {
		if sev == SeverityCore {
			d.Onsite = i.Deadlines.Onsite
		} else {
			i.PastClocks = append(i.PastClocks, ClockState{Clock: ClockOnsite, Due: i.Deadlines.Onsite, MetAt: i.OnsiteMetAt,
				Instance: i.instance(ClockOnsite), Severity: SeverityCore})
		}
	}
	i.Deadlines = d
}

// ClockHistory is every instance of the incident's clocks, the closed ones
// first, as the timeline would tell them.
func (i Incident) ClockHistory() []ClockState {
	return append(append([]ClockState{}, i.PastClocks...), i.Clocks()...)
}

// FollowUp records a contact with the customer about an unsolved problem
// (C6). Closed incidents need none.
func (i *Incident) FollowUp(a Actor, text string, now time.Time) (Event, error) {
	if i.Status == StatusClosed {
		return Event{}, i.conflict("err.closed", "a closed incident needs no follow-up")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return Event{}, Errorf(EINVALID, "err.empty_followup", nil, "say what was done, e.g. /followup called the customer's admin")
	}
	i.LastFollowUpAt = now
	return i.event(EventFollowUp, a, now, text, nil), nil
}

// FileReport records that the service report was produced (C5).
func (i *Incident) FileReport(a Actor, report string, now time.Time) Event {
	i.ReportFiledAt = now
	return i.event(EventReport, a, now, report, nil)
}

// PingFollowUp records that the weekly follow-up ping went out.
func (i *Incident) PingFollowUp(now time.Time) Event {
	i.LastPingAt = now
	return i.event(EventReminder, Actor{Name: "slakeeper"}, now, "", map[string]string{"timer": string(TimerFollowUp)})
}

// NeedsReport reports whether an on-site visit has no service report yet.
func (i Incident) NeedsReport() bool {
	return !i.OnsiteAt.IsZero() && i.ReportFiledAt.Before(i.OnsiteAt)
}
