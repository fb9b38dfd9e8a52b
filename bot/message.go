// Package bot is slakeeper's runtime: the neutral chat messages adapters
// speak, the directory of who is who, the router that sends commands to the
// command layer and customer talk to intake, the incident service that
// commits every change with its timeline, timers and outbox, and the
// dispatcher that delivers the outbox through the adapters.
package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slakeeper/slakeeper/commands"
)

// Platforms slakeeper speaks.
const (
	PlatformSlack    = "slack"
	PlatformTelegram = "telegram"
	PlatformConsole  = "console"
)

// Kinds of outgoing messages that adapters treat specially.
const (
	KindCard  = "card"  // an incident card: edited in place once posted
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
	File *commands.File
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
