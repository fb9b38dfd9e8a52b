package bot

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Card renders an incident's card for a reader at now, with the buttons
// that make sense in its state.
func (s *Service) Card(inc sla.Incident, lang sla.Lang, now time.Time) chat.Card {
	f := s.Format(lang)
	cust, _ := s.Dir.Customer(inc.CustomerID)
	assignee := i18n.T(lang, "nobody", nil)
	if p, ok := s.Dir.Person(inc.AssigneeID); ok {
		assignee = p.Name
	}
	clocks := commands.ClockLines(f, inc, now)
	status := i18n.Status(lang, inc.Status)
	switch inc.Outcome {
	case sla.OutcomeDuplicate:
		status = i18n.T(lang, "status.duplicate", map[string]any{"into": inc.MergedInto})
	case sla.OutcomeNotFault:
		status = i18n.T(lang, "status.notfault", nil)
	}
	severity := i18n.Severity(lang, inc.Severity)
	if inc.Status == sla.StatusTriage {
		severity = i18n.T(lang, "card.guess", map[string]any{"severity": severity})
	}
	c := chat.Card{
		IncidentID: inc.ID,
		Title: i18n.T(lang, "card.title", map[string]any{"id": inc.ID, "customer": cust.Name,
			"severity": severity, "status": status}),
		Text: inc.Title,
		Fields: []chat.CardField{
			{Label: i18n.T(lang, "card.assignee", nil), Value: assignee},
			{Label: i18n.T(lang, "card.reporter", nil), Value: inc.ReporterName + " · " + f.Time(inc.ReportedAt)},
			{Label: i18n.T(lang, "card.deadlines", nil), Value: strings.Join(clocks, "\n")},
		},
	}
	if inc.Reason != "" {
		c.Fields = append(c.Fields, chat.CardField{Label: i18n.T(lang, "card.reason", nil), Value: inc.Reason})
	}
	if inc.RelatedTo != 0 {
		c.Fields = append(c.Fields, chat.CardField{Label: i18n.T(lang, "card.related", nil), Value: "#" + strconv.FormatInt(inc.RelatedTo, 10)})
	}
	button := func(id, style string) chat.CardAction {
		return chat.CardAction{ID: id, Label: i18n.T(lang, "btn."+id, nil), Style: style}
	}
	if inc.Status == sla.StatusTriage {
		// Is it a fault? The engineers decide; the reply clock runs.
		c.Text = i18n.T(lang, "card.triage_question", nil) + "\n" + inc.Title
		nf := button(chat.ActionTriageNotFault, "danger")
		nf.Confirm = &chat.CardConfirm{Title: i18n.T(lang, "confirm.notfault.title", nil),
			Text: i18n.T(lang, "confirm.notfault.text", map[string]any{"id": inc.ID}),
			Yes:  i18n.T(lang, "confirm.yes", nil), No: i18n.T(lang, "confirm.no", nil)}
		c.Actions = append(c.Actions, button(chat.ActionTriageCore, "primary"), button(chat.ActionTriageNoncore, ""), nf, button("take", ""))
		return c
	}
	if inc.Status == sla.StatusOpen {
		c.Actions = append(c.Actions, button("ack", "primary"))
	}
	if inc.Status.Active() {
		c.Actions = append(c.Actions, button("take", ""))
	}
	if inc.Status == sla.StatusOpen || inc.Status == sla.StatusAcknowledged {
		c.Actions = append(c.Actions, button("onsite", ""))
	}
	if inc.Status.Active() {
		r := button("restore", "danger")
		r.Confirm = &chat.CardConfirm{Title: i18n.T(lang, "confirm.restore.title", nil),
			Text: i18n.T(lang, "confirm.restore.text", map[string]any{"id": inc.ID}),
			Yes:  i18n.T(lang, "confirm.yes", nil), No: i18n.T(lang, "confirm.no", nil)}
		c.Actions = append(c.Actions, r)
	}
	return c
}

// cardMessages posts (or updates) the incident's card in every engineering
// channel.
func (s *Service) cardMessages(inc sla.Incident, now time.Time) []storage.Outgoing {
	var out []storage.Outgoing
	for _, r := range (Audience{Engineers: true}).Recipients(s.Dir) {
		ch := r.Channel
		c := s.Card(inc, s.cardLang(ch, inc.CustomerID), now)
		payload, _ := json.Marshal(c)
		m := s.outgoing(inc.ID, chat.KindCard, ch.Platform, ch.ChatID, r.Thread, c.Plain())
		m.Payload = string(payload)
		out = append(out, m)
	}
	return out
}
