// Package storage keeps slakeeper's state in SQL through sqlx: PostgreSQL
// (lib/pq) in production, an embedded pure-Go SQLite as the zero-setup
// default. Both run the same embedded, ordered migrations and pass the same
// conformance suite.
//
// Every state change is one transaction (Store.InTx): the incident row, its
// timeline events, its pending timers and the outbox messages it causes are
// committed together or not at all.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/slakeeper/slakeeper/sla"
)

// Dialect names the SQL database behind a Store.
type Dialect string

// Supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

//go:embed migrations
var migrations embed.FS

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	db      *sqlx.DB
	dialect Dialect
	group   *group // group commit's writers (InGroupTx)
	// calendar holds the on-call overrides and critical windows in memory
	// (calendarcache.go).
	calendar *calendarCache
	// stmts are the statements prepared for transactions (PostgreSQL;
	// prepared.go).
	stmts *stmtCache
}

// Open connects to the database named by dsn: a postgres:// or postgresql://
// URL for PostgreSQL; "sqlite:PATH", "file:PATH" or a plain file path for
// SQLite. It does not migrate; call Migrate. Errors never contain the DSN's
// password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	var s Store
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		// The parser's error would quote the URL, password and all.
		if _, err := url.Parse(dsn); err != nil {
			return nil, fmt.Errorf("open postgres %s: not a valid URL (percent-encode special characters in the user name and password)", RedactDSN(dsn))
		}
		driverDSN, prepare := statementCache(withBinaryParameters(dsn))
		db, err := sqlx.Open("postgres", driverDSN)
		if err != nil {
			return nil, fmt.Errorf("open postgres %s: %w", RedactDSN(dsn), err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
		// Connections are renewed now and then even when busy: a statement
		// prepared on one never outlives a schema change by long.
		db.SetConnMaxLifetime(30 * time.Minute)
		s = Store{db: db, dialect: Postgres, group: newGroup(), calendar: newCalendarCache()}
		if prepare {
			s.stmts = newStmtCache(db)
		}
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		if err := createPrivate(path); err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		q := url.Values{}
		for _, p := range []string{"foreign_keys(1)", "busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		db, err := sqlx.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		// One connection: SQLite has a single writer, and one connection
		// makes every transaction serial without SQLITE_BUSY.
		db.SetMaxOpenConns(1)
		s = Store{db: db, dialect: SQLite, group: newGroup(), calendar: newCalendarCache()}
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", s.dialect, RedactDSN(dsn), redactErr(err, dsn))
	}
	return &s, nil
}

// createPrivate creates the SQLite database file readable by its owner
// only, whatever the umask, when it does not exist yet. SQLite gives the
// -wal and -shm files it creates the database file's permissions. An
// existing file keeps the permissions it has.
func createPrivate(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, ":memory:?") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	f.Close()
	return os.Chmod(path, 0o600) // the umask may have taken the owner's bits
}

// RedactDSN returns dsn with any password replaced by "xxxxx": the
// password of the URL's user and a password= parameter. When dsn does not
// parse as a URL, everything between "://" and the last "@" is replaced,
// so a malformed URL never shows its password either.
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err == nil && (u.User != nil || !strings.Contains(dsn, "@")) {
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			}
		}
		return redactParam(u.String())
	}
	// Unparseable, or an "@" the parser did not take for the user part
	// ("postgres://u:12/3@host"): the user part cannot be trusted.
	out := dsn
	if i, j := strings.Index(dsn, "://"), strings.LastIndex(dsn, "@"); i >= 0 && j > i+3 {
		out = dsn[:i+3] + "xxxxx" + dsn[j:]
	}
	return redactParam(out)
}

// redactParam replaces the value of every password= parameter, read as
// text: the query of a URL is not validated when it is parsed.
func redactParam(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "password=")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i] + "password=xxxxx")
		s = s[i+len("password="):]
		if j := strings.IndexAny(s, "& #"); j >= 0 {
			s = s[j:]
		} else {
			s = ""
		}
	}
}

// redactErr removes dsn's password from a driver's error.
func redactErr(err error, dsn string) error {
	var secrets []string
	if u, perr := url.Parse(dsn); perr == nil {
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				secrets = append(secrets, pw, url.PathEscape(pw), url.QueryEscape(pw))
			}
		}
		secrets = append(secrets, u.Query().Get("password"))
	}
	msg := redactParam(strings.ReplaceAll(err.Error(), dsn, RedactDSN(dsn)))
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg) // the driver's error type is lost with its text
}

// Dialect reports which database the store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the connection pool.
func (s *Store) Close() error {
	s.stopGroup()
	if s.stmts != nil {
		s.stmts.close()
	}
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// DB exposes the pool for tests and benchmarks in this module.
func (s *Store) DB() *sqlx.DB { return s.db }

type migration struct {
	version int
	name    string
	sql     string
	applied bool
}

func (s *Store) migrations() ([]migration, error) {
	dir := "migrations/" + string(s.dialect)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		b, err := fs.ReadFile(migrations, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrationLockKey is the PostgreSQL advisory lock held while migrating.
const migrationLockKey = 0x51a4ee9e

// Migrate applies every embedded migration not yet applied, in order, each in
// its own transaction, under a lock so that replicas starting together apply
// each migration once. It returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int, error) { return s.migrateUpTo(ctx, 0) }

// migrateUpTo is Migrate stopping after version upTo (0: the last).
func (s *Store) migrateUpTo(ctx context.Context, upTo int) ([]int, error) {
	ms, err := s.migrations()
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
			return nil, fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []int
	for i := range ms {
		m := &ms[i]
		if upTo > 0 && m.version > upTo {
			break
		}
		if err := s.migrate(ctx, conn, m); err != nil {
			return applied, err
		} else if m.applied {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// foreignKeysOff marks a SQLite migration that rebuilds tables: it runs
// with foreign keys off (so that dropping the old table cascades nowhere),
// and every foreign key is checked before it commits.
const foreignKeysOff = "-- slakeeper: foreign_keys=off"

// migrate applies one migration in its own transaction unless it was
// applied before; m.applied says whether it was applied now.
func (s *Store) migrate(ctx context.Context, conn *sqlx.Conn, m *migration) error {
	fkOff := s.dialect == SQLite && strings.HasPrefix(m.sql, foreignKeysOff)
	if fkOff {
		// A no-op inside a transaction: it must come before.
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), m.version); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if fkOff {
		var bad []struct {
			Table  string        `db:"table"`
			RowID  sql.NullInt64 `db:"rowid"`
			Parent string        `db:"parent"`
			FKID   sql.NullInt64 `db:"fkid"`
		}
		if err := tx.SelectContext(ctx, &bad, `PRAGMA foreign_key_check`); err != nil {
			return fmt.Errorf("migrate %s: foreign key check: %w", m.name, err)
		}
		if len(bad) > 0 {
			return fmt.Errorf("migrate %s: %d row(s) break a foreign key, the first in %s (rowid %d) to %s",
				m.name, len(bad), bad[0].Table, bad[0].RowID.Int64, bad[0].Parent)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, time.Now().UTC()); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	m.applied = true
	return nil
}

// SchemaVersion returns the highest applied migration and the highest
// embedded one; they differ when the database needs migrating.
func (s *Store) SchemaVersion(ctx context.Context) (applied, embedded int, err error) {
	ms, err := s.migrations()
	if err != nil {
		return 0, 0, err
	}
	if len(ms) > 0 {
		embedded = ms[len(ms)-1].version
	}
	var v sql.NullInt64
	if err := s.db.GetContext(ctx, &v, `SELECT max(version) FROM schema_migrations`); err != nil {
		return 0, embedded, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), embedded, nil
}

// Tx is one database transaction. Its methods are the only way to change
// state, so that a change and its consequences commit together.
type Tx struct {
	tx       *stmtTx
	dialect  Dialect
	calendar *calendarCache
	// wroteCalendar: the transaction changed the overrides or the critical
	// windows; the store forgets its copy when it commits.
	wroteCalendar bool
	// shared: the transaction holds other callers' work (group commit): a
	// row lock held elsewhere fails it at once instead of being waited for.
	shared bool
}

// calendarWritten records a write to the tables the store holds in
// memory, and forgets them.
func (tx *Tx) calendarWritten() {
	tx.wroteCalendar = true
	tx.calendar.invalidate()
}

// committed is what follows a commit.
func (tx *Tx) committed() {
	if tx.wroteCalendar {
		tx.calendar.invalidate()
	}
}

// wrap is the store's transaction: its statements prepared on PostgreSQL.
func (s *Store) wrap(tx *sqlx.Tx) *Tx {
	return &Tx{tx: &stmtTx{Tx: tx, cache: s.stmts, arrays: s.dialect == Postgres}, dialect: s.dialect, calendar: s.calendar}
}

// InTx runs fn in a transaction and commits it if fn returns nil; otherwise
// it rolls back and returns fn's error.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) (err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	t := s.wrap(tx)
	if err := fn(t); err != nil {
		tx.Rollback()
		return err
	}
	if err := t.tx.commit(ctx); err != nil {
		tx.Rollback()
		return err
	}
	t.committed()
	return nil
}

// queryer is what both *sqlx.DB and *sqlx.Tx offer.
type queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// ts prepares a time for the database: UTC, microsecond precision (what
// PostgreSQL keeps), NULL when zero. SQLite compares the text form, which
// orders correctly only when every stored time is UTC.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

func fromNull(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// mapErr turns constraint violations into domain errors by their SQLSTATE or
// SQLite extended code, never by message text.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return conflictErr(err)
		case "23503", "23514", "23502":
			return invalidErr(err)
		}
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return conflictErr(err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return invalidErr(err)
		}
	}
	return err
}

// ConstraintError wraps a database constraint violation as a domain error;
// Unwrap gives the driver's error for logs.
type ConstraintError struct {
	Domain *sla.Error
	Cause  error
}

func (e *ConstraintError) Unwrap() []error { return []error{e.Domain, e.Cause} }
func (e *ConstraintError) Error() string   { return e.Domain.Message + ": " + e.Cause.Error() }

func conflictErr(err error) error {
	return &ConstraintError{Domain: sla.Errorf(sla.ECONFLICT, "err.conflict", nil, "this already exists"), Cause: err}
}

func invalidErr(err error) error {
	return &ConstraintError{Domain: sla.Errorf(sla.EINVALID, "err.constraint", nil, "the request breaks a rule of the data"), Cause: err}
}

// Lock takes a named lock shared by every process on this database and
// holds it until release is called or ctx ends; while another process
// holds it, Lock waits (checking every poll). On PostgreSQL it is a session
// advisory lock on a connection of its own; on SQLite, whose database
// belongs to one process, a lock within the process.
func (s *Store) Lock(ctx context.Context, name string, poll time.Duration) (release func(), err error) {
	if s.dialect != Postgres {
		return s.localLock(ctx, name, poll)
	}
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	for {
		var ok bool
		if err := conn.GetContext(ctx, &ok, `SELECT pg_try_advisory_lock(hashtext($1))`, name); err != nil {
			conn.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if ok {
			return func() {
				conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtext($1))`, name)
				conn.Close()
			}, nil
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

var (
	localMu    sync.Mutex
	localLocks = map[string]bool{}
)

func (s *Store) localLock(ctx context.Context, name string, poll time.Duration) (func(), error) {
	for {
		localMu.Lock()
		if !localLocks[name] {
			localLocks[name] = true
			localMu.Unlock()
			return func() { localMu.Lock(); delete(localLocks, name); localMu.Unlock() }, nil
		}
		localMu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// withBinaryParameters asks lib/pq to send a statement with its parameters
// in one round trip (Parse, Bind, Execute) instead of preparing it first,
// which halves the round trips of every transaction. A DSN that says
// otherwise is kept.
func withBinaryParameters(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Has("binary_parameters") {
		return dsn
	}
	q.Set("binary_parameters", "yes")
	u.RawQuery = q.Encode()
	return u.String()
}

// statementCache takes the store's own statement_cache parameter out of a
// PostgreSQL URL (the driver would send it to the server): "off" runs every
// statement unprepared, for a pooler that moves transactions between server
// connections (PgBouncer in transaction mode before 1.21).
func statementCache(dsn string) (string, bool) {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn, true
	}
	q := u.Query()
	if !q.Has("statement_cache") {
		return dsn, true
	}
	on := q.Get("statement_cache") != "off"
	q.Del("statement_cache")
	u.RawQuery = q.Encode()
	return u.String(), on
}

// values renders n rows of cols placeholders, "(?, ?), (?, ?)", for one
// multi-row INSERT: a transaction's rows go to the database in one round
// trip, not one each.
func values(n, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(row+", ", n-1) + row
}

// inList renders n placeholders for an IN list, "?, ?, ?".
func inList(n int) string { return strings.Repeat("?, ", n-1) + "?" }
