package storage

import (
	"context"
	"fmt"
	"strings"
)

// Deferred rows. What a change appends and its transaction does not read
// back at once — timeline events, outbox messages, timer slots, thread
// bindings — is held in the transaction and written just before the
// transaction next reads one of those tables, and before it commits: one
// multi-row statement per table. Under group commit (InGroupTx) one
// statement then carries the rows of a whole batch of intakes instead of
// one statement each.

// deferredChunk bounds the rows of one statement (PostgreSQL takes at most
// 65,535 parameters, SQLite 32,766).
const deferredChunk = 500

// deferredTable is the rows held for one table.
type deferredTable struct {
	name   string // the table, as statements name it
	insert string // "INSERT INTO t (cols) VALUES "
	cols   int
	suffix string // ON CONFLICT …
	rows   [][]any
	// key, if set, names a row: a later row with the same key replaces the
	// earlier one (an upsert may not touch a row twice in one statement).
	key   func(row []any) string
	index map[string]int
	what  string // for errors
}

// deferred is a transaction's held rows, by table, in the order the tables
// were first written.
type deferred struct {
	tables []*deferredTable
}

// add holds a row for table t.
func (d *deferred) add(t deferredTable, row []any) {
	var dt *deferredTable
	for _, x := range d.tables {
		if x.name == t.name {
			dt = x
			break
		}
	}
	if dt == nil {
		c := t
		c.rows, c.index = nil, nil
		d.tables = append(d.tables, &c)
		dt = &c
	}
	if dt.key != nil {
		k := dt.key(row)
		if i, ok := dt.index[k]; ok {
			dt.rows[i] = row
			return
		}
		if dt.index == nil {
			dt.index = map[string]int{}
		}
		dt.index[k] = len(dt.rows)
	}
	dt.rows = append(dt.rows, row)
}

// touches reports whether query names a table with rows held.
func (d *deferred) touches(query string) bool {
	for _, t := range d.tables {
		if len(t.rows) > 0 && strings.Contains(query, t.name) {
			return true
		}
	}
	return false
}

func (d *deferred) empty() bool {
	for _, t := range d.tables {
		if len(t.rows) > 0 {
			return false
		}
	}
	return true
}

// flush writes every held row, and holds none after (even on error: the
// transaction is then rolled back).
func (t *stmtTx) flush(ctx context.Context) error {
	d := &t.held
	tables := d.tables
	d.tables = nil
	for _, dt := range tables {
		for start := 0; start < len(dt.rows); start += deferredChunk {
			rows := dt.rows[start:min(start+deferredChunk, len(dt.rows))]
			args := make([]any, 0, len(rows)*dt.cols)
			for _, r := range rows {
				args = append(args, r...)
			}
			exec := t.exec
			if len(rows) > heldRowsPrepared {
				exec = t.execUnprepared
			}
			if _, err := exec(ctx, t.Rebind(dt.insert+values(len(rows), dt.cols)+dt.suffix), args...); err != nil {
				return fmt.Errorf("%s (%d rows): %w", dt.what, len(dt.rows), mapErr(err))
			}
		}
	}
	return nil
}

// before flushes the held rows when query reads or writes one of their
// tables.
func (t *stmtTx) before(ctx context.Context, query string) error {
	if len(t.held.tables) == 0 || !t.held.touches(query) {
		return nil
	}
	return t.flush(ctx)
}
