package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/actorchat/engine/persistence"
)

// sweepBatch is how many blobs, or abandoned uploads, one store call may
// delete.
const sweepBatch = 500

// orphanAge is how long an upload must have written nothing before the
// sweep deletes what it wrote (persistence.Blobs.DeleteOrphanContent),
// taking it for one whose process died. The upload handler sets no
// deadline of its own: an upload lasts as long as its client keeps sending,
// up to --max-upload-bytes (10 MiB by default). So the stores date an
// upload by its last write, not its start: SQLite writes every 256 KiB,
// MongoDB's GridFS every 16 MiB (a default-size upload only at its end).
// On a poor 8 KB/s link 256 KiB take half a minute and 16 MiB 35 minutes;
// a day is far beyond any client still sending, and what crashes leave
// costs only disk meanwhile.
const orphanAge = 24 * time.Hour

// deleteFunc is a store's batch delete of what is older than a cut-off.
type deleteFunc func(ctx context.Context, before time.Time, limit int) (int, error)

// sweepUploads, every interval until ctx ends, deletes what uploads that
// died left behind (orphanAge) and, unless grace is 0, the uploads older
// than grace that no message carries and no avatar uses (abandoned
// uploads, replaced avatars). Every node of a cluster sweeps; deletes are
// idempotent.
func sweepUploads(ctx context.Context, blobs persistence.Blobs, grace, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		if grace > 0 {
			if n, err := sweepOnce(ctx, blobs.DeleteUnreferencedBlobs, now.Add(-grace)); err != nil {
				log.Warn("upload sweep failed; next sweep retries", "deleted", n, "err", err)
			} else if n > 0 {
				log.Info("unreferenced uploads deleted", "count", n)
			}
		}
		if n, err := sweepOnce(ctx, blobs.DeleteOrphanContent, now.Add(-orphanAge)); err != nil {
			log.Warn("sweep of abandoned uploads failed; next sweep retries", "deleted", n, "err", err)
		} else if n > 0 {
			log.Info("content of abandoned uploads deleted", "count", n)
		}
	}
}

// sweepOnce calls del with cutoff, a batch at a time, until it deletes less
// than a batch, and returns how many it deleted.
func sweepOnce(ctx context.Context, del deleteFunc, cutoff time.Time) (int, error) {
	total := 0
	for {
		c, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := del(c, cutoff, sweepBatch)
		cancel()
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}
