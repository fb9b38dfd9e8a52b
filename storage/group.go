package storage

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// Group commit. Intake writes many small transactions at once (a burst of
// fault reports, a platform redelivering a backlog); each one alone pays a
// BEGIN, a COMMIT and its wait for the disk. InGroupTx hands transactions to
// a few writers that run whatever is queued when they are free, one after
// the other, in one database transaction, and commit it once: the requests
// share the commit, and there are never more busy connections than writers.
// Nothing waits to fill a batch: a request alone is written at once.
//
// A batch in which a request fails (its error, a constraint, a row another
// transaction holds) is rolled back; that request runs again on its own,
// in its caller's goroutine (InTx), and the others again as a batch: one
// bad request fails only itself. A batch that fails otherwise (its held
// rows' statements, a panic) runs every request alone. Two rules keep one
// request from costing the others:
//
//   - a request whose caller has gone by the time its turn comes is left
//     out (it is answered with its context's error, never run); a caller
//     that goes while its request runs still fails the batch;
//   - after the first request, an incident row that another transaction
//     has locked fails the batch at once (FOR NO KEY UPDATE NOWAIT) instead
//     of being waited for while holding the rows of the requests before, so
//     a batch does not deadlock with a command over incidents (a deadlock
//     PostgreSQL would break after a second by failing one of them, perhaps
//     the command). A unique key another transaction is inserting (the same
//     delivery id at once) is still waited for; such a rare deadlock is
//     broken by PostgreSQL and the batch runs each request alone.
//
// A COMMIT that fails leaves the outcome unknown: as with InTx, every
// request of the batch gets the error, and none runs again (a platform's
// redelivery is recognised by its delivery id).

// Group commit limits.
const (
	// groupWritersPostgres is how many batches PostgreSQL writes at once.
	// Two make batches of 3–4 at 16 clients and cost less processor time
	// per intake than four (fewer BEGINs, held-row statements and COMMITs
	// per intake) at the same rate; one runs its round trips one after
	// another and halves the rate (docs/benchmarks.md).
	groupWritersPostgres = 2
	// groupMax bounds a batch: how long a lock taken by its first request
	// is held, and how much one failure makes run again.
	groupMax = 32
)

// groupReq is one caller's transaction waiting for a writer.
type groupReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan groupResult
	// state: queued, taken by a writer, or abandoned by its caller.
	state atomic.Int32
}

const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

// groupResult is a batch's outcome for one request: committed, failed
// with err (a batch of one, a commit that failed, a caller gone), or to
// run again alone.
type groupResult struct {
	alone bool
	err   error
}

// batchOutcome is what tryBatch reports: the batch committed (err nil),
// failed before its commit (err: the error of the request failed, or
// errBatch with failed nil), or its COMMIT failed (commitErr, the outcome
// unknown). gone are the requests left out because their callers had gone.
type batchOutcome struct {
	err, commitErr error
	failed         *groupReq
	gone           map[*groupReq]bool
}

// group is the store's writers; started on first use, stopped by Close.
type group struct {
	once     sync.Once
	stopOnce sync.Once
	queue    chan *groupReq
	stop     chan struct{}
	wg       sync.WaitGroup
	writers  int
	// Batches and Grouped count batches committed and the requests in
	// them (for tests and benchmarks); waiting counts requests not yet
	// taken by a writer.
	batches, grouped, waiting atomic.Int64
}

// InGroupTx runs fn in a transaction that it may share with other callers'
// (group commit), and returns when that transaction committed, or fn's
// error. fn must do nothing outside the transaction that it would not do
// twice: when its batch fails it runs again on its own. It may run after
// other callers' functions in the same transaction, and sees what they
// wrote.
func (s *Store) InGroupTx(ctx context.Context, fn func(*Tx) error) error {
	g := s.group
	g.once.Do(func() { s.startGroup() })
	r := &groupReq{ctx: ctx, fn: fn, done: make(chan groupResult, 1)}
	g.waiting.Add(1)
	select {
	case g.queue <- r:
		g.waiting.Add(-1)
	case <-ctx.Done():
		g.waiting.Add(-1)
		return ctx.Err()
	case <-g.stop:
		g.waiting.Add(-1)
		return s.InTx(ctx, fn)
	}
	var res groupResult
	select {
	case res = <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		res = <-r.done // a writer has it: its outcome decides
	}
	if res.alone {
		return s.InTx(ctx, fn)
	}
	return res.err
}

func (s *Store) startGroup() {
	g := s.group
	g.writers = 1 // SQLite has one writer
	if s.dialect == Postgres {
		g.writers = groupWritersPostgres
	}
	g.queue = make(chan *groupReq)
	g.stop = make(chan struct{})
	for range g.writers {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			s.groupWriter()
		}()
	}
}

// stopGroup stops the writers (Close). Requests still arriving run alone.
func (s *Store) stopGroup() {
	g := s.group
	g.once.Do(func() { g.stop = make(chan struct{}) }) // never start after Close
	g.stopOnce.Do(func() {
		close(g.stop) // requests arriving now run alone (and meet the closed database)
		g.wg.Wait()
	})
}

// groupWriter takes the first request waiting, then every other one
// already queued (up to groupMax), and writes them as one batch.
func (s *Store) groupWriter() {
	g := s.group
	for {
		var batch []*groupReq
		select {
		case r := <-g.queue:
			batch = append(batch, r)
		case <-g.stop:
			return
		}
	more:
		for len(batch) < groupMax {
			select {
			case r := <-g.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.writeBatch(batch)
	}
}

// writeBatch runs the batch's requests in one transaction. When one
// request fails, the batch is rolled back, that request runs again alone
// and the others again as a batch; on any other failure before the commit
// every request runs alone.
func (s *Store) writeBatch(batch []*groupReq) {
	taken := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			taken = append(taken, r)
		}
	}
	for {
		taken = answerGone(taken, nil)
		if len(taken) == 0 {
			return
		}
		out := s.tryBatch(taken)
		taken = answerGone(taken, out.gone)
		if out.failed != nil && len(taken) > 1 {
			out.failed.done <- groupResult{alone: true}
			taken = slices.DeleteFunc(taken, func(r *groupReq) bool { return r == out.failed })
			continue
		}
		if out.err == nil && out.commitErr == nil {
			s.group.batches.Add(1)
			s.group.grouped.Add(int64(len(taken)))
		}
		for _, r := range taken {
			switch {
			case out.commitErr != nil:
				r.done <- groupResult{err: out.commitErr}
			case out.err == nil:
				r.done <- groupResult{}
			case out.failed != nil:
				r.done <- groupResult{err: out.err} // alone in the batch: its own error
			default:
				r.done <- groupResult{alone: true}
			}
		}
		return
	}
}

// answerGone answers the requests whose callers have gone (those in gone,
// or, when gone is nil, every one whose context is done) with their
// context's error, and returns the others.
func answerGone(reqs []*groupReq, gone map[*groupReq]bool) []*groupReq {
	live := reqs[:0:0]
	for _, r := range reqs {
		if gone[r] || (gone == nil && r.ctx.Err() != nil) {
			r.done <- groupResult{err: r.ctx.Err()}
			continue
		}
		live = append(live, r)
	}
	return live
}

// errBatch is a batch failing for a reason that is not one request's error.
var errBatch = errors.New("batch failed")

// tryBatch runs the batch and commits it. A panic in a request's function
// fails the batch; the request panics again in its caller's goroutine when
// it runs alone.
func (s *Store) tryBatch(batch []*groupReq) (out batchOutcome) {
	tx, err := s.db.BeginTxx(context.Background(), nil)
	if err != nil {
		out.err = errBatch
		return out
	}
	defer func() {
		if p := recover(); p != nil {
			out.err, out.failed = errBatch, nil
		}
		if out.err != nil || out.commitErr != nil {
			tx.Rollback()
		}
	}()
	t := s.wrap(tx)
	for _, r := range batch {
		if r.ctx.Err() != nil { // its caller left while the ones before ran
			if out.gone == nil {
				out.gone = map[*groupReq]bool{}
			}
			out.gone[r] = true
			continue
		}
		if err := r.fn(t); err != nil {
			out.err, out.failed = err, r
			return out
		}
		// From here on the transaction holds this request's locks: the next
		// ones must not wait for another's (see above).
		t.shared = true
	}
	if err := t.tx.writeHeld(context.Background()); err != nil {
		out.err = errBatch
		return out
	}
	if err := t.tx.commitHeld(); err != nil {
		out.commitErr = err
		return out
	}
	t.committed()
	return out
}

// GroupStats reports how many batches group commit wrote and how many
// requests they held.
func (s *Store) GroupStats() (batches, requests int64) {
	return s.group.batches.Load(), s.group.grouped.Load()
}

func newGroup() *group { return &group{} }
