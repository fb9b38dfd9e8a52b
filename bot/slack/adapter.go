// Package slack puts slakeeper into Slack with slack-go: it receives events,
// slash commands and button clicks over HTTP (signed requests) or Socket
// Mode, turns them into neutral messages for the router, and sends the
// outbox (thread replies, incident cards edited in place, alerts in the
// card's thread) through the Web API.
//
// The transport is the only difference between HTTP and Socket Mode: both
// call the same handlers (onEvent, onCommand, actionInbounds).
package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/sla"
)

// Config configures the adapter.
type Config struct {
	BotToken      string // xoxb-…
	AppToken      string // xapp-…; set for Socket Mode
	SigningSecret string // for HTTP mode
	APIURL        string // Web API base URL override, e.g. for tests; ends with "/"
	// TeamID, when set, is the only workspace served: events from another
	// are acknowledged and dropped, its commands and clicks are answered
	// ForeignTeam. Any app with the same signing secret (a distributed
	// app installed elsewhere) signs valid requests.
	TeamID string
	// ReplyWithin is how long a slash command may take before it is
	// acknowledged and answered later through its response_url; Slack
	// allows three seconds. A click is always acknowledged first and
	// answered through its response_url.
	ReplyWithin time.Duration
	HTTPClient  *http.Client
	// SocketWorkers is how many Socket Mode requests are handled at once;
	// DefaultSocketWorkers if zero.
	SocketWorkers int
	// Quarantine, if set, sets aside an event that fails every time it is
	// delivered: it is then acknowledged, so that Slack stops retrying it.
	// nil leaves it to Slack's retries.
	Quarantine chat.Quarantine
}

// Adapter is the Slack adapter. It is a chat.Sender.
type Adapter struct {
	cfg     Config
	api     *slackgo.Client
	handler chat.Handler
	dir     *sla.Directory
	clock   chat.Clock
	log     *slog.Logger
	http    *http.Client

	botUserID string
	botID     string

	// work done after a request was acknowledged (clicks, late answers to
	// slash commands, posts to response_url); Close waits for it.
	late sync.WaitGroup
}

// New connects to the Web API (auth.test) and returns the adapter. The
// token never appears in an error or a log line.
func New(ctx context.Context, cfg Config, h chat.Handler, dir *sla.Directory, clock chat.Clock, log *slog.Logger) (*Adapter, error) {
	if cfg.ReplyWithin == 0 {
		cfg.ReplyWithin = 2500 * time.Millisecond
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	opts := []slackgo.Option{slackgo.OptionHTTPClient(cfg.HTTPClient)}
	if cfg.APIURL != "" {
		u := cfg.APIURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, slackgo.OptionAPIURL(u))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackgo.OptionAppLevelToken(cfg.AppToken))
	}
	a := &Adapter{cfg: cfg, api: slackgo.New(cfg.BotToken, opts...), handler: h, dir: dir, clock: clock, log: log, http: cfg.HTTPClient}
	who, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("slack: auth.test: %w", err)
	}
	a.botUserID, a.botID = who.UserID, who.BotID
	return a, nil
}

// Close waits for the work acknowledged but not finished: clicks being
// handled and answers on their way to a response_url. Call it once the
// HTTP server has stopped and RunSocketMode has returned.
func (a *Adapter) Close() { a.late.Wait() }

// Slack's limits (docs: chat.postMessage, Block Kit reference).
const (
	maxText        = 4000 // recommended for message text; the hard limit is 40,000
	maxSectionText = 3000
	maxHeader      = 150
	maxButton      = 75
	maxFieldText   = 2000
)

// truncate cuts s to n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// escape makes text safe for Slack's mrkdwn: a customer's "<" or "&" must
// not become a link or a mention.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// ChannelLimit keeps to Slack's one message per second per channel, with a
// small burst. It implements chat.ChannelLimiter.
func (a *Adapter) ChannelLimit() (time.Duration, int) { return time.Second, 3 }

// mentions renders the people to notify as Slack mentions.
func (a *Adapter) mentions(ids []string) string {
	var b strings.Builder
	for _, id := range ids {
		if uid, ok := a.dir.PlatformUser(chat.PlatformSlack, id); ok {
			b.WriteString("<@" + uid + "> ")
		} else if p, ok := a.dir.Person(id); ok {
			b.WriteString("@" + escape(p.Name) + " ")
		}
	}
	return b.String()
}

// Send posts a message, or edits the card it replaces. It implements
// chat.Sender.
func (a *Adapter) Send(ctx context.Context, m chat.Outbound) (string, error) {
	if m.File != nil {
		f, err := a.api.UploadFileContext(ctx, slackgo.UploadFileParameters{Reader: bytes.NewReader(m.File.Data), FileSize: len(m.File.Data),
			Filename: m.File.Name, Title: truncate(m.File.Caption, maxHeader), Channel: m.ChatID, ThreadTimestamp: m.ThreadID})
		if err != nil {
			return "", classify(err)
		}
		return f.ID, nil
	}
	text := truncate(a.mentions(m.Mentions)+escape(m.Text), maxText)
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(text, false)}
	if m.Card != nil {
		opts = append(opts, slackgo.MsgOptionBlocks(cardBlocks(*m.Card, a.mentions(m.Mentions))...))
	}
	switch {
	case m.ThreadID != "":
		opts = append(opts, slackgo.MsgOptionTS(m.ThreadID))
	case m.Anchor != "":
		// Alerts go in the card's thread, with a line in the channel.
		opts = append(opts, slackgo.MsgOptionTS(m.Anchor), slackgo.MsgOptionBroadcast())
	}
	if m.EditRef != "" {
		_, ts, _, err := a.api.UpdateMessageContext(ctx, m.ChatID, m.EditRef, opts...)
		if err == nil {
			return ts, nil
		}
		var se slackgo.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != "message_not_found" {
			return "", classify(err)
		}
		// The card was deleted: post a new one.
	}
	_, ts, err := a.api.PostMessageContext(ctx, m.ChatID, opts...)
	if err != nil {
		return "", classify(err)
	}
	return ts, nil
}

// permanent lists Web API errors no retry will fix.
var permanent = map[string]bool{"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true, "msg_too_long": true,
	"no_text": true, "invalid_blocks": true, "invalid_blocks_format": true, "restricted_action": true,
	"cant_update_message": true, "edit_window_closed": true, "missing_scope": true}

// classify tells the dispatcher whether and when to retry.
func classify(err error) error {
	var rl *slackgo.RateLimitedError
	if errors.As(err, &rl) {
		return &chat.RetryAfter{After: rl.RetryAfter, Err: err}
	}
	var se slackgo.SlackErrorResponse
	if errors.As(err, &se) && permanent[se.Err] {
		return &chat.PermanentError{Err: err}
	}
	var sc slackgo.StatusCodeError
	if errors.As(err, &sc) && sc.Code >= 400 && sc.Code < 500 && sc.Code != http.StatusTooManyRequests && sc.Code != http.StatusRequestTimeout {
		return &chat.PermanentError{Err: err}
	}
	return err
}

// cardBlocks renders an incident card in Block Kit.
func cardBlocks(c chat.Card, mentions string) []slackgo.Block {
	blocks := []slackgo.Block{
		slackgo.NewHeaderBlock(slackgo.NewTextBlockObject(slackgo.PlainTextType, truncate(c.Title, maxHeader), false, false)),
		slackgo.NewSectionBlock(slackgo.NewTextBlockObject(slackgo.MarkdownType, truncate(mentions+escape(c.Text), maxSectionText), false, false), nil, nil),
	}
	var fields []*slackgo.TextBlockObject
	for _, f := range c.Fields {
		fields = append(fields, slackgo.NewTextBlockObject(slackgo.MarkdownType,
			truncate("*"+escape(f.Label)+"*\n"+escape(f.Value), maxFieldText), false, false))
	}
	if len(fields) > 0 {
		blocks = append(blocks, slackgo.NewSectionBlock(nil, fields, nil))
	}
	var buttons []slackgo.BlockElement
	for _, x := range c.Actions {
		b := slackgo.NewButtonBlockElement(actionPrefix+x.ID, fmt.Sprint(c.IncidentID),
			slackgo.NewTextBlockObject(slackgo.PlainTextType, truncate(x.Label, maxButton), false, false))
		if x.Style != "" {
			b = b.WithStyle(slackgo.Style(x.Style))
		}
		if x.Confirm != nil {
			b = b.WithConfirm(slackgo.NewConfirmationBlockObject(
				slackgo.NewTextBlockObject(slackgo.PlainTextType, truncate(x.Confirm.Title, 100), false, false),
				slackgo.NewTextBlockObject(slackgo.PlainTextType, truncate(x.Confirm.Text, 300), false, false),
				slackgo.NewTextBlockObject(slackgo.PlainTextType, truncate(x.Confirm.Yes, 30), false, false),
				slackgo.NewTextBlockObject(slackgo.PlainTextType, truncate(x.Confirm.No, 30), false, false)))
		}
		buttons = append(buttons, b)
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slackgo.NewActionBlock(fmt.Sprintf("incident-%d", c.IncidentID), buttons...))
	}
	return blocks
}

// actionPrefix marks slakeeper's buttons: "slakeeper:ack" runs /ack.
const actionPrefix = "slakeeper:"
