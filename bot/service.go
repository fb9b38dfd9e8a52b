package bot

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/classify"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Service is the incident service: it opens and changes incidents, each in
// one transaction with the timeline event, the timers the incident now needs
// and the messages the change causes (the outbox). It implements
// commands.Service.
type Service struct {
	Store *storage.Store
	Dir   *sla.Directory
	// Kick, if set, is called after a commit that wrote to the outbox, to wake
	// the dispatcher.
	Kick func()
	// Metrics, if set, counts what the service does.
	Metrics *Metrics
	// Classifier reads customers' messages and learns from the engineers'
	// corrections; nil means the shipped model.
	Classifier *Classifier
	// Log, if set, hears of failed and refused commands.
	Log *slog.Logger
}

// log is the service's logger, or one that discards.
func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

var _ commands.Service = (*Service)(nil)

// Format returns the time format for a reader, in the configured zone.
func (s *Service) Format(lang sla.Lang) i18n.Format { return i18n.Format{Lang: lang, Loc: s.Dir.Zone} }

// FindPerson resolves an id or name to a person.
func (s *Service) FindPerson(ref string) (sla.Person, bool) { return s.Dir.FindPerson(ref) }

// Classify reads a customer's words with the deployment's classifier.
func (s *Service) Classify(text string) classify.Result { return s.Classifier.Classify(text) }

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

// Threads are the chat threads an incident is discussed in.
func (s *Service) Threads(ctx context.Context, id int64) ([]storage.ThreadRef, error) {
	return s.Store.ThreadsOfIncident(ctx, id)
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
	return s.inTx(ctx, func(tx *storage.Tx) error { return tx.AddOverride(ctx, o) })
}

// Open opens an incident in one transaction.
func (s *Service) Open(ctx context.Context, r commands.OpenRequest) (sla.Incident, error) {
	var inc sla.Incident
	err := s.inTx(ctx, func(tx *storage.Tx) error {
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
	if s.Metrics != nil {
		s.Metrics.IncidentsOpened.Inc(string(inc.Severity), inc.CustomerID)
	}
}

func (s *Service) open(ctx context.Context, tx *storage.Tx, r commands.OpenRequest) (sla.Incident, error) {
	reporter := sla.Actor{ID: r.Reporter.ID, Name: r.Reporter.Name}
	newIncident := sla.NewIncident
	if r.Triage {
		newIncident = sla.NewTriage
	}
	inc, ev, err := newIncident(r.CustomerID, r.Severity, r.Title, r.Reason, reporter, s.Dir.Policy(r.CustomerID), r.Now)
	if err != nil {
		return inc, err
	}
	if r.RelatedTo != 0 {
		inc.RelatedTo = r.RelatedTo
		ev.Data["related_to"] = strconv.FormatInt(r.RelatedTo, 10)
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
	if err := tx.SaveSlots(ctx, inc.ID, nil, inc.Reschedule(policy, r.Now, nil)); err != nil {
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
		if msgs[i].Kind == chat.KindCard && oncall.PersonID != "" {
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
		p := map[string]any{"id": inc.ID, "severity": i18n.Severity(lang, inc.Severity), "due": s.Format(lang).Time(inc.Deadlines.Ack),
			"related": ""}
		if inc.Status == sla.StatusTriage {
			// Not sure it is a fault: a polite answer now, and the promise
			// of a person's reply within the reply clock.
			if inc.RelatedTo != 0 {
				p["related"] = i18n.T(lang, "notify.related_short", map[string]any{"related": inc.RelatedTo})
			}
			return i18n.T(lang, "notify.triage_customer", p)
		}
		if inc.RelatedTo != 0 {
			p["related"] = i18n.T(lang, "notify.related", map[string]any{"related": inc.RelatedTo})
		}
		return i18n.T(lang, "notify.opened_customer", p) + "\n" + commands.Clocks(s.Format(lang), inc, inc.ReportedAt)
	}
	report := storage.ThreadRef{Platform: place.Platform, ChatID: place.ChatID, ThreadID: thread}
	for _, r := range (Audience{Customer: inc.CustomerID, Threads: []storage.ThreadRef{report}}).Recipients(s.Dir) {
		out = append(out, s.outgoing(inc.ID, "opened", r.Channel.Platform, r.Channel.ChatID, r.Thread, s.inLangs(r.Channel, custText)))
	}
	return append(out, s.cardMessages(inc, inc.ReportedAt)...)
}

// channelLang is the language of a channel: its setting, else its
// customer's, else the default. A channel that speaks both has the
// default as its one language where one must be chosen (see inLangs).
func (s *Service) channelLang(ch sla.Channel) sla.Lang {
	if ch.Lang == sla.LangBoth {
		return s.Dir.DefaultLang
	}
	if ch.Lang != "" {
		return ch.Lang
	}
	if ch.Kind == sla.ChannelCustomer {
		if c, ok := s.Dir.Customer(ch.CustomerID); ok && c.Lang != "" {
			return c.Lang
		}
	}
	return s.Dir.DefaultLang
}

// inLangs renders a post for a channel in each of its languages: one, or
// Chinese then English in a channel that speaks both.
func (s *Service) inLangs(ch sla.Channel, render func(sla.Lang) string) string {
	if ch.Lang != sla.LangBoth {
		return render(s.channelLang(ch))
	}
	var parts []string
	for _, l := range sla.LangBoth.Langs() {
		parts = append(parts, render(l))
	}
	return strings.Join(parts, "\n\n")
}

// cardLang is the language of an incident's card in a channel: a channel
// that speaks both shows the card in its customer's language (one card,
// its buttons and fields, in one language).
func (s *Service) cardLang(ch sla.Channel, customerID string) sla.Lang {
	if ch.Lang == sla.LangBoth {
		if c, ok := s.Dir.Customer(customerID); ok && c.Lang != "" {
			return c.Lang
		}
	}
	return s.channelLang(ch)
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
	err := s.inTx(ctx, func(tx *storage.Tx) error {
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

// changed counts a change whose transaction committed, and tells the
// classifier of a correction.
func (s *Service) changed(kind sla.EventKind) {
	if s.Metrics != nil {
		s.Metrics.StateChanges.Inc(string(kind))
	}
	if _, _, ok := correction(sla.Event{Kind: kind}, sla.Incident{}); ok {
		s.Classifier.Corrected(1)
	}
}

// correction is what an engineer's decision teaches the classifier about
// the customer's words (the incident's title): a triage decided, a
// severity changed, a report that was not a fault.
func correction(ev sla.Event, inc sla.Incident) (classify.Label, string, bool) {
	switch ev.Kind {
	case sla.EventTriaged:
		return classify.LabelOf(inc.Severity), "triage", true
	case sla.EventSeverity:
		return classify.LabelOf(inc.Severity), "severity", true
	case sla.EventNotFault:
		return classify.LabelNone, "notfault", true
	}
	return "", "", false
}

func (s *Service) change(ctx context.Context, tx *storage.Tx, id int64, actor sla.Person, now time.Time, fn commands.ChangeFunc) (sla.Incident, error) {
	inc, err := tx.IncidentForUpdate(ctx, id)
	if err != nil {
		return inc, err
	}
	prev, before, past := inc.Version, inc.Clocks(), len(inc.PastClocks)
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
	if len(inc.PastClocks) > past {
		if err := tx.AppendClockHistory(ctx, inc.ID, inc.PastClocks[past:], now); err != nil {
			return inc, err
		}
	}
	if err := tx.AppendEvents(ctx, inc.ID, ev); err != nil {
		return inc, err
	}
	if label, source, ok := correction(ev, inc); ok {
		if err := tx.AddClassifierExample(ctx, storage.ClassifierExample{At: now, Label: label, Body: inc.Title, Source: source,
			IncidentID: inc.ID, DecidedBy: actor.ID}); err != nil {
			return inc, err
		}
	}
	slots, err := tx.Slots(ctx, inc.ID)
	if err != nil {
		return inc, err
	}
	if err := tx.SaveSlots(ctx, inc.ID, slots, inc.Reschedule(policy, now, slots)); err != nil {
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
// engineers as a line of their own; a staff reply that met the reply clock
// only updates the card.
func (s *Service) changeMessages(ctx context.Context, tx *storage.Tx, inc sla.Incident, ev sla.Event) ([]storage.Outgoing, error) {
	customerKey, engineersKey, card := "", "", false
	switch ev.Kind {
	case sla.EventAcked, sla.EventAssigned, sla.EventSeverity, sla.EventOnsite, sla.EventRestored, sla.EventClosed, sla.EventReopened:
		customerKey, card = "notify."+map[sla.EventKind]string{sla.EventAcked: "acked", sla.EventAssigned: "assigned",
			sla.EventSeverity: "severity", sla.EventOnsite: "onsite", sla.EventRestored: "restored", sla.EventClosed: "closed",
			sla.EventReopened: "reopened"}[ev.Kind], true
	case sla.EventTriaged:
		customerKey, card = "notify.triaged", true
	case sla.EventNotFault:
		customerKey, card = "notify.notfault", true
	case sla.EventMerged:
		if ev.Data["into"] != "" {
			customerKey, card = "notify.merged", true
		} else {
			engineersKey = "notify.absorbed"
		}
	case sla.EventReply:
		card = ev.Data["first_response"] != ""
	case sla.EventReport:
		customerKey = "report" // the customer's copy, below
	case sla.EventNote:
		engineersKey = "notify.note"
	case sla.EventMessage:
		switch {
		case ev.Data["opened"] != "":
			return nil, nil // the new incident's card says it
		case ev.Data["folded"] != "":
			// A flood: the engineers hear of the first folded report and
			// of every tenth, with the count, not of each.
			if n, _ := strconv.Atoi(ev.Data["folded"]); !s.Dir.Flood.Tell(n) {
				return nil, nil
			}
			engineersKey = "notify.flood"
		case ev.Data["suggests"] != "":
			engineersKey = "notify.message_worse"
		default:
			engineersKey = "notify.message"
		}
	}
	render := func(key string, lang sla.Lang) string {
		p := map[string]any{"id": inc.ID, "actor": ev.Actor, "summary": inc.RestoreSummary, "text": ev.Body,
			"severity": i18n.Severity(lang, inc.Severity), "due": s.Format(lang).Time(inc.Deadlines.Restore),
			"into": ev.Data["into"], "from": ev.Data["from"], "reason": ev.Body,
			"folded": ev.Data["folded"], "opened": ev.Data["flood_opened"], "within": s.Format(lang).Duration(s.Dir.Flood.Window()),
			"customer": inc.CustomerID}
		if c, ok := s.Dir.Customer(inc.CustomerID); ok {
			p["customer"] = c.Name
		}
		if a, ok := s.Dir.Person(inc.AssigneeID); ok {
			p["assignee"] = a.Name
		}
		text := i18n.T(lang, key, p)
		if ev.Kind == sla.EventSeverity || ev.Kind == sla.EventTriaged {
			text += "\n" + commands.Clocks(s.Format(lang), inc, ev.At)
		}
		return text
	}
	var out []storage.Outgoing
	customerText := func(l sla.Lang) string { return render(customerKey, l) }
	var timeline []sla.Event
	if ev.Kind == sla.EventReport {
		// The maintenance service work report goes to the customer (C5), in
		// their language, and as a document they can file.
		var err error
		if timeline, err = tx.Timeline(ctx, inc.ID); err != nil {
			return nil, err
		}
		customerText = func(l sla.Lang) string { return s.serviceReport(inc, timeline, l, ev.At) }
	}
	toCustomer := func(ch sla.Channel, thread string) error {
		out = append(out, s.outgoing(inc.ID, string(ev.Kind), ch.Platform, ch.ChatID, thread, s.inLangs(ch, customerText)))
		if ev.Kind != sla.EventReport {
			return nil
		}
		files, err := s.reportFiles(ch, inc, timeline, ev.At)
		if err != nil {
			return err
		}
		fm, err := fileMessages(ch.Platform, ch.ChatID, thread, "", files)
		for i := range fm {
			id := inc.ID
			fm[i].IncidentID = &id
		}
		out = append(out, fm...)
		return err
	}
	audience := Audience{Engineers: engineersKey != ""}
	if customerKey != "" {
		// The customer hears in the incident's first thread in each of its
		// chats (the report's, or the bot's first message about it), else
		// in each of its channels.
		threads, err := tx.ThreadsOf(ctx, inc.ID)
		if err != nil {
			return nil, err
		}
		audience.Customer, audience.Threads = inc.CustomerID, threads
	}
	for _, r := range audience.Recipients(s.Dir) {
		ch := r.Channel
		if ch.Kind == sla.ChannelCustomer {
			if err := toCustomer(ch, r.Thread); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, s.outgoing(inc.ID, string(ev.Kind), ch.Platform, ch.ChatID, r.Thread, s.inLangs(ch, func(l sla.Lang) string { return render(engineersKey, l) })))
	}
	if card {
		// The engineers see the change on the incident's card, edited in place.
		out = append(out, s.cardMessages(inc, ev.At)...)
	}
	return out, nil
}

// Merge closes r.Duplicate as a duplicate of r.Into, in one transaction:
// the duplicate's clocks stop and its customer is told where it went, the
// surviving incident records it, and the duplicate's messages and threads
// move over, so that the customer's later replies there join the survivor.
func (s *Service) Merge(ctx context.Context, r commands.MergeRequest) (dup, into sla.Incident, err error) {
	notFound := func(id int64) error {
		return sla.Errorf(sla.ENOTFOUND, "err.not_found", map[string]any{"id": id}, "incident #%d not found", id)
	}
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		// Lock both rows in id order, so that two merges of the same pair
		// wait for each other instead of deadlocking.
		first, second := min(r.Duplicate, r.Into), max(r.Duplicate, r.Into)
		for _, id := range []int64{first, second} {
			inc, err := tx.IncidentForUpdate(ctx, id)
			if err != nil {
				return err
			}
			if r.Visible != nil && !r.Visible(inc) {
				return notFound(id)
			}
			if id == r.Into {
				into = inc
			}
		}
		a := sla.Actor{ID: r.Actor.ID, Name: r.Actor.Name}
		var err error
		if dup, err = s.change(ctx, tx, r.Duplicate, r.Actor, r.Now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
			return inc.MergeInto(a, into, r.Now)
		}); err != nil {
			return err
		}
		if into, err = s.change(ctx, tx, r.Into, r.Actor, r.Now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
			return inc.Absorb(a, dup, r.Now), nil
		}); err != nil {
			return err
		}
		return tx.MergeConversation(ctx, r.Duplicate, r.Into)
	})
	if err == nil {
		s.changed(sla.EventMerged)
		s.changed(sla.EventMerged)
		s.kick()
	}
	return dup, into, err
}
