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

// probeConversations is how many conversations the probe user joins. One
// suffices to show that a node delivers across the cluster (an isolated
// node can neither reach a grain elsewhere nor broadcast to other nodes);
// every membership costs each probe connection a LastSeq query, which the
// dev store answers with a collection scan.
const probeConversations = 3

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
	pconvs  []string            // the probe user's conversations
	members map[string][]string // conversation -> user ids (probe included)
	owners  map[string]*Account // conversation -> its owner (reads the store through REST)
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
		members: map[string][]string{}, owners: map[string]*Account{}}
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
		var names []string
		ids := []string{owner.ID}
		if i < probeConversations {
			names, ids = append(names, w.probe.Username), append(ids, w.probe.ID)
		}
		for _, k := range idx[1:] {
			names = append(names, w.users[k].Username)
			ids = append(ids, w.users[k].ID)
		}
		conv, err := w.rest.createGroup(ctx, bases[i%len(bases)], owner, fmt.Sprintf("chaos %d", i+1), names)
		if err != nil {
			return nil, fmt.Errorf("create conversation %d: %w", i+1, err)
		}
		w.convs = append(w.convs, conv)
		if i < probeConversations {
			w.pconvs = append(w.pconvs, conv)
		}
		w.members[conv] = ids
		w.owners[conv] = owner
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
	return w.eachLimited(ctx, len(w.clients), fn)
}

// eachLimited runs fn for every client, at most n at a time.
func (w *workload) eachLimited(ctx context.Context, n int, fn func(c *client) error) error {
	errs := make([]error, len(w.clients))
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	for i, c := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
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

// healConcurrency is how many clients reconnect and replay at once in the
// final phase. Every connection costs a LastSeq query per conversation and
// every replay a sorted page query, which the dev store answers with
// collection scans: 24 clients at once make sessions miss their 5s store
// deadline and fail (close 1011), and their retries feed the storm.
const healConcurrency = 4

// finalPhase: every client reconnects and syncs every conversation from 0
// (a few clients at a time), then all send one message that must be
// acknowledged within bound, then (after everyone sent) each syncs from its
// contiguous seq once more.
func (w *workload) finalPhase(ctx context.Context, bound time.Duration) error {
	step := func(what string, n int, fn func(c *client) error) error {
		w.journal.Addf("heal", "clients: %s", what)
		return w.eachLimited(ctx, n, fn)
	}
	if err := step("reconnect and sync every conversation from 0", healConcurrency, func(c *client) error {
		if err := c.reconnect(ctx, phaseHeal, 60*time.Second); err != nil {
			return err
		}
		return c.syncAll(ctx, true, 60*time.Second)
	}); err != nil {
		return err
	}
	if err := step("send the final message", len(w.clients), func(c *client) error {
		if len(c.hist.Conversations) == 0 {
			return nil
		}
		conv := c.hist.Conversations[c.rng.IntN(len(c.hist.Conversations))]
		_, err := c.sendOne(ctx, conv, true, bound)
		return err
	}); err != nil {
		return err
	}
	return step("final sync from the contiguous seq", len(w.clients), func(c *client) error { return c.syncAll(ctx, false, 60*time.Second) })
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

// probeError says which node a failed probe points at.
type probeError struct {
	node  int // the node at fault; -1 when the probe cannot tell
	stage string
	err   error
}

func (e *probeError) Error() string {
	who := "?"
	if e.node >= 0 {
		who = fmt.Sprintf("n%d", e.node+1)
	}
	return fmt.Sprintf("probe %s (%s): %v", e.stage, who, e.err)
}

// blamed returns the node a probe error points at, or -1.
func blamed(err error) int {
	var pe *probeError
	if errors.As(err, &pe) {
		return pe.node
	}
	return -1
}

// probeNode checks that node x works with node y: the probe user sends on
// each of its conversations through x, and each message must arrive live
// on a connection to y (x == y: on the sending connection). It catches a
// node the others no longer talk to.
func (w *workload) probeNode(ctx context.Context, ws []string, x, y int, limit time.Duration) error {
	newProbe := func(node int) *client {
		w.mu.Lock()
		w.nProbe++
		idx := 1000 + w.nProbe
		w.mu.Unlock()
		c := newClient(w.cfg, idx, w.probe, w.pconvs, []string{ws[node]}, w.seed)
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
	for i, c := range clients {
		node := y
		if i == 1 {
			node = x
		}
		if err := c.connected(ctx, time.Until(deadline)); err != nil {
			return &probeError{node: node, stage: "connect", err: err}
		}
	}
	for _, conv := range w.pconvs {
		s, err := tx.sendOne(ctx, conv, false, time.Until(deadline))
		if err == nil && s.Outcome != OutcomeAck {
			err = fmt.Errorf("send on %s: %s %s", conv, s.Outcome, s.Code)
		}
		if err != nil {
			return &probeError{node: x, stage: "send", err: err}
		}
		if err := rx.waitSeq(ctx, conv, s.Seq, time.Until(deadline)); err != nil {
			return &probeError{node: -1, stage: fmt.Sprintf("delivery n%d->n%d", x+1, y+1),
				err: fmt.Errorf("%s seq %d: %w", conv, s.Seq, err)}
		}
	}
	return nil
}
