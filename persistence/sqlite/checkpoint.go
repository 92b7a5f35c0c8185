package sqlite

import (
	"context"
	"time"
)

// WAL checkpoints run off the commit path. SQLite's automatic checkpoint
// runs inside the commit that crosses its threshold: that commit copies
// the WAL into the database and fsyncs it while every sender of its group
// (and of the groups queued behind it) waits, which made the tail of the
// send latency. The writer's automatic checkpoint is raised to a safety net
// (walSafetyPages) and a background goroutine runs a PASSIVE checkpoint
// every checkpointEvery on a reader connection: it copies what no reader
// still needs without blocking the writer or the readers.
const (
	checkpointEvery = 250 * time.Millisecond
	walSafetyPages  = 16384 // 64 MiB of 4 KiB pages: the writer checkpoints itself only if the background falls this far behind
)

func (s *Store) startCheckpointer() {
	s.ckptStop = make(chan struct{})
	s.ckptDone = make(chan struct{})
	go s.runCheckpointer()
}

func (s *Store) stopCheckpointer() {
	if s.ckptStop == nil {
		return
	}
	close(s.ckptStop)
	<-s.ckptDone
	s.ckptStop = nil
}

func (s *Store) runCheckpointer() {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ckptStop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), checkpointEvery)
			// Errors are not fatal: the next tick (or the writer's safety
			// net) checkpoints again.
			_, _ = s.r.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			cancel()
		}
	}
}
