package bot

import (
	"context"
	"strconv"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/classify"
	"github.com/slakeeper/slakeeper/storage"
)

// conversationsLimit bounds how many of a customer's incidents in progress
// a new message is compared with.
const conversationsLimit = 5

// IntakeResult is what intake did with a message.
type IntakeResult struct {
	Decision sla.Decision
	Incident sla.Incident // the incident opened or joined
	Opened   bool
	Event    sla.EventKind // the change made to an incident joined
	Reason   string        // why the classifier thought what it did
	// Folded says a fault report joined the customer's latest incident
	// because the customer is past the intake limit.
	Folded bool
}

// Intake reads a plain message written in a customer channel and decides,
// in one transaction with its effect and the delivery's dedupe:
//
//   - A staff member's message never opens an incident. In an incident's
//     thread (or, at top level, when exactly one of the customer's
//     incidents still awaits a reply) it is recorded as the reply to the
//     customer and meets the reply clock, unless the deployment turned
//     that off.
//   - A customer's message in an incident's thread joins that incident
//     while it is in progress; in the thread of one restored or closed, a
//     new fault opens a new incident linked to it.
//   - At top level, a customer's message that continues one of their
//     incidents in progress (classify.FollowUp) joins it; otherwise a fault
//     opens an incident, an uncertain message opens one in triage, and
//     anything else is kept as chatter.
//
// Every message is stored with what was decided about it.
func (s *Service) Intake(ctx context.Context, in chat.Inbound, from Author, now time.Time) (IntakeResult, error) {
	person, ch := from.Person, from.Channel
	staff := from.Known && person.Role.IsStaff()
	var verdict classify.Result
	if !staff {
		verdict = s.Classifier.Classify(in.Text)
	}
	var res IntakeResult
	// Group commit: concurrent intakes share a transaction and its commit
	// (storage.InGroupTx); the function may run twice, so it starts afresh.
	err := s.Store.InGroupTx(ctx, func(tx *storage.Tx) error {
		res = IntakeResult{}
		if in.EventID != "" {
			fresh, err := tx.MarkInbound(ctx, in.Platform, in.EventID, now)
			if err != nil || !fresh {
				return err
			}
		}
		msg := storage.Message{At: now, Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, MessageID: in.MessageID,
			CustomerID: ch.CustomerID, AuthorID: person.ID, AuthorName: person.Name, Staff: staff, Body: in.Text}
		if !staff {
			msg.Verdict, msg.Confidence, msg.Reason = verdict.Verdict, verdict.Confidence, verdict.Reason()
		}
		var thread sla.Incident
		if in.ThreadID != "" {
			id, ok, err := tx.IncidentInThread(ctx, storage.ThreadRef{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID})
			if err != nil {
				return err
			}
			if ok {
				if thread, err = tx.IncidentForUpdate(ctx, id); err != nil {
					return err
				}
			}
		}
		var err error
		if staff {
			err = s.staffMessage(ctx, tx, in, now, person, ch, thread, &res)
		} else {
			err = s.customerMessage(ctx, tx, in, now, person, ch, thread, verdict, &res)
		}
		if err != nil {
			return err
		}
		msg.Decision, msg.IncidentID = res.Decision, res.Incident.ID
		return tx.InsertMessage(ctx, &msg)
	})
	if err != nil || res.Decision == "" {
		return res, err
	}
	if !staff {
		res.Reason = verdict.Reason()
	}
	switch {
	case res.Opened:
		s.opened(res.Incident)
		s.kick()
	case res.Event != "":
		s.changed(res.Event)
		s.kick()
	}
	return res, nil
}

// customerMessage decides about a customer's message (see intake).
func (s *Service) customerMessage(ctx context.Context, tx *storage.Tx, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel,
	thread sla.Incident, verdict classify.Result, res *IntakeResult) error {
	fault := verdict.Verdict != classify.VerdictNotFault
	attach := func(id int64) error {
		inc, err := s.change(ctx, tx, id, person, now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
			ev := inc.AttachMessage(sla.Actor{ID: person.ID, Name: person.Name}, in.Text, now)
			if sev, ok := verdict.Verdict.Severity(); ok && sev == sla.SeverityCore && inc.Severity != sla.SeverityCore && inc.Status.Active() {
				ev.Data = map[string]string{"suggests": string(sev)} // the customer says it got worse
			}
			return ev, nil
		})
		res.Decision, res.Incident, res.Event = sla.DecisionAttached, inc, sla.EventMessage
		return err
	}
	place := commands.Place{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, MessageID: in.MessageID}
	if thread.ID != 0 {
		if thread.Status.Active() || !fault {
			return attach(thread.ID)
		}
		// A new fault in the thread of an incident that is over: a new
		// incident, linked to it, which takes the thread over.
		if err := s.openFor(ctx, tx, in, now, person, ch, verdict, place, thread.ID, res); err != nil {
			return err
		}
		if err := tx.RebindThread(ctx, storage.ThreadRef{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID}, res.Incident.ID); err != nil {
			return err
		}
		_, err := s.change(ctx, tx, thread.ID, person, now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
			ev := inc.AttachMessage(sla.Actor{ID: person.ID, Name: person.Name}, in.Text, now)
			ev.Data = map[string]string{"opened": strconv.FormatInt(res.Incident.ID, 10)}
			return ev, nil
		})
		return err
	}
	convs, err := tx.Conversations(ctx, ch.CustomerID, conversationsLimit)
	if err != nil {
		return err
	}
	if j := classify.FollowUp(in.Text, verdict, convs); j >= 0 {
		return attach(convs[j].IncidentID)
	}
	if !fault {
		res.Decision = sla.DecisionChatter
		return nil
	}
	if folded, err := s.fold(ctx, tx, in, now, person, ch, res); folded || err != nil {
		return err
	}
	return s.openFor(ctx, tx, in, now, person, ch, verdict, place, 0, res)
}

// fold joins a new fault report to the customer's latest incident when the
// customer is past the intake limit (sla.FloodLimit), and reports whether
// it did. The engineers hear of the flood with a count (see changeMessages).
func (s *Service) fold(ctx context.Context, tx *storage.Tx, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel,
	res *IntakeResult) (bool, error) {
	limit := s.Dir.Flood
	if limit.Off() {
		return false, nil
	}
	opened, err := tx.OpenedSince(ctx, ch.CustomerID, limit.Since(now), limit.Limit())
	if err != nil || !limit.Folds(opened) {
		return false, err
	}
	latest, folded, err := tx.FloodTarget(ctx, ch.CustomerID, limit.Since(now))
	if err != nil || latest == 0 {
		return false, err
	}
	inc, err := s.change(ctx, tx, latest, person, now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
		ev := inc.AttachMessage(sla.Actor{ID: person.ID, Name: person.Name}, in.Text, now)
		ev.Data = map[string]string{"folded": strconv.Itoa(folded + 1), "flood_opened": strconv.Itoa(opened)}
		return ev, nil
	})
	res.Decision, res.Incident, res.Event, res.Folded = sla.DecisionAttached, inc, sla.EventMessage, true
	return true, err
}

// openFor opens an incident for a customer's message: of the severity the
// classifier found, or in triage when it was not sure.
func (s *Service) openFor(ctx context.Context, tx *storage.Tx, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel,
	verdict classify.Result, place commands.Place, relatedTo int64, res *IntakeResult) error {
	sev, ok := verdict.Verdict.Severity()
	if !ok {
		sev = verdict.Severity // triage: the likelier severity, until an engineer decides
	}
	inc, err := s.open(ctx, tx, commands.OpenRequest{CustomerID: ch.CustomerID, Severity: sev, Title: in.Text,
		Reason: verdict.Reason(), Reporter: person, Now: now, Place: place, Triage: verdict.Verdict == classify.VerdictTriage,
		RelatedTo: relatedTo})
	if err != nil {
		return err
	}
	res.Decision, res.Incident, res.Opened = sla.DecisionOpened, inc, true
	if inc.Status == sla.StatusTriage {
		res.Decision = sla.DecisionTriage
	}
	return nil
}

// staffMessage records what a staff member wrote in a customer channel: a
// reply in an incident's conversation, or a message of their own. It never
// opens an incident.
func (s *Service) staffMessage(ctx context.Context, tx *storage.Tx, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel,
	thread sla.Incident, res *IntakeResult) error {
	target := thread.ID
	if target == 0 && in.ThreadID == "" {
		// At top level, a reply to the customer's one incident that still
		// awaits a reply.
		convs, err := tx.Conversations(ctx, ch.CustomerID, conversationsLimit)
		if err != nil {
			return err
		}
		var waiting []int64
		for _, c := range convs {
			if c.AckedAt.IsZero() {
				waiting = append(waiting, c.IncidentID)
			}
		}
		if len(waiting) == 1 {
			target = waiting[0]
		}
	}
	if target == 0 {
		res.Decision = sla.DecisionStaff
		return nil
	}
	first := !s.Dir.StaffRepliesNotFirstResponse
	var ev sla.Event
	inc, err := s.change(ctx, tx, target, person, now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
		ev = inc.Reply(sla.Actor{ID: person.ID, Name: person.Name}, in.Text, first, now)
		return ev, nil
	})
	res.Decision, res.Incident, res.Event = sla.DecisionReply, inc, sla.EventReply
	if ev.Data["first_response"] != "" {
		res.Decision = sla.DecisionFirstResponse
	}
	return err
}
