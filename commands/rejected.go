package commands

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slakeeper/slakeeper/sla/i18n"
)

// RejectedDelivery is an inbound delivery (a Telegram update, a Slack
// event) that failed every time it came and was set aside, so that the
// ones behind it were not held up.
type RejectedDelivery struct {
	Platform   string
	DeliveryID string
	Attempts   int
	ErrorCode  string // the database's code (SQLSTATE), "" if none
	ErrorText  string
	Excerpt    string // the start of the payload
	RejectedAt time.Time
}

// RejectedService is what /rejected needs.
type RejectedService interface {
	// Rejected lists the latest deliveries set aside, newest first, at
	// most limit of them.
	Rejected(ctx context.Context, limit int) ([]RejectedDelivery, error)
}

// rejectedShown is how many deliveries /rejected lists.
const rejectedShown = 10

// rejected answers /rejected: the latest deliveries set aside, with why
// and the start of what they held, for an admin to look into.
func (h Handler) rejected(ctx context.Context, r Request) (string, error) {
	list, err := h.Svc.Rejected(ctx, rejectedShown)
	if err != nil {
		return "", err
	}
	l := r.Lang
	if len(list) == 0 {
		return i18n.T(l, "reply.rejected_empty", nil), nil
	}
	lines := []string{i18n.T(l, "reply.rejected_header", map[string]any{"n": len(list)})}
	for _, d := range list {
		reason := d.ErrorText
		if d.ErrorCode != "" {
			reason = d.ErrorCode + " " + reason
		}
		lines = append(lines, i18n.T(l, "reply.rejected_item", map[string]any{"at": h.Svc.Format(l).Time(d.RejectedAt),
			"platform": d.Platform, "delivery": d.DeliveryID, "attempts": d.Attempts, "reason": clip(reason, 160),
			"excerpt": clip(d.Excerpt, 120)}))
	}
	return strings.Join(lines, "\n"), nil
}

// clip shortens s to n characters, on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
