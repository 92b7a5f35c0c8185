package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// forEach calls fn(i) for i in [0, n) on workers goroutines. After the first
// error (or ctx's end) it starts no more calls and returns that error.
func forEach(ctx context.Context, n, workers int, fn func(i int) error) error {
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
		stop     atomic.Bool
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = fn(i)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					stop.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// registerUsers returns n accounts: those of --users-file first (each
// scenario of a run takes the next unused ones), then new ones named
// PREFIX_TAG<i>. Each source address makes at most --register-per-ip
// attempts, so chatd's per-IP limit on register (burst 10, then 1 per 6 s)
// is not hit; a 429 retries from a fresh address. Register answers a
// session, so no separate login is needed.
func (b *bench) registerUsers(ctx context.Context, n int, tag string) ([]*user, error) {
	if b.pool == nil {
		b.pool = b.cachedUsers(ctx)
	}
	from := b.used
	if need := from + n - len(b.pool); need > 0 {
		fresh, err := b.newUsers(ctx, need, tag)
		if err != nil {
			return nil, err
		}
		b.pool = append(b.pool, fresh...)
		if err := b.saveUsers(b.pool); err != nil {
			return nil, fmt.Errorf("save --users-file: %w", err)
		}
	}
	b.used += n
	return b.pool[from : from+n], nil
}

func (b *bench) newUsers(ctx context.Context, n int, tag string) ([]*user, error) {
	users := make([]*user, n)
	var done atomic.Int64
	var meter rateMeter
	b.prog.set("register", func() string {
		d := done.Load()
		return fmt.Sprintf("registered %d/%d (%.0f/s)", d, n, meter.rate(d))
	})
	pw := "pw-" + b.prefix + "-bench"
	err := forEach(ctx, n, b.cfg.regWorkers, func(i int) error {
		name := fmt.Sprintf("%s_%s%d", b.prefix, tag, i)
		var err error
		for attempt := 0; attempt < 8; attempt++ {
			src := b.regSrc.ip(int(b.regSlot.Add(1)-1) / b.cfg.perIP)
			users[i], err = b.rest.register(ctx, src, name, pw)
			code := errorCode(err)
			if err == nil {
				done.Add(1)
				return nil
			}
			if code != "rate_limited" && code != "unavailable" && code != "transport" {
				break
			}
		}
		return fmt.Errorf("register %s: %w", name, err)
	})
	return users, err
}

// createRoom creates a group owned by members[0] holding all of members:
// up to 100 in the create request (the server's limit), the rest through
// the members endpoint (addMembers).
func (b *bench) createRoom(ctx context.Context, title string, members []*user) (string, error) {
	owner, rest := members[0], members[1:]
	initial := rest[:min(len(rest), 100)]
	names := make([]string, len(initial))
	for i, u := range initial {
		names[i] = u.Username
	}
	id, err := b.rest.createGroup(ctx, owner, title, names)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", title, err)
	}
	return id, b.addMembers(ctx, owner, id, rest[len(initial):])
}

// addMembers adds users to a conversation, --concurrency at a time. A 409
// (already a member) is counted in b.addConflicts, not fatal: each user is
// added once, so it means the server applied an earlier attempt.
func (b *bench) addMembers(ctx context.Context, owner *user, id string, more []*user) error {
	if len(more) == 0 {
		return nil
	}
	var added atomic.Int64
	var meter rateMeter
	b.prog.set("add-members", func() string {
		a := added.Load()
		return fmt.Sprintf("added %d/%d (%.0f/s), 409 conflicts %d, retries %d", a, len(more), meter.rate(a),
			b.addConflicts.Load(), b.addRetries.Load())
	})
	return forEach(ctx, len(more), b.cfg.concurrency, func(i int) error {
		if err := b.addMember(ctx, owner, id, more[i]); err != nil {
			return err
		}
		added.Add(1)
		b.added.Add(1)
		return nil
	})
}

// addMember adds one user, retrying (at most 5 times, with backoff) what
// the protocol says to retry: unavailable, internal and transport errors.
func (b *bench) addMember(ctx context.Context, owner *user, id string, u *user) error {
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 250 * time.Millisecond):
			}
		}
		err = b.rest.addMember(ctx, owner, id, u.Username)
		switch errorCode(err) {
		case "":
			return nil
		case "conflict":
			b.addConflicts.Add(1)
			return nil
		case "unavailable", "internal", "transport", "timeout":
			b.addRetries.Add(1)
			continue
		}
		break
	}
	return fmt.Errorf("add %s to %s: %w", u.Username, id, err)
}

// connectStats describes a batch of connection attempts.
type connectStats struct {
	Attempted   int              `json:"attempted"`
	Connected   int              `json:"connected"`
	Failed      map[string]int64 `json:"failed_by_reason"` // close_1013 = node full, timeout, dial
	Seconds     float64          `json:"seconds"`
	PerSecond   float64          `json:"per_second"`
	ReadyMillis latencySummary   `json:"dial_to_ready"`
}

// connectAll opens n WebSockets, --concurrency at a time: connection i
// authenticates with tokenOf(i), goes to node i mod nodes, leaves from source
// address i mod --source-ips, and reports to handlerOf(i). Failed attempts
// leave nil in the slice and are counted by reason; only ctx's end is an error.
func (b *bench) connectAll(ctx context.Context, n int, tokenOf func(int) string, handlerOf func(int) handler) ([]*wsClient, connectStats, error) {
	clients := make([]*wsClient, n)
	var ok atomic.Int64
	var fails codeCounts
	var lat histogram
	var meter rateMeter
	b.prog.set("connect", func() string {
		c := ok.Load()
		return fmt.Sprintf("connected %d/%d (%.0f/s) failed %s", c, n, meter.rate(c), formatCounts(fails.Snapshot()))
	})
	start := time.Now()
	err := forEach(ctx, n, b.cfg.concurrency, func(i int) error {
		t0 := time.Now()
		c, err := dialWS(ctx, b.target(i), b.wsSrc.ip(i%b.cfg.sourceIPs), tokenOf(i), b.cfg.readyTimeout, handlerOf(i))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fails.Add(dialClass(err))
			return nil
		}
		lat.RecordSince(t0)
		clients[i] = c
		ok.Add(1)
		return nil
	})
	secs := time.Since(start).Seconds()
	st := connectStats{Attempted: n, Connected: int(ok.Load()), Failed: fails.Snapshot(), Seconds: roundTo(secs, 3),
		PerSecond: roundTo(float64(ok.Load())/secs, 1), ReadyMillis: lat.Summary()}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		closeAll(clients)
		return nil, st, err
	}
	return clients, st, err
}

// closeAll closes every open client in parallel and counts, by close code,
// those the server had closed before (0 entries are not counted).
func closeAll(clients []*wsClient) map[string]int64 {
	var early codeCounts
	_ = forEach(context.Background(), len(clients), 64, func(i int) error {
		if c := clients[i]; c != nil {
			switch code := c.close(2 * time.Second); code {
			case 0:
			case -1:
				early.Add("transport_error")
			default:
				early.Add(fmt.Sprintf("close_%d", code))
			}
		}
		return nil
	})
	return early.Snapshot()
}
