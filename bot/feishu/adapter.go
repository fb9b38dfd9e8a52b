// Package feishu puts slakeeper into Feishu (Lark) groups with a small
// client of the Open Platform's HTTP API: events (group messages, card
// button presses) arrive on a webhook, signed with the app's Encrypt Key,
// encrypted and carrying the Verification Token, and become neutral
// messages for the router; the outbox is sent as text messages, replies in
// the report's thread, interactive cards edited in place, <at> mentions
// and uploaded files.
//
// The app secret and the tenant_access_token never appear in an error or a
// log line.
package feishu

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
)

// Name is the platform's name in the configuration and the database.
const Name = chat.PlatformFeishu

// DefaultAPIURL is Feishu's Open Platform; Lark's is
// https://open.larksuite.com.
const DefaultAPIURL = "https://open.feishu.cn"

// Config configures the adapter.
type Config struct {
	AppID     string
	AppSecret string
	// VerificationToken is the token every event and callback carries.
	VerificationToken string
	// EncryptKey decrypts events and checks their signature.
	EncryptKey string
	APIURL     string // default DefaultAPIURL
	HTTPClient *http.Client
	// Quarantine, if set, sets aside an event that fails every time it is
	// delivered: it is then acknowledged, so that Feishu stops retrying
	// it. nil leaves it to Feishu's retries.
	Quarantine chat.Quarantine
}

// Adapter is the Feishu adapter. It is a chat.Sender.
type Adapter struct {
	cfg       Config
	api       *client
	handler   chat.Handler
	dir       *sla.Directory
	clock     chat.Clock
	log       *slog.Logger
	botOpenID string
}

// New fetches a tenant_access_token and the bot's identity and returns the
// adapter. Its errors hold neither the secret nor the token.
func New(ctx context.Context, cfg Config, h chat.Handler, dir *sla.Directory, clock chat.Clock, log *slog.Logger) (*Adapter, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if clock == nil {
		clock = chat.SystemClock{}
	}
	a := &Adapter{cfg: cfg, handler: h, dir: dir, clock: clock, log: log,
		api: &client{base: strings.TrimSuffix(cfg.APIURL, "/"), appID: cfg.AppID, appSecret: cfg.AppSecret, http: cfg.HTTPClient, clock: clock}}
	id, err := a.api.botOpenID(ctx)
	if err != nil {
		return nil, fmt.Errorf("feishu: %w", err)
	}
	a.botOpenID = id
	return a, nil
}

// Feishu's limits (docs: 发送消息, 消息卡片): a text message up to 150 KB,
// a card up to 30 KB of JSON; we keep well under them.
const (
	maxText      = 4000
	maxCardTitle = 100
	maxCardText  = 2000
	maxField     = 1000
	maxButton    = 40
	MaxCardBytes = 30 << 10
)

// ChannelLimit keeps under Feishu's five messages a second in one group
// (shared by every bot in it). It implements chat.ChannelLimiter.
func (a *Adapter) ChannelLimit() (time.Duration, int) { return 500 * time.Millisecond, 5 }

// Capabilities: Feishu shows interactive cards, edits them in place,
// replies in threads and sends files. It implements chat.Capable.
func (a *Adapter) Capabilities() chat.Capabilities {
	return chat.Capabilities{Cards: true, Edit: true, Threads: true, Files: true}
}

// truncate cuts s to n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// defuse keeps text someone wrote from becoming markup in a text message:
// "<at user_id=\"all\">" would notify the whole group. A zero-width space
// after "<" leaves it readable and inert.
func defuse(s string) string { return strings.ReplaceAll(s, "<", "<\u200b") }

// mdEscape makes text safe for a card's lark_md: no tags, no entities.
func mdEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// mentions renders people as Feishu mentions: in a text message
// <at user_id="ou_…">name</at>, in a card's lark_md <at id=ou_…></at>.
// People without a Feishu id are named.
func (a *Adapter) mentions(ids []string, card bool) string {
	var b strings.Builder
	for _, id := range ids {
		p, ok := a.dir.Person(id)
		if !ok {
			continue
		}
		uid, ok := a.dir.PlatformUser(Name, id)
		switch {
		case ok && card:
			b.WriteString("<at id=" + uid + "></at> ")
		case ok:
			b.WriteString(`<at user_id="` + uid + `">` + defuse(p.Name) + "</at> ")
		case card:
			b.WriteString("@" + mdEscape(p.Name) + " ")
		default:
			b.WriteString("@" + defuse(p.Name) + " ")
		}
	}
	return b.String()
}

// textContent is a text message's content.
func textContent(s string) string { return marshal(map[string]string{"text": s}) }

// marshal is JSON without HTML escaping: "<at …>" stays as written.
func marshal(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// plainText is a card text object shown as written.
func plainText(s string) map[string]any { return map[string]any{"tag": "plain_text", "content": s} }

// cardValue is what a button carries back when pressed.
type cardValue struct {
	Action   string `json:"slk_action"`
	Incident string `json:"slk_incident"`
}

// headerColour is the card header's template. The
// runtime does not say the status, so the buttons do: a card that can
// still be acknowledged is red.
func headerColour(c chat.Card) string {
	for _, x := range c.Actions {
		if x.ID == "ack" {
			return "red"
		}
	}
	if len(c.Actions) > 0 {
		return "orange"
	}
	return "green"
}

// renderCard renders an incident card as a Feishu message card (JSON 1.0
// schema): header, the text, the fields, then the buttons, each with its
// confirmation. update_multi makes an edit visible to everyone in the
// group. Whatever a person wrote is plain_text; only mentions are lark_md.
func (a *Adapter) renderCard(c chat.Card, mentions []string) string {
	var elements []any
	if m := a.mentions(mentions, true); m != "" {
		elements = append(elements, map[string]any{"tag": "div", "text": map[string]any{"tag": "lark_md", "content": m}})
	}
	if c.Text != "" {
		elements = append(elements, map[string]any{"tag": "div", "text": plainText(truncate(c.Text, maxCardText))})
	}
	if len(c.Fields) > 0 {
		var fields []any
		for _, f := range c.Fields {
			fields = append(fields, map[string]any{"is_short": !strings.Contains(f.Value, "\n") && utf8.RuneCountInString(f.Value) < 40,
				"text": plainText(truncate(f.Label+"\n"+f.Value, maxField))})
		}
		elements = append(elements, map[string]any{"tag": "div", "fields": fields})
	}
	if len(c.Actions) > 0 {
		var buttons []any
		for _, x := range c.Actions {
			typ := "default"
			if x.Style == "primary" || x.Style == "danger" {
				typ = x.Style
			}
			b := map[string]any{"tag": "button", "text": plainText(truncate(x.Label, maxButton)), "type": typ,
				"value": cardValue{Action: x.ID, Incident: strconv.FormatInt(c.IncidentID, 10)}}
			if x.Confirm != nil {
				b["confirm"] = map[string]any{"title": plainText(truncate(x.Confirm.Title, 100)), "text": plainText(truncate(x.Confirm.Text, 300))}
			}
			buttons = append(buttons, b)
		}
		elements = append(elements, map[string]any{"tag": "action", "actions": buttons})
	}
	card := map[string]any{
		"config":   map[string]any{"wide_screen_mode": true, "update_multi": true},
		"header":   map[string]any{"title": plainText(truncate(c.Title, maxCardTitle)), "template": headerColour(c)},
		"elements": elements,
	}
	return marshal(card)
}

// cardJSON is renderCard within MaxCardBytes: a card too large loses its
// fields and most of its text, keeping its title and buttons.
func (a *Adapter) cardJSON(c chat.Card, mentions []string) string {
	content := a.renderCard(c, mentions)
	if len(content) > MaxCardBytes {
		c.Text, c.Fields = truncate(c.Text, 300), nil
		content = a.renderCard(c, mentions)
	}
	return content
}

// Send posts a message (a reply in its thread, an alert under the card),
// edits the card it replaces, or uploads and sends a file. The reference
// returned is the message's message_id. It implements chat.Sender.
func (a *Adapter) Send(ctx context.Context, m chat.Outbound) (string, error) {
	if m.File != nil {
		return a.sendFile(ctx, m)
	}
	msgType, content := "text", textContent(truncate(a.mentions(m.Mentions, false)+defuse(m.Text), maxText))
	if m.Card != nil {
		msgType, content = "interactive", a.cardJSON(*m.Card, m.Mentions)
	}
	if m.EditRef != "" && m.Card != nil {
		err := a.api.patchCard(ctx, m.EditRef, content)
		if err == nil {
			return m.EditRef, nil
		}
		if !isGone(err) {
			return "", err
		}
		// The card was recalled: post a new one.
	}
	return a.post(ctx, m.ChatID, thread(m), msgType, content)
}

// thread is the message an outbound answers: its thread, or for an alert
// the card.
func thread(m chat.Outbound) string {
	if m.ThreadID != "" {
		return m.ThreadID
	}
	return m.Anchor
}

// post sends to a chat, or as a reply to a message in it. A reply is a
// quoted reply, visible in the group; when the message is in a topic
// thread, Feishu puts the reply there.
func (a *Adapter) post(ctx context.Context, chatID, replyTo, msgType, content string) (string, error) {
	if replyTo == "" {
		return a.api.send(ctx, chatID, msgType, content)
	}
	id, err := a.api.reply(ctx, replyTo, msgType, content, false)
	if isGone(err) {
		// The message answered was recalled: say it in the group.
		return a.api.send(ctx, chatID, msgType, content)
	}
	return id, err
}

// sendFile uploads a file and sends it, then its caption as a reply to it
// (a file message has none). A caption that fails is logged, not retried:
// retrying would send the file twice.
func (a *Adapter) sendFile(ctx context.Context, m chat.Outbound) (string, error) {
	key, err := a.api.upload(ctx, m.File)
	if err != nil {
		return "", err
	}
	content, _ := json.Marshal(map[string]string{"file_key": key})
	id, err := a.post(ctx, m.ChatID, thread(m), "file", string(content))
	if err != nil {
		return "", err
	}
	if m.File.Caption != "" {
		if _, err := a.api.reply(ctx, id, "text", textContent(truncate(defuse(m.File.Caption), maxText)), false); err != nil {
			a.log.Warn("feishu: file sent without its caption", "chat", m.ChatID, "file", m.File.Name, "err", err)
		}
	}
	return id, nil
}

// fileType is the Open Platform's file_type for a file name.
func fileType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		return "pdf"
	case ".doc", ".docx":
		return "doc"
	case ".xls", ".xlsx":
		return "xls"
	case ".ppt", ".pptx":
		return "ppt"
	case ".mp4":
		return "mp4"
	case ".opus":
		return "opus"
	}
	return "stream"
}

func pathEscape(s string) string { return url.PathEscape(s) }
