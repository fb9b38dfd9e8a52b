package storage

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Prepared statements (PostgreSQL). lib/pq sends every statement with its
// text, so PostgreSQL parses, analyses and plans it on every call: for
// intake's short statements a large share of the server's time. A
// transaction's statements run prepared instead: database/sql keeps a
// statement prepared on each connection that ran it, and after a few calls
// PostgreSQL keeps a generic plan. SQLite's driver keeps its own statement
// cache and needs none of this.
//
// A transaction never waits for a statement to be prepared. The first time
// a text is seen it runs unprepared, and the store's preparer prepares it
// on the pool in the background; transactions after that prepare it on
// their own connection (Tx.Stmt), which takes no second connection from the
// pool. (Preparing on the pool from inside a transaction, as issue 16 first
// did, waits for a second connection, and with every connection in a
// transaction that wait never ends: TestAFullPoolOfTransactionsGoesOn.)

// A statement stops working on a connection when another replica's
// migration changes the type of a column it returns ("cached plan must not
// change result type"), or when the server forgot it: the error evicts the
// text (every connection drops it; it is prepared afresh when next seen),
// and the transaction fails transiently, to run again.
//
// Behind a pooler that moves transactions between server connections
// (PgBouncer in transaction mode before 1.21), prepared statements do not
// work: statement_cache=off in the database URL turns them off.

// stmtCacheMax bounds how many distinct statement texts are prepared;
// others run unprepared.
const stmtCacheMax = 256

// stmtCache holds the statements prepared on the pool, by text, and owns
// the goroutine that prepares them.
type stmtCache struct {
	db     *sqlx.DB
	mu     sync.Mutex
	ready  map[string]*sqlx.Stmt
	seen   map[string]bool // queued, prepared or failed: never queued again
	todo   chan string
	cancel context.CancelFunc
	done   chan struct{}
}

func newStmtCache(db *sqlx.DB) *stmtCache {
	ctx, cancel := context.WithCancel(context.Background())
	c := &stmtCache{db: db, ready: map[string]*sqlx.Stmt{}, seen: map[string]bool{},
		todo: make(chan string, 64), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.prepareLoop(ctx)
	}()
	return c
}

// lookup returns the statement prepared for query, or nil; a text seen for
// the first time is queued for preparing (unless the queue or the cache is
// full: it is queued again when next seen).
func (c *stmtCache) lookup(query string) *sqlx.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.ready[query]; ok {
		return st
	}
	if c.seen[query] || len(c.seen) >= stmtCacheMax {
		return nil
	}
	select {
	case c.todo <- query:
		c.seen[query] = true
	default:
	}
	return nil
}

// prepareLoop prepares what lookup queued, until the store closes. A
// statement that fails to prepare is left to run unprepared (its error, if
// it has one, shows where it runs).
func (c *stmtCache) prepareLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-c.todo:
			st, err := c.db.PreparexContext(ctx, q)
			if err != nil {
				c.mu.Lock()
				delete(c.seen, q) // tried again when next seen
				c.mu.Unlock()
				continue
			}
			c.mu.Lock()
			c.ready[q] = st
			c.mu.Unlock()
		}
	}
}

// evict forgets query's statement after err, when err says that a
// connection cannot use it any more, and reports whether it did.
func (c *stmtCache) evict(query string, err error) bool {
	if !stalePrepared(err) {
		return false
	}
	c.mu.Lock()
	st := c.ready[query]
	delete(c.ready, query)
	delete(c.seen, query)
	c.mu.Unlock()
	if st != nil {
		st.Close() // database/sql closes it on each connection as it is freed
	}
	return true
}

// stalePrepared reports whether err is PostgreSQL refusing a prepared
// statement: its result type changed under it (0A000, "cached plan must
// not change result type"), or the server does not know it (26000).
func stalePrepared(err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == "26000" || (pe.Code == "0A000" && strings.Contains(pe.Message, "cached plan"))
}

// errStalePrepared wraps the error of a statement evicted by evict: the
// transaction fails transiently (Transient), to be run again.
type errStalePrepared struct{ err error }

func (e errStalePrepared) Error() string { return "prepared statement out of date: " + e.err.Error() }
func (e errStalePrepared) Unwrap() error { return e.err }

// close stops the preparer and closes the statements (Close, before the
// pool closes).
func (c *stmtCache) close() {
	c.cancel()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.ready {
		st.Close()
		delete(c.ready, q)
	}
}

// prepared returns query prepared on the transaction's connection, or nil
// (SQLite, or not prepared yet).
func (t *stmtTx) prepared(ctx context.Context, query string) *sqlx.Stmt {
	if t.cache == nil {
		return nil
	}
	st := t.cache.lookup(query)
	if st == nil {
		return nil
	}
	if s, ok := t.stmts[st]; ok {
		return s
	}
	if t.stmts == nil {
		t.stmts = map[*sqlx.Stmt]*sqlx.Stmt{}
	}
	// Not the caller's context: the binding is kept for the rest of the
	// transaction, which may serve other callers (group commit).
	s := t.Tx.StmtxContext(context.Background(), st)
	t.stmts[st] = s
	return s
}

// staleCheck passes a prepared statement's error on, evicting the
// statement when the error says it is out of date.
func (t *stmtTx) staleCheck(query string, err error) error {
	if err != nil && t.cache != nil && t.cache.evict(query, err) {
		return errStalePrepared{err}
	}
	return err
}
