package feishu

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/slakeeper/slakeeper/bot/chat"
)

// MaxEvent bounds the body of an event or a callback: a message event is a
// few KiB (a text message is at most 150 KB, so the bound is generous),
// and a longer body is refused with 413.
const MaxEvent = 512 << 10

// Routes adds the webhooks: POST /feishu/events (the event subscription's
// request URL) and POST /feishu/card (the card callback URL); both take
// either kind, as the console lets both share one URL.
func (a *Adapter) Routes(mux *http.ServeMux) {
	mux.Handle("POST /feishu/events", a.WebhookHandler())
	mux.Handle("POST /feishu/card", a.WebhookHandler())
}

// WebhookHandler serves the events and card callbacks of the Open
// Platform:
//
//   - a body with a signature is refused (401) unless X-Lark-Signature
//     verifies with the Encrypt Key and its timestamp is within MaxSkew;
//     only the URL verification challenge may come unsigned;
//   - an encrypted body ({"encrypt": …}) is decrypted; with an Encrypt Key
//     configured, a plain one is refused (401);
//   - the Verification Token in the body must match (401 otherwise);
//   - a message event is handled before the answer, so that a 200 means it
//     is stored (its event_id dedupes a retry); a failure is a 500 that
//     Feishu retries, until the quarantine sets the event aside;
//   - a card button press runs its command and is answered with a toast
//     and, when it acted, the updated card (which Feishu shows at once);
//     the change's outbox message edits the card as well.
//
// Nothing is changed by a refused request.
func (a *Adapter) WebhookHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := chat.ReadBody(w, r, MaxEvent)
		if !ok {
			return
		}
		signed := r.Header.Get("X-Lark-Signature") != ""
		if signed && !Verify(a.cfg.EncryptKey, r.Header, body, a.clock.Now()) {
			a.log.Warn("feishu: refused a request with a bad or stale signature", "path", r.URL.Path, "remote", r.RemoteAddr)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		plain, status := a.open(body)
		if status != http.StatusOK {
			http.Error(w, http.StatusText(status), status)
			return
		}
		var p payload
		if err := json.Unmarshal(plain, &p); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		if p.Type == "url_verification" {
			if !a.tokenOK(p.Token) {
				a.log.Warn("feishu: refused a URL verification with a wrong token", "remote", r.RemoteAddr)
				http.Error(w, "invalid token", http.StatusUnauthorized)
				return
			}
			writeJSON(w, map[string]string{"challenge": p.Challenge})
			return
		}
		if !signed && a.cfg.EncryptKey != "" {
			a.log.Warn("feishu: refused an unsigned event", "path", r.URL.Path, "remote", r.RemoteAddr)
			http.Error(w, "signature required", http.StatusUnauthorized)
			return
		}
		if p.Schema != "2.0" {
			// The 1.0 schema's events are not subscribed to.
			writeJSON(w, struct{}{})
			return
		}
		if !a.tokenOK(p.Header.Token) {
			a.log.Warn("feishu: refused an event with a wrong verification token", "remote", r.RemoteAddr)
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		switch p.Header.EventType {
		case "im.message.receive_v1":
			var ev messageEvent
			if err := json.Unmarshal(p.Event, &ev); err != nil {
				http.Error(w, "bad event", http.StatusBadRequest)
				return
			}
			if err := a.onMessage(r.Context(), p.Header.EventID, ev); err != nil {
				if a.setAside(r.Context(), p.Header.EventID, plain, err) {
					writeJSON(w, struct{}{})
					return
				}
				a.log.Warn("feishu: event not handled; Feishu will retry", "event", p.Header.EventID, "err", err)
				http.Error(w, "try again", http.StatusInternalServerError)
				return
			}
		case "card.action.trigger":
			var ev cardEvent
			if err := json.Unmarshal(p.Event, &ev); err != nil {
				http.Error(w, "bad event", http.StatusBadRequest)
				return
			}
			writeJSON(w, a.onCard(r.Context(), p.Header.EventID, ev))
			return
		}
		writeJSON(w, struct{}{})
	}
}

// open returns the body's plain JSON: decrypted when it is encrypted. The
// status is 200, or the answer to refuse the body with.
func (a *Adapter) open(body []byte) ([]byte, int) {
	var enc struct {
		Encrypt *string `json:"encrypt"`
	}
	if err := json.Unmarshal(body, &enc); err != nil {
		return nil, http.StatusBadRequest
	}
	if enc.Encrypt == nil {
		return body, http.StatusOK
	}
	if a.cfg.EncryptKey == "" {
		return nil, http.StatusUnauthorized
	}
	plain, err := Decrypt(a.cfg.EncryptKey, *enc.Encrypt)
	if err != nil {
		return nil, http.StatusUnauthorized
	}
	return plain, http.StatusOK
}

func (a *Adapter) tokenOK(token string) bool {
	return a.cfg.VerificationToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.cfg.VerificationToken)) == 1
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

// payload is a decrypted body: the URL verification, or an event in the
// 2.0 schema.
type payload struct {
	Type      string `json:"type"`
	Token     string `json:"token"`
	Challenge string `json:"challenge"`
	Schema    string `json:"schema"`
	Header    struct {
		EventID   string `json:"event_id"`
		EventType string `json:"event_type"`
		Token     string `json:"token"`
		AppID     string `json:"app_id"`
	} `json:"header"`
	Event json.RawMessage `json:"event"`
}

// userID is a user's ids; slakeeper knows people by open_id.
type userID struct {
	OpenID string `json:"open_id"`
}

// messageEvent is im.message.receive_v1's event.
type messageEvent struct {
	Sender struct {
		SenderID   userID `json:"sender_id"`
		SenderType string `json:"sender_type"`
	} `json:"sender"`
	Message struct {
		MessageID   string    `json:"message_id"`
		RootID      string    `json:"root_id"`
		ParentID    string    `json:"parent_id"`
		ChatID      string    `json:"chat_id"`
		ChatType    string    `json:"chat_type"`
		MessageType string    `json:"message_type"`
		Content     string    `json:"content"`
		Mentions    []mention `json:"mentions"`
	} `json:"message"`
}

type mention struct {
	Key  string `json:"key"`
	ID   userID `json:"id"`
	Name string `json:"name"`
}

// onMessage hands a person's group message to the router: its text with
// the bot's mention removed (so "@slakeeper /ack 42" is the command), in
// the thread of the message it replies to. Bots' messages (this one's
// included) and messages without text are ignored. An error means the
// message was not stored.
func (a *Adapter) onMessage(ctx context.Context, eventID string, ev messageEvent) error {
	m := ev.Message
	if ev.Sender.SenderType != "user" || ev.Sender.SenderID.OpenID == "" || ev.Sender.SenderID.OpenID == a.botOpenID || m.ChatID == "" {
		return nil
	}
	text := a.messageText(m.MessageType, m.Content, m.Mentions)
	if text == "" {
		return nil
	}
	var thread string
	if m.RootID != "" && m.RootID != m.MessageID {
		thread = m.RootID
	}
	name := ev.Sender.SenderID.OpenID
	if p, ok := a.dir.ByIdentity(Name, name); ok {
		name = p.Name
	}
	in := chat.Inbound{Platform: Name, ChatID: m.ChatID, ThreadID: thread, MessageID: m.MessageID,
		UserID: ev.Sender.SenderID.OpenID, UserName: name, Text: text, EventID: eventID, ReplyIn: m.MessageID}
	// A command's answer is queued in the outbox, as a reply to the
	// message: the dispatcher posts it, with its retries and rate limits.
	_, err := a.handler.Handle(ctx, in)
	return err
}

// messageText is the text of a text or post (rich text) message, mentions
// resolved: the bot's removed, anyone else's as "@name". Other kinds of
// message (images, files, stickers) give "".
func (a *Adapter) messageText(kind, content string, mentions []mention) string {
	var text string
	switch kind {
	case "text":
		var c struct {
			Text string `json:"text"`
		}
		if json.Unmarshal([]byte(content), &c) != nil {
			return ""
		}
		text = c.Text
	case "post":
		text = postText(content)
	default:
		return ""
	}
	for _, mt := range mentions {
		if mt.Key == "" {
			continue
		}
		with := "@" + mt.Name
		if mt.ID.OpenID != "" && mt.ID.OpenID == a.botOpenID {
			with = ""
		}
		text = strings.ReplaceAll(text, mt.Key, with)
	}
	return strings.TrimSpace(strings.Join(strings.Fields(text), " ")) // mentions leave double spaces
}

// postText flattens a post's content, a title and paragraphs of elements,
// into lines. A post may come per language ({"zh_cn": {…}}); the first
// that has content is taken.
func postText(content string) string {
	type element struct {
		Tag      string `json:"tag"`
		Text     string `json:"text"`
		UserID   string `json:"user_id"`
		UserName string `json:"user_name"`
		Href     string `json:"href"`
	}
	type post struct {
		Title   string      `json:"title"`
		Content [][]element `json:"content"`
	}
	var p post
	if json.Unmarshal([]byte(content), &p) != nil {
		return ""
	}
	if p.Title == "" && len(p.Content) == 0 {
		var langs map[string]post
		if json.Unmarshal([]byte(content), &langs) != nil {
			return ""
		}
		for _, l := range []string{"zh_cn", "en_us", "ja_jp"} {
			if lp, ok := langs[l]; ok {
				p = lp
				break
			}
		}
	}
	var lines []string
	if p.Title != "" {
		lines = append(lines, p.Title)
	}
	for _, para := range p.Content {
		var b strings.Builder
		for _, e := range para {
			switch e.Tag {
			case "text", "a", "code_block", "md":
				b.WriteString(e.Text)
			case "at":
				b.WriteString(" " + e.UserID + " ") // the mention's key, resolved with the rest
			}
		}
		if s := strings.TrimSpace(b.String()); s != "" {
			lines = append(lines, s)
		}
	}
	var out bytes.Buffer
	for i, l := range lines {
		if i > 0 {
			out.WriteString("\n")
		}
		out.WriteString(l)
	}
	return out.String()
}

// cardEvent is card.action.trigger's event.
type cardEvent struct {
	Operator userID `json:"operator"`
	Action   struct {
		Value json.RawMessage `json:"value"`
		Tag   string          `json:"tag"`
	} `json:"action"`
	Context struct {
		OpenMessageID string `json:"open_message_id"`
		OpenChatID    string `json:"open_chat_id"`
	} `json:"context"`
}

// notOnCard answers a press with no chat to act in.
const notOnCard = "⚠️ 此按钮只能在群组的事件卡片上使用 / This button works only on an incident card in a group"

// cardAnswer is the answer to a card.action.trigger callback: a toast
// shown to the person who pressed, and the card as it now is, which
// Feishu puts in place of the one pressed (for everyone: the card sets
// update_multi).
type cardAnswer struct {
	Toast *toastBody   `json:"toast,omitempty"`
	Card  *cardReplace `json:"card,omitempty"`
}

type toastBody struct {
	Type    string `json:"type"` // success, error, info, warning
	Content string `json:"content"`
}

// cardReplace is a card given whole ("raw") in a callback's answer.
type cardReplace struct {
	Type string          `json:"type"` // raw
	Data json.RawMessage `json:"data"`
}

// onCard runs a card button's command as the person who pressed it and
// returns the answer to the press: a toast with the command's answer (an
// error when it was refused) and, when it acted, the card as it now is.
// The router gives that card (chat.Inbound.WithCard) as the incident of
// the pressed message's thread: the dispatcher bound the card to it when
// it posted it. The change's outbox message still edits the card, which
// is the same card by then unless a later change came: Feishu applies the
// answer's card at once, the edit when the dispatcher gets to it, so the
// last word is the latest state. A press delivered again (the same
// event_id) changes nothing and gets no answer.
func (a *Adapter) onCard(ctx context.Context, eventID string, ev cardEvent) cardAnswer {
	var v cardValue
	if json.Unmarshal(ev.Action.Value, &v) != nil || v.Action == "" {
		return cardAnswer{} // not one of ours
	}
	if ev.Context.OpenChatID == "" || ev.Operator.OpenID == "" {
		return cardAnswer{Toast: &toastBody{Type: "error", Content: notOnCard}}
	}
	line, known := chat.ActionCommand(v.Action, v.Incident)
	if !known {
		line = "/button" // answered as an unknown command
	}
	name := ev.Operator.OpenID
	if p, ok := a.dir.ByIdentity(Name, name); ok {
		name = p.Name
	}
	in := chat.Inbound{Platform: Name, ChatID: ev.Context.OpenChatID, ThreadID: ev.Context.OpenMessageID,
		UserID: ev.Operator.OpenID, UserName: name, Text: line, EventID: eventID, InBand: true, WithCard: true}
	replies, err := a.handler.Handle(ctx, in)
	if err != nil {
		a.log.Error("feishu: button failed", "event", eventID, "err", err)
		return cardAnswer{Toast: &toastBody{Type: "error", Content: chat.InternalError}}
	}
	var texts []string
	var answer cardAnswer
	kind := "success"
	for _, r := range replies {
		if r.Text != "" {
			texts = append(texts, r.Text)
		}
		if r.Refused {
			kind = "error"
		}
		if r.Card != nil && !r.Refused {
			answer.Card = &cardReplace{Type: "raw", Data: json.RawMessage(a.cardJSON(*r.Card, nil))}
		}
	}
	if len(texts) > 0 {
		answer.Toast = &toastBody{Type: kind, Content: truncate(strings.Join(texts, "\n"), 500)}
	}
	return answer
}

// setAside reports a failed event to the quarantine and whether it is now
// set aside, to be acknowledged as if handled.
func (a *Adapter) setAside(ctx context.Context, eventID string, body []byte, err error) bool {
	if a.cfg.Quarantine == nil || eventID == "" {
		return false
	}
	rejected, qerr := a.cfg.Quarantine.Failed(ctx, chat.FailedDelivery{Platform: Name, DeliveryID: eventID, Err: err, Payload: body})
	if qerr != nil {
		a.log.Warn("feishu: failed event not counted", "event", eventID, "err", qerr)
	}
	return rejected
}
