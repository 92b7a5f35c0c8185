package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// FaultKind names a fault the nemesis injects.
type FaultKind string

// Fault kinds.
const (
	// FaultKill: SIGKILL a node, restart it after 1–3 s.
	FaultKill FaultKind = "kill"
	// FaultPause: SIGSTOP a node past the membership timeout (4–6 s), SIGCONT.
	FaultPause FaultKind = "pause"
	// FaultShortPause: SIGSTOP a node for 2.55–2.9 s, SIGCONT: longer than
	// the peers' 2 s health timeout plus their 500 ms poll interval, so they
	// drop it, but below chatd's --pause-exit, so only its eviction watch
	// (--evict-exit) mends the split that follows.
	FaultShortPause FaultKind = "short-pause"
	// FaultStorePause: SIGSTOP the store for 2–4 s, SIGCONT.
	FaultStorePause FaultKind = "store-pause"
	// FaultStoreKill: SIGKILL the store, restart it on the same data and port after 1–2 s.
	FaultStoreKill FaultKind = "store-kill"
	// FaultRestart: SIGTERM a node, as a rolling restart does: it drains
	// (closes its WebSockets with 1001, finishes its writes, leaves the
	// cluster) and exits; it starts again 1–2 s later.
	FaultRestart FaultKind = "restart"
)

// AllFaults are the kinds ParseFaults accepts.
var AllFaults = []FaultKind{FaultKill, FaultPause, FaultShortPause, FaultStorePause, FaultStoreKill, FaultRestart}

// ParseFaults parses a comma-separated list of fault kinds.
func ParseFaults(s string) ([]FaultKind, error) {
	var out []FaultKind
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ok := false
		for _, k := range AllFaults {
			if FaultKind(f) == k {
				out, ok = append(out, k), true
			}
		}
		if !ok {
			return nil, fmt.Errorf("unknown fault %q (kill, pause, short-pause, store-pause, store-kill, restart)", f)
		}
	}
	return out, nil
}

// Fault is one injected fault and how the cluster came back.
type Fault struct {
	Kind   FaultKind     `json:"kind"`
	Target string        `json:"target"`
	Node   int           `json:"node"` // -1 for the store
	PID    int           `json:"pid"`
	At     time.Time     `json:"at"`   // signal sent
	Hold   time.Duration `json:"hold"` // pause length or restart delay
	// Resumed: SIGCONT sent, or the process restarted.
	Resumed time.Time `json:"resumed"`
	// Ready: /readyz answered again (nodes) or the store listens again.
	Ready time.Time `json:"ready"`
	// SelfExit: the paused node exited by itself after SIGCONT (status 3).
	SelfExit bool `json:"selfExit,omitempty"`
	// HealerRestart: the node stayed isolated after SIGCONT; the healer killed it.
	HealerRestart bool `json:"healerRestart,omitempty"`
	// ExitStatus: how a killed or restarted process ended (after SIGTERM, 0 is a clean drain; -1: a signal).
	ExitStatus *int     `json:"exitStatus,omitempty"`
	Notes      []string `json:"notes,omitempty"`
}

// nemesis injects one fault at a time, every interval, from a seeded deck.
type nemesis struct {
	cl       *Cluster
	rng      *rand.Rand
	kinds    []FaultKind
	interval time.Duration
	journal  *Journal
	probe    func(ctx context.Context, x, y int, limit time.Duration) error

	mu     sync.Mutex
	deck   []FaultKind
	faults []*Fault
}

func newNemesis(cl *Cluster, seed int64, kinds []FaultKind, interval time.Duration, j *Journal,
	probe func(ctx context.Context, x, y int, limit time.Duration) error) *nemesis {
	return &nemesis{cl: cl, rng: rand.New(rand.NewPCG(uint64(seed), 0xfa17)), kinds: kinds,
		interval: interval, journal: j, probe: probe}
}

// nextKind draws from a shuffled deck in which node kills count twice.
func (n *nemesis) nextKind() FaultKind {
	if len(n.deck) == 0 {
		for _, k := range n.kinds {
			n.deck = append(n.deck, k)
			if k == FaultKill {
				n.deck = append(n.deck, k)
			}
		}
		n.rng.Shuffle(len(n.deck), func(i, j int) { n.deck[i], n.deck[j] = n.deck[j], n.deck[i] })
	}
	k := n.deck[0]
	n.deck = n.deck[1:]
	return k
}

// run injects faults until ctx ends; the fault in progress at that moment
// is still recovered.
func (n *nemesis) run(ctx context.Context) {
	if len(n.kinds) == 0 {
		return
	}
	next := time.Now().Add(n.interval)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		next = next.Add(n.interval)
		n.inject(context.WithoutCancel(ctx), n.nextKind())
		if time.Until(next) < time.Second {
			next = time.Now().Add(time.Second)
		}
	}
}

func (n *nemesis) span(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(n.rng.Int64N(int64(hi-lo)+1))
}

func (n *nemesis) record(f *Fault) {
	n.mu.Lock()
	n.faults = append(n.faults, f)
	n.mu.Unlock()
}

// Faults returns every fault injected so far.
func (n *nemesis) Faults() []*Fault {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Fault(nil), n.faults...)
}

func (n *nemesis) inject(ctx context.Context, kind FaultKind) {
	f := &Fault{Kind: kind, Node: -1, Target: "store"}
	if kind == FaultKill || kind == FaultPause || kind == FaultShortPause || kind == FaultRestart {
		f.Node = n.rng.IntN(len(n.cl.Nodes))
		f.Target = n.cl.Nodes[f.Node].Name
	}
	var err error
	switch kind {
	case FaultKill:
		err = n.kill(ctx, f, n.cl.Nodes[f.Node].Proc, n.span(time.Second, 3*time.Second))
	case FaultStoreKill:
		err = n.kill(ctx, f, n.cl.Store, n.span(time.Second, 2*time.Second))
	case FaultRestart:
		err = n.restart(ctx, f, n.cl.Nodes[f.Node].Proc, n.span(time.Second, 2*time.Second))
	case FaultPause:
		err = n.pauseNode(ctx, f, n.span(4*time.Second, 6*time.Second), 3*time.Second)
	case FaultShortPause:
		// A split shows after the gossip heartbeat expiry; the watch then
		// restarts the node within seconds (cluster.Config.SplitAfter), or
		// after --evict-exit (10 s) if its peers just stop listing it.
		err = n.pauseNode(ctx, f, n.span(2550*time.Millisecond, 2900*time.Millisecond), 30*time.Second)
	case FaultStorePause:
		err = n.pause(f, n.cl.Store, n.span(2*time.Second, 4*time.Second))
		if err == nil {
			f.Ready = f.Resumed
		}
	}
	if err != nil {
		f.Notes = append(f.Notes, "error: "+err.Error())
		n.journal.Addf("fault", "%s %s: %v", kind, f.Target, err)
	}
	n.journal.Addf("fault", "%s %s done: back after %s%s", kind, f.Target, f.Ready.Sub(f.At).Round(time.Millisecond), noteText(f))
}

func noteText(f *Fault) string {
	if len(f.Notes) == 0 {
		return ""
	}
	return " (" + strings.Join(f.Notes, "; ") + ")"
}

// kill sends SIGKILL; the process's supervisor restarts it after delay.
func (n *nemesis) kill(ctx context.Context, f *Fault, p *Process, delay time.Duration) error {
	return n.end(ctx, f, p, delay, "SIGKILL", p.Kill, 30*time.Second)
}

// restartDrainLimit bounds a graceful stop: chatd's --drain-timeout (15 s)
// plus leaving the cluster and closing the store.
const restartDrainLimit = 30 * time.Second

// restart sends SIGTERM and waits for the node to drain, exit and start
// again (delay after it exits). Its exit is noted: a clean one has status 0.
func (n *nemesis) restart(ctx context.Context, f *Fault, p *Process, delay time.Duration) error {
	return n.end(ctx, f, p, delay, "SIGTERM", p.Terminate, restartDrainLimit)
}

// end signals p to end (signal sends it), waits up to limit past delay for
// the supervisor to start it again, and then until it serves.
func (n *nemesis) end(ctx context.Context, f *Fault, p *Process, delay time.Duration, name string,
	signal func(restartAfter time.Duration) (int, error), limit time.Duration) error {
	up := p.UpChan()
	pid, err := signal(delay)
	f.PID, f.At, f.Hold = pid, time.Now(), delay
	n.record(f)
	if err != nil {
		return err
	}
	n.journal.Addf("fault", "%s %s pid %d, restart %s after it exits", name, f.Target, pid, delay.Round(time.Millisecond))
	select {
	case <-up:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(delay + limit):
		return fmt.Errorf("%s did not end and restart within %s", p.Name, delay+limit)
	}
	for _, e := range p.Exits() {
		if e.PID == pid {
			how := fmt.Sprintf("exit status %d", e.Status)
			if e.Signal != "" {
				how = e.Signal
			}
			f.Notes = append(f.Notes, fmt.Sprintf("ended %s after %s: %s", e.At.Sub(f.At).Round(time.Millisecond), name, how))
			f.ExitStatus = &e.Status
		}
	}
	f.Resumed = time.Now()
	if err := n.waitBack(ctx, f); err != nil {
		return err
	}
	f.Ready = time.Now()
	return nil
}

// waitBack waits until the fault's target serves again.
func (n *nemesis) waitBack(ctx context.Context, f *Fault) error {
	if f.Node < 0 {
		return n.cl.WaitStore(ctx, 60*time.Second)
	}
	return n.cl.WaitReady(ctx, n.cl.Nodes[f.Node], 60*time.Second)
}

// pause sends SIGSTOP, waits hold, sends SIGCONT.
func (n *nemesis) pause(f *Fault, p *Process, hold time.Duration) error {
	pid, err := p.Pause()
	f.PID, f.At, f.Hold = pid, time.Now(), hold
	n.record(f)
	if err != nil {
		return err
	}
	n.journal.Addf("fault", "SIGSTOP %s pid %d for %s", f.Target, pid, hold.Round(time.Millisecond))
	time.Sleep(hold)
	err = p.Resume()
	f.Resumed = time.Now()
	n.journal.Addf("fault", "SIGCONT %s pid %d", f.Target, pid)
	return err
}

// pauseNode pauses a node for hold. Within exitWait after SIGCONT the node
// either exits by itself (chatd --pause-exit or --evict-exit; its
// supervisor restarts it) or stays: then it is probed, and restarted if the
// others no longer talk to it (a healer restart: a failure of the node's
// own watches).
func (n *nemesis) pauseNode(ctx context.Context, f *Fault, hold, exitWait time.Duration) error {
	node := n.cl.Nodes[f.Node]
	up := node.Proc.UpChan()
	if err := n.pause(f, node.Proc, hold); err != nil {
		return err
	}
	select {
	case <-up:
		f.SelfExit = true
	case <-time.After(exitWait):
	}
	if !f.SelfExit && exitedSince(node.Proc, f.PID) {
		f.SelfExit = true
		<-up
	}
	if f.SelfExit {
		f.Notes = append(f.Notes, fmt.Sprintf("exited by itself after SIGCONT (%s); restarted", exitText(node.Proc, f.PID)))
	}
	if err := n.waitBack(ctx, f); err != nil {
		return err
	}
	if !f.SelfExit && len(n.cl.Nodes) > 1 {
		if err := n.isolationCheck(ctx, f); err != nil {
			return err
		}
	}
	f.Ready = time.Now()
	return nil
}

// isolationCheck probes a resumed node and restarts it if it is cut off.
func (n *nemesis) isolationCheck(ctx context.Context, f *Fault) error {
	var err error
	for other := range n.cl.Nodes {
		if other == f.Node {
			continue
		}
		if err = n.probe(ctx, f.Node, other, 10*time.Second); err == nil || blamed(err) == other {
			return nil // fine, or the other node is the one in trouble
		}
	}
	node := n.cl.Nodes[f.Node]
	n.journal.Addf("heal", "%s isolated after SIGCONT (%v): restarting it", node.Name, err)
	f.HealerRestart = true
	f.Notes = append(f.Notes, "isolated after SIGCONT; restarted by the healer")
	up := node.Proc.UpChan()
	if _, err := node.Proc.Kill(500 * time.Millisecond); err != nil {
		return err
	}
	<-up
	return n.waitBack(ctx, f)
}

func exitedSince(p *Process, pid int) bool {
	for _, e := range p.Exits() {
		if e.PID == pid {
			return true
		}
	}
	return false
}

func exitText(p *Process, pid int) string {
	for _, e := range p.Exits() {
		if e.PID == pid {
			switch {
			case e.Signal != "":
				return "signal " + e.Signal
			case e.Status == ExitPaused:
				return fmt.Sprintf("status %d: chatd --pause-exit or --evict-exit", e.Status)
			}
			return fmt.Sprintf("status %d", e.Status)
		}
	}
	return "?"
}
