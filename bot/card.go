package bot

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Card renders an incident's card for a reader at now, with the buttons
// that make sense in its state.
func (s *Service) Card(inc sla.Incident, lang sla.Lang, now time.Time) Card {
	f := s.Format(lang)
	cust, _ := s.Dir.Customer(inc.CustomerID)
	assignee := i18n.T(lang, "nobody", nil)
	if p, ok := s.Dir.Person(inc.AssigneeID); ok {
		assignee = p.Name
	}
	var clocks []string
	for _, c := range inc.Clocks() {
		clocks = append(clocks, f.Clock(c, now))
	}
	c := Card{
		IncidentID: inc.ID,
		Title: i18n.T(lang, "card.title", map[string]any{"id": inc.ID, "customer": cust.Name,
			"severity": i18n.Severity(lang, inc.Severity), "status": i18n.Status(lang, inc.Status)}),
		Text: inc.Title,
		Fields: []CardField{
			{Label: i18n.T(lang, "card.assignee", nil), Value: assignee},
			{Label: i18n.T(lang, "card.reporter", nil), Value: inc.ReporterName + " · " + f.Time(inc.ReportedAt)},
			{Label: i18n.T(lang, "card.deadlines", nil), Value: strings.Join(clocks, "\n")},
		},
	}
	if inc.Reason != "" {
		c.Fields = append(c.Fields, CardField{Label: i18n.T(lang, "card.reason", nil), Value: inc.Reason})
	}
	button := func(id, style string) CardAction {
		return CardAction{ID: id, Label: i18n.T(lang, "btn."+id, nil), Style: style}
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
		r.Confirm = &CardConfirm{Title: i18n.T(lang, "confirm.restore.title", nil),
			Text: i18n.T(lang, "confirm.restore.text", map[string]any{"id": inc.ID}),
			Yes:  i18n.T(lang, "confirm.yes", nil), No: i18n.T(lang, "confirm.no", nil)}
		c.Actions = append(c.Actions, r)
	}
	return c
}

// Plain is the card's plain form, for notifications and adapters without
// rich messages.
func (c Card) Plain() string {
	lines := []string{c.Title, c.Text}
	for _, f := range c.Fields {
		if strings.Contains(f.Value, "\n") {
			lines = append(lines, f.Label+":", "• "+strings.ReplaceAll(f.Value, "\n", "\n• "))
		} else {
			lines = append(lines, f.Label+": "+f.Value)
		}
	}
	return strings.Join(lines, "\n")
}

// cardMessages posts (or updates) the incident's card in every engineering
// channel.
func (s *Service) cardMessages(inc sla.Incident, now time.Time) []storage.Outgoing {
	var out []storage.Outgoing
	for _, ch := range s.Dir.Channels(storage.ChannelEngineering, "") {
		c := s.Card(inc, s.channelLang(ch), now)
		payload, _ := json.Marshal(c)
		m := s.outgoing(inc.ID, KindCard, ch.Platform, ch.ChatID, "", c.Plain())
		m.Payload = string(payload)
		out = append(out, m)
	}
	return out
}
