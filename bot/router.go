package bot

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/bot/metrics"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Router takes every inbound message: commands go to the command handler,
// plain text in customer channels goes to intake, the rest is ignored.
type Router struct {
	Svc   *Service
	Clock Clock
	Log   *slog.Logger
}

// Handle routes one inbound message and returns the direct replies to show
// (a command's answer). Messages the change causes go through the outbox.
// A message whose EventID was seen before is dropped.
func (r *Router) Handle(ctx context.Context, in Inbound) ([]Outbound, error) {
	now := r.Clock.Now()
	ch, chKnown := r.Svc.Dir.Channel(in.Platform, in.ChatID)
	person, known := r.Svc.Dir.ByIdentity(in.Platform, in.UserID)
	if !known && chKnown && ch.Kind == storage.ChannelCustomer {
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
		r.Svc.Metrics.observe(func(m *Metrics) *metrics.Histogram { return m.Commands }, time.Since(start), in.Platform)
		return out, err
	}
	if !chKnown || ch.Kind != storage.ChannelCustomer || strings.TrimSpace(in.Text) == "" {
		return nil, nil
	}
	start := time.Now()
	err := r.intake(ctx, in, now, person, ch)
	r.Svc.Metrics.observe(func(m *Metrics) *metrics.Histogram { return m.Intake }, time.Since(start), in.Platform)
	return nil, err
}

func (r *Router) command(ctx context.Context, in Inbound, now time.Time, person sla.Person, ch storage.Channel, chKnown bool, lang sla.Lang) ([]Outbound, error) {
	reply := func(text string, refused bool) []Outbound {
		return []Outbound{{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, Text: text, Kind: "reply", Refused: refused}}
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
	if chKnown && ch.Kind == storage.ChannelCustomer {
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

// intake turns a customer's plain message into an incident, attaches it to
// the incident of its thread, or ignores it as chatter. Dedupe and the
// effect are one transaction: a crash loses neither.
func (r *Router) intake(ctx context.Context, in Inbound, now time.Time, person sla.Person, ch storage.Channel) error {
	var opened, attached int64
	var inc sla.Incident
	c := sla.Classify(in.Text)
	err := r.Svc.Store.InTx(ctx, func(tx *storage.Tx) error {
		opened, attached = 0, 0
		if in.EventID != "" {
			fresh, err := tx.MarkInbound(ctx, in.Platform, in.EventID, now)
			if err != nil || !fresh {
				return err
			}
		}
		if in.ThreadID != "" {
			id, ok, err := tx.IncidentInThread(ctx, storage.ThreadRef{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID})
			if err != nil {
				return err
			}
			if ok {
				_, err := r.Svc.change(ctx, tx, id, person, now, func(inc *sla.Incident, _ sla.Policy) (sla.Event, error) {
					return inc.AttachMessage(sla.Actor{ID: person.ID, Name: person.Name}, in.Text, now), nil
				})
				attached = id
				return err
			}
		}
		sev, fault := c.Verdict.Severity()
		if !fault {
			return nil
		}
		var err error
		inc, err = r.Svc.open(ctx, tx, commands.OpenRequest{CustomerID: ch.CustomerID, Severity: sev, Title: in.Text,
			Reason: c.Reason(), Reporter: person, Now: now,
			Place: commands.Place{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, MessageID: in.MessageID}})
		opened = inc.ID
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case opened != 0:
		r.Log.InfoContext(ctx, "incident opened", "incident", opened, "customer", ch.CustomerID, "reason", c.Reason())
		r.Svc.opened(inc)
		r.Svc.kick()
	case attached != 0:
		r.Log.InfoContext(ctx, "message attached", "incident", attached)
		r.Svc.changed(sla.EventMessage)
		r.Svc.kick()
	default:
		r.Log.DebugContext(ctx, "chatter ignored", "customer", ch.CustomerID, "reason", c.Reason())
	}
	return nil
}
