package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Router takes every inbound message: commands go to the command handler,
// plain text in customer channels goes to intake, the rest is ignored.
type Router struct {
	Svc   *Service
	Clock chat.Clock
	Log   *slog.Logger
}

// Handle routes one inbound message and returns the direct replies to show
// (a command's answer). Messages the change causes go through the outbox.
// A message whose EventID was seen before is dropped.
func (r *Router) Handle(ctx context.Context, in chat.Inbound) ([]chat.Outbound, error) {
	now := r.Clock.Now()
	ch, chKnown := r.Svc.Dir.Channel(in.Platform, in.ChatID)
	person, known := r.Svc.Dir.ByIdentity(in.Platform, in.UserID)
	if !known && chKnown && ch.Kind == sla.ChannelCustomer {
		// An unknown user in a customer channel is that customer, never staff.
		person = sla.Person{Name: in.UserName, Role: sla.RoleCustomer, CustomerID: ch.CustomerID}
		if person.Name == "" {
			person.Name = in.UserID
		}
	}
	lang := r.Svc.Dir.DefaultLang
	if chKnown {
		lang = r.Svc.channelLang(ch)
	}
	if known && person.Lang != "" {
		lang = person.Lang
	}

	// Latencies are measured on the wall clock: they are the process's
	// speed, not a domain time.
	if commands.IsCommand(in.Text) {
		start := time.Now()
		out, err := r.command(ctx, in, now, person, ch, chKnown, lang)
		if m := r.Svc.Metrics; m != nil {
			m.Commands.Observe(time.Since(start), in.Platform)
		}
		return out, err
	}
	if !chKnown || ch.Kind != sla.ChannelCustomer || strings.TrimSpace(in.Text) == "" {
		return nil, nil
	}
	start := time.Now()
	err := r.intake(ctx, in, now, person, known, ch)
	if m := r.Svc.Metrics; m != nil {
		m.Intake.Observe(time.Since(start), in.Platform)
	}
	return nil, err
}

// command runs a command. Its effect, and the delivery's dedupe, commit in
// one transaction (see delivery). Its answer is returned for an adapter
// that shows it in band; otherwise it is queued in the outbox, to the
// thread the command was given in, marking the delivery if no effect did:
// a redelivered command is answered once.
func (r *Router) command(ctx context.Context, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel, chKnown bool, lang sla.Lang) ([]chat.Outbound, error) {
	var d *delivery
	if in.EventID != "" {
		d = &delivery{platform: in.Platform, id: in.EventID, at: now}
		ctx = withDelivery(ctx, d)
	}
	text, refused, err := r.run(ctx, in, now, person, ch, chKnown, lang)
	if errors.Is(err, errDuplicate) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if in.InBand {
		if d != nil && !d.marked {
			if err := r.Svc.inTx(ctx, func(*storage.Tx) error { return nil }); err != nil {
				if errors.Is(err, errDuplicate) {
					return nil, nil
				}
				return nil, err
			}
		}
		return []chat.Outbound{{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, Text: text, Kind: chat.KindReply, Refused: refused}}, nil
	}
	thread := in.ReplyIn
	if thread == "" {
		thread = in.ThreadID
	}
	reply := storage.Outgoing{Platform: in.Platform, ChatID: in.ChatID, ThreadID: thread, Kind: chat.KindReply, Body: text}
	err = r.Svc.inTx(ctx, func(tx *storage.Tx) error { return tx.Enqueue(ctx, now, reply) })
	if errors.Is(err, errDuplicate) {
		return nil, nil
	}
	if err == nil {
		r.Svc.kick()
	}
	return nil, err
}

// run runs a command as person and returns its answer, and whether it
// turns the request down. A delivery seen before is errDuplicate.
func (r *Router) run(ctx context.Context, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel, chKnown bool, lang sla.Lang) (string, bool, error) {
	if !person.Role.Valid() {
		return i18n.T(lang, "err.unknown_user", nil), true, nil
	}
	req := commands.Request{Now: now, Actor: person, Lang: lang, Text: in.Text,
		Place: commands.Place{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, MessageID: in.MessageID}}
	if chKnown && ch.Kind == sla.ChannelCustomer {
		req.ScopeCustomer = ch.CustomerID
	}
	if in.ThreadID != "" {
		id, ok, err := r.Svc.Store.IncidentInThread(ctx, storage.ThreadRef{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID})
		if err != nil {
			return "", false, err
		}
		if ok {
			req.ThreadIncident = id
		}
	}
	res := commands.Handler{Svc: r.Svc}.Handle(ctx, req)
	if errors.Is(res.Err, errDuplicate) {
		return "", false, errDuplicate
	}
	if sla.ErrorCode(res.Err) == sla.EINTERNAL {
		// Nothing committed, the delivery included: the platform delivers
		// the command again, or the adapter says it failed.
		r.Log.ErrorContext(ctx, "command failed", "platform", in.Platform, "user", in.UserID, "err", res.Err)
		return "", false, res.Err
	}
	if res.Err != nil {
		r.Log.InfoContext(ctx, "command refused", "platform", in.Platform, "user", in.UserID, "code", sla.ErrorCode(res.Err))
	}
	return res.Text, res.Err != nil, nil
}
