package bot

import (
	"context"
	"log/slog"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/storage"
)

// DefaultRejectAttempts is how many failed deliveries of one update or
// event set it aside, when Quarantine.Attempts is not set.
const DefaultRejectAttempts = 3

// excerptBytes bounds what is kept of a payload set aside.
const excerptBytes = 1024

// Quarantine sets aside an inbound delivery that fails every time it comes
// (a "poison" update), so that the ones behind it are not held up. Failures
// are counted in the database by platform and delivery id, so the count
// survives a restart and is shared by replicas; the attempt that reaches
// Attempts stores the delivery as rejected, logs it once at error level and
// counts it in slakeeper_inbound_rejected_total. It implements
// chat.Quarantine.
type Quarantine struct {
	Store   *storage.Store
	Clock   chat.Clock
	Log     *slog.Logger
	Metrics *Metrics
	// Attempts is how many failed deliveries set one aside; 0 means
	// DefaultRejectAttempts.
	Attempts int
}

// Failed records a failed delivery and reports whether it is now set
// aside. A failure that says nothing about the delivery (a lost database
// connection, a deadlock, a shutdown) is not counted: a delivery is set
// aside only for what it is, not for when it came. The error is the
// database's, when the failure could not be recorded.
func (q *Quarantine) Failed(ctx context.Context, d chat.FailedDelivery) (bool, error) {
	if ctx.Err() != nil || d.DeliveryID == "" || storage.Transient(d.Err) {
		return false, nil
	}
	limit := q.Attempts
	if limit <= 0 {
		limit = DefaultRejectAttempts
	}
	text := ""
	if d.Err != nil {
		text, _ = chat.Sanitize(d.Err.Error())
		text = chat.Excerpt([]byte(text), 500)
	}
	code := storage.ErrorCode(d.Err)
	n, rejected, err := q.Store.RecordInboundFailure(ctx, storage.InboundFailure{Platform: d.Platform, DeliveryID: d.DeliveryID,
		ErrorCode: code, ErrorText: text, Excerpt: chat.Excerpt(d.Payload, excerptBytes), At: q.Clock.Now()}, limit)
	if err != nil {
		return false, err
	}
	if n == limit {
		q.Log.ErrorContext(ctx, "inbound delivery rejected after failing every time; it is acknowledged and kept in rejected_inbound",
			"platform", d.Platform, "delivery", d.DeliveryID, "attempts", n, "code", code, "err", text)
		if q.Metrics != nil {
			q.Metrics.InboundRejected.Inc(d.Platform)
		}
	}
	return rejected, nil
}

// sanitized records that a message lost characters no database takes (a
// NUL, invalid UTF-8): a log line, without the text, and a count in
// slakeeper_inbound_sanitized_total.
func (r *Router) sanitized(ctx context.Context, in chat.Inbound) {
	r.Log.InfoContext(ctx, "inbound message sanitised: invalid characters removed", "platform", in.Platform, "chat", in.ChatID,
		"delivery", in.EventID)
	if m := r.Svc.Metrics; m != nil {
		m.InboundSanitized.Inc(in.Platform)
	}
}

// Rejected lists the latest inbound deliveries set aside, newest first,
// at most limit of them, for /rejected.
func (s *Service) Rejected(ctx context.Context, limit int) ([]commands.RejectedDelivery, error) {
	list, err := s.Store.RejectedInbounds(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]commands.RejectedDelivery, len(list))
	for i, r := range list {
		out[i] = commands.RejectedDelivery{Platform: r.Platform, DeliveryID: r.DeliveryID, Attempts: r.Attempts, ErrorCode: r.ErrorCode,
			ErrorText: r.ErrorText, Excerpt: r.Excerpt, RejectedAt: r.RejectedAt}
	}
	return out, nil
}
