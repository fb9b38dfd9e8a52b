package bot

import (
	"context"
	"strconv"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// FireTimers fires an incident's timers due at now, in one transaction with
// the timeline events, the breaches recorded, the next steps of the ladder
// and the alerts they post. It returns how many timers fired: 0 when none
// was due, or another replica or a person holds the incident.
func (s *Service) FireTimers(ctx context.Context, id int64, now time.Time) (int, error) {
	var n int
	var done fired
	err := s.inTx(ctx, func(tx *storage.Tx) error {
		var err error
		done = fired{}
		n, err = s.fire(ctx, tx, id, now, &done)
		return err
	})
	if err == nil {
		s.countFired(done)
	}
	return n, err
}

// DueIncidents are up to limit incidents with timers due at now.
func (s *Service) DueIncidents(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	return s.Store.DueIncidents(ctx, now, limit)
}

// NextTimerDue is when the next pending timer is due, if there is one.
func (s *Service) NextTimerDue(ctx context.Context) (time.Time, bool, error) {
	return s.Store.NextTimerDue(ctx)
}

// fired is what one incident's round did, counted once it committed.
type fired struct {
	alerts   []sla.Alert
	breaches []sla.Clock
}

func (s *Service) countFired(f fired) {
	m := s.Metrics
	if m == nil {
		return
	}
	for _, a := range f.alerts {
		m.Alerts.Inc(string(a.Kind), strconv.Itoa(a.Level))
	}
	for _, c := range f.breaches {
		m.Breaches.Inc(string(c))
	}
}

func (s *Service) fire(ctx context.Context, tx *storage.Tx, id int64, now time.Time, done *fired) (int, error) {
	inc, ok, err := tx.ClaimIncident(ctx, id)
	if err != nil || !ok {
		return 0, err
	}
	stored, err := tx.Slots(ctx, id)
	if err != nil {
		return 0, err
	}
	policy, err := s.policyTx(ctx, tx, inc.CustomerID, inc.ReportedAt)
	if err != nil {
		return 0, err
	}
	// The steps due since each due slot's own (after downtime, the whole
	// ladder), and where each slot goes next.
	timers, slots := inc.Fire(policy, now, stored)
	if len(timers) == 0 {
		// Nothing due after all (the schedule moved): keep it as it is now.
		return 0, tx.SaveSlots(ctx, id, stored, slots)
	}
	deadline := map[sla.Clock]time.Time{}
	for _, c := range inc.Clocks() {
		deadline[c.Clock] = c.Due
	}
	for _, t := range timers {
		if t.Kind == sla.TimerBreach {
			done.breaches = append(done.breaches, t.Clock)
		}
		if t.Kind == sla.TimerBreach || t.Kind == sla.TimerEscalation {
			if err := tx.RecordBreach(ctx, id, t.Clock, deadline[t.Clock], now); err != nil {
				return 0, err
			}
		}
	}
	prev := inc.Version
	var events []sla.Event
	alerts := sla.Collapse(timers)
	done.alerts = alerts
	firedTracks := map[string]bool{}
	for _, a := range alerts {
		firedTracks[sla.Timer{Clock: a.Clock, Kind: a.Kind}.Track()] = true
		if a.Kind == sla.TimerFollowUp {
			events = append(events, inc.PingFollowUp(now))
			continue
		}
		kind := map[sla.TimerKind]sla.EventKind{sla.TimerReminder: sla.EventReminder, sla.TimerBreach: sla.EventBreach,
			sla.TimerEscalation: sla.EventEscalation, sla.TimerFollowUpCheck: sla.EventEscalation, sla.TimerReport: sla.EventReminder}[a.Kind]
		events = append(events, sla.Event{Kind: kind, At: now, Actor: "slakeeper", Data: map[string]string{
			"timer": string(a.Kind), "clock": string(a.Clock), "level": strconv.Itoa(a.Level), "collapsed": strconv.Itoa(a.Collapsed)}})
	}
	if inc.Version != prev {
		if err := tx.UpdateIncident(ctx, inc, prev); err != nil {
			return 0, err
		}
	}
	if err := tx.AppendEvents(ctx, id, events...); err != nil {
		return 0, err
	}
	// What the round changed (a follow-up ping starts its check) joins the
	// schedule; a series that fired does not fire again now.
	if err := tx.SaveSlots(ctx, id, stored, inc.Settle(policy, now, slots, firedTracks)); err != nil {
		return 0, err
	}
	msgs, err := s.alertMessages(ctx, tx, inc, alerts, deadline, policy, now)
	if err != nil {
		return 0, err
	}
	return len(timers), tx.Enqueue(ctx, now, msgs...)
}

// alertMessages renders one message per destination for an incident's
// alerts: the engineering channels always, the managers' channels when the
// ladder reached them; mentioning who must act. The managers' repeated
// reminders after their escalation go to the managers' channels alone (the
// engineering channel if there is none): a breach that lasts is never
// silent, and never floods.
func (s *Service) alertMessages(ctx context.Context, tx *storage.Tx, inc sla.Incident, alerts []sla.Alert, deadline map[sla.Clock]time.Time,
	policy sla.Policy, now time.Time) ([]storage.Outgoing, error) {
	dir := s.Dir
	cust, _ := dir.Customer(inc.CustomerID)
	mentions := map[string]bool{}
	var order []string
	mention := func(ids ...string) {
		for _, id := range ids {
			if id != "" && !mentions[id] {
				mentions[id] = true
				order = append(order, id)
			}
		}
	}
	responsible := inc.AssigneeID
	if responsible == "" {
		cur, err := s.onCallTx(ctx, tx, now)
		if err != nil {
			return nil, err
		}
		responsible = cur.PersonID
	}
	toManagers := false
	// A repeat stands only for repeats (after downtime an alert may fold
	// the whole ladder: the engineers must hear of that one).
	repeat := func(a sla.Alert) bool {
		return a.Kind == sla.TimerEscalation && a.Level == sla.LevelManager && a.Earliest.After(deadline[a.Clock].Add(policy.ManagerAfter))
	}
	onlyRepeats := len(alerts) > 0
	for _, a := range alerts {
		onlyRepeats = onlyRepeats && repeat(a)
	}
	for _, a := range alerts {
		switch {
		case a.Kind == sla.TimerFollowUpCheck || a.Level == sla.LevelLead:
			mention(dir.WithRole(sla.RoleLead)...)
		case a.Level == sla.LevelManager:
			mention(dir.WithRole(sla.RoleManager)...)
			toManagers = true
		default:
			mention(responsible)
		}
	}
	render := func(lang sla.Lang) string {
		f := s.Format(lang)
		var text string
		for i, a := range alerts {
			p := map[string]any{"id": inc.ID, "customer": cust.Name, "title": inc.Title}
			var key string
			switch a.Kind {
			case sla.TimerReminder:
				key = "engine.reminder"
				p["left"], p["due"] = f.Duration(deadline[a.Clock].Sub(now)), f.Time(deadline[a.Clock])
			case sla.TimerBreach, sla.TimerEscalation:
				key = "engine.breach"
				if a.Level > sla.LevelAssignee {
					key = "engine.escalation"
					p["level"] = i18n.T(lang, "level."+strconv.Itoa(a.Level), nil)
				}
				if repeat(a) {
					key = "engine.repeat"
					rs := policy.Repeats(deadline[a.Clock].Add(policy.ManagerAfter), now)
					p["next"] = f.Time(rs[len(rs)-1])
				}
				p["late"], p["due"] = f.Duration(now.Sub(deadline[a.Clock])), f.Time(deadline[a.Clock])
			case sla.TimerFollowUp:
				key = "engine.followup"
			case sla.TimerFollowUpCheck:
				key = "engine.followup_unanswered"
				p["late"] = f.Duration(now.Sub(inc.LastPingAt))
			case sla.TimerReport:
				key = "engine.report"
			}
			p["clock"] = i18n.T(lang, "clock."+string(a.Clock), nil)
			if i > 0 {
				text += "\n"
			}
			text += i18n.T(lang, key, p)
			if a.Collapsed > 0 {
				text += " " + i18n.T(lang, "engine.collapsed", map[string]any{"n": a.Collapsed})
			}
		}
		return text
	}
	var out []storage.Outgoing
	audience := Audience{Engineers: true, Managers: toManagers}
	if onlyRepeats {
		audience = Audience{ManagersElseEngineers: true}
	}
	for _, r := range audience.Recipients(dir) {
		m := s.outgoing(inc.ID, chat.KindAlert, r.Channel.Platform, r.Channel.ChatID, r.Thread, s.inLangs(r.Channel, render))
		m.Mentions = order
		out = append(out, m)
	}
	return out, nil
}
