package chaos

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// JournalEntry is one timestamped harness event: a fault, a restart, a phase.
type JournalEntry struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	Text string    `json:"text"`
}

// Journal records harness events in order and echoes them to a writer.
// Safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	start   time.Time
	w       io.Writer
	entries []JournalEntry
}

// NewJournal starts a journal whose echo goes to w (nil: no echo).
func NewJournal(w io.Writer) *Journal {
	return &Journal{start: time.Now(), w: w}
}

// Addf records one event.
func (j *Journal) Addf(kind, format string, args ...any) {
	e := JournalEntry{At: time.Now(), Kind: kind, Text: fmt.Sprintf(format, args...)}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, e)
	if j.w != nil {
		fmt.Fprintf(j.w, "chaos %8.3fs %-8s %s\n", e.At.Sub(j.start).Seconds(), kind, e.Text)
	}
}

// Since is the time elapsed since the journal started, for log lines.
func (j *Journal) Since(t time.Time) time.Duration { return t.Sub(j.start) }

// Entries returns a copy of every event.
func (j *Journal) Entries() []JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]JournalEntry(nil), j.entries...)
}
