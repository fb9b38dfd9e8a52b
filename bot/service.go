package bot

import (
	"context"
	"time"

	"github.com/slakeeper/slakeeper/bot/metrics"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Service is the incident service: it opens and changes incidents, each in
// one transaction with the timeline event, the timers the incident now needs
// and the messages the change causes (the outbox). It implements
// commands.Service.
type Service struct {
	Store *storage.Store
	Dir   *Directory
	// Kick, if set, is called after a commit that wrote to the outbox, to wake
	// the dispatcher.
	Kick func()
	// Metrics, if set, counts what the service does.
	Metrics *Metrics
}

var _ commands.Service = (*Service)(nil)

// Format returns the time format for a reader, in the configured zone.
func (s *Service) Format(lang sla.Lang) i18n.Format { return i18n.Format{Lang: lang, Loc: s.Dir.Zone} }

// FindPerson resolves an id or name to a person.
func (s *Service) FindPerson(ref string) (sla.Person, bool) { return s.Dir.FindPerson(ref) }

// Customer returns a customer by id.
func (s *Service) Customer(id string) (sla.Customer, bool) { return s.Dir.Customer(id) }

// Incident returns an incident or ENOTFOUND.
func (s *Service) Incident(ctx context.Context, id int64) (sla.Incident, error) {
	return s.Store.Incident(ctx, id)
}

// Unclosed lists incidents not closed, newest first.
func (s *Service) Unclosed(ctx context.Context, customerID string) ([]sla.Incident, error) {
	return s.Store.ListIncidents(ctx, storage.IncidentFilter{CustomerID: customerID, OpenOnly: true, Limit: 100})
}

func (s *Service) kick() {
	if s.Kick != nil {
		s.Kick()
	}
}

// Timeline returns an incident's events, oldest first.
func (s *Service) Timeline(ctx context.Context, id int64) ([]sla.Event, error) {
	return s.Store.Timeline(ctx, id)
}

// OnCall returns who is on call at now and who comes next, overrides
// included.
func (s *Service) OnCall(ctx context.Context, now time.Time) (cur, next sla.Shift, err error) {
	os, err := s.Store.Overrides(ctx, now)
	if err != nil {
		return cur, next, err
	}
	cur, next = sla.OnCall(s.Dir.Rotation, os, now)
	return cur, next, nil
}

// policyTx is the policy of an incident of a customer reported at
// reported: the contract's, on the critical ladder if reported in one of
// the customer's critical business periods (C11).
func (s *Service) policyTx(ctx context.Context, tx *storage.Tx, customerID string, reported time.Time) (sla.Policy, error) {
	ws, err := tx.CriticalWindows(ctx, customerID, reported)
	if err != nil {
		return sla.Policy{}, err
	}
	return s.Dir.Policy(customerID).During(append(ws, s.Dir.CriticalOf(customerID)...), reported), nil
}

// onCallTx is OnCall inside a transaction (SQLite has one connection: a
// query outside the transaction would wait for it forever).
func (s *Service) onCallTx(ctx context.Context, tx *storage.Tx, now time.Time) (sla.Shift, error) {
	os, err := tx.Overrides(ctx, now)
	if err != nil {
		return sla.Shift{}, err
	}
	cur, _ := sla.OnCall(s.Dir.Rotation, os, now)
	return cur, nil
}

// InboundRetention is how long a platform delivery's id (and a signed
// request's replay key) is kept to drop its retries: Slack retries within
// the hour, a signature is valid for five minutes, Telegram retries a
// webhook for a day.
const InboundRetention = 7 * 24 * time.Hour

// PruneInbound forgets deliveries older than InboundRetention.
func (s *Service) PruneInbound(ctx context.Context, now time.Time) (int64, error) {
	return s.Store.PruneInbound(ctx, now.Add(-InboundRetention))
}

// SetOnCall puts a person on call from now until end.
func (s *Service) SetOnCall(ctx context.Context, o sla.Override) error {
	return s.Store.InTx(ctx, func(tx *storage.Tx) error { return tx.AddOverride(ctx, o) })
}

// Open opens an incident in one transaction.
func (s *Service) Open(ctx context.Context, r commands.OpenRequest) (sla.Incident, error) {
	var inc sla.Incident
	err := s.Store.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		inc, err = s.open(ctx, tx, r)
		return err
	})
	if err == nil {
		s.opened(inc)
		s.kick()
	}
	return inc, err
}

// opened counts an incident whose transaction committed.
func (s *Service) opened(inc sla.Incident) {
	s.Metrics.counter(func(m *Metrics) *metrics.Counter { return m.IncidentsOpened }, string(inc.Severity), inc.CustomerID)
}

func (s *Service) open(ctx context.Context, tx *storage.Tx, r commands.OpenRequest) (sla.Incident, error) {
	reporter := sla.Actor{ID: r.Reporter.ID, Name: r.Reporter.Name}
	inc, ev, err := sla.NewIncident(r.CustomerID, r.Severity, r.Title, r.Reason, reporter, s.Dir.Policy(r.CustomerID), r.Now)
	if err != nil {
		return inc, err
	}
	if err := tx.InsertIncident(ctx, &inc); err != nil {
		return inc, err
	}
	if err := tx.AppendEvents(ctx, inc.ID, ev); err != nil {
		return inc, err
	}
	policy, err := s.policyTx(ctx, tx, inc.CustomerID, inc.ReportedAt)
	if err != nil {
		return inc, err
	}
	if err := tx.ScheduleTimers(ctx, inc.ID, inc.Timers(policy, r.Now)); err != nil {
		return inc, err
	}
	thread := r.Place.ThreadID
	if thread == "" {
		thread = r.Place.MessageID
	}
	if r.Place.Platform != "" && thread != "" {
		if err := tx.BindThread(ctx, storage.ThreadRef{Platform: r.Place.Platform, ChatID: r.Place.ChatID, ThreadID: thread, Origin: true}, inc.ID, r.Now); err != nil {
			return inc, err
		}
	}
	msgs := s.openedMessages(inc, r.Place, thread)
	oncall, err := s.onCallTx(ctx, tx, r.Now)
	if err != nil {
		return inc, err
	}
	for i := range msgs {
		if msgs[i].Kind == KindCard && oncall.PersonID != "" {
			msgs[i].Mentions = []string{oncall.PersonID} // offered to the on-call engineer
		}
	}
	return inc, tx.Enqueue(ctx, r.Now, msgs...)
}

// openedMessages tells the customer (in the thread of the report, or in
// their channels) and the engineers that an incident is open.
func (s *Service) openedMessages(inc sla.Incident, place commands.Place, thread string) []storage.Outgoing {
	var out []storage.Outgoing
	custText := func(lang sla.Lang) string {
		return i18n.T(lang, "notify.opened_customer", map[string]any{"id": inc.ID, "severity": i18n.Severity(lang, inc.Severity)}) +
			"\n" + commands.Clocks(s.Format(lang), inc, inc.ReportedAt)
	}
	if ch, ok := s.Dir.Channel(place.Platform, place.ChatID); ok && ch.Kind == storage.ChannelCustomer && ch.CustomerID == inc.CustomerID {
		out = append(out, s.outgoing(inc.ID, "opened", ch.Platform, ch.ChatID, thread, custText(s.channelLang(ch))))
	} else {
		for _, ch := range s.Dir.Channels(storage.ChannelCustomer, inc.CustomerID) {
			out = append(out, s.outgoing(inc.ID, "opened", ch.Platform, ch.ChatID, "", custText(s.channelLang(ch))))
		}
	}
	return append(out, s.cardMessages(inc, inc.ReportedAt)...)
}

func (s *Service) channelLang(ch storage.Channel) sla.Lang {
	if ch.Lang != "" {
		return ch.Lang
	}
	if ch.Kind == storage.ChannelCustomer {
		if c, ok := s.Dir.Customer(ch.CustomerID); ok && c.Lang != "" {
			return c.Lang
		}
	}
	return s.Dir.DefaultLang
}

func (s *Service) outgoing(incidentID int64, kind, platform, chat, thread, text string) storage.Outgoing {
	id := incidentID
	return storage.Outgoing{Platform: platform, ChatID: chat, ThreadID: thread, IncidentID: &id, Kind: kind, Body: text}
}

// Change applies fn to an incident in one transaction with everything the
// change causes.
func (s *Service) Change(ctx context.Context, id int64, actor sla.Person, now time.Time, fn commands.ChangeFunc) (sla.Incident, error) {
	var inc sla.Incident
	var kind sla.EventKind
	err := s.Store.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		inc, err = s.change(ctx, tx, id, actor, now, func(i *sla.Incident, p sla.Policy) (sla.Event, error) {
			ev, err := fn(i, p)
			kind = ev.Kind
			return ev, err
		})
		return err
	})
	if err == nil {
		s.changed(kind)
		s.kick()
	}
	return inc, err
}

// changed counts a change whose transaction committed.
func (s *Service) changed(kind sla.EventKind) {
	s.Metrics.counter(func(m *Metrics) *metrics.Counter { return m.StateChanges }, string(kind))
}

func (s *Service) change(ctx context.Context, tx *storage.Tx, id int64, actor sla.Person, now time.Time, fn commands.ChangeFunc) (sla.Incident, error) {
	inc, err := tx.IncidentForUpdate(ctx, id)
	if err != nil {
		return inc, err
	}
	prev, before := inc.Version, inc.Clocks()
	policy, err := s.policyTx(ctx, tx, inc.CustomerID, inc.ReportedAt)
	if err != nil {
		return inc, err
	}
	ev, err := fn(&inc, policy)
	if err != nil {
		return inc, err
	}
	for i, c := range inc.Clocks() {
		if i < len(before) && c.Clock == before[i].Clock && c.Met() && !before[i].Met() {
			if err := tx.MeetBreaches(ctx, inc.ID, c.Clock, c.MetAt); err != nil {
				return inc, err
			}
		}
	}
	if err := tx.UpdateIncident(ctx, inc, prev); err != nil {
		return inc, err
	}
	if err := tx.AppendEvents(ctx, inc.ID, ev); err != nil {
		return inc, err
	}
	if err := tx.SyncTimers(ctx, inc.ID, inc.Timers(policy, now)); err != nil {
		return inc, err
	}
	msgs, err := s.changeMessages(ctx, tx, inc, ev)
	if err != nil {
		return inc, err
	}
	return inc, tx.Enqueue(ctx, now, msgs...)
}

// changeMessages decides who hears of a change: state changes go to the
// customer's threads of the incident and update the card in the
// engineering channels; notes and what a customer writes go to the
// engineers as a line of their own.
func (s *Service) changeMessages(ctx context.Context, tx *storage.Tx, inc sla.Incident, ev sla.Event) ([]storage.Outgoing, error) {
	key := "notify." + map[sla.EventKind]string{
		sla.EventAcked: "acked", sla.EventAssigned: "assigned", sla.EventSeverity: "severity", sla.EventOnsite: "onsite",
		sla.EventRestored: "restored", sla.EventClosed: "closed", sla.EventReopened: "reopened", sla.EventNote: "note",
		sla.EventMessage: "message",
	}[ev.Kind]
	if !i18n.Has(key) {
		return nil, nil
	}
	render := func(lang sla.Lang) string {
		p := map[string]any{"id": inc.ID, "actor": ev.Actor, "summary": inc.RestoreSummary, "text": ev.Body,
			"severity": i18n.Severity(lang, inc.Severity), "due": s.Format(lang).Time(inc.Deadlines.Restore)}
		if a, ok := s.Dir.Person(inc.AssigneeID); ok {
			p["assignee"] = a.Name
		}
		text := i18n.T(lang, key, p)
		if ev.Kind == sla.EventSeverity {
			text += "\n" + commands.Clocks(s.Format(lang), inc, ev.At)
		}
		return text
	}
	var out []storage.Outgoing
	toCustomer := ev.Kind != sla.EventNote && ev.Kind != sla.EventMessage
	if toCustomer {
		threads, err := tx.ThreadsOf(ctx, inc.ID)
		if err != nil {
			return nil, err
		}
		// One message per customer chat, in the incident's first thread there:
		// the report's, or the bot's first message about it.
		sent := false
		done := map[string]bool{}
		for _, t := range threads {
			key := t.Platform + "\x00" + t.ChatID
			if done[key] {
				continue
			}
			if ch, ok := s.Dir.Channel(t.Platform, t.ChatID); ok && ch.Kind == storage.ChannelCustomer && ch.CustomerID == inc.CustomerID {
				out = append(out, s.outgoing(inc.ID, string(ev.Kind), t.Platform, t.ChatID, t.ThreadID, render(s.channelLang(ch))))
				sent, done[key] = true, true
			}
		}
		if !sent {
			for _, ch := range s.Dir.Channels(storage.ChannelCustomer, inc.CustomerID) {
				out = append(out, s.outgoing(inc.ID, string(ev.Kind), ch.Platform, ch.ChatID, "", render(s.channelLang(ch))))
			}
		}
	}
	if !toCustomer {
		for _, ch := range s.Dir.Channels(storage.ChannelEngineering, "") {
			out = append(out, s.outgoing(inc.ID, string(ev.Kind), ch.Platform, ch.ChatID, "", render(s.channelLang(ch))))
		}
		return out, nil
	}
	// The engineers see the change on the incident's card, edited in place.
	return append(out, s.cardMessages(inc, ev.At)...), nil
}
