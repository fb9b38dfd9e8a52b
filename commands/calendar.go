package commands

import (
	"context"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

// CalendarService is what the commands of the contract's calendar need:
// occasion reports, revisits, release notices, critical periods, the
// customer's status and the statistics.
type CalendarService interface {
	// Calendar is when the scheduled services happen.
	Calendar() sla.Calendar
	// FileOccasionReport keeps the report of a customer's latest occasion of
	// a kind (on or before now) and sends it to the customer.
	FileOccasionReport(ctx context.Context, customerID string, kind sla.OccasionKind, actor sla.Person, body string, now time.Time) (sla.Occasion, error)
	// AddRevisit records what a customer said when asked how the system
	// serves them, and returns the revisit period it counts for.
	AddRevisit(ctx context.Context, customerID string, actor sla.Person, body string, now time.Time) (period string, err error)
	// AnnounceRelease sends a release notice to every customer channel and
	// returns how many channels it is queued for.
	AnnounceRelease(ctx context.Context, actor sla.Person, version string, notes map[sla.Lang]string, now time.Time) (int, error)
	// ReleaseStatus reports a release notice's delivery ("" for the latest).
	ReleaseStatus(ctx context.Context, version string) (ReleaseStatus, error)
	// AddCritical records a critical business period.
	AddCritical(ctx context.Context, w sla.CriticalWindow, actor sla.Person, now time.Time) error
	// CriticalWindows lists the critical periods not ended at now.
	CriticalWindows(ctx context.Context, customerID string, now time.Time) ([]sla.CriticalWindow, error)
	// CustomerStatus gathers a customer's contract status.
	CustomerStatus(ctx context.Context, customerID string, now time.Time) (CustomerStatus, error)
	// Stats computes the statistics of incidents reported in [from, to).
	Stats(ctx context.Context, customerID string, from, to, now time.Time) (sla.Stats, error)
	// DailyDigest gathers the daily digest of the 24 hours before now.
	DailyDigest(ctx context.Context, customerID string, now time.Time) (sla.DailyDigest, error)
	// SendFiles posts files where a command was given.
	SendFiles(ctx context.Context, place Place, now time.Time, files ...chat.File) error
}

// ReleaseStatus is a release notice and where it went.
type ReleaseStatus struct {
	Version     string
	AnnouncedAt time.Time
	AnnouncedBy string
	Deliveries  []Delivery
}

// Delivery is one channel's copy of a notice.
type Delivery struct {
	Platform, ChatID, CustomerID string
	Status                       string // pending, sent, failed
	Attempts                     int
	Error                        string
}

// CustomerStatus is a customer's contract at a glance.
type CustomerStatus struct {
	Customer sla.Customer
	Next     []sla.Occasion // the next inspection and health check
	// Reports are the latest filed report of each occasion kind; Missing
	// are past occasions (in the last year) without one.
	Reports     []FiledReport
	Missing     []sla.Occasion
	LastRevisit time.Time
	Open        int
	Critical    []sla.CriticalWindow
}

// FiledReport is an occasion report on file.
type FiledReport struct {
	Kind    sla.OccasionKind
	Period  string
	FiledAt time.Time
}

// occasionWord reads the kind of an occasion report: "inspection" or
// "healthcheck", in English or Chinese.
func occasionWord(w string) (sla.OccasionKind, bool) {
	switch strings.ToLower(w) {
	case "inspection", "inspect", "巡检", "季度巡检":
		return sla.OccasionInspection, true
	case "healthcheck", "health", "health-check", "健康检查", "体检":
		return sla.OccasionHealthCheck, true
	}
	return "", false
}

// customerOf reads a customer id from the start of text when the request
// is not bound to one; a customer's own channel (or a customer person)
// names it already. ok is false when no customer is named or visible.
func (h Handler) customerOf(r Request, text string) (id, rest string, err error) {
	bound := r.ScopeCustomer
	if r.Actor.Role == sla.RoleCustomer {
		bound = r.Actor.CustomerID
	}
	word, after := cut(text)
	if c, ok := h.Svc.Customer(word); ok && word != "" {
		if bound != "" && c.ID != bound {
			return "", "", sla.Errorf(sla.EINVALID, "err.unknown_customer", map[string]any{"name": word}, "unknown customer %q", word)
		}
		return c.ID, after, nil
	}
	if bound != "" {
		return bound, text, nil
	}
	if word == "" {
		return "", "", sla.Errorf(sla.EINVALID, "err.no_customer", nil, "which customer?")
	}
	return "", "", sla.Errorf(sla.EINVALID, "err.unknown_customer", map[string]any{"name": word}, "unknown customer %q", word)
}

// customerForm runs the forms of report, note and status that are about a
// customer rather than an incident; ok is false when the command is about
// an incident.
func (h Handler) customerForm(ctx context.Context, r Request, cmd Command) (reply string, ok bool, err error) {
	if cmd.ID != 0 {
		return "", false, nil
	}
	switch cmd.Name {
	case "report":
		word, rest := cut(cmd.Text)
		kind, isOccasion := occasionWord(word)
		if !isOccasion {
			return "", false, nil
		}
		reply, err := h.fileOccasion(ctx, r, kind, rest)
		return reply, true, err
	case "note":
		word, rest := cut(cmd.Text)
		if r.ThreadIncident != 0 || !r.Actor.Role.IsStaff() || rest == "" {
			return "", false, nil
		}
		if _, isCustomer := h.Svc.Customer(word); !isCustomer {
			return "", false, nil
		}
		id, body, err := h.customerOf(r, cmd.Text)
		if err != nil {
			return "", true, err
		}
		period, err := h.Svc.AddRevisit(ctx, id, r.Actor, body, r.Now)
		if err != nil {
			return "", true, err
		}
		return i18n.T(r.Lang, "reply.revisit_noted", map[string]any{"customer": h.customerName(id), "period": period}), true, nil
	case "status":
		if cmd.Text == "" && (r.ThreadIncident != 0 || r.ScopeCustomer == "") {
			return "", false, nil
		}
		id, rest, err := h.customerOf(r, cmd.Text)
		if err != nil {
			return "", true, err
		}
		if rest != "" {
			return "", true, sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": "status"}, "usage")
		}
		st, err := h.Svc.CustomerStatus(ctx, id, r.Now)
		if err != nil {
			return "", true, err
		}
		return h.customerStatus(r.Lang, st, r.Now), true, nil
	}
	return "", false, nil
}

func (h Handler) fileOccasion(ctx context.Context, r Request, kind sla.OccasionKind, text string) (string, error) {
	id, body, err := h.customerOf(r, text)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(body) == "" {
		return "", sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": "report"}, "usage")
	}
	o, err := h.Svc.FileOccasionReport(ctx, id, kind, r.Actor, body, r.Now)
	if err != nil {
		return "", err
	}
	return i18n.T(r.Lang, "reply.occasion_filed", map[string]any{"customer": h.customerName(id),
		"occasion": i18n.T(r.Lang, "occasion."+string(kind), nil), "period": o.Period}), nil
}

func (h Handler) customerStatus(l sla.Lang, st CustomerStatus, now time.Time) string {
	f := h.Svc.Format(l)
	cu := st.Customer
	day := func(t time.Time) string { return t.In(h.Svc.Calendar().Zone).Format("2006-01-02") }
	lines := []string{i18n.T(l, "cstatus.header", map[string]any{"customer": cu.Name, "id": cu.ID})}
	end := cu.Contract.WarrantyEnds()
	switch {
	case cu.Contract.AcceptedOn.IsZero():
		lines = append(lines, i18n.T(l, "cstatus.not_accepted", nil))
	case cu.Contract.InWarranty(now):
		lines = append(lines, i18n.T(l, "cstatus.warranty", map[string]any{"accepted": day(cu.Contract.AcceptedOn), "end": day(end),
			"days": int(end.Sub(now).Hours()/24) + 1}))
	default:
		lines = append(lines, i18n.T(l, "cstatus.warranty_ended", map[string]any{"accepted": day(cu.Contract.AcceptedOn), "end": day(end)}))
	}
	occasion := func(k sla.OccasionKind) string { return i18n.T(l, "occasion."+string(k), nil) }
	for _, o := range st.Next {
		lines = append(lines, i18n.T(l, "cstatus.next", map[string]any{"occasion": occasion(o.Kind), "day": day(o.Day), "period": o.Period}))
	}
	for _, r := range st.Reports {
		lines = append(lines, i18n.T(l, "cstatus.report", map[string]any{"occasion": occasion(r.Kind), "period": r.Period, "at": f.Time(r.FiledAt)}))
	}
	for _, o := range st.Missing {
		lines = append(lines, i18n.T(l, "cstatus.report_missing", map[string]any{"occasion": occasion(o.Kind), "period": o.Period}))
	}
	if start, _, period := h.Svc.Calendar().RevisitPeriod(now); st.LastRevisit.Before(start) {
		lines = append(lines, i18n.T(l, "cstatus.no_revisit", map[string]any{"period": period}))
	}
	if !st.LastRevisit.IsZero() {
		lines = append(lines, i18n.T(l, "cstatus.revisit", map[string]any{"at": f.Time(st.LastRevisit)}))
	}
	lines = append(lines, i18n.T(l, "cstatus.open", map[string]any{"n": st.Open}))
	for _, w := range st.Critical {
		lines = append(lines, i18n.T(l, "cstatus.critical", h.WindowParams(l, w)))
	}
	return strings.Join(lines, "\n")
}

// WindowParams are the catalog parameters that describe a critical period.
func (h Handler) WindowParams(l sla.Lang, w sla.CriticalWindow) map[string]any {
	f := h.Svc.Format(l)
	var names []string
	for _, id := range w.Onsite {
		names = append(names, h.name(l, id))
	}
	note := ""
	if w.Note != "" {
		note = "（" + w.Note + "）"
		if l == sla.LangEN {
			note = " (" + w.Note + ")"
		}
	}
	onsite := strings.Join(names, "、")
	if l == sla.LangEN {
		onsite = strings.Join(names, ", ")
	}
	if onsite == "" {
		onsite = i18n.T(l, "nobody", nil)
	}
	return map[string]any{"customer": h.customerName(w.CustomerID), "from": f.Time(w.Start), "to": f.Time(w.End), "onsite": onsite, "note": note}
}

// announce: "/announce release <version> <notes>" (managers and admins) or
// "/announce status [version]".
func (h Handler) announce(ctx context.Context, r Request, cmd Command) (string, error) {
	l := r.Lang
	sub, rest := cut(cmd.Text)
	usage := sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": "announce"}, "usage")
	switch strings.ToLower(sub) {
	case "release":
		if !r.Actor.Role.AtLeast(sla.RoleManager) {
			return "", sla.Errorf(sla.EFORBIDDEN, "err.announce_forbidden", nil, "only managers announce releases")
		}
		version, notes := cut(rest)
		if version == "" || notes == "" || len(version) > 64 {
			return "", usage
		}
		n, err := h.Svc.AnnounceRelease(ctx, r.Actor, version, SplitLangs(notes), r.Now)
		if err != nil {
			return "", err
		}
		return i18n.T(l, "reply.release_sent", map[string]any{"version": version, "n": n}), nil
	case "status":
		version, extra := cut(rest)
		if extra != "" {
			return "", usage
		}
		st, err := h.Svc.ReleaseStatus(ctx, version)
		if err != nil {
			return "", err
		}
		count := map[string]int{}
		var lines []string
		for _, d := range st.Deliveries {
			count[d.Status]++
			state := i18n.T(l, "delivery."+d.Status, map[string]any{"attempts": d.Attempts})
			errText := ""
			if d.Status != "sent" && d.Error != "" {
				errText = d.Error
			}
			lines = append(lines, i18n.T(l, "reply.release_line", map[string]any{"state": state, "customer": h.customerName(d.CustomerID),
				"platform": d.Platform, "chat": d.ChatID, "error": errText}))
		}
		head := i18n.T(l, "reply.release_status", map[string]any{"version": st.Version, "at": h.Svc.Format(l).Time(st.AnnouncedAt),
			"by": h.name(l, st.AnnouncedBy), "sent": count["sent"], "pending": count["pending"], "failed": count["failed"]})
		return strings.Join(append([]string{head}, lines...), "\n"), nil
	}
	return "", usage
}

// SplitLangs reads release notes written once for everyone, or per
// language: "zh: 修复了… en: Fixed…". A language left out gets the other's.
func SplitLangs(notes string) map[sla.Lang]string {
	out := map[sla.Lang]string{}
	lower := strings.ToLower(notes)
	zi, ei := markerAt(lower, "zh:"), markerAt(lower, "en:")
	switch {
	case zi < 0 && ei < 0:
		out[sla.LangZH], out[sla.LangEN] = notes, notes
		return out
	case zi >= 0 && ei >= 0 && zi < ei:
		out[sla.LangZH], out[sla.LangEN] = notes[zi+3:ei], notes[ei+3:]
	case zi >= 0 && ei >= 0:
		out[sla.LangEN], out[sla.LangZH] = notes[ei+3:zi], notes[zi+3:]
	case zi >= 0:
		out[sla.LangZH] = notes[zi+3:]
	default:
		out[sla.LangEN] = notes[ei+3:]
	}
	for k, v := range out {
		out[k] = strings.TrimSpace(v)
	}
	if out[sla.LangZH] == "" {
		out[sla.LangZH] = out[sla.LangEN]
	}
	if out[sla.LangEN] == "" {
		out[sla.LangEN] = out[sla.LangZH]
	}
	return out
}

// markerAt finds a language marker at the start or after white space.
func markerAt(s, m string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], m)
		if j < 0 {
			return -1
		}
		j += i
		if j == 0 || strings.ContainsAny(s[j-1:j], " \n\t") {
			return j
		}
		i = j + 1
	}
}

// critical lists the critical periods, or (leads and up) adds one:
// "/critical acme 2026-12-20 2026-12-31T18:00 @wang 年终结算".
func (h Handler) critical(ctx context.Context, r Request, cmd Command) (string, error) {
	l := r.Lang
	if cmd.Text == "" {
		scope := r.ScopeCustomer
		if r.Actor.Role == sla.RoleCustomer {
			scope = r.Actor.CustomerID
		}
		if scope == "" && !r.Actor.Role.IsStaff() {
			return i18n.T(l, "reply.critical_none", nil), nil
		}
		ws, err := h.Svc.CriticalWindows(ctx, scope, r.Now)
		if err != nil {
			return "", err
		}
		var lines []string
		for _, w := range ws {
			lines = append(lines, i18n.T(l, "reply.critical_line", h.WindowParams(l, w)))
		}
		if len(lines) == 0 {
			return i18n.T(l, "reply.critical_none", nil), nil
		}
		return i18n.T(l, "reply.critical_header", nil) + "\n" + strings.Join(lines, "\n"), nil
	}
	if !r.Actor.Role.AtLeast(sla.RoleLead) {
		return "", sla.Errorf(sla.EFORBIDDEN, "err.critical_forbidden", nil, "only leads set critical periods")
	}
	id, rest, err := h.customerOf(r, cmd.Text)
	if err != nil {
		return "", err
	}
	fromWord, rest := cut(rest)
	toWord, rest := cut(rest)
	if fromWord == "" || toWord == "" {
		return "", sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": "critical"}, "usage")
	}
	zone := h.Svc.Calendar().Zone
	from, err := sla.ParseWhen(fromWord, zone, false)
	if err != nil {
		return "", err
	}
	to, err := sla.ParseWhen(toWord, zone, true)
	if err != nil {
		return "", err
	}
	if !to.After(from) || !to.After(r.Now) || to.Sub(from) > 366*24*time.Hour {
		return "", sla.Errorf(sla.EINVALID, "err.time_order", nil, "the end must be after the start")
	}
	w := sla.CriticalWindow{CustomerID: id, Start: from, End: to}
	for {
		word, after := cut(rest)
		if !strings.HasPrefix(word, "@") {
			break
		}
		p, ok := h.Svc.FindPerson(word)
		if !ok || !p.Role.IsStaff() {
			return "", sla.Errorf(sla.EINVALID, "err.unknown_person", map[string]any{"name": word}, "unknown person %q", word)
		}
		w.Onsite, rest = append(w.Onsite, p.ID), after
	}
	w.Note = rest
	if err := h.Svc.AddCritical(ctx, w, r.Actor, r.Now); err != nil {
		return "", err
	}
	windows, err := h.Svc.CriticalWindows(ctx, id, r.Now)
	if err == nil {
		for _, saved := range windows {
			if saved.Start.Equal(w.Start) && saved.End.Equal(w.End) {
				w = saved // with the on-site engineers filled in
			}
		}
	}
	return i18n.T(l, "reply.critical_added", h.WindowParams(l, w)), nil
}

// digest: "/digest [daily|weekly|quarter] [customer] [2026Q3]".
func (h Handler) digest(ctx context.Context, r Request, cmd Command) (string, error) {
	l, f := r.Lang, h.Svc.Format(r.Lang)
	kind := sla.DigestDaily
	rest := cmd.Text
	if word, after := cut(rest); word != "" {
		switch strings.ToLower(word) {
		case sla.DigestDaily, "day", "日报":
			rest = after
		case sla.DigestWeekly, "week", "周报":
			kind, rest = sla.DigestWeekly, after
		case sla.DigestQuarter, "quarterly", "季度", "季报":
			kind, rest = sla.DigestQuarter, after
		}
	}
	customer := r.ScopeCustomer
	cal := h.Svc.Calendar()
	from, to, period := time.Time{}, time.Time{}, ""
	for _, word := range strings.Fields(rest) {
		if c, ok := h.Svc.Customer(word); ok && (r.ScopeCustomer == "" || r.ScopeCustomer == c.ID) {
			customer = c.ID
			continue
		}
		if kind == sla.DigestQuarter {
			if s, e, ok := cal.ParseQuarter(word); ok {
				from, to, period = s, e, strings.ToUpper(word)
				continue
			}
			if word[0] >= '0' && word[0] <= '9' {
				return "", sla.Errorf(sla.EINVALID, "err.bad_quarter", map[string]any{"value": word}, "%q is not a quarter", word)
			}
		}
		return "", sla.Errorf(sla.EINVALID, "err.unknown_customer", map[string]any{"name": word}, "unknown customer %q", word)
	}
	name := Namer(h.customerName)
	switch kind {
	case sla.DigestDaily:
		d, err := h.Svc.DailyDigest(ctx, customer, r.Now)
		if err != nil {
			return "", err
		}
		return DailyText(f, d, name), nil
	case sla.DigestWeekly:
		st, err := h.Svc.Stats(ctx, customer, r.Now.AddDate(0, 0, -7), r.Now, r.Now)
		if err != nil {
			return "", err
		}
		return StatsText(f, i18n.T(l, "digest.title.weekly", nil), st, name), nil
	}
	if period == "" {
		from, to, period = cal.Quarter(r.Now)
	}
	report, files, err := QuarterReport(ctx, h.Svc, f, period, from, to, r.Now, customer, name)
	if err != nil {
		return "", err
	}
	if err := h.Svc.SendFiles(ctx, r.Place, r.Now, files...); err != nil {
		return "", err
	}
	return report + "\n" + i18n.T(l, "reply.files_follow", nil), nil
}

// QuarterReport renders a quarterly report, of one customer or of all (with
// a line per customer in the chart and CSV), with its PNG chart and CSV.
func QuarterReport(ctx context.Context, svc Service, f i18n.Format, period string, from, to, now time.Time, customer string,
	name Namer) (string, []chat.File, error) {
	all, err := svc.Stats(ctx, customer, from, to, now)
	if err != nil {
		return "", nil, err
	}
	sts := []sla.Stats{all}
	if customer == "" {
		for _, c := range svc.Customers() {
			st, err := svc.Stats(ctx, c.ID, from, to, now)
			if err != nil {
				return "", nil, err
			}
			sts = append(sts, st)
		}
	}
	title := i18n.T(f.Lang, "digest.title.quarter", map[string]any{"period": period})
	chart, err := StatsChart(f, title, sts, name)
	if err != nil {
		return "", nil, err
	}
	base := "slakeeper-" + period
	if customer != "" {
		base += "-" + customer
	}
	files := []chat.File{
		{Name: base + ".png", Type: "image/png", Caption: title, Data: chart.PNG},
		{Name: base + ".csv", Type: "text/csv", Caption: title, Data: StatsCSV(f.Lang, period, sts, name)},
	}
	return StatsText(f, title, all, name), files, nil
}
