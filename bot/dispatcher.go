package bot

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/storage"
)

// Dispatcher delivers the outbox through the platform senders. It is the one
// place that retries and keeps rate limits: a sender only says whether a
// failure is permanent or when to try again, and (chat.ChannelLimiter) how fast
// one channel may be written to.
//
// Delivery is at least once: a message is leased while it is being sent and
// marked sent afterwards, so a crash between the two sends it again after
// the lease — at worst one duplicate, never a lost message.
type Dispatcher struct {
	Store   *storage.Store
	Senders map[string]chat.Sender // by platform
	Clock   chat.Clock
	Log     *slog.Logger
	// Metrics, if set, counts deliveries and failures.
	Metrics *Metrics

	// Lease is how long a claimed message stays invisible to other claimers.
	Lease time.Duration
	// Batch is how many messages one round claims.
	Batch int
	// MaxAttempts is how many transient failures a message survives.
	MaxAttempts int
	// Poll is how often Run looks for work when nobody kicks it.
	Poll time.Duration
	// Drain is how long the round in progress when Run is stopped may go
	// on sending before its sends are cancelled.
	Drain time.Duration

	kick waker

	mu      sync.Mutex
	buckets map[string]*bucket   // platform + chat -> tokens
	quiet   map[string]time.Time // platform -> no sends before (its last Retry-After)
}

// bucket is a token bucket: tokens refill at one per every, up to burst.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends a token for a channel at now, or says when one will be there.
func (d *Dispatcher) take(platform, chatID string, now time.Time) (ok bool, at time.Time) {
	l, limited := d.Senders[platform].(chat.ChannelLimiter)
	if !limited {
		return true, now
	}
	every, burst := l.ChannelLimit()
	if every <= 0 || burst <= 0 {
		return true, now
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	key := platform + "\x00" + chatID
	b, found := d.buckets[key]
	if !found {
		b = &bucket{tokens: float64(burst), last: now}
		d.buckets[key] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(burst), b.tokens+float64(elapsed)/float64(every))
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, now
	}
	return false, now.Add(time.Duration((1 - b.tokens) * float64(every)))
}

// quietUntil says whether a platform asked (Retry-After) not to be sent to
// at now, and until when.
func (d *Dispatcher) quietUntil(platform string, now time.Time) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	until := d.quiet[platform]
	return until, now.Before(until)
}

func (d *Dispatcher) hush(platform string, until time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if until.After(d.quiet[platform]) {
		d.quiet[platform] = until
	}
}

// NewDispatcher returns a dispatcher with default settings: a one-minute
// lease, batches of 50, 12 attempts, a one-second poll.
func NewDispatcher(store *storage.Store, senders map[string]chat.Sender, clock chat.Clock, log *slog.Logger) *Dispatcher {
	return &Dispatcher{Store: store, Senders: senders, Clock: clock, Log: log,
		Lease: time.Minute, Batch: 50, MaxAttempts: 12, Poll: time.Second, Drain: DrainTimeout, kick: newWaker(), buckets: map[string]*bucket{},
		quiet: map[string]time.Time{}}
}

// Kick wakes Run at once, because the outbox just got messages. It never
// blocks.
func (d *Dispatcher) Kick() { d.kick.wake() }

// Run delivers until ctx is cancelled, looking again when kicked or after
// Poll. It finishes the message in hand before returning.
func (d *Dispatcher) Run(ctx context.Context) {
	loop(ctx, d.kick, d.Drain, func(ctx context.Context) time.Duration {
		for {
			n, err := d.RunOnce(ctx)
			if err != nil {
				d.Log.Error("dispatch", "err", err)
				return d.Poll
			}
			if n == 0 {
				return d.Poll
			}
		}
	})
}

// RunOnce claims one batch of due messages and tries each once. It returns
// how many it claimed.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	now := d.Clock.Now()
	msgs, err := d.Store.ClaimOutbox(ctx, now, d.Lease, d.Batch)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		d.deliver(ctx, m)
	}
	return len(msgs), nil
}

func (d *Dispatcher) deliver(ctx context.Context, m storage.Outgoing) {
	log := d.Log.With("outbox", m.ID, "platform", m.Platform, "chat", m.ChatID, "kind", m.Kind)
	if m.IncidentID != nil {
		log = log.With("incident", *m.IncidentID)
	}
	s, ok := d.Senders[m.Platform]
	if !ok {
		log.Error("no adapter for platform; message dropped")
		d.mark(ctx, log, d.Store.MarkFailed(ctx, m.ID, "no adapter for platform "+m.Platform))
		return
	}
	if at, quiet := d.quietUntil(m.Platform, d.Clock.Now()); quiet {
		d.mark(ctx, log, d.Store.Defer(ctx, m.ID, at))
		return
	}
	if ok, at := d.take(m.Platform, m.ChatID, d.Clock.Now()); !ok {
		d.mark(ctx, log, d.Store.Defer(ctx, m.ID, at))
		return
	}
	out := chat.Outbound{Platform: m.Platform, ChatID: m.ChatID, ThreadID: m.ThreadID, Text: m.Body, Kind: m.Kind, Mentions: m.Mentions}
	if m.IncidentID != nil {
		out.IncidentID = *m.IncidentID
		card, err := d.Store.CardRef(ctx, out.IncidentID, m.Platform, m.ChatID)
		if err != nil {
			log.Error("look up the incident's card", "err", err)
		}
		if m.Kind == chat.KindCard {
			out.EditRef = card
		} else if out.ThreadID == "" {
			out.Anchor = card
		}
	}
	switch {
	case m.Kind == chat.KindFile:
		var f chat.File
		if err := json.Unmarshal([]byte(m.Payload), &f); err != nil || f.Name == "" {
			log.Error("bad file payload; dropped", "err", err)
			d.mark(ctx, log, d.Store.MarkFailed(ctx, m.ID, errNoFile.Error()))
			return
		}
		out.File = &f
	case m.Payload != "":
		var c chat.Card
		if err := json.Unmarshal([]byte(m.Payload), &c); err != nil {
			log.Error("bad card payload; sending text", "err", err)
		} else {
			out.Card = &c
		}
	}
	out = chat.Fit(out, chat.CapabilitiesOf(s))
	ref, err := s.Send(ctx, out)
	now := d.Clock.Now()
	d.countSend(m.Platform, err)
	if err == nil {
		d.mark(ctx, log, d.Store.MarkSent(ctx, m.ID, ref, now))
		if out.IncidentID != 0 && ref != "" && out.EditRef == "" {
			// A reply to this message belongs to the incident too.
			d.mark(ctx, log, d.Store.BindMessage(ctx, storage.ThreadRef{Platform: m.Platform, ChatID: m.ChatID, ThreadID: ref}, out.IncidentID, now))
		}
		return
	}
	var ra *chat.RetryAfter
	switch {
	case chat.IsPermanent(err):
		log.Error("send failed for good", "err", err)
		d.mark(ctx, log, d.Store.MarkFailed(ctx, m.ID, err.Error()))
	case m.Attempts >= d.MaxAttempts:
		log.Error("send failed; giving up", "attempts", m.Attempts, "err", err)
		d.mark(ctx, log, d.Store.MarkFailed(ctx, m.ID, err.Error()))
	case errors.As(err, &ra):
		// The platform said when it takes messages again: nothing goes to it
		// before then, not only this message. Being told to wait is not a
		// failed attempt: a message is never given up for it.
		log.Warn("rate limited", "retry_after", ra.After)
		d.hush(m.Platform, now.Add(ra.After))
		d.mark(ctx, log, d.Store.Defer(ctx, m.ID, now.Add(ra.After)))
	default:
		wait := Backoff(m.Attempts)
		log.Warn("send failed; will retry", "attempt", m.Attempts, "in", wait, "err", err)
		d.mark(ctx, log, d.Store.MarkRetry(ctx, m.ID, err.Error(), now.Add(wait)))
	}
}

func (d *Dispatcher) mark(ctx context.Context, log *slog.Logger, err error) {
	if err != nil {
		// The lease will run out and the message will be tried again.
		log.Error("record delivery", "err", err)
	}
}

func (d *Dispatcher) countSend(platform string, err error) {
	if d.Metrics == nil {
		return
	}
	var ra *chat.RetryAfter
	switch {
	case err == nil:
		d.Metrics.Sends.Inc(platform, "sent")
		return
	case errors.As(err, &ra):
		d.Metrics.SendFailures.Inc(platform, "rate_limited")
	case chat.IsPermanent(err):
		d.Metrics.SendFailures.Inc(platform, "permanent")
	default:
		d.Metrics.SendFailures.Inc(platform, "transient")
	}
	d.Metrics.Sends.Inc(platform, "failed")
}

// Backoff is the wait before retry n (1-based): 2s, 4s, 8s, ... up to 5m.
func Backoff(attempt int) time.Duration {
	d := 2 * time.Second
	for i := 1; i < attempt && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}
