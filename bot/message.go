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
)

// Platforms slakeeper speaks.
const (
	PlatformSlack    = "slack"
	PlatformTelegram = "telegram"
	PlatformConsole  = "console"
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
