package actors

import (
	"context"
	"sync"
	"time"
)

// memberCountTTL is how long a node trusts a conversation's member count
// for presence decisions. A room that just crossed PresenceMaxMembers is
// treated by its old size for at most this long.
const memberCountTTL = 10 * time.Second

// memberCounts caches the store's member counts for the presence audience:
// when a 10,000-member room reconnects, every member's user grain asks for
// the same count, and one grouped count per room and TTL is enough.
type memberCounts struct {
	mu      sync.Mutex
	entries map[string]countEntry
}

type countEntry struct {
	n  int
	at time.Time
}

// get returns the member count of every id, from the cache where fresh and
// from the store for the rest.
func (c *memberCounts) get(ctx context.Context, d *Deps, ids []string) (map[string]int, error) {
	now := d.Now()
	out := make(map[string]int, len(ids))
	var missing []string
	c.mu.Lock()
	for _, id := range ids {
		if e, ok := c.entries[id]; ok && now.Sub(e.at) < memberCountTTL {
			out[id] = e.n
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	fresh, err := d.Store.MemberCounts(ctx, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 100_000 {
		c.entries = map[string]countEntry{} // bounded: start over rather than track ages
	}
	for _, id := range missing {
		out[id] = fresh[id]
		c.entries[id] = countEntry{n: fresh[id], at: now}
	}
	return out, nil
}
