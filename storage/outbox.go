package storage

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Outgoing is a message to send, written to the outbox in the transaction
// of the change that causes it.
type Outgoing struct {
	ID         int64     `db:"id"`
	CreatedAt  time.Time `db:"created_at"`
	Platform   string    `db:"platform"`
	ChatID     string    `db:"chat_id"`
	ThreadID   string    `db:"thread_id"`
	IncidentID *int64    `db:"incident_id"`
	Kind       string    `db:"kind"`
	Body       string    `db:"body"`
	Attempts   int       `db:"attempts"`
	// Mentions are the person ids the platform should notify.
	Mentions    []string `db:"-"`
	MentionList string   `db:"mentions"`
	// Payload is structured content for adapters that can show it (an
	// incident card as JSON); Body is its plain-text form.
	Payload string `db:"payload"`
	// Topic groups messages whose delivery is reported together (a release
	// notice's are "release:<id>").
	Topic string `db:"topic"`
}

// Enqueue writes messages to the outbox, due at now.
func (tx *Tx) Enqueue(ctx context.Context, now time.Time, msgs ...Outgoing) error {
	if len(msgs) == 0 {
		return nil
	}
	for _, m := range msgs {
		tx.tx.held.add(outboxRows, []any{ts(now), m.Platform, m.ChatID, m.ThreadID, m.IncidentID, m.Kind, m.Body, ts(now),
			strings.Join(m.Mentions, ","), m.Payload, m.Topic})
	}
	return nil
}

// outboxRows are messages to send, written when the transaction next reads
// the outbox or commits (deferred.go), in the order they were enqueued.
var outboxRows = deferredTable{name: "outbox", what: "enqueue",
	columns: `created_at, platform, chat_id, thread_id, incident_id, kind, body, next_attempt_at, mentions, payload, topic`,
	types:   []string{"timestamptz", "text", "text", "text", "bigint", "text", "text", "timestamptz", "text", "text", "text"}}

// urgency ranks the messages of one turn: cards, answers and incident
// changes first (0), then reminders and escalations (1), then scheduled
// posts, digests and files (2).
const urgency = `CASE o.kind WHEN 'alert' THEN 1 WHEN 'announcement' THEN 2 WHEN 'reminder' THEN 2 WHEN 'digest' THEN 2
	WHEN 'release' THEN 2 WHEN 'file' THEN 2 ELSE 0 END`

// ClaimOutbox takes up to limit pending messages due at now and leases them
// until now+lease: a claimed message is invisible to other claimers until
// the lease runs out, so a dispatcher that dies mid-send leaves it to be
// sent again (at-least-once). On PostgreSQL, replicas claim disjoint
// batches (FOR UPDATE SKIP LOCKED).
//
// They come in a fair order: within each chat, the customers whose
// incidents wait there take turns (the first message of each, then the
// second of each, ...; messages about no incident are one more turn-taker),
// the more urgent first within a turn (see urgency). A customer's own
// messages keep their order (a report before its document). A customer
// with a thousand messages waiting delays another's new card by one turn,
// not by a thousand.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Outgoing, error) {
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var out []struct {
		Outgoing
		Turn    int64 `db:"turn"`
		Urgency int   `db:"urgency"`
	}
	// The window is computed apart from the rows it locks: PostgreSQL
	// allows no FOR UPDATE beside a window function.
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`WITH fair AS (
			SELECT o.id, `+urgency+` AS urgency, ROW_NUMBER() OVER (PARTITION BY o.platform, o.chat_id, COALESCE(i.customer_id, '')
				ORDER BY o.id) AS turn
			FROM outbox o LEFT JOIN incidents i ON i.id = o.incident_id
			WHERE o.status = 'pending' AND o.next_attempt_at <= ?),
		chosen AS (SELECT id FROM fair ORDER BY turn, urgency, id LIMIT ?)
		UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
		WHERE id IN (SELECT id FROM outbox WHERE id IN (SELECT id FROM chosen) AND status = 'pending' AND next_attempt_at <= ?`+lock+`)
		RETURNING id, created_at, platform, chat_id, thread_id, incident_id, kind, body, attempts, mentions, payload,
			(SELECT turn FROM fair WHERE fair.id = outbox.id) AS turn, (SELECT urgency FROM fair WHERE fair.id = outbox.id) AS urgency`),
		ts(now), limit, ts(now.Add(lease)), ts(now))
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	// RETURNING does not promise an order.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Turn != b.Turn {
			return a.Turn < b.Turn
		}
		if a.Urgency != b.Urgency {
			return a.Urgency < b.Urgency
		}
		return a.ID < b.ID
	})
	msgs := make([]Outgoing, len(out))
	for i, o := range out {
		msgs[i] = o.Outgoing
		if o.MentionList != "" {
			msgs[i].Mentions = strings.Split(o.MentionList, ",")
		}
	}
	return msgs, nil
}

// MarkSent records a delivered message and the platform's reference to it
// (a Slack ts, a Telegram message id) so that it can be edited later.
func (s *Store) MarkSent(ctx context.Context, id int64, ref string, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE outbox SET status = 'sent', sent_at = ?, platform_ref = ?, last_error = '' WHERE id = ?`),
		ts(now), ref, id); err != nil {
		return fmt.Errorf("outbox %d: mark sent: %w", id, err)
	}
	return nil
}

// MarkRetry puts a message back for another attempt at retryAt.
func (s *Store) MarkRetry(ctx context.Context, id int64, reason string, retryAt time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?`),
		ts(retryAt), reason, id); err != nil {
		return fmt.Errorf("outbox %d: mark retry: %w", id, err)
	}
	return nil
}

// Defer puts a claimed message back until at without counting the attempt:
// it was held back by the dispatcher's own rate limit, not by a failure.
func (s *Store) Defer(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE outbox SET next_attempt_at = ?, attempts = attempts - 1 WHERE id = ? AND attempts > 0`),
		ts(at), id); err != nil {
		return fmt.Errorf("outbox %d: defer: %w", id, err)
	}
	return nil
}

// MarkFailed gives up on a message for good.
func (s *Store) MarkFailed(ctx context.Context, id int64, reason string) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?`), reason, id); err != nil {
		return fmt.Errorf("outbox %d: mark failed: %w", id, err)
	}
	return nil
}

// CardRef returns the platform's reference to the incident's card in a chat
// (the last one sent), or "" if none was sent there yet.
func (s *Store) CardRef(ctx context.Context, incidentID int64, platform, chatID string) (string, error) {
	var refs []string
	if err := s.db.SelectContext(ctx, &refs, s.db.Rebind(`SELECT platform_ref FROM outbox
		WHERE incident_id = ? AND platform = ? AND chat_id = ? AND kind = 'card' AND status = 'sent' AND platform_ref <> ''
		ORDER BY id DESC LIMIT 1`), incidentID, platform, chatID); err != nil {
		return "", fmt.Errorf("card of %d: %w", incidentID, err)
	}
	if len(refs) == 0 {
		return "", nil
	}
	return refs[0], nil
}

// OutboxStatus is a message's delivery state, for tests and /announce status.
type OutboxStatus struct {
	ID          int64  `db:"id"`
	Platform    string `db:"platform"`
	ChatID      string `db:"chat_id"`
	Kind        string `db:"kind"`
	Status      string `db:"status"`
	Attempts    int    `db:"attempts"`
	LastError   string `db:"last_error"`
	PlatformRef string `db:"platform_ref"`
	Body        string `db:"body"`
}

// OutboxFor lists the outbox messages about an incident, oldest first.
func (s *Store) OutboxFor(ctx context.Context, incidentID int64) ([]OutboxStatus, error) {
	var out []OutboxStatus
	if err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT id, platform, chat_id, kind, status, attempts, last_error, platform_ref, body
		FROM outbox WHERE incident_id = ? ORDER BY id`), incidentID); err != nil {
		return nil, fmt.Errorf("outbox of %d: %w", incidentID, err)
	}
	return out, nil
}

// OutboxDepth returns how many messages wait to be sent and when the oldest
// of them was written (zero when none).
func (s *Store) OutboxDepth(ctx context.Context) (n int, oldest time.Time, err error) {
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM outbox WHERE status = 'pending'`); err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox depth: %w", err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var t []time.Time
	if err := s.db.SelectContext(ctx, &t, `SELECT created_at FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1`); err != nil {
		return n, time.Time{}, fmt.Errorf("outbox age: %w", err)
	}
	if len(t) > 0 {
		oldest = t[0].UTC()
	}
	return n, oldest, nil
}
