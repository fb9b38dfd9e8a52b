// Package telegram puts slakeeper into Telegram groups with go-telegram/bot:
// updates arrive by long polling (one replica at a time, under a database
// lock) or by webhook (checked against a secret token), become neutral
// messages for the router, and the outbox is sent as HTML messages, replies
// in the incident's thread, and cards with inline keyboards edited in place.
//
// The bot token is part of every Bot API URL: no error or log line of this
// package contains it.
package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

// Config configures the adapter.
type Config struct {
	Token         string
	APIURL        string // Bot API base URL override (default https://api.telegram.org)
	WebhookSecret string // X-Telegram-Bot-Api-Secret-Token; set for webhook mode
	WebhookURL    string // the public URL of POST /telegram/webhook, registered with setWebhook
	PollTimeout   time.Duration
	HTTPClient    *http.Client
	// Quarantine, if set, sets aside an update that fails every time it
	// is delivered, so that the updates behind it are not held up; nil
	// retries it for ever.
	Quarantine chat.Quarantine
}

// Adapter is the Telegram adapter. It is a chat.Sender.
type Adapter struct {
	cfg      Config
	api      *tg.Bot
	handler  chat.Handler
	dir      *sla.Directory
	log      *slog.Logger
	http     *http.Client
	username string // the bot's @username, for /ack@username in groups
}

// New connects (getMe) and returns the adapter.
func New(ctx context.Context, cfg Config, h chat.Handler, dir *sla.Directory, log *slog.Logger) (*Adapter, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.telegram.org"
	}
	cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/")
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.PollTimeout + 15*time.Second}
	}
	a := &Adapter{cfg: cfg, handler: h, dir: dir, log: log, http: cfg.HTTPClient}
	api, err := tg.New(cfg.Token, tg.WithServerURL(cfg.APIURL), tg.WithHTTPClient(cfg.PollTimeout, cfg.HTTPClient), tg.WithSkipGetMe(),
		tg.WithErrorsHandler(func(err error) { log.Warn("telegram", "err", a.scrub(err)) }),
		tg.WithDefaultHandler(func(context.Context, *tg.Bot, *models.Update) {}))
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", a.scrub(err))
	}
	a.api = api
	me, err := api.GetMe(ctx)
	if err != nil {
		return nil, fmt.Errorf("telegram: getMe: %w", a.scrub(err))
	}
	a.username = me.Username
	return a, nil
}

// scrubbed is an error whose text has the token removed; Unwrap keeps the
// cause for errors.As.
type scrubbed struct {
	msg   string
	cause error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.cause }

// scrub removes the token from an error's text.
func (a *Adapter) scrub(err error) error {
	if err == nil || a.cfg.Token == "" || !strings.Contains(err.Error(), a.cfg.Token) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(err.Error(), a.cfg.Token, "<token>"), cause: err}
}

// Telegram's limits.
const (
	maxText         = 4096
	maxCallbackData = 64
	maxCallbackText = 200
)

// ChannelLimit keeps under Telegram's 20 messages a minute in a group. It
// implements chat.ChannelLimiter.
func (a *Adapter) ChannelLimit() (time.Duration, int) { return 3 * time.Second, 5 }

// threadRef is where a message goes or comes from in a chat: a forum topic
// (0 for none) and the message it replies to. It is written "topic/message".
type threadRef struct{ topic, message int }

func parseRef(s string) threadRef {
	t, m, ok := strings.Cut(s, "/")
	if !ok {
		n, _ := strconv.Atoi(s)
		return threadRef{message: n}
	}
	ti, _ := strconv.Atoi(t)
	mi, _ := strconv.Atoi(m)
	return threadRef{topic: ti, message: mi}
}

func (r threadRef) String() string { return strconv.Itoa(r.topic) + "/" + strconv.Itoa(r.message) }

// fit cuts plain text so that it stays within Telegram's limit once
// mentions are added.
func fit(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// mentions renders people as Telegram mentions (a tg://user link notifies
// them); people without a Telegram id are named.
func (a *Adapter) mentions(ids []string) string {
	var b strings.Builder
	for _, id := range ids {
		p, ok := a.dir.Person(id)
		if !ok {
			continue
		}
		if uid, ok := a.dir.PlatformUser(chat.PlatformTelegram, id); ok {
			b.WriteString(`<a href="tg://user?id=` + uid + `">` + html.EscapeString(p.Name) + "</a> ")
		} else {
			b.WriteString("@" + html.EscapeString(p.Name) + " ")
		}
	}
	return b.String()
}

// render makes the HTML text of a message: mentions, then the text with
// every character of user content escaped; a card shows its title in bold.
func (a *Adapter) render(m chat.Outbound) string {
	if m.Card != nil {
		c := m.Card
		var b strings.Builder
		b.WriteString(a.mentions(m.Mentions))
		b.WriteString("<b>" + html.EscapeString(fit(c.Title, 200)) + "</b>\n")
		b.WriteString(html.EscapeString(fit(c.Text, 1500)) + "\n")
		for _, f := range c.Fields {
			sep := ": "
			if strings.Contains(f.Value, "\n") {
				sep = ":\n"
			}
			b.WriteString("<b>" + html.EscapeString(f.Label) + "</b>" + sep + html.EscapeString(fit(f.Value, 800)) + "\n")
		}
		return b.String()
	}
	return a.mentions(m.Mentions) + html.EscapeString(fit(m.Text, maxText-500))
}

// keyboard renders a card's buttons; callback data is "slk:<action>:<id>",
// well within Telegram's 64 bytes.
func keyboard(c *chat.Card) models.ReplyMarkup {
	if c == nil || len(c.Actions) == 0 {
		return nil
	}
	var row []models.InlineKeyboardButton
	for _, x := range c.Actions {
		data := callbackPrefix + x.ID + ":" + strconv.FormatInt(c.IncidentID, 10)
		if len(data) > maxCallbackData {
			continue
		}
		row = append(row, models.InlineKeyboardButton{Text: x.Label, CallbackData: data})
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{row}}
}

const callbackPrefix = "slk:"

// Send posts a message (in its thread or the card's), or edits the card it
// replaces. It implements chat.Sender.
func (a *Adapter) Send(ctx context.Context, m chat.Outbound) (string, error) {
	chatID, err := strconv.ParseInt(m.ChatID, 10, 64)
	if err != nil {
		return "", &chat.PermanentError{Err: fmt.Errorf("telegram chat id %q is not a number", m.ChatID)}
	}
	if m.File != nil {
		p := &tg.SendDocumentParams{ChatID: chatID, Document: &models.InputFileUpload{Filename: m.File.Name, Data: bytes.NewReader(m.File.Data)},
			Caption: html.EscapeString(fit(m.File.Caption, 1000)), ParseMode: models.ParseModeHTML}
		if m.ThreadID != "" {
			p.MessageThreadID = parseRef(m.ThreadID).topic
		}
		msg, err := a.api.SendDocument(ctx, p)
		if err != nil {
			return "", a.classify(err)
		}
		return threadRef{topic: p.MessageThreadID, message: msg.ID}.String(), nil
	}
	text := a.render(m)
	if m.EditRef != "" {
		ref := parseRef(m.EditRef)
		_, err := a.api.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: chatID, MessageID: ref.message, Text: text,
			ParseMode: models.ParseModeHTML, ReplyMarkup: keyboard(m.Card)})
		if err == nil || strings.Contains(err.Error(), "message is not modified") {
			return m.EditRef, nil
		}
		if !errors.Is(err, tg.ErrorBadRequest) || !strings.Contains(err.Error(), "message to edit not found") {
			return "", a.classify(err)
		}
		// The card was deleted: post a new one.
	}
	p := &tg.SendMessageParams{ChatID: chatID, Text: text, ParseMode: models.ParseModeHTML, ReplyMarkup: keyboard(m.Card),
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()}}
	thread := m.ThreadID
	if thread == "" {
		thread = m.Anchor // alerts answer the card
	}
	var topic int
	if thread != "" {
		ref := parseRef(thread)
		topic = ref.topic
		p.MessageThreadID = ref.topic
		if ref.message != 0 && ref.message != ref.topic {
			p.ReplyParameters = &models.ReplyParameters{MessageID: ref.message, AllowSendingWithoutReply: true}
		}
	}
	msg, err := a.api.SendMessage(ctx, p)
	if err != nil {
		return "", a.classify(err)
	}
	return threadRef{topic: topic, message: msg.ID}.String(), nil
}

// classify tells the dispatcher whether and when to retry, without the
// token in the error's text.
func (a *Adapter) classify(err error) error {
	err = a.scrub(err)
	var tm *tg.TooManyRequestsError
	if errors.As(err, &tm) {
		return &chat.RetryAfter{After: time.Duration(tm.RetryAfter) * time.Second, Err: err}
	}
	var mig *tg.MigrateError
	if errors.As(err, &mig) || errors.Is(err, tg.ErrorForbidden) || errors.Is(err, tg.ErrorBadRequest) ||
		errors.Is(err, tg.ErrorUnauthorized) || errors.Is(err, tg.ErrorNotFound) {
		return &chat.PermanentError{Err: err}
	}
	return err
}

// SetCommands registers the command menu in English (the default) and
// Chinese, from the command definitions.
func (a *Adapter) SetCommands(ctx context.Context) error {
	for _, lang := range []sla.Lang{sla.LangEN, sla.LangZH} {
		var cmds []models.BotCommand
		for _, d := range commands.Defs {
			cmds = append(cmds, models.BotCommand{Command: d.Name, Description: fit(i18n.T(lang, "cmd."+d.Name, nil), 256)})
		}
		p := &tg.SetMyCommandsParams{Commands: cmds}
		if lang == sla.LangZH {
			p.LanguageCode = "zh"
		}
		if _, err := a.api.SetMyCommands(ctx, p); err != nil {
			return fmt.Errorf("telegram: setMyCommands %s: %w", lang, a.scrub(err))
		}
	}
	return nil
}
