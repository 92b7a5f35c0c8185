package sqlite

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// Defaults applied to zero Config fields.
const (
	// DefaultPath is the database file used when Config.Path is empty.
	DefaultPath = "./data/chat.db"
	// DefaultBusyTimeout is used when Config.BusyTimeout is zero.
	DefaultBusyTimeout = 5 * time.Second
	// minReadConns is the floor of the default read pool size.
	minReadConns = 4
)

// ErrInvalidConfig is wrapped by the errors of Config.Validate.
var ErrInvalidConfig = errors.New("sqlite: invalid config")

// Config configures Open. The zero value is a valid configuration: every
// zero field means its documented default.
type Config struct {
	// Path is the database file; its directory is created if missing.
	// Zero value: DefaultPath ("./data/chat.db"). It must be a plain file
	// path: not ":memory:" (readers and the writer are separate connections
	// and would each see their own empty database), not a "file:" URI, and
	// without '?'.
	Path string

	// BusyTimeout is how long a statement waits for a lock held by another
	// connection (another process on the same file, or a WAL checkpoint)
	// before it fails with persistence.ErrUnavailable. It is rounded up to
	// whole milliseconds. Zero value: DefaultBusyTimeout (5s).
	BusyTimeout time.Duration

	// MaxReadConns bounds the pool of read-only connections, which read
	// concurrently with the writer under WAL.
	// Zero value: GOMAXPROCS, at least 4.
	MaxReadConns int

	// FullSync sets PRAGMA synchronous=FULL: every commit fsyncs the WAL, so
	// a committed transaction also survives power loss and OS crashes.
	// Zero value: false, synchronous=NORMAL (see Open for why that is safe).
	FullSync bool

	// CommitLinger is how long the committer, under sustained load, waits
	// for more messages to share a transaction (see runCommitter); a store
	// that is not busy never waits. Zero value: never wait. 1ms took 8-10 %
	// of chatd's CPU off at 5,000 sends/s, added 1.5-2.5 ms to the p50 there
	// and nothing at 200 sends/s (docs/benchmarks.md, seventh round).
	CommitLinger time.Duration
}

// Validate reports the first invalid field, wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.Path == ":memory:" || strings.HasPrefix(c.Path, "file:"):
		return fmt.Errorf("%w: Path %q: want a plain file path", ErrInvalidConfig, c.Path)
	case strings.ContainsRune(c.Path, '?'):
		return fmt.Errorf("%w: Path %q contains '?'", ErrInvalidConfig, c.Path)
	case c.BusyTimeout < 0:
		return fmt.Errorf("%w: BusyTimeout %v is negative", ErrInvalidConfig, c.BusyTimeout)
	case c.MaxReadConns < 0:
		return fmt.Errorf("%w: MaxReadConns %d is negative", ErrInvalidConfig, c.MaxReadConns)
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.BusyTimeout == 0 {
		c.BusyTimeout = DefaultBusyTimeout
	}
	if c.MaxReadConns == 0 {
		c.MaxReadConns = max(minReadConns, runtime.GOMAXPROCS(0))
	}
	return c
}
