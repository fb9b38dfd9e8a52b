package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode receives events, slash commands and clicks over Socket Mode
// (no public URL needed) until ctx is cancelled. The requests go to the same
// handlers as in HTTP mode; only the transport differs. An event the router
// could not store is not acknowledged, so Slack delivers it again.
func (a *Adapter) RunSocketMode(ctx context.Context) error {
	if a.cfg.AppToken == "" {
		return errors.New("slack: socket mode needs SLACK_APP_TOKEN")
	}
	sm := socketmode.New(a.api)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sm.RunContext(ctx) }()
	for {
		select {
		case err := <-done:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case evt := <-sm.Events:
			a.onSocketEvent(ctx, sm, evt)
			if evt.Type == socketmode.EventTypeInvalidAuth {
				cancel()
				<-done
				return errors.New("slack: socket mode: invalid app token")
			}
		}
	}
}

func (a *Adapter) onSocketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		a.log.Info("slack: socket mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		a.log.Warn("slack: socket mode trouble", "type", string(evt.Type), "detail", redactURLs(fmt.Sprint(evt.Data)))
	case socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return
		}
		if status, _ := a.onEvent(ctx, evt.Request.Payload); status == http.StatusOK {
			a.ack(ctx, sm, evt.Request, nil)
		}
	case socketmode.EventTypeSlashCommand:
		c, ok := evt.Data.(slackgo.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		var payload any
		if text := a.onCommand(ctx, c, ""); text != "" {
			payload = map[string]string{"response_type": "ephemeral", "text": truncate(escape(text), maxText)}
		}
		a.ack(ctx, sm, evt.Request, payload)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slackgo.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		a.ack(ctx, sm, evt.Request, nil)
		if text := a.onAction(ctx, cb, ""); text != "" {
			if err := a.respond(ctx, cb.ResponseURL, text); err != nil {
				a.log.Warn("slack: answer to a click not delivered", "err", err)
			}
		}
	}
}

func (a *Adapter) ack(ctx context.Context, sm *socketmode.Client, req *socketmode.Request, payload any) {
	if err := sm.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		a.log.Warn("slack: socket mode ack failed", "err", err)
	}
}

// redactURLs drops query strings from a message: Socket Mode URLs carry a
// connection ticket.
func redactURLs(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(w, "://") {
			if j := strings.IndexByte(w, '?'); j >= 0 {
				words[i] = w[:j] + "?…"
			}
		}
	}
	return strings.Join(words, " ")
}
