package commands

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/classify"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

// Place is where a command was given: a platform's chat and thread.
type Place struct {
	Platform  string
	ChatID    string
	ThreadID  string // the thread the message is in, "" at top level
	MessageID string // the message itself; a new incident's thread starts here
}

// Request is one command from one person.
type Request struct {
	Now   time.Time
	Actor sla.Person
	Lang  sla.Lang
	// ScopeCustomer is the customer whose channel the command came from; in
	// such a channel only that customer's incidents are visible, to anyone.
	ScopeCustomer string
	// ThreadIncident is the incident of the thread the command was given in.
	ThreadIncident int64
	Place          Place
	Text           string
}

// Reply is the answer shown to the person who gave the command.
type Reply struct {
	Text string
	// Err is the error behind a refusal, for logs and metrics; Text already
	// says it in the reader's language.
	Err error
}

// ChangeFunc applies one state transition to an incident under the
// customer's policy and returns the timeline event it produced.
type ChangeFunc func(inc *sla.Incident, p sla.Policy) (sla.Event, error)

// OpenRequest asks the service to open an incident.
type OpenRequest struct {
	CustomerID string
	Severity   sla.Severity
	Title      string
	Reason     string
	Reporter   sla.Person
	Place      Place
	Now        time.Time
	// Triage opens the incident awaiting an engineer's decision whether it
	// is a fault (Severity is the guess).
	Triage bool
	// RelatedTo is an earlier incident this one came up in.
	RelatedTo int64
}

// MergeRequest asks to merge the incident Duplicate into Into.
type MergeRequest struct {
	Duplicate, Into int64
	Actor           sla.Person
	Now             time.Time
	// Visible says whether the request may see an incident; one it may not
	// is not found.
	Visible func(sla.Incident) bool
}

// Service is what the handlers need of the incident service. Every method
// that changes state does it in one transaction with its timeline, timers
// and outgoing messages.
type Service interface {
	// Open opens an incident and binds the thread it was reported in.
	Open(ctx context.Context, r OpenRequest) (sla.Incident, error)
	// Incident returns an incident or ENOTFOUND.
	Incident(ctx context.Context, id int64) (sla.Incident, error)
	// Unclosed lists incidents that are not closed, of one customer or, with
	// customerID "", of all.
	Unclosed(ctx context.Context, customerID string) ([]sla.Incident, error)
	// Change loads the incident, runs fn on it and stores the result; fn's
	// error aborts the change.
	Change(ctx context.Context, id int64, actor sla.Person, now time.Time, fn ChangeFunc) (sla.Incident, error)
	// FindPerson resolves an id or a name to a person.
	FindPerson(ref string) (sla.Person, bool)
	// Customer returns a customer by id.
	Customer(id string) (sla.Customer, bool)
	// Format gives the time and duration format for a reader.
	Format(lang sla.Lang) i18n.Format
	// Timeline returns an incident's events, oldest first.
	Timeline(ctx context.Context, id int64) ([]sla.Event, error)
	// OnCall returns who is on call at now and who is next.
	OnCall(ctx context.Context, now time.Time) (cur, next sla.Shift, err error)
	// SetOnCall records a temporary on-call override.
	SetOnCall(ctx context.Context, o sla.Override) error
	// Customers lists every customer, by id.
	Customers() []sla.Customer
	// Classify reads a customer's words: fault or not, and how severe.
	Classify(text string) classify.Result
	// Merge closes an incident as a duplicate of another, in one
	// transaction with both incidents' timelines.
	Merge(ctx context.Context, r MergeRequest) (dup, into sla.Incident, err error)

	CalendarService
	RejectedService
}

// Handler runs commands against a Service.
type Handler struct {
	Svc Service
}

// Handle parses and runs one command line. It never returns an error: a bad
// or forbidden request becomes a polite reply in the person's language, and
// changes nothing.
func (h Handler) Handle(ctx context.Context, r Request) Reply {
	cmd, err := Parse(r.Text)
	if err != nil {
		return h.refuse(r, err)
	}
	def, _ := Lookup(cmd.Name)
	if !r.Actor.Role.AtLeast(def.MinRole) {
		if r.Actor.Role.IsStaff() {
			return h.refuse(r, sla.Errorf(sla.EFORBIDDEN, "err.forbidden_role", map[string]any{"command": cmd.Name,
				"role": i18n.T(r.Lang, "role."+string(def.MinRole), nil)}, "/%s needs the %s role or above", cmd.Name, def.MinRole))
		}
		return h.refuse(r, sla.Errorf(sla.EFORBIDDEN, "err.forbidden", map[string]any{"command": cmd.Name}, "you may not use /%s", cmd.Name))
	}
	if reply, ok, err := h.customerForm(ctx, r, cmd); ok {
		if err != nil {
			return h.refuse(r, err)
		}
		return Reply{Text: reply}
	}
	if cmd.ID == 0 && hasIDArg(def) {
		if r.ThreadIncident == 0 {
			return h.refuse(r, sla.Errorf(sla.EINVALID, "err.no_id", map[string]any{"command": cmd.Name}, "name the incident"))
		}
		cmd.ID = r.ThreadIncident
	}
	reply, err := h.run(ctx, r, cmd)
	if err != nil {
		return h.refuse(r, err)
	}
	return Reply{Text: reply}
}

func hasIDArg(d Def) bool {
	for _, a := range d.Args {
		if a == ArgID {
			return true
		}
	}
	return false
}

func (h Handler) refuse(r Request, err error) Reply {
	if e, ok := sla.AsError(err); ok && e.Key == "err.usage" {
		if d, ok := Lookup(e.Params["command"].(string)); ok {
			return Reply{Text: i18n.T(r.Lang, "err.usage", map[string]any{"usage": Usage(d, r.Lang)}), Err: err}
		}
	}
	return Reply{Text: i18n.Error(r.Lang, err), Err: err}
}

// visible reports whether the request may see an incident: the person may
// see its customer, and a customer channel shows only its own customer.
func visible(r Request, inc sla.Incident) bool {
	return r.Actor.CanSee(inc.CustomerID) && (r.ScopeCustomer == "" || r.ScopeCustomer == inc.CustomerID)
}

func notFound(id int64) error {
	return sla.Errorf(sla.ENOTFOUND, "err.not_found", map[string]any{"id": id}, "incident #%d not found", id)
}

func actorOf(p sla.Person) sla.Actor { return sla.Actor{ID: p.ID, Name: p.Name} }

func (h Handler) run(ctx context.Context, r Request, cmd Command) (string, error) {
	l := r.Lang
	a := actorOf(r.Actor)
	change := func(fn ChangeFunc) (sla.Incident, error) {
		return h.Svc.Change(ctx, cmd.ID, r.Actor, r.Now, func(inc *sla.Incident, p sla.Policy) (sla.Event, error) {
			if !visible(r, *inc) {
				return sla.Event{}, notFound(inc.ID)
			}
			return fn(inc, p)
		})
	}
	switch cmd.Name {
	case "help":
		return Help(r.Actor.Role, l), nil
	case "incident":
		return h.open(ctx, r, cmd)
	case "ack":
		inc, err := change(func(i *sla.Incident, _ sla.Policy) (sla.Event, error) { return i.Acknowledge(a, r.Now) })
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.acked", map[string]any{"id": inc.ID, "assignee": h.name(l, inc.AssigneeID)}), nil
	case "take", "assign":
		target := r.Actor
		if cmd.Name == "assign" {
			p, ok := h.Svc.FindPerson(cmd.Person)
			if !ok {
				return "", sla.Errorf(sla.EINVALID, "err.unknown_person", map[string]any{"name": cmd.Person}, "unknown person %q", cmd.Person)
			}
			target = p
		}
		inc, err := change(func(i *sla.Incident, _ sla.Policy) (sla.Event, error) { return i.Assign(a, target, r.Now) })
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.assigned", map[string]any{"id": inc.ID, "assignee": target.Name}), nil
	case "sev":
		inc, err := change(func(i *sla.Incident, p sla.Policy) (sla.Event, error) {
			return i.SetSeverity(a, cmd.Severity, p, r.Now)
		})
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.severity", map[string]any{"id": inc.ID, "severity": i18n.Severity(l, inc.Severity)}) + "\n" + h.clocks(l, inc, r.Now), nil
	case "onsite":
		inc, err := change(func(i *sla.Incident, _ sla.Policy) (sla.Event, error) { return i.ArriveOnsite(a, r.Now) })
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.onsite", map[string]any{"id": inc.ID}), nil
	case "restore":
		inc, err := change(func(i *sla.Incident, _ sla.Policy) (sla.Event, error) { return i.Restore(a, cmd.Text, r.Now) })
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.restored", map[string]any{"id": inc.ID}) + "\n" + h.clocks(l, inc, r.Now), nil
	case "close":
		inc, err := change(func(i *sla.Incident, _ sla.Policy) (sla.Event, error) { return i.Close(a, r.Now) })
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.closed", map[string]any{"id": inc.ID}), nil
	case "reopen":
		inc, err := change(func(i *sla.Incident, p sla.Policy) (sla.Event, error) { return i.Reopen(a, p, r.Now) })
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.reopened", map[string]any{"id": inc.ID}) + "\n" + h.clocks(l, inc, r.Now), nil
	case "triage":
		return h.triage(ctx, r, cmd, change)
	case "notfault":
		return h.notFault(r, cmd, change)
	case "merge":
		return h.merge(ctx, r, cmd)
	case "note":
		inc, err := change(func(i *sla.Incident, _ sla.Policy) (sla.Event, error) { return i.Note(a, cmd.Text, r.Now) })
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.noted", map[string]any{"id": inc.ID}), nil
	case "followup":
		inc, err := change(func(i *sla.Incident, _ sla.Policy) (sla.Event, error) { return i.FollowUp(a, cmd.Text, r.Now) })
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.followup", map[string]any{"id": inc.ID}), nil
	case "report":
		if cmd.Text != "" {
			return "", sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": "report"}, "usage")
		}
		return h.report(ctx, r, cmd)
	case "announce":
		return h.announce(ctx, r, cmd)
	case "critical":
		return h.critical(ctx, r, cmd)
	case "digest":
		return h.digest(ctx, r, cmd)
	case "oncall":
		return h.oncall(ctx, r, cmd)
	case "status":
		if cmd.Text != "" {
			return "", sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": "status"}, "usage")
		}
		inc, err := h.Svc.Incident(ctx, cmd.ID)
		if err != nil {
			return "", err
		}
		if !visible(r, inc) {
			return "", notFound(cmd.ID)
		}
		return h.status(l, inc, r.Now), nil
	case "list":
		return h.list(ctx, r)
	case "rejected":
		return h.rejected(ctx, r)
	}
	return "", sla.Errorf(sla.EINTERNAL, "err.internal", nil, "command %s has no handler", cmd.Name)
}

func (h Handler) open(ctx context.Context, r Request, cmd Command) (string, error) {
	customer := r.ScopeCustomer
	if r.Actor.Role == sla.RoleCustomer {
		customer = r.Actor.CustomerID
	}
	text := cmd.Text
	if customer == "" {
		word, rest := cut(text)
		if _, ok := h.Svc.Customer(word); !ok || rest == "" {
			return "", sla.Errorf(sla.EINVALID, "err.no_customer", nil, "which customer?")
		}
		customer, text = word, rest
	}
	if _, ok := h.Svc.Customer(customer); !ok {
		return "", sla.Errorf(sla.EINVALID, "err.unknown_customer", map[string]any{"name": customer}, "unknown customer %q", customer)
	}
	c := h.Svc.Classify(text)
	sev, ok := c.Verdict.Severity()
	reason := "/incident; " + c.Reason()
	if !ok {
		// Asked for explicitly: a report, even if the words sound harmless
		// or the classifier is unsure; its likelier severity.
		sev = c.Severity
	}
	inc, err := h.Svc.Open(ctx, OpenRequest{CustomerID: customer, Severity: sev, Title: text, Reason: reason,
		Reporter: r.Actor, Place: r.Place, Now: r.Now})
	if err != nil {
		return "", err
	}
	return i18n.T(r.Lang, "reply.opened", map[string]any{"id": inc.ID, "severity": i18n.Severity(r.Lang, inc.Severity), "title": inc.Title}) +
		"\n" + h.clocks(r.Lang, inc, r.Now), nil
}

func (h Handler) name(l sla.Lang, personID string) string {
	if personID == "" {
		return i18n.T(l, "nobody", nil)
	}
	if p, ok := h.Svc.FindPerson(personID); ok {
		return p.Name
	}
	return personID
}

func (h Handler) customerName(id string) string {
	if c, ok := h.Svc.Customer(id); ok {
		return c.Name
	}
	return id
}

func (h Handler) clocks(l sla.Lang, inc sla.Incident, now time.Time) string {
	return Clocks(h.Svc.Format(l), inc, now)
}

// Clocks renders an incident's clocks, one per line.
func Clocks(f i18n.Format, inc sla.Incident, now time.Time) string {
	var lines []string
	for _, l := range ClockLines(f, inc, now) {
		lines = append(lines, "• "+l)
	}
	return strings.Join(lines, "\n")
}

// ClockLines describes every instance of an incident's clocks, the closed
// ones first: a clock that ran more than once names its runs, so that a
// restore clock missed before a reopening is shown as it was.
func ClockLines(f i18n.Format, inc sla.Incident, now time.Time) []string {
	runs := map[sla.Clock]int{}
	hist := inc.ClockHistory()
	for _, c := range hist {
		runs[c.Clock]++
	}
	lines := make([]string, 0, len(hist))
	for _, c := range hist {
		if runs[c.Clock] > 1 {
			lines = append(lines, f.ClockInstance(c, now))
		} else {
			lines = append(lines, f.Clock(c, now))
		}
	}
	return lines
}

func (h Handler) status(l sla.Lang, inc sla.Incident, now time.Time) string {
	f := h.Svc.Format(l)
	reporter := inc.ReporterName
	if reporter == "" {
		reporter = h.name(l, inc.ReportedBy)
	}
	lines := []string{
		i18n.T(l, "status.header", map[string]any{"id": inc.ID, "customer": h.customerName(inc.CustomerID),
			"severity": i18n.Severity(l, inc.Severity), "status": i18n.Status(l, inc.Status)}),
		i18n.T(l, "status.title", map[string]any{"title": inc.Title}),
		i18n.T(l, "status.reported", map[string]any{"at": f.Time(inc.ReportedAt), "by": reporter}),
		i18n.T(l, "status.assignee", map[string]any{"assignee": h.name(l, inc.AssigneeID)}),
		Clocks(f, inc, now),
	}
	if inc.RestoreSummary != "" {
		lines = append(lines, i18n.T(l, "status.summary", map[string]any{"summary": inc.RestoreSummary}))
	}
	return strings.Join(lines, "\n")
}

func (h Handler) list(ctx context.Context, r Request) (string, error) {
	customer := r.ScopeCustomer
	if r.Actor.Role == sla.RoleCustomer {
		customer = r.Actor.CustomerID
	}
	incs, err := h.Svc.Unclosed(ctx, customer)
	if err != nil {
		return "", err
	}
	l := r.Lang
	var lines []string
	for _, inc := range incs {
		if !visible(r, inc) {
			continue
		}
		next := i18n.T(l, "reply.list_done", nil)
		for _, c := range inc.Clocks() {
			if !c.Met() {
				next = h.Svc.Format(l).Clock(c, r.Now)
				break
			}
		}
		lines = append(lines, i18n.T(l, "reply.list_item", map[string]any{"id": inc.ID, "severity": i18n.Severity(l, inc.Severity),
			"status": i18n.Status(l, inc.Status), "customer": h.customerName(inc.CustomerID), "title": inc.Title, "next": next}))
	}
	if len(lines) == 0 {
		return i18n.T(l, "reply.list_empty", nil), nil
	}
	return i18n.T(l, "reply.list_header", nil) + "\n" + strings.Join(lines, "\n"), nil
}

// report produces the service report from the timeline and files it, in
// the language of the one who asked.
func (h Handler) report(ctx context.Context, r Request, cmd Command) (string, error) {
	inc, err := h.Svc.Incident(ctx, cmd.ID)
	if err != nil {
		return "", err
	}
	if !visible(r, inc) {
		return "", notFound(cmd.ID)
	}
	tl, err := h.Svc.Timeline(ctx, inc.ID)
	if err != nil {
		return "", err
	}
	text := Report(h.Svc.Format(r.Lang), h.customerName(inc.CustomerID), h.name(r.Lang, inc.AssigneeID), inc, tl, r.Now)
	if _, err := h.Svc.Change(ctx, inc.ID, r.Actor, r.Now, func(i *sla.Incident, _ sla.Policy) (sla.Event, error) {
		return i.FileReport(actorOf(r.Actor), text, r.Now), nil
	}); err != nil {
		return "", err
	}
	return text + "\n" + i18n.T(r.Lang, "reply.report_filed", map[string]any{"id": inc.ID}), nil
}

// oncall shows the rotation, or (leads and up) puts someone on call for a
// while: "/oncall wang 8h"; the default lasts until the next handover.
func (h Handler) oncall(ctx context.Context, r Request, cmd Command) (string, error) {
	l, f := r.Lang, h.Svc.Format(r.Lang)
	if cmd.Text != "" {
		if !r.Actor.Role.AtLeast(sla.RoleLead) {
			return "", sla.Errorf(sla.EFORBIDDEN, "err.oncall_forbidden", nil, "only leads may change who is on call")
		}
		who, dur := cut(cmd.Text)
		p, ok := h.Svc.FindPerson(who)
		if !ok || !p.Role.IsStaff() {
			return "", sla.Errorf(sla.EINVALID, "err.unknown_person", map[string]any{"name": who}, "unknown person %q", who)
		}
		cur, _, err := h.Svc.OnCall(ctx, r.Now)
		if err != nil {
			return "", err
		}
		end := cur.End
		if dur != "" {
			d, err := ParseDuration(dur)
			if err != nil || d <= 0 || d > 90*24*time.Hour {
				return "", sla.Errorf(sla.EINVALID, "err.oncall_duration", map[string]any{"value": dur}, "%q is not a duration", dur)
			}
			end = r.Now.Add(d)
		}
		if end.IsZero() || !end.After(r.Now) {
			end = r.Now.Add(24 * time.Hour)
		}
		if err := h.Svc.SetOnCall(ctx, sla.Override{PersonID: p.ID, Start: r.Now, End: end, By: r.Actor.ID}); err != nil {
			return "", err
		}
		return i18n.T(l, "reply.oncall_set", map[string]any{"person": p.Name, "until": f.Time(end)}), nil
	}
	cur, next, err := h.Svc.OnCall(ctx, r.Now)
	if err != nil {
		return "", err
	}
	if cur.PersonID == "" {
		return i18n.T(l, "reply.oncall_none", nil), nil
	}
	return i18n.T(l, "reply.oncall", map[string]any{"now": h.name(l, cur.PersonID), "until": f.Time(cur.End),
		"next": h.name(l, next.PersonID), "from": f.Time(next.Start)}), nil
}

// ParseDuration accepts Go durations and whole days: "30m", "8h", "2d", "1d12h".
func ParseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, err
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	return days + d, err
}
