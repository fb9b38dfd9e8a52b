package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode receives events, slash commands and clicks over Socket Mode
// (no public URL needed) until ctx is cancelled. The requests go to the same
// handlers as in HTTP mode; only the transport differs. An event the router
// could not store is not acknowledged, so Slack delivers it again.
//
// Requests are handled by a pool of Config.SocketWorkers workers that
// RunSocketMode owns. Requests of one channel are handled one after another,
// in the order they arrived, so that two messages of a conversation never
// race; requests of different channels run side by side. When every worker
// is busy the reader waits for one (nothing is dropped; Slack holds what it
// has not delivered). When ctx ends, RunSocketMode stops taking requests,
// lets the ones in flight finish and acknowledges them on the connection,
// which it closes only then, and returns nil. It returns an error when the
// connection cannot be kept (an invalid app token, a reconnect that fails).
func (a *Adapter) RunSocketMode(ctx context.Context) error {
	if a.cfg.AppToken == "" {
		return errors.New("slack: socket mode needs SLACK_APP_TOKEN")
	}
	sm := socketmode.New(a.api)
	// The connection outlives ctx until the requests in flight are
	// acknowledged.
	connCtx, closeConn := context.WithCancel(context.WithoutCancel(ctx))
	defer closeConn()
	done := make(chan error, 1)
	go func() { done <- sm.RunContext(connCtx) }()

	p := a.startPool(ctx, sm)
	connEnded, err := a.readSocket(ctx, sm, p, done)
	p.stop()
	if !connEnded {
		// The socketmode client queues acknowledgements and has no flush:
		// give the last ones time to reach the connection.
		if d := time.Until(time.Unix(0, p.lastAck.Load()).Add(ackFlush)); d > 0 {
			time.Sleep(d)
		}
	}
	closeConn()
	if !connEnded {
		<-done
	}
	return err
}

// readSocket hands Socket Mode requests to the pool until ctx ends or the
// connection does. connEnded says whether done was received.
func (a *Adapter) readSocket(ctx context.Context, sm *socketmode.Client, p *pool, done <-chan error) (connEnded bool, err error) {
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case err := <-done:
			if ctx.Err() != nil {
				return true, nil
			}
			return true, err
		case evt := <-sm.Events:
			switch evt.Type {
			case socketmode.EventTypeConnected:
				a.log.Info("slack: socket mode connected")
			case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
				a.log.Warn("slack: socket mode trouble", "type", string(evt.Type), "detail", redactURLs(fmt.Sprint(evt.Data)))
			case socketmode.EventTypeInvalidAuth:
				return false, errors.New("slack: socket mode: invalid app token")
			case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
				if evt.Request != nil {
					p.submit(ctx, evt)
				}
			}
		}
	}
}

// DefaultSocketWorkers is how many Socket Mode requests are handled at once
// when Config.SocketWorkers is zero.
const DefaultSocketWorkers = 8

// handleWithin bounds the work on one request once it no longer depends on
// the request that brought it (a Socket Mode request, a click acknowledged
// already, a slash command answered late).
const handleWithin = time.Minute

// ackFlush is how long the connection stays open after the last
// acknowledgement when RunSocketMode stops.
const ackFlush = 200 * time.Millisecond

// pool is the workers of RunSocketMode and the order of each channel's
// requests among them.
type pool struct {
	sm      *socketmode.Client
	jobs    chan job
	wg      sync.WaitGroup
	lastAck atomic.Int64 // unix nanoseconds

	mu    sync.Mutex
	queue map[string]chan struct{} // per key, the done of its latest job
}

// job is a Socket Mode request for a worker. It starts when after is
// closed (the previous request of its channel is done) and closes done
// when it is.
type job struct {
	evt     socketmode.Event
	arrived time.Time
	key     string
	after   <-chan struct{}
	done    chan struct{}
}

func (a *Adapter) startPool(ctx context.Context, sm *socketmode.Client) *pool {
	n := a.cfg.SocketWorkers
	if n <= 0 {
		n = DefaultSocketWorkers
	}
	// Unbuffered: a request waits in the reader until a worker is free.
	p := &pool{sm: sm, jobs: make(chan job), queue: map[string]chan struct{}{}}
	// In-flight requests finish after ctx ends; handleWithin bounds them.
	work := context.WithoutCancel(ctx)
	for range n {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for j := range p.jobs {
				if j.after != nil {
					<-j.after
				}
				jctx, cancel := context.WithTimeout(work, handleWithin)
				a.onSocketRequest(jctx, p, j)
				cancel()
				p.finish(j)
			}
		}()
	}
	return p
}

// submit queues a request behind the earlier ones of its channel and waits
// for a worker to take it, or for ctx to end (the request is then left
// unacknowledged, for Slack to deliver again).
func (p *pool) submit(ctx context.Context, evt socketmode.Event) {
	j := job{evt: evt, arrived: time.Now(), key: requestKey(evt), done: make(chan struct{})}
	p.mu.Lock()
	j.after = p.queue[j.key]
	p.queue[j.key] = j.done
	p.mu.Unlock()
	// Jobs reach the workers in the order they were queued, so the job a
	// waiting worker depends on is always held by a running one.
	select {
	case p.jobs <- j:
	case <-ctx.Done():
		// No job can be behind this one: the reader stops here.
		p.finish(j)
	}
}

// finish marks a job done, letting the next request of its channel start.
func (p *pool) finish(j job) {
	close(j.done)
	p.mu.Lock()
	if p.queue[j.key] == j.done {
		delete(p.queue, j.key)
	}
	p.mu.Unlock()
}

// stop lets the workers finish the requests they hold and waits for them.
func (p *pool) stop() {
	close(p.jobs)
	p.wg.Wait()
}

// requestKey is what orders requests: their channel, or, for a request
// without one, the request alone.
func requestKey(evt socketmode.Event) string {
	var ch string
	switch d := evt.Data.(type) {
	case slackevents.EventsAPIEvent:
		if m, ok := d.InnerEvent.Data.(*slackevents.MessageEvent); ok {
			ch = m.Channel
		}
	case slackgo.SlashCommand:
		ch = d.ChannelID
	case slackgo.InteractionCallback:
		ch = d.Channel.ID
	}
	if ch == "" {
		return "envelope:" + evt.Request.EnvelopeID
	}
	return "channel:" + ch
}

// onSocketRequest handles one request and acknowledges it. Answers that go
// to a response_url are posted after the acknowledgement.
func (a *Adapter) onSocketRequest(ctx context.Context, p *pool, j job) {
	evt := j.evt
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		if status, _ := a.onEvent(ctx, evt.Request.Payload); status == http.StatusOK {
			a.ack(ctx, p, evt.Request, nil)
		}
	case socketmode.EventTypeSlashCommand:
		c, ok := evt.Data.(slackgo.SlashCommand)
		if !ok {
			return
		}
		// Slack's three seconds run from the request's arrival, not from
		// when a worker took it.
		var payload any
		if text := a.onCommand(ctx, c, "", a.cfg.ReplyWithin-time.Since(j.arrived)); text != "" {
			payload = map[string]string{"response_type": "ephemeral", "text": truncate(escape(text), maxText)}
		}
		a.ack(ctx, p, evt.Request, payload)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slackgo.InteractionCallback)
		if !ok {
			return
		}
		a.ack(ctx, p, evt.Request, nil)
		if !a.ourTeam(cb.Team.ID, "interaction") {
			a.later(ctx, func(ctx context.Context) { a.answer(ctx, cb.ResponseURL, ephemeral{text: ForeignTeam}) })
			return
		}
		if ins := a.actionInbounds(cb, ""); len(ins) > 0 {
			// The command runs here, in its channel's turn; the answer's
			// outbound call does not hold the worker.
			e := a.run(ctx, ins...)
			a.later(ctx, func(ctx context.Context) { a.answer(ctx, cb.ResponseURL, e) })
		}
	}
}

func (a *Adapter) ack(ctx context.Context, p *pool, req *socketmode.Request, payload any) {
	if err := p.sm.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		a.log.Warn("slack: socket mode ack failed", "err", err)
		return
	}
	p.lastAck.Store(time.Now().UnixNano())
}

// redactURLs drops query strings from a message: Socket Mode URLs carry a
// connection ticket.
func redactURLs(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(w, "://") {
			if j := strings.IndexByte(w, '?'); j >= 0 {
				words[i] = w[:j] + "?…"
			}
		}
	}
	return strings.Join(words, " ")
}
