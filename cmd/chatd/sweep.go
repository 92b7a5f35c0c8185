package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/actorchat/engine/persistence"
)

// sweepBatch is how many blobs one DeleteUnreferencedBlobs call may delete.
const sweepBatch = 500

// sweepUploads deletes, every interval, the uploads older than grace that no
// message carries and no avatar uses (abandoned uploads, replaced avatars),
// until ctx ends. Every node of a cluster sweeps; deletes are idempotent.
func sweepUploads(ctx context.Context, blobs persistence.Blobs, grace, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := sweepOnce(ctx, blobs, time.Now().Add(-grace)); err != nil {
			log.Warn("upload sweep failed; next sweep retries", "deleted", n, "err", err)
		} else if n > 0 {
			log.Info("unreferenced uploads deleted", "count", n)
		}
	}
}

// sweepOnce deletes every unreferenced blob created before cutoff, a batch
// at a time, and returns how many it deleted.
func sweepOnce(ctx context.Context, blobs persistence.Blobs, cutoff time.Time) (int, error) {
	total := 0
	for {
		c, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := blobs.DeleteUnreferencedBlobs(c, cutoff, sweepBatch)
		cancel()
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}
