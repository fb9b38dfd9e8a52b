// Package chat holds the neutral types every chat platform adapter speaks
// and nothing else: the messages in and out, the incident card, files,
// the sender and its errors, the clock, and the one mapping of a card's
// buttons to commands. Adapters import it, not the runtime.
package chat

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Platforms slakeeper speaks.
const (
	PlatformSlack    = "slack"
	PlatformTelegram = "telegram"
	PlatformFeishu   = "feishu"
	PlatformConsole  = "console"
)

// Kinds of outgoing messages that adapters treat specially.
const (
	// KindFile is an attachment (a chart, a CSV, a document): File holds it.
	KindFile  = "file"
	KindCard  = "card"  // an incident card: edited in place once posted
	KindReply = "reply" // the answer to a command
	KindAlert = "alert" // a reminder or escalation: in the card's thread if there is one
)

// Inbound is a message from a chat platform, in neutral form.
type Inbound struct {
	Platform  string
	ChatID    string
	ThreadID  string // the thread the message is in; "" at top level
	MessageID string // the message's own id on the platform
	UserID    string
	UserName  string
	Text      string
	EventID   string // the platform's delivery id, for dedupe; "" if none
	// InBand says the adapter shows a command's answer itself, in the
	// platform's own channel for it (Slack's ephemeral response, Telegram's
	// button toast): the router returns the reply instead of queueing it.
	InBand bool
	// ReplyIn is the thread a queued reply to this message goes to; ""
	// means ThreadID.
	ReplyIn string
	// WithCard asks for the card of the thread's incident with an in-band
	// answer to staff, for an adapter that shows it there with its buttons
	// (Slack's message shortcut, the way to act inside a thread).
	WithCard bool
}

// Outbound is a message to post.
type Outbound struct {
	Platform   string
	ChatID     string
	ThreadID   string
	Text       string
	Kind       string
	IncidentID int64
	// Mentions are the person ids to notify; the adapter turns them into
	// the platform's mentions.
	Mentions []string
	// Card is the incident card this message shows, for adapters that can
	// render it (Text is its plain form).
	Card *Card
	// EditRef, for a card, is the platform's reference to the card already
	// posted in this chat: the adapter edits it in place instead of posting.
	EditRef string
	// Anchor is the platform's reference to the incident's card in this
	// chat, if any: alerts go into its thread.
	Anchor string
	// Refused marks a command's answer that turns the request down, for
	// adapters that show refusals differently.
	Refused bool
	// File, for Kind KindFile, is an attachment to upload (Text is its
	// name); adapters post it as a document.
	File *File
}

// Card is an incident card: what the engineers need at a glance, and the
// buttons to act on it.
type Card struct {
	IncidentID int64        `json:"incident_id"`
	Title      string       `json:"title"`
	Text       string       `json:"text"`
	Fields     []CardField  `json:"fields"`
	Actions    []CardAction `json:"actions"`
}

// CardField is one labelled value of a card.
type CardField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// CardAction is a button. ID is the command it runs on the card's incident
// (ack, take, onsite, restore).
type CardAction struct {
	ID      string       `json:"id"`
	Label   string       `json:"label"`
	Style   string       `json:"style,omitempty"` // primary or danger
	Confirm *CardConfirm `json:"confirm,omitempty"`
}

// CardConfirm is the dialog a button asks through before it acts.
type CardConfirm struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	Yes   string `json:"yes"`
	No    string `json:"no"`
}

// Sender posts messages on one platform. It returns the platform's reference
// to the posted message. Its errors say whether to retry: a *RetryAfter or a
// *PermanentError; any other error is retried with backoff.
type Sender interface {
	Send(ctx context.Context, m Outbound) (ref string, err error)
}

// Capabilities are what a platform's messages can do beyond plain text.
type Capabilities struct {
	Cards   bool // show an incident card with its fields and buttons
	Edit    bool // edit a posted message in place (the card, as it changes)
	Threads bool // post in a thread (answers, alerts under the card)
	Files   bool // upload a file (a chart, a CSV, a report document)
}

// Capable is an optional ability of a Sender: what it can do beyond plain
// text. A Sender without it is sent plain text only.
type Capable interface {
	Capabilities() Capabilities
}

// CapabilitiesOf returns what s can do.
func CapabilitiesOf(s Sender) Capabilities {
	if c, ok := s.(Capable); ok {
		return c.Capabilities()
	}
	return Capabilities{}
}

// Fit makes m a message a platform with c can post: a card is sent as its
// plain form, an edit as a new message, a thread reply at top level, and a
// file as a line naming it.
func Fit(m Outbound, c Capabilities) Outbound {
	if !c.Cards {
		m.Card = nil // Text is its plain form
	}
	if !c.Edit {
		m.EditRef = ""
	}
	if !c.Threads {
		m.ThreadID, m.Anchor = "", ""
	}
	if !c.Files && m.File != nil {
		m.Text = "📎 " + m.File.Name
		if m.File.Caption != "" {
			m.Text += ": " + m.File.Caption
		}
		m.File = nil
	}
	return m
}

// ChannelLimiter is an optional ability of a Sender: the platform's rate
// limit per channel, as one message every Every with bursts of Burst. The
// dispatcher keeps to it before the platform has to say 429.
type ChannelLimiter interface {
	ChannelLimit() (every time.Duration, burst int)
}

// RetryAfter is a failure the platform asked to retry after a given time
// (a rate limit).
type RetryAfter struct {
	After time.Duration
	Err   error
}

func (e *RetryAfter) Error() string { return fmt.Sprintf("retry after %s: %v", e.After, e.Err) }
func (e *RetryAfter) Unwrap() error { return e.Err }

// PermanentError is a failure that no retry will fix (a channel that does
// not exist, a bot that was removed).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// File is an attachment: a chart, a CSV, a document.
type File struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // MIME type
	Caption string `json:"caption,omitempty"`
	Data    []byte `json:"data"`
}

// Clock is the one seam through which the runtime reads the time.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a clock that moves only when told, for the console and
// tests.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d and returns the new time.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// The triage card's buttons.
const (
	ActionTriageCore     = "triage_core"
	ActionTriageNoncore  = "triage_noncore"
	ActionTriageNotFault = "triage_notfault"
)

// ActionSummary is what a Restored button records as what was done; the
// engineer adds detail with /note or the service report.
const ActionSummary = "通过卡片按钮标记恢复 / marked restored from the card"

// ActionCommand is the command line a card's button runs on its incident:
// every adapter maps a press the same way. ok is false for a button
// slakeeper does not have.
func ActionCommand(action string, incidentID string) (line string, ok bool) {
	if _, err := strconv.ParseInt(incidentID, 10, 64); err != nil {
		return "", false
	}
	switch action {
	case "ack", "take", "onsite":
		return "/" + action + " " + incidentID, true
	case "restore":
		return "/restore " + incidentID + " " + ActionSummary, true
	case ActionTriageCore:
		return "/triage " + incidentID + " core", true
	case ActionTriageNoncore:
		return "/triage " + incidentID + " noncore", true
	case ActionTriageNotFault:
		return "/triage " + incidentID + " notfault", true
	}
	return "", false
}

// InternalError is what a person sees when slakeeper failed them: the
// detail is in the log.
const InternalError = "⚠️ internal error / 内部错误"

// Plain is the card's plain form, for notifications and adapters without
// rich messages.
func (c Card) Plain() string {
	lines := []string{c.Title, c.Text}
	for _, f := range c.Fields {
		if strings.Contains(f.Value, "\n") {
			lines = append(lines, f.Label+":", "• "+strings.ReplaceAll(f.Value, "\n", "\n• "))
		} else {
			lines = append(lines, f.Label+": "+f.Value)
		}
	}
	return strings.Join(lines, "\n")
}
