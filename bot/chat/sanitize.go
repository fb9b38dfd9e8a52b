package chat

import (
	"context"
	"strings"
	"unicode/utf8"
)

// Sanitize returns s without what no database or chat should be handed:
// invalid UTF-8, NUL and the other C0 control characters except tab,
// newline and carriage return, DEL, and the Unicode noncharacters (U+FDD0
// to U+FDEF and every U+xFFFE and U+xFFFF). changed reports whether
// anything was removed. PostgreSQL refuses a NUL in text (SQLSTATE 22021),
// so a message is sanitised once, when it comes in, and stored clean.
func Sanitize(s string) (clean string, changed bool) {
	if strings.IndexFunc(s, bad) < 0 && utf8.ValidString(s) {
		return s, false
	}
	clean = stripInvalid(s)
	return clean, clean != s
}

// stripInvalid drops invalid bytes and bad code points in one pass. (A
// U+FFFD written as such is valid and kept.)
func stripInvalid(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if !(r == utf8.RuneError && n == 1) && !bad(r) {
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

func bad(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0xFDD0 && r <= 0xFDEF:
		return true
	case r&0xFFFE == 0xFFFE:
		return true
	}
	return false
}

// SanitizeInbound sanitises what of a message reaches storage and other
// people: its text and its author's name. changed reports whether either
// lost anything.
func SanitizeInbound(in Inbound) (Inbound, bool) {
	text, t := Sanitize(in.Text)
	name, n := Sanitize(in.UserName)
	in.Text, in.UserName = text, name
	return in, t || n
}

// Excerpt is the start of a payload, at most n bytes, sanitised: what may
// be kept of a delivery that was set aside.
func Excerpt(payload []byte, n int) string {
	s, _ := Sanitize(string(payload))
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Quarantine sets aside an inbound delivery (a Telegram update, a Slack
// event) that fails every time it is delivered, so that the ones behind
// it are not held up. Adapters that get one report each failed delivery.
type Quarantine interface {
	// Failed records that handling a delivery failed. It reports whether
	// the delivery is now set aside: the adapter then acknowledges it to
	// the platform as if it were handled. An error means the failure could
	// not be recorded; the delivery is retried as before.
	Failed(ctx context.Context, d FailedDelivery) (rejected bool, err error)
}

// FailedDelivery is one failed attempt to handle an inbound delivery.
type FailedDelivery struct {
	Platform string
	// DeliveryID is the platform's id of the update or event: attempts
	// are counted by it.
	DeliveryID string
	// Err is why it failed; its text holds no secret (adapters scrub
	// tokens out).
	Err error
	// Payload is the delivery as it came; an excerpt of it is kept.
	Payload []byte
}
