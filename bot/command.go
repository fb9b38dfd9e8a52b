package bot

import (
	"context"
	"errors"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
	"github.com/slakeeper/slakeeper/storage"
)

// Author is who wrote an inbound message, and where, as the router found
// them in the directory.
type Author struct {
	Person sla.Person
	// Known says the person is in the directory; an unknown writer in a
	// customer channel is that customer.
	Known bool
	// Channel is the chat written in, if InChannel.
	Channel   sla.Channel
	InChannel bool
}

// authorLang is the language to answer an author in: theirs, else the
// channel's, else the default.
func (s *Service) authorLang(from Author) sla.Lang {
	if from.Known && from.Person.Lang != "" {
		return from.Person.Lang
	}
	if from.InChannel {
		return s.channelLang(from.Channel)
	}
	return s.Dir.DefaultLang
}

// Command runs a command given by from. Its effect, and the delivery's dedupe, commit in
// one transaction (see delivery). Its answer is returned for an adapter
// that shows it in band; otherwise it is queued in the outbox, to the
// thread the command was given in, marking the delivery if no effect did:
// a redelivered command is answered once.
func (s *Service) Command(ctx context.Context, in chat.Inbound, from Author, now time.Time) ([]chat.Outbound, error) {
	var d *delivery
	if in.EventID != "" {
		d = &delivery{platform: in.Platform, id: in.EventID, at: now}
		ctx = withDelivery(ctx, d)
	}
	text, refused, err := s.run(ctx, in, from, now)
	if errors.Is(err, errDuplicate) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if in.InBand {
		if d != nil && !d.marked {
			if err := s.inTx(ctx, func(*storage.Tx) error { return nil }); err != nil {
				if errors.Is(err, errDuplicate) {
					return nil, nil
				}
				return nil, err
			}
		}
		out := chat.Outbound{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, Text: text, Kind: chat.KindReply, Refused: refused}
		if in.WithCard && !refused && from.Known && from.Person.Role.IsStaff() {
			card, err := s.threadCard(ctx, in, from, now)
			if err != nil {
				return nil, err
			}
			out.Card = card
		}
		return []chat.Outbound{out}, nil
	}
	thread := in.ReplyIn
	if thread == "" {
		thread = in.ThreadID
	}
	reply := storage.Outgoing{Platform: in.Platform, ChatID: in.ChatID, ThreadID: thread, Kind: chat.KindReply, Body: text}
	err = s.inTx(ctx, func(tx *storage.Tx) error { return tx.Enqueue(ctx, now, reply) })
	if errors.Is(err, errDuplicate) {
		return nil, nil
	}
	if err == nil {
		s.kick()
	}
	return nil, err
}

// run runs a command as person and returns its answer, and whether it
// turns the request down. A delivery seen before is errDuplicate.
func (s *Service) run(ctx context.Context, in chat.Inbound, from Author, now time.Time) (string, bool, error) {
	person, ch, lang := from.Person, from.Channel, s.authorLang(from)
	if !person.Role.Valid() {
		return i18n.T(lang, "err.unknown_user", nil), true, nil
	}
	req := commands.Request{Now: now, Actor: person, Lang: lang, Text: in.Text,
		Place: commands.Place{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID, MessageID: in.MessageID}}
	if from.InChannel && ch.Kind == sla.ChannelCustomer {
		req.ScopeCustomer = ch.CustomerID
	}
	if in.ThreadID != "" {
		id, ok, err := s.Store.IncidentInThread(ctx, storage.ThreadRef{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID})
		if err != nil {
			return "", false, err
		}
		if ok {
			req.ThreadIncident = id
		}
	}
	res := commands.Handler{Svc: s}.Handle(ctx, req)
	if errors.Is(res.Err, errDuplicate) {
		return "", false, errDuplicate
	}
	if sla.ErrorCode(res.Err) == sla.EINTERNAL {
		// Nothing committed, the delivery included: the platform delivers
		// the command again, or the adapter says it failed.
		s.log().ErrorContext(ctx, "command failed", "platform", in.Platform, "user", in.UserID, "err", res.Err)
		return "", false, res.Err
	}
	if res.Err != nil {
		s.log().InfoContext(ctx, "command refused", "platform", in.Platform, "user", in.UserID, "code", sla.ErrorCode(res.Err))
	}
	return res.Text, res.Err != nil, nil
}

// threadCard is the card of the incident discussed in the message's
// thread, in the language of the chat, or nil.
func (s *Service) threadCard(ctx context.Context, in chat.Inbound, from Author, now time.Time) (*chat.Card, error) {
	if in.ThreadID == "" {
		return nil, nil
	}
	id, ok, err := s.Store.IncidentInThread(ctx, storage.ThreadRef{Platform: in.Platform, ChatID: in.ChatID, ThreadID: in.ThreadID})
	if err != nil || !ok {
		return nil, err
	}
	inc, err := s.Store.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	lang := s.authorLang(from)
	if from.InChannel {
		lang = s.cardLang(from.Channel, inc.CustomerID)
	}
	c := s.Card(inc, lang, now)
	return &c, nil
}
