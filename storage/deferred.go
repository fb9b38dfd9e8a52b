package storage

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Deferred rows. What a change appends and its transaction does not read
// back at once — timeline events, outbox messages, timer slots, thread
// bindings, stored messages — is held in the transaction and written just
// before the transaction next reads one of those tables, and before it
// commits. Under group commit (InGroupTx) the rows of a whole batch of
// intakes are then written together instead of each intake's alone.
//
// On PostgreSQL every held row is written by one statement, whatever the
// tables and the number of rows: each column travels as an array, which
// the statement unnests in the order the rows were held. A round trip, not
// the rows it carries, is what a statement costs most here (see
// docs/benchmarks.md), and the statement's text depends only on which
// tables have rows, so it is prepared once. SQLite, where a statement is
// no round trip, takes one multi-row INSERT per table.

// deferredChunk bounds the rows of one SQLite statement (it takes at most
// 32,766 parameters); PostgreSQL's one statement takes an array a column.
const deferredChunk = 500

// deferredTable is the rows held for one table.
type deferredTable struct {
	name    string // the table, as statements name it
	columns string // "a, b, c", as the rows hold them
	// types are the columns' PostgreSQL types, for the arrays.
	types  []string
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
	if t.arrays {
		return t.flushArrays(ctx, tables)
	}
	for _, dt := range tables {
		for start := 0; start < len(dt.rows); start += deferredChunk {
			rows := dt.rows[start:min(start+deferredChunk, len(dt.rows))]
			args := make([]any, 0, len(rows)*len(dt.types))
			for _, r := range rows {
				args = append(args, r...)
			}
			insert := "INSERT INTO " + dt.name + " (" + dt.columns + ") VALUES " + values(len(rows), len(dt.types)) + dt.suffix
			if _, err := t.exec(ctx, t.Rebind(insert), args...); err != nil {
				return fmt.Errorf("%s (%d rows): %w", dt.what, len(dt.rows), mapErr(err))
			}
		}
	}
	return nil
}

// flushArrays writes the held rows of every table in one statement
// (PostgreSQL).
func (t *stmtTx) flushArrays(ctx context.Context, tables []*deferredTable) error {
	tables = slices.DeleteFunc(slices.Clone(tables), func(dt *deferredTable) bool { return len(dt.rows) == 0 })
	if len(tables) == 0 {
		return nil
	}
	slices.SortFunc(tables, func(a, b *deferredTable) int { return strings.Compare(a.name, b.name) })
	var args []any
	var what []string
	for _, dt := range tables {
		for c := range dt.types {
			a, err := pgArray(dt.rows, c)
			if err != nil {
				return fmt.Errorf("%s: column %d: %w", dt.what, c+1, err)
			}
			args = append(args, a)
		}
		what = append(what, fmt.Sprintf("%s %d", dt.what, len(dt.rows)))
	}
	if _, err := t.exec(ctx, arraysInsert(tables), args...); err != nil {
		return fmt.Errorf("write held rows (%s): %w", strings.Join(what, ", "), mapErr(err))
	}
	return nil
}

// arraysTexts are arraysInsert's statements, by their tables' names.
var arraysTexts sync.Map

// arraysInsert is the statement that writes the rows of tables (in the
// order of their names) from one array per column: a data-modifying WITH
// per table but the last, which is the statement itself. Each table's
// part is
//
//	INSERT INTO t (cols) SELECT c1, … FROM unnest($1::type[], …)
//	WITH ORDINALITY AS u(c1, …, ord) ORDER BY ord
//
// so the rows are written in the order they were held (the ids of the
// outbox, the timeline and the messages follow it).
func arraysInsert(tables []*deferredTable) string {
	names := make([]string, len(tables))
	for i, dt := range tables {
		names[i] = dt.name
	}
	key := strings.Join(names, ",")
	if q, ok := arraysTexts.Load(key); ok {
		return q.(string)
	}
	var parts []string
	n := 0
	for _, dt := range tables {
		cols := make([]string, len(dt.types))
		arrays := make([]string, len(dt.types))
		for c, typ := range dt.types {
			n++
			cols[c] = fmt.Sprintf("c%d", c+1)
			arrays[c] = fmt.Sprintf("$%d::%s[]", n, typ)
		}
		parts = append(parts, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM unnest(%s) WITH ORDINALITY AS u(%s, ord) ORDER BY ord%s",
			dt.name, dt.columns, strings.Join(cols, ", "), strings.Join(arrays, ", "), strings.Join(cols, ", "), dt.suffix))
	}
	q := parts[len(parts)-1]
	if len(parts) > 1 {
		with := make([]string, len(parts)-1)
		for i, p := range parts[:len(parts)-1] {
			with[i] = fmt.Sprintf("h%d AS (%s)", i, p)
		}
		q = "WITH " + strings.Join(with, ", ") + " " + q
	}
	arraysTexts.Store(key, q)
	return q
}

// pgArray is column c of the rows as a PostgreSQL array in its text form,
// which the statement casts to the column's type: NULL for nil, every
// other value quoted. A value the driver would not take is an error, never
// a NULL.
func pgArray(rows [][]any, c int) (string, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		v, err := driver.DefaultParameterConverter.ConvertValue(r[c])
		if err != nil {
			return "", err
		}
		if v == nil {
			b.WriteString("NULL")
			continue
		}
		var text string
		switch v := v.(type) {
		case string:
			text = v
		case []byte:
			text = string(v)
		case int64:
			text = strconv.FormatInt(v, 10)
		case float64:
			switch {
			case math.IsInf(v, 1):
				text = "Infinity"
			case math.IsInf(v, -1):
				text = "-Infinity"
			default:
				text = strconv.FormatFloat(v, 'g', -1, 64)
			}
		case bool:
			text = "f"
			if v {
				text = "t"
			}
		case time.Time:
			text = v.UTC().Format("2006-01-02 15:04:05.999999") + "+00"
		default:
			return "", fmt.Errorf("a held value of type %T", v)
		}
		b.WriteByte('"')
		for _, ch := range []byte(text) {
			if ch == '"' || ch == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(ch)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// before flushes the held rows when query reads or writes one of their
// tables.
func (t *stmtTx) before(ctx context.Context, query string) error {
	if len(t.held.tables) == 0 || !t.held.touches(query) {
		return nil
	}
	return t.flush(ctx)
}
