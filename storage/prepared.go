package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Prepared statements. lib/pq sends every statement with its text, so
// PostgreSQL parses, analyses and plans it on every call: for intake's
// short statements that was a third of the server's time. A transaction's
// statements are prepared once per connection instead (database/sql keeps
// a statement prepared on each connection it used), and after a few calls
// PostgreSQL keeps a generic plan. SQLite keeps its own statement cache in
// the driver and needs none of this.

// stmtCacheMax bounds how many distinct statement texts are prepared (a
// multi-row insert has one text per row count); others run unprepared.
const stmtCacheMax = 512

// stmtCache holds the statements prepared on the pool, by text.
type stmtCache struct {
	db *sqlx.DB
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

func newStmtCache(db *sqlx.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sqlx.Stmt{}}
}

// get returns the statement for query, prepared on the pool, or nil (the
// cache is full, or preparing failed: the caller runs it unprepared, and
// gets its error from there).
func (c *stmtCache) get(ctx context.Context, query string) *sqlx.Stmt {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= stmtCacheMax
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := c.db.PreparexContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		st.Close()
		return prev
	}
	c.m[query] = st
	return st
}

// close closes every prepared statement (Close).
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// stmtTx is a transaction that runs its statements prepared (PostgreSQL;
// cache nil on SQLite) and holds the rows it may defer (see deferred.go).
type stmtTx struct {
	*sqlx.Tx
	cache *stmtCache
	held  deferred
	// failed is a flush's error, kept for the commit: a statement that
	// cannot report it (QueryRowxContext) runs anyway, and the transaction
	// must not commit.
	failed error
}

// stmt returns query prepared on the transaction's connection, or nil. A
// statement whose LIMIT is a parameter runs unprepared: PostgreSQL's generic
// plan would assume a tenth of the table.
func (t *stmtTx) stmt(ctx context.Context, query string) *sqlx.Stmt {
	if t.cache == nil || strings.Contains(query, "LIMIT $") {
		return nil
	}
	st := t.cache.get(ctx, query)
	if st == nil {
		return nil
	}
	return t.Tx.StmtxContext(ctx, st)
}

// prepare flushes what query must see, and returns the statement prepared,
// or nil to run it as it is.
func (t *stmtTx) prepare(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if err := t.before(ctx, query); err != nil {
		t.failed = err
		return nil, err
	}
	return t.stmt(ctx, query), nil
}

// exec runs a statement without looking at the held rows (flush's own).
func (t *stmtTx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// commit writes the held rows and commits.
func (t *stmtTx) commit(ctx context.Context) error {
	if t.failed != nil {
		return t.failed
	}
	if err := t.flush(ctx); err != nil {
		return err
	}
	if err := t.Tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

func (t *stmtTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *stmtTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *stmtTx) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	st, err := t.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryxContext(ctx, args...)
	}
	return t.Tx.QueryxContext(ctx, query, args...)
}

func (t *stmtTx) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if st, err := t.prepare(ctx, query); err == nil && st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return t.Tx.QueryRowxContext(ctx, query, args...)
}

func (t *stmtTx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	st, err := t.prepare(ctx, query)
	if err != nil {
		return err
	}
	if st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return t.Tx.GetContext(ctx, dest, query, args...)
}

func (t *stmtTx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	st, err := t.prepare(ctx, query)
	if err != nil {
		return err
	}
	if st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return t.Tx.SelectContext(ctx, dest, query, args...)
}

// selectAside is SelectContext without writing the held rows first: for a
// reader that takes the held rows of its tables from memory
// (Conversations).
func (t *stmtTx) selectAside(ctx context.Context, dest any, query string, args ...any) error {
	if st := t.stmt(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return t.Tx.SelectContext(ctx, dest, query, args...)
}
