package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/actorchat/engine/persistence"
)

// Store is the SQLite adapter of persistence.Store. It is safe for
// concurrent use.
//
// SQLite admits one writer at a time per database file, so every write goes
// through w, a pool of exactly one connection: Go's pool queues writers
// instead of letting several connections fight over the file lock (which
// SQLite resolves by sleeping in its busy handler, unfairly, and by
// SQLITE_BUSY on lock upgrades), and the writer's prepared statements stay
// prepared. Reads go through r, a pool of query-only connections that, under
// WAL, read a consistent snapshot concurrently with the writer and with each
// other. A write committed on w is visible to every read started after it.
type Store struct {
	w      *sql.DB // the single writer connection; BEGIN IMMEDIATE
	r      *sql.DB // read-only connections
	stmts  statements
	commit *committer // group commit of AppendMessages (groupcommit.go)

	ckptStop, ckptDone chan struct{} // background WAL checkpoints (checkpoint.go)
}

var _ persistence.Store = (*Store)(nil)

// Open opens (creating it and its directory if needed) the database at
// cfg.Path, applies pending schema migrations and prepares the hot
// statements.
//
// Every connection runs with foreign keys on and cfg.BusyTimeout. The
// database is in WAL mode with synchronous=NORMAL unless cfg.FullSync: in
// WAL mode NORMAL never corrupts the database, and a commit is durable
// against a crash of this process as soon as it returns (its WAL frames are
// in the OS page cache); only a power loss or OS crash can roll back the
// last commits before the next checkpoint fsyncs the WAL. FULL fsyncs on
// every commit; AppendMessages batches, so that costs one fsync per batch.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	s := &Store{}
	if err := s.open(ctx, cfg); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	s.startCommitter(cfg.CommitLinger)
	s.startCheckpointer()
	return s, nil
}

// open opens the writer, migrates, then opens the readers and prepares.
func (s *Store) open(ctx context.Context, cfg Config) error {
	var err error
	if s.w, err = sql.Open("sqlite", dsn(cfg, true)); err != nil {
		return err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal (does the file system support it?)", mode)
	}
	if err := migrate(ctx, s.w); err != nil {
		return err
	}

	if s.r, err = sql.Open("sqlite", dsn(cfg, false)); err != nil {
		return err
	}
	s.r.SetMaxOpenConns(cfg.MaxReadConns)
	s.r.SetMaxIdleConns(cfg.MaxReadConns)
	return s.stmts.prepare(ctx, s.w, s.r)
}

// dsn returns the data source name of a writer or reader connection.
// Pragmas in the DSN run on every new connection of the pool.
func dsn(cfg Config, writer bool) string {
	q := url.Values{}
	busy := (cfg.BusyTimeout + time.Millisecond - 1) / time.Millisecond
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy))
	q.Add("_pragma", "foreign_keys(1)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)") // persistent in the file
		sync := "NORMAL"
		if cfg.FullSync {
			sync = "FULL"
		}
		q.Add("_pragma", "synchronous("+sync+")")
		// Keep the WAL from staying large after a burst of writes.
		q.Add("_pragma", "journal_size_limit(67108864)")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walSafetyPages)) // see checkpoint.go
		// Take the write lock at BEGIN rather than at the first write, so a
		// transaction never fails to upgrade its lock half-way.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return cfg.Path + "?" + q.Encode()
}

// Close lets SQLite update its planner statistics (PRAGMA optimize, bounded
// by ctx), finalises the prepared statements and closes every connection.
// It closes everything even when ctx is done, and reports every failure.
func (s *Store) Close(ctx context.Context) error {
	s.stopCommitter()
	s.stopCheckpointer()
	_, optErr := s.w.ExecContext(ctx, "PRAGMA optimize")
	stmtErr := s.stmts.close()
	return errors.Join(optErr, stmtErr, s.closeDBs())
}

// closeDBs closes whichever pools are open.
func (s *Store) closeDBs() error {
	var errs []error
	for _, db := range []*sql.DB{s.r, s.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// translate maps driver errors onto the persistence sentinels, keeping the
// original in the chain:
//   - sql.ErrNoRows: ErrNotFound;
//   - a UNIQUE or PRIMARY KEY violation: ErrDuplicate;
//   - a FOREIGN KEY violation (a member, message or token of a conversation
//     or user that does not exist): ErrNotFound;
//   - SQLITE_BUSY, SQLITE_LOCKED and an expired context: ErrUnavailable.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return persistence.ErrNotFound
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", persistence.ErrUnavailable, err)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch code := se.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", persistence.ErrDuplicate, err)
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", persistence.ErrNotFound, err)
	case code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w: %w", persistence.ErrUnavailable, err)
	}
	return err
}

// millis is how times are stored: unix milliseconds, truncated.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis is the inverse of millis, in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nullMillis stores the zero time as NULL.
func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: millis(t), Valid: true}
}

// fromNullMillis maps NULL back to the zero time.
func fromNullMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}
