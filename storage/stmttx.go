package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// A transaction's statements go through stmtTx, which writes the rows it
// holds (deferred.go) before a statement that reads their tables, and runs
// statements prepared where it can (prepared.go).

// stmtTx is a transaction that holds the rows it may defer.
type stmtTx struct {
	*sqlx.Tx
	// cache is the store's prepared statements (nil: none, SQLite); stmts
	// are those this transaction has bound to its connection.
	cache *stmtCache
	stmts map[*sqlx.Stmt]*sqlx.Stmt
	held  deferred
	// arrays writes the held rows in one statement, as arrays (PostgreSQL).
	arrays bool
	// failed is a flush's error, kept for the commit: a statement that
	// cannot report it (QueryRowxContext) runs anyway, and the transaction
	// must not commit.
	failed error
}

// writeHeldFor writes the held rows query must see.
func (t *stmtTx) writeHeldFor(ctx context.Context, query string) error {
	if err := t.before(ctx, query); err != nil {
		t.failed = err
		return err
	}
	return nil
}

// exec runs a statement without looking at the held rows (flush's own).
func (t *stmtTx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.prepared(ctx, query); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, t.staleCheck(query, err)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// commit writes the held rows and commits.
func (t *stmtTx) commit(ctx context.Context) error {
	if err := t.writeHeld(ctx); err != nil {
		return err
	}
	return t.commitHeld()
}

// writeHeld writes the rows still held (the first half of commit): an
// error is the transaction's, as a statement's would be.
func (t *stmtTx) writeHeld(ctx context.Context) error {
	if t.failed != nil {
		return t.failed
	}
	return t.flush(ctx)
}

// commitHeld commits once the held rows are written: an error leaves the
// outcome unknown.
func (t *stmtTx) commitHeld() error {
	if err := t.Tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

func (t *stmtTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.writeHeldFor(ctx, query); err != nil {
		return nil, err
	}
	return t.exec(ctx, query, args...)
}

func (t *stmtTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.writeHeldFor(ctx, query); err != nil {
		return nil, err
	}
	if st := t.prepared(ctx, query); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, t.staleCheck(query, err)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *stmtTx) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if err := t.writeHeldFor(ctx, query); err != nil {
		return nil, err
	}
	if st := t.prepared(ctx, query); st != nil {
		rows, err := st.QueryxContext(ctx, args...)
		return rows, t.staleCheck(query, err)
	}
	return t.Tx.QueryxContext(ctx, query, args...)
}

func (t *stmtTx) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	t.writeHeldFor(ctx, query) // an error is kept for the commit
	if st := t.prepared(ctx, query); st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return t.Tx.QueryRowxContext(ctx, query, args...)
}

func (t *stmtTx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if err := t.writeHeldFor(ctx, query); err != nil {
		return err
	}
	if st := t.prepared(ctx, query); st != nil {
		return t.staleCheck(query, st.GetContext(ctx, dest, args...))
	}
	return t.Tx.GetContext(ctx, dest, query, args...)
}

func (t *stmtTx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if err := t.writeHeldFor(ctx, query); err != nil {
		return err
	}
	return t.selectAside(ctx, dest, query, args...)
}

// selectAside is SelectContext without writing the held rows first: for a
// reader that takes the held rows of its tables from memory
// (Conversations).
func (t *stmtTx) selectAside(ctx context.Context, dest any, query string, args ...any) error {
	if st := t.prepared(ctx, query); st != nil {
		return t.staleCheck(query, st.SelectContext(ctx, dest, args...))
	}
	return t.Tx.SelectContext(ctx, dest, query, args...)
}
