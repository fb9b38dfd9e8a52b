package commands

import (
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

// reportEvents are the timeline entries a service report lists.
var reportEvents = map[sla.EventKind]bool{sla.EventOpened: true, sla.EventMessage: true, sla.EventAcked: true,
	sla.EventAssigned: true, sla.EventSeverity: true, sla.EventOnsite: true, sla.EventRestored: true, sla.EventClosed: true,
	sla.EventReopened: true, sla.EventNote: true, sla.EventFollowUp: true, sla.EventBreach: true}

// Report renders the maintenance service work report (维护技术服务工作报告,
// C5) of an incident from its timeline, at now, in the reader's language.
func Report(f i18n.Format, customer, assignee string, inc sla.Incident, timeline []sla.Event, now time.Time) string {
	l := f.Lang
	lines := []string{
		i18n.T(l, "report.title", nil),
		i18n.T(l, "report.header", map[string]any{"customer": customer, "id": inc.ID,
			"severity": i18n.Severity(l, inc.Severity), "status": i18n.Status(l, inc.Status)}),
		i18n.T(l, "report.problem", map[string]any{"title": inc.Title}),
		i18n.T(l, "report.reported", map[string]any{"at": f.Time(inc.ReportedAt), "by": inc.ReporterName}),
		i18n.T(l, "report.assignee", map[string]any{"assignee": assignee}),
	}
	for _, x := range []struct {
		key string
		at  time.Time
	}{{"report.onsite", inc.OnsiteAt}, {"report.restored", inc.RestoredAt}, {"report.closed", inc.ClosedAt}} {
		if !x.at.IsZero() {
			lines = append(lines, i18n.T(l, x.key, map[string]any{"at": f.Time(x.at)}))
		}
	}
	lines = append(lines, i18n.T(l, "report.sla", nil), Clocks(f, inc, now))
	if inc.RestoreSummary != "" {
		lines = append(lines, i18n.T(l, "report.actions", map[string]any{"summary": inc.RestoreSummary}))
	}
	lines = append(lines, i18n.T(l, "report.timeline", nil))
	for _, e := range timeline {
		if !reportEvents[e.Kind] {
			continue
		}
		line := "• " + f.Time(e.At) + " " + i18n.T(l, "event."+string(e.Kind), nil)
		if e.Actor != "" {
			line += "（" + e.Actor + "）"
			if l == sla.LangEN {
				line = strings.Replace(line, "（", " (", 1)
				line = strings.Replace(line, "）", ")", 1)
			}
		}
		if e.Body != "" {
			line += ": " + e.Body
		}
		lines = append(lines, line)
	}
	if inc.Status == sla.StatusClosed {
		lines = append(lines, i18n.T(l, "report.done", nil))
	} else {
		last := i18n.T(l, "report.none", nil)
		if !inc.LastFollowUpAt.IsZero() {
			last = f.Time(inc.LastFollowUpAt)
		}
		lines = append(lines, i18n.T(l, "report.open", map[string]any{"last": last}))
	}
	return strings.Join(lines, "\n")
}
