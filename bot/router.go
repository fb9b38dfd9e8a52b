package bot

import (
	"context"
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

func (r *Router) command(ctx context.Context, in chat.Inbound, now time.Time, person sla.Person, ch sla.Channel, chKnown bool, lang sla.Lang) ([]chat.Outbound, error) {
	reply := func(text string, refused bool) []chat.Outbound {
		return []chat.Outbound{{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, Text: text, Kind: "reply", Refused: refused}}
	}
	if in.EventID != "" {
		fresh := false
		if err := r.Svc.Store.InTx(ctx, func(tx *storage.Tx) error {
			var err error
			fresh, err = tx.MarkInbound(ctx, in.Platform, in.EventID, now)
			return err
		}); err != nil {
			return nil, err
		}
		if !fresh {
			return nil, nil
		}
	}
	if !person.Role.Valid() {
		return reply(i18n.T(lang, "err.unknown_user", nil), true), nil
	}
	req := commands.Request{Now: now, Actor: person, Lang: lang, Text: in.Text,
		Place: commands.Place{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, MessageID: in.MessageID}}
	if chKnown && ch.Kind == sla.ChannelCustomer {
		req.ScopeCustomer = ch.CustomerID
	}
	if in.ThreadID != "" {
		id, ok, err := r.Svc.Store.IncidentInThread(ctx, storage.ThreadRef{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID})
		if err != nil {
			return nil, err
		}
		if ok {
			req.ThreadIncident = id
		}
	}
	res := commands.Handler{Svc: r.Svc}.Handle(ctx, req)
	if res.Err != nil {
		if sla.ErrorCode(res.Err) == sla.EINTERNAL {
			r.Log.ErrorContext(ctx, "command failed", "platform", in.Platform, "user", in.UserID, "err", res.Err)
		} else {
			r.Log.InfoContext(ctx, "command refused", "platform", in.Platform, "user", in.UserID, "code", sla.ErrorCode(res.Err))
		}
	}
	return reply(res.Text, res.Err != nil), nil
}
