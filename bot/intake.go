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

// intakeResult is what intake did with a message, for the log line and the
// counters after the transaction committed.
type intakeResult struct {
	decision sla.Decision
	incident sla.Incident // the incident opened or joined
	opened   bool
	event    sla.EventKind
}

// intake reads a plain message written in a customer channel and decides,
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
func (r *Router) intake(ctx context.Context, in chat.Inbound, now time.Time, person sla.Person, known bool, ch sla.Channel) error {
	staff := known && person.Role.IsStaff()
	var verdict classify.Result
	if !staff {
		verdict = r.Svc.Classifier.Classify(in.Text)
	}
	var res intakeResult
	err := r.Svc.Store.InTx(ctx, func(tx *storage.Tx) error {
		res = intakeResult{}
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
			err = r.staffMessage(ctx, tx, in, now, person, ch, thread, &res)
		} else {
			err = r.customerMessage(ctx, tx, in, now, person, ch, thread, verdict, &res)
		}
		if err != nil {
			return err
		}
		msg.Decision, msg.IncidentID = res.decision, res.incident.ID
		return tx.InsertMessage(ctx, &msg)
	})
	if err != nil || res.decision == "" {
		return err
	}
	log := r.Log.With("customer", ch.CustomerID, "decision", string(res.decision))
	if res.incident.ID != 0 {
		log = log.With("incident", res.incident.ID)
	}
	if !staff {
		log = log.With("reason", verdict.Reason())
	}
	switch {
	case res.opened:
		log.InfoContext(ctx, "incident opened")
		r.Svc.opened(res.incident)
		r.Svc.kick()
	case res.event != "":
		log.InfoContext(ctx, "message joined an incident")
		r.Svc.changed(res.event)
		r.Svc.kick()
	default:
		log.DebugContext(ctx, "message kept, no incident")
	}
	return nil
}

// customerMessage decides about a customer's message (see intake).
func (r *Router) customerMessage(ctx context.Context, tx *storage.Tx, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel,
	thread sla.Incident, verdict classify.Result, res *intakeResult) error {
	fault := verdict.Verdict != classify.VerdictNotFault
	attach := func(id int64) error {
		inc, err := r.Svc.change(ctx, tx, id, person, now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
			ev := inc.AttachMessage(sla.Actor{ID: person.ID, Name: person.Name}, in.Text, now)
			if sev, ok := verdict.Verdict.Severity(); ok && sev == sla.SeverityCore && inc.Severity != sla.SeverityCore && inc.Status.Active() {
				ev.Data = map[string]string{"suggests": string(sev)} // the customer says it got worse
			}
			return ev, nil
		})
		res.decision, res.incident, res.event = sla.DecisionAttached, inc, sla.EventMessage
		return err
	}
	place := commands.Place{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, MessageID: in.MessageID}
	if thread.ID != 0 {
		if thread.Status.Active() || !fault {
			return attach(thread.ID)
		}
		// A new fault in the thread of an incident that is over: a new
		// incident, linked to it, which takes the thread over.
		if err := r.open(ctx, tx, in, now, person, ch, verdict, place, thread.ID, res); err != nil {
			return err
		}
		if err := tx.RebindThread(ctx, storage.ThreadRef{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID}, res.incident.ID); err != nil {
			return err
		}
		_, err := r.Svc.change(ctx, tx, thread.ID, person, now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
			ev := inc.AttachMessage(sla.Actor{ID: person.ID, Name: person.Name}, in.Text, now)
			ev.Data = map[string]string{"opened": strconv.FormatInt(res.incident.ID, 10)}
			return ev, nil
		})
		return err
	}
	convs, err := tx.Conversations(ctx, ch.CustomerID, conversationsLimit)
	if err != nil {
		return err
	}
	if j := classify.FollowUp(in.Text, verdict, convs); j >= 0 {
		return attach(convs[j].Incident.ID)
	}
	if !fault {
		res.decision = sla.DecisionChatter
		return nil
	}
	return r.open(ctx, tx, in, now, person, ch, verdict, place, 0, res)
}

// open opens an incident for a customer's message: of the severity the
// classifier found, or in triage when it was not sure.
func (r *Router) open(ctx context.Context, tx *storage.Tx, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel,
	verdict classify.Result, place commands.Place, relatedTo int64, res *intakeResult) error {
	sev, ok := verdict.Verdict.Severity()
	if !ok {
		sev = verdict.Severity // triage: the likelier severity, until an engineer decides
	}
	inc, err := r.Svc.open(ctx, tx, commands.OpenRequest{CustomerID: ch.CustomerID, Severity: sev, Title: in.Text,
		Reason: verdict.Reason(), Reporter: person, Now: now, Place: place, Triage: verdict.Verdict == classify.VerdictTriage,
		RelatedTo: relatedTo})
	if err != nil {
		return err
	}
	res.decision, res.incident, res.opened = sla.DecisionOpened, inc, true
	if inc.Status == sla.StatusTriage {
		res.decision = sla.DecisionTriage
	}
	return nil
}

// staffMessage records what a staff member wrote in a customer channel: a
// reply in an incident's conversation, or a message of their own. It never
// opens an incident.
func (r *Router) staffMessage(ctx context.Context, tx *storage.Tx, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel,
	thread sla.Incident, res *intakeResult) error {
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
			if c.Incident.AckedAt.IsZero() {
				waiting = append(waiting, c.Incident.ID)
			}
		}
		if len(waiting) == 1 {
			target = waiting[0]
		}
	}
	if target == 0 {
		res.decision = sla.DecisionStaff
		return nil
	}
	first := !r.Svc.Dir.StaffRepliesNotFirstResponse
	var ev sla.Event
	inc, err := r.Svc.change(ctx, tx, target, person, now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
		ev = inc.Reply(sla.Actor{ID: person.ID, Name: person.Name}, in.Text, first, now)
		return ev, nil
	})
	res.decision, res.incident, res.event = sla.DecisionReply, inc, sla.EventReply
	if ev.Data["first_response"] != "" {
		res.decision = sla.DecisionFirstResponse
	}
	return err
}
