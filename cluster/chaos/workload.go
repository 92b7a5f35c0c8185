package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// password of every chaos account.
const password = "chaos-password-1"

// workload is the users, conversations and clients of a run.
type workload struct {
	cfg     ClientConfig
	seed    uint64
	rest    *rest
	bases   []string // REST base URLs of the nodes
	ws      []string // WebSocket URLs clients connect to
	journal *Journal

	users   []*Account
	probe   *Account
	convs   []string
	members map[string][]string // conversation -> user ids (probe included)
	clients []*client
	wg      sync.WaitGroup

	mu     sync.Mutex
	probes []*ClientHistory
	nProbe int
}

// setupWorkload registers users and creates the conversations through REST,
// then builds one client per user.
func setupWorkload(ctx context.Context, cfg Config, bases, ws []string, j *Journal) (*workload, error) {
	w := &workload{cfg: cfg.Client, seed: uint64(cfg.Seed), rest: newREST(), bases: bases, ws: ws, journal: j,
		members: map[string][]string{}}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5e7))
	var err error
	if w.probe, err = w.register(ctx, "probe", 0); err != nil {
		return nil, err
	}
	for i := range cfg.Clients {
		u, err := w.register(ctx, fmt.Sprintf("u%02d", i+1), i)
		if err != nil {
			return nil, err
		}
		w.users = append(w.users, u)
	}
	memberOf := make([][]string, len(w.users))
	order := rng.Perm(len(w.users))
	p := 0
	for i := range cfg.Conversations {
		size := min(cfg.MinMembers+rng.IntN(cfg.MaxMembers-cfg.MinMembers+1), len(w.users))
		var idx []int
		for len(idx) < size {
			idx = append(idx, order[p%len(order)])
			p++
		}
		owner := w.users[idx[0]]
		names := []string{w.probe.Username}
		ids := []string{owner.ID, w.probe.ID}
		for _, k := range idx[1:] {
			names = append(names, w.users[k].Username)
			ids = append(ids, w.users[k].ID)
		}
		conv, err := w.rest.createGroup(ctx, bases[i%len(bases)], owner, fmt.Sprintf("chaos %d", i+1), names)
		if err != nil {
			return nil, fmt.Errorf("create conversation %d: %w", i+1, err)
		}
		w.convs = append(w.convs, conv)
		w.members[conv] = ids
		for _, k := range idx {
			memberOf[k] = append(memberOf[k], conv)
		}
	}
	for i, u := range w.users {
		c := newClient(w.cfg, i, u, memberOf[i], ws, w.seed)
		c.next = rng.IntN(len(ws))
		c.relogin = w.relogin
		w.clients = append(w.clients, c)
	}
	return w, nil
}

func (w *workload) register(ctx context.Context, name string, i int) (*Account, error) {
	var last error
	for try := range 5 {
		a, err := w.rest.register(ctx, w.bases[(i+try)%len(w.bases)], name, password)
		if err == nil {
			return a, nil
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return nil, fmt.Errorf("register %s: %w", name, last)
}

func (w *workload) relogin(ctx context.Context, a *Account) error {
	var err error
	for _, b := range w.bases {
		if err = w.rest.login(ctx, b, a); err == nil {
			return nil
		}
	}
	return err
}

// start runs every client loop and turns automatic sending on.
func (w *workload) start(ctx context.Context) error {
	for _, c := range w.clients {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); c.loop(ctx) }()
	}
	return w.each(ctx, func(c *client) error { return c.setAuto(ctx, true) })
}

// each runs fn for every client at once and joins the errors.
func (w *workload) each(ctx context.Context, fn func(c *client) error) error {
	errs := make([]error, len(w.clients))
	var wg sync.WaitGroup
	for i, c := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(c); err != nil {
				errs[i] = fmt.Errorf("client %d (%s): %w", i, c.acct.Username, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stopSending turns automatic sends off and waits (bounded) for the sends
// in progress to be decided.
func (w *workload) stopSending(ctx context.Context, limit time.Duration) error {
	return w.each(ctx, func(c *client) error {
		if err := c.setAuto(ctx, false); err != nil {
			return err
		}
		return c.drain(ctx, limit)
	})
}

// finalPhase: every client reconnects, syncs every conversation from 0,
// sends one message that must be acknowledged within bound, then (after
// everyone sent) syncs from its contiguous seq once more.
func (w *workload) finalPhase(ctx context.Context, bound time.Duration) error {
	step := func(what string, fn func(c *client) error) error {
		w.journal.Addf("heal", "clients: %s", what)
		return w.each(ctx, fn)
	}
	if err := step("reconnect", func(c *client) error { return c.reconnect(ctx, phaseHeal, 30*time.Second) }); err != nil {
		return err
	}
	if err := step("sync every conversation from 0", func(c *client) error { return c.syncAll(ctx, true, 60*time.Second) }); err != nil {
		return err
	}
	if err := step("send the final message", func(c *client) error {
		if len(c.hist.Conversations) == 0 {
			return nil
		}
		conv := c.hist.Conversations[c.rng.IntN(len(c.hist.Conversations))]
		_, err := c.sendOne(ctx, conv, true, bound)
		return err
	}); err != nil {
		return err
	}
	return step("final sync from the contiguous seq", func(c *client) error { return c.syncAll(ctx, false, 60*time.Second) })
}

// close ends every client loop.
func (w *workload) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = w.each(ctx, func(c *client) error { return c.close(ctx) })
	w.wg.Wait()
}

// histories returns the workload clients' and the probes' histories; call
// after close.
func (w *workload) histories() []*ClientHistory {
	out := make([]*ClientHistory, 0, len(w.clients))
	for _, c := range w.clients {
		out = append(out, c.hist)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return append(out, w.probes...)
}

// probeNode checks that node x works with node y: the probe user sends on
// every conversation through x and each message must arrive live on a
// connection to y. It catches a node the others no longer talk to.
func (w *workload) probeNode(ctx context.Context, x, y int, limit time.Duration) error {
	newProbe := func(node int) *client {
		w.mu.Lock()
		w.nProbe++
		idx := 1000 + w.nProbe
		w.mu.Unlock()
		c := newClient(w.cfg, idx, w.probe, w.convs, []string{w.ws[node]}, w.seed)
		c.pinned, c.resync, c.phase, c.relogin = true, false, phaseProbe, w.relogin
		c.hist.Probe = true
		return c
	}
	var wg sync.WaitGroup
	var clients []*client
	run := func(c *client) {
		clients = append(clients, c)
		wg.Add(1)
		go func() { defer wg.Done(); c.loop(ctx) }()
	}
	rx := newProbe(y)
	run(rx)
	tx := rx
	if x != y {
		tx = newProbe(x)
		run(tx)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, c := range clients {
			_ = c.close(cctx)
		}
		wg.Wait()
		w.mu.Lock()
		for _, c := range clients {
			w.probes = append(w.probes, c.hist)
		}
		w.mu.Unlock()
	}()
	deadline := time.Now().Add(limit)
	for _, c := range clients {
		if err := c.connected(ctx, time.Until(deadline)); err != nil {
			return fmt.Errorf("probe connect to %s: %w", c.nodes[0], err)
		}
	}
	for _, conv := range w.convs {
		s, err := tx.sendOne(ctx, conv, false, time.Until(deadline))
		if err != nil {
			return fmt.Errorf("probe send on %s via n%d: %w", conv, x+1, err)
		}
		if s.Outcome != OutcomeAck {
			return fmt.Errorf("probe send on %s via n%d: %s %s", conv, x+1, s.Outcome, s.Code)
		}
		if err := rx.waitSeq(ctx, conv, s.Seq, time.Until(deadline)); err != nil {
			return fmt.Errorf("probe message %s seq %d sent via n%d not delivered on n%d: %w", conv, s.Seq, x+1, y+1, err)
		}
	}
	return nil
}
