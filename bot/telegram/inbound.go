package telegram

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/slakeeper/slakeeper/bot/chat"
)

// OnUpdate handles one update: a group message goes to the router (a reply
// in the incident's thread attaches to it), a button press runs its command
// and is always answered. An error means the update was not stored and must
// be delivered again; its update id dedupes it, so an update delivered again
// after it was stored (a crash before the offset was confirmed, a webhook
// retry) runs its command once.
func (a *Adapter) OnUpdate(ctx context.Context, u *models.Update) error {
	switch {
	case u.Message != nil:
		return a.onMessage(ctx, u.ID, u.Message)
	case u.CallbackQuery != nil:
		return a.onCallback(ctx, u.ID, u.CallbackQuery)
	}
	return nil
}

func name(u *models.User) string {
	n := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if n == "" {
		n = u.Username
	}
	return n
}

// Telegram's service accounts: the sender of a message an anonymous group
// admin writes (with sender_chat the group), and of a post a linked
// channel forwards into its discussion group.
const (
	groupAnonymousBot int64 = 1087968824
	serviceTelegram   int64 = 777000
)

// anonymousAdmin names an anonymous admin whose group has no title.
const anonymousAdmin = "匿名管理员 / anonymous admin"

// author says who wrote m as the router knows people: an anonymous admin
// of a group is the group itself (an unknown user, so in a customer's
// group that customer). ok is false for a message no person wrote: a
// bot's, or a channel post Telegram forwards into its discussion group by
// itself.
func (a *Adapter) author(m *models.Message) (id, userName string, ok bool) {
	switch {
	case m.From == nil:
		return "", "", false
	case m.IsAutomaticForward || m.From.ID == serviceTelegram:
		a.log.Debug("telegram: ignored an automatic forward from a linked channel", "chat", m.Chat.ID, "message", m.ID)
		return "", "", false
	case m.From.ID == groupAnonymousBot && m.SenderChat != nil && m.SenderChat.ID == m.Chat.ID:
		userName = m.SenderChat.Title
		if strings.TrimSpace(userName) == "" {
			userName = anonymousAdmin
		}
		return strconv.FormatInt(m.SenderChat.ID, 10), userName, true
	case m.From.IsBot:
		return "", "", false
	}
	return strconv.FormatInt(m.From.ID, 10), name(m.From), true
}

func (a *Adapter) onMessage(ctx context.Context, updateID int64, m *models.Message) error {
	userID, userName, ok := a.author(m)
	if !ok {
		return nil
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if strings.HasPrefix(text, "/") {
		// "/ack@otherbot 42" is for another bot in the group.
		word, _, _ := strings.Cut(text, " ")
		if _, to, ok := strings.Cut(word, "@"); ok && !strings.EqualFold(to, a.username) {
			return nil
		}
	}
	topic := 0
	if m.IsTopicMessage {
		topic = m.MessageThreadID
	}
	var thread string
	if r := m.ReplyToMessage; r != nil && r.ID != topic {
		thread = threadRef{topic: topic, message: r.ID}.String()
	}
	// A command is answered where it was given: in reply to the message
	// itself, in its topic.
	self := threadRef{topic: topic, message: m.ID}.String()
	in := chat.Inbound{Platform: chat.PlatformTelegram, ChatID: strconv.FormatInt(m.Chat.ID, 10), ThreadID: thread,
		MessageID: self, UserID: userID, UserName: userName, Text: text,
		EventID: eventID(updateID), ReplyIn: self}
	// A command's answer is queued in the outbox, to ReplyIn: the
	// dispatcher posts it, with its retries and rate limits.
	_, err := a.handler.Handle(ctx, in)
	return err
}

// eventID is an update's delivery id for the router's dedupe. Update ids
// are unique per bot, so messages and button presses share the namespace.
func eventID(updateID int64) string { return "u" + strconv.FormatInt(updateID, 10) }

// notOnCard answers a press of one of our buttons that came with no card
// to act in: an inline-mode message (inline_message_id) is not a group's
// incident card.
const notOnCard = "⚠️ 此按钮只能在群组的事件卡片上使用 / This button works only on an incident card in a group"

// onCallback runs a card button's command as the person who pressed it and
// answers the press, so the button stops spinning; a refusal is shown as
// an alert. A press delivered again changes nothing and gets an empty
// answer.
func (a *Adapter) onCallback(ctx context.Context, updateID int64, q *models.CallbackQuery) error {
	answer, alert := "", false
	if rest, ok := strings.CutPrefix(q.Data, callbackPrefix); ok {
		answer, alert = a.press(ctx, updateID, q, rest)
	}
	if _, err := a.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: q.ID,
		Text: fit(answer, maxCallbackText), ShowAlert: alert}); err != nil {
		a.log.Warn("telegram: answerCallbackQuery failed", "err", a.scrub(err))
	}
	return nil
}

// press runs the command of one of our buttons ("<action>:<incident id>")
// and returns the answer to show. The data says all the command needs, so
// a card Telegram no longer shows the bot still works.
func (a *Adapter) press(ctx context.Context, updateID int64, q *models.CallbackQuery, data string) (answer string, alert bool) {
	chatID := pressedIn(q)
	if chatID == 0 {
		a.log.Info("telegram: refused a press outside a card", "user", q.From.ID, "inline", q.InlineMessageID != "")
		return notOnCard, true
	}
	action, id, _ := strings.Cut(data, ":")
	line, known := chat.ActionCommand(action, id)
	if !known {
		line = "/button" // not one of ours: answered as an unknown command
	}
	in := chat.Inbound{Platform: chat.PlatformTelegram, ChatID: strconv.FormatInt(chatID, 10),
		UserID: strconv.FormatInt(q.From.ID, 10), UserName: name(&q.From), Text: line,
		EventID: eventID(updateID), InBand: true}
	replies, err := a.handler.Handle(ctx, in)
	if err != nil {
		a.log.Error("telegram: button failed", "err", err)
		return chat.InternalError, true
	}
	var texts []string
	for _, r := range replies {
		texts = append(texts, r.Text)
		alert = alert || r.Refused // a refusal must be read; a confirmation may flash
	}
	return strings.Join(texts, "\n"), alert
}

// pressedIn returns the chat of the card a button was pressed on, or 0 if
// the press names none. Telegram sends a card older than 48 hours as an
// InaccessibleMessage (date 0): its chat and id, no content, which is
// enough.
func pressedIn(q *models.CallbackQuery) int64 {
	switch {
	case q.Message.Message != nil:
		return q.Message.Message.Chat.ID
	case q.Message.InaccessibleMessage != nil:
		return q.Message.InaccessibleMessage.Chat.ID
	}
	return 0
}

// MaxUpdate bounds the body of a webhook call. An update is a message or a
// click with its metadata (a message's text is at most 4096 characters): a
// few KiB, and a longer body is refused with 413.
const MaxUpdate = 256 << 10

// WebhookHandler serves POST /telegram/webhook: a missing or wrong secret
// token gets 401 and changes nothing; an update is handled before the
// answer, so a 200 means it is stored, and a failure is a 500 that Telegram
// retries, until the quarantine sets the update aside: then it is a 200.
func (a *Adapter) WebhookHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if a.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.cfg.WebhookSecret)) != 1 {
			a.log.Warn("telegram: refused a webhook call with a wrong secret", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, ok := chat.ReadBody(w, r, MaxUpdate)
		if !ok {
			return
		}
		var u models.Update
		if err := json.Unmarshal(body, &u); err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		if err := a.OnUpdate(r.Context(), &u); err != nil {
			if a.setAside(r.Context(), u.ID, body, err) {
				w.WriteHeader(http.StatusOK)
				return
			}
			a.log.Warn("telegram: update not handled; Telegram will retry", "update", u.ID, "err", a.scrub(err))
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// SetWebhook registers the webhook URL and secret with Telegram.
func (a *Adapter) SetWebhook(ctx context.Context) error {
	if _, err := a.api.SetWebhook(ctx, &tg.SetWebhookParams{URL: a.cfg.WebhookURL, SecretToken: a.cfg.WebhookSecret,
		AllowedUpdates: []string{"message", "callback_query"}}); err != nil {
		return fmt.Errorf("telegram: setWebhook: %w", a.scrub(err))
	}
	return nil
}

// Poll receives updates by long polling until ctx ends. Only one replica
// may poll a token: Poll first takes a database lock named after the bot,
// and a second replica waits for it. An update is confirmed to Telegram
// (the next offset) only after it was handled, so a crash delivers it
// again instead of losing it; one that fails every time is fetched again
// until the quarantine sets it aside, and then confirmed like the rest.
func (a *Adapter) Poll(ctx context.Context, locks chat.Locker) error {
	release, err := locks.Lock(ctx, "telegram-poll-"+strconv.FormatInt(a.api.ID(), 10), 5*time.Second)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer release()
	if _, err := a.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{}); err != nil && ctx.Err() == nil {
		a.log.Warn("telegram: deleteWebhook failed", "err", a.scrub(err))
	}
	var offset int64
	wait := time.Duration(0)
	for {
		if wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		updates, err := a.getUpdates(ctx, offset)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			wait = min(max(2*wait, time.Second), time.Minute)
			a.log.Warn("telegram: getUpdates failed", "err", err, "retry_in", wait)
			continue
		}
		wait = 0
		for _, u := range updates {
			err := u.err
			if err == nil {
				err = a.OnUpdate(ctx, u.update)
			}
			if err != nil && !a.setAside(ctx, u.id, u.raw, err) {
				if ctx.Err() != nil {
					return nil
				}
				a.log.Warn("telegram: update not handled; will fetch it again", "update", u.id, "err", a.scrub(err))
				wait = time.Second
				break
			}
			offset = u.id + 1
		}
	}
}

// fetched is one update of a getUpdates answer: its id, its JSON, and the
// update or why it could not be read.
type fetched struct {
	id     int64
	raw    json.RawMessage
	update *models.Update
	err    error
}

// setAside reports a failed update to the quarantine and whether it is now
// set aside, to be confirmed as if handled.
func (a *Adapter) setAside(ctx context.Context, updateID int64, raw []byte, err error) bool {
	if a.cfg.Quarantine == nil {
		return false
	}
	rejected, qerr := a.cfg.Quarantine.Failed(ctx, chat.FailedDelivery{Platform: chat.PlatformTelegram, DeliveryID: eventID(updateID),
		Err: a.scrub(err), Payload: raw})
	if qerr != nil {
		a.log.Warn("telegram: failed update not counted", "update", updateID, "err", qerr)
	}
	return rejected
}

// getUpdates asks for updates after offset, waiting up to the poll timeout.
// The library confirms updates before they are handled, so this one call is
// made here. Each update is read on its own: one that does not read is a
// failed update, not a failed call.
func (a *Adapter) getUpdates(ctx context.Context, offset int64) ([]fetched, error) {
	body, _ := json.Marshal(map[string]any{"offset": offset, "timeout": int(a.cfg.PollTimeout / time.Second),
		"allowed_updates": []string{"message", "callback_query"}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.APIURL+"/bot"+a.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, a.scrub(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.http.Do(req)
	if err != nil {
		return nil, a.scrub(err)
	}
	defer res.Body.Close()
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 16<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("getUpdates: %s: %w", res.Status, err)
	}
	if !r.OK {
		return nil, fmt.Errorf("getUpdates: %s: %s", res.Status, r.Description)
	}
	out := make([]fetched, 0, len(r.Result))
	for _, raw := range r.Result {
		var id struct {
			UpdateID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &id); err != nil {
			return nil, fmt.Errorf("getUpdates: an update without an id: %w", err)
		}
		f := fetched{id: id.UpdateID, raw: raw, update: &models.Update{}}
		if err := json.Unmarshal(raw, f.update); err != nil {
			f.err = fmt.Errorf("update %d: %w", id.UpdateID, err)
		}
		out = append(out, f)
	}
	return out, nil
}
