package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/slakeeper/slakeeper/bot/chat"
)

// ignoredSubtypes are message events that are not someone writing: edits,
// deletions, joins, bots. A thread reply shown in the channel
// (thread_broadcast) and a message with a file are people writing.
func ignored(m *slackevents.MessageEvent, botUserID string) bool {
	if m.BotID != "" || m.User == "" || m.User == botUserID {
		return true
	}
	return m.SubType != "" && m.SubType != "thread_broadcast" && m.SubType != "file_share"
}

// onEvent handles one Events API payload: the URL verification challenge,
// or a message event, which goes to the router. It returns the HTTP status
// to answer and, for the challenge, the body. An error from the router is a
// 500, so that Slack delivers the event again (the event id dedupes it),
// until the quarantine sets the event aside: then it is a 200.
func (a *Adapter) onEvent(ctx context.Context, body []byte) (int, []byte) {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		a.log.Warn("slack: unreadable event", "err", err)
		return http.StatusBadRequest, nil
	}
	switch ev.Type {
	case slackevents.URLVerification:
		var v slackevents.EventsAPIURLVerificationEvent
		if err := json.Unmarshal(body, &v); err != nil {
			return http.StatusBadRequest, nil
		}
		b, _ := json.Marshal(map[string]string{"challenge": v.Challenge})
		return http.StatusOK, b
	case slackevents.CallbackEvent:
	default:
		return http.StatusOK, nil
	}
	outer, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok {
		return http.StatusOK, nil
	}
	// Another workspace's event is acknowledged, so that Slack does not
	// deliver it again, and dropped.
	if !a.ourTeam(outer.TeamID, "event") {
		return http.StatusOK, nil
	}
	m, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || ignored(m, a.botUserID) {
		return http.StatusOK, nil
	}
	thread := m.ThreadTimeStamp
	if thread == m.TimeStamp {
		thread = ""
	}
	in := chat.Inbound{Platform: chat.PlatformSlack, ChatID: m.Channel, ThreadID: thread, MessageID: m.TimeStamp,
		UserID: m.User, UserName: m.User, Text: m.Text, EventID: outer.EventID, ReplyIn: m.TimeStamp}
	if thread != "" {
		in.ReplyIn = thread
	}
	// An answer is queued in the outbox, in the message's thread: the
	// dispatcher posts it, with its retries and rate limits.
	_, err = a.handler.Handle(ctx, in)
	if err != nil {
		if a.setAside(ctx, outer.EventID, body, err) {
			return http.StatusOK, nil
		}
		a.log.Warn("slack: event not handled; Slack will retry", "event", outer.EventID, "err", err)
		return http.StatusInternalServerError, nil
	}
	return http.StatusOK, nil
}

// setAside reports a failed event to the quarantine and whether it is now
// set aside, to be acknowledged as if handled.
func (a *Adapter) setAside(ctx context.Context, eventID string, body []byte, err error) bool {
	if a.cfg.Quarantine == nil {
		return false
	}
	rejected, qerr := a.cfg.Quarantine.Failed(ctx, chat.FailedDelivery{Platform: chat.PlatformSlack, DeliveryID: eventID,
		Err: err, Payload: body})
	if qerr != nil {
		a.log.Warn("slack: failed event not counted", "event", eventID, "err", qerr)
	}
	return rejected
}

// commandText turns a slash command into the command line the router
// reads: "/ack" with text "42" is "/ack 42"; the umbrella "/sla ack 42"
// stays as it is.
func commandText(command, text string) string {
	return strings.TrimSpace(command + " " + text)
}

// reply answers the person who typed a command within Slack's three-second
// window: if the work is done within the given time, the answer is
// returned for the acknowledgement; otherwise "" is returned at once and
// the answer is posted to responseURL when it is ready, by a goroutine
// Close waits for.
func (a *Adapter) reply(ctx context.Context, in chat.Inbound, responseURL string, within time.Duration) string {
	done := make(chan string, 1)
	go func() {
		// The work must finish even if Slack's request is gone. Whoever
		// receives from done owns this goroutine: reply, or the late one.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handleWithin)
		defer cancel()
		done <- a.run(ctx, in).text
	}()
	t := time.NewTimer(max(within, 0))
	defer t.Stop()
	select {
	case text := <-done:
		return text
	case <-t.C:
	}
	a.later(ctx, func(ctx context.Context) { a.answer(ctx, responseURL, ephemeral{text: <-done}) })
	return ""
}

// ephemeral is an answer shown only to the person who asked: text, and
// for a shortcut the incident's card with its buttons.
type ephemeral struct {
	text string
	card *chat.Card
}

// run hands a command (or the commands of one click) to the router and
// returns the answer to show the person. A failure of the router is logged
// and answered with chat.InternalError.
func (a *Adapter) run(ctx context.Context, ins ...chat.Inbound) ephemeral {
	var texts []string
	var card *chat.Card
	for _, in := range ins {
		replies, err := a.handler.Handle(ctx, in)
		if err != nil {
			a.log.Error("slack: command failed", "user", in.UserID, "command", in.Text, "err", err)
			texts = append(texts, chat.InternalError)
		}
		for _, r := range replies {
			if r.Text != "" {
				texts = append(texts, r.Text)
			}
			if r.Card != nil {
				card = r.Card
			}
		}
	}
	return ephemeral{text: strings.Join(texts, "\n"), card: card}
}

// later runs work after the request that brought it has been answered, in
// a goroutine Close waits for, under a context detached from the request's
// and bounded by handleWithin.
func (a *Adapter) later(ctx context.Context, work func(context.Context)) {
	a.late.Add(1)
	go func() {
		defer a.late.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handleWithin)
		defer cancel()
		work(ctx)
	}()
}

// answer posts text to a response_url and logs a failure. The post has its
// own time: an answer to work that ran out of time still goes out.
func (a *Adapter) answer(ctx context.Context, responseURL string, e ephemeral) {
	if err := a.respond(context.WithoutCancel(ctx), responseURL, e); err != nil {
		a.log.Warn("slack: answer not delivered to response_url", "err", err)
	}
}

// respond posts an ephemeral answer to a response_url.
func (a *Adapter) respond(ctx context.Context, responseURL string, e ephemeral) error {
	if responseURL == "" || e.text == "" {
		return nil
	}
	msg := map[string]any{"response_type": "ephemeral", "replace_original": false, "text": truncate(escape(e.text), maxText)}
	if e.card != nil {
		msg["blocks"] = cardBlocks(*e.card, "")
	}
	b, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.http.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("response_url: %s", res.Status)
	}
	return nil
}

// onCommand handles a slash command and returns the answer to show the
// person (ephemeral) if the router gives it within the given time, or ""
// when it will come through the response_url. deliveryID, when not empty,
// identifies this delivery: a second one with the same id is a replay and
// is dropped. A command from another workspace than Config.TeamID is
// answered ForeignTeam and not run.
func (a *Adapter) onCommand(ctx context.Context, c slackgo.SlashCommand, deliveryID string, within time.Duration) string {
	if !a.ourTeam(c.TeamID, "command") {
		return ForeignTeam
	}
	in := chat.Inbound{Platform: chat.PlatformSlack, ChatID: c.ChannelID, UserID: c.UserID, UserName: c.UserName,
		Text: commandText(c.Command, c.Text), EventID: deliveryID, InBand: true}
	return a.reply(ctx, in, c.ResponseURL, within)
}

// ShortcutID is the callback id of the message shortcut "Incident card"
// (examples/slack-manifest.yaml). Slack runs no app slash command inside a
// thread; the shortcut, on any message of an incident's thread, answers
// the person with the incident's status and its card, whose buttons act
// on it as everywhere else.
const ShortcutID = "slakeeper_incident"

// shortcutInbound is the message shortcut as the status command in the
// message's thread.
func (a *Adapter) shortcutInbound(cb slackgo.InteractionCallback, deliveryID string) chat.Inbound {
	thread := cb.Message.ThreadTimestamp
	if thread == "" {
		thread = cb.Message.Timestamp // the thread's parent, or a message that has none yet
	}
	in := chat.Inbound{Platform: chat.PlatformSlack, ChatID: cb.Channel.ID, ThreadID: thread, UserID: cb.User.ID,
		UserName: cb.User.Name, Text: "/status", InBand: true, WithCard: true}
	if deliveryID != "" {
		in.EventID = deliveryID + "/shortcut"
	}
	return in
}

// actionInbounds turns a click on a card's button into the command it runs
// on the card's incident as the person who clicked; its answer is shown to
// them ephemerally through the click's response_url, and the card itself is
// edited by the change's outbox message. The message shortcut is the status
// command in its thread. Clicks on anything else give none.
// deliveryID, when not empty, identifies this delivery (see onCommand).
func (a *Adapter) actionInbounds(cb slackgo.InteractionCallback, deliveryID string) []chat.Inbound {
	if cb.Type == slackgo.InteractionTypeMessageAction && cb.CallbackID == ShortcutID {
		return []chat.Inbound{a.shortcutInbound(cb, deliveryID)}
	}
	if cb.Type != slackgo.InteractionTypeBlockActions {
		return nil
	}
	var ins []chat.Inbound
	for i, act := range cb.ActionCallback.BlockActions {
		cmd, ok := strings.CutPrefix(act.ActionID, actionPrefix)
		if !ok {
			continue
		}
		line, ok := chat.ActionCommand(cmd, act.Value)
		if !ok {
			continue
		}
		in := chat.Inbound{Platform: chat.PlatformSlack, ChatID: cb.Channel.ID, UserID: cb.User.ID, UserName: cb.User.Name,
			Text: line, InBand: true}
		if deliveryID != "" {
			in.EventID = fmt.Sprintf("%s/%d", deliveryID, i)
		}
		ins = append(ins, in)
	}
	return ins
}
