package chaos

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Config describes a chaos run. The zero value of every field but Dir and
// Bin means the documented default.
type Config struct {
	Duration      time.Duration // run phase (workload + faults); default 60s
	Seed          int64         // seeds membership, client choices and the nemesis
	Nodes         int           // chatd nodes; default 3
	Provider      string        // membership: ProviderAutoManaged (default) or ProviderEtcd (needs Bin.Etcd)
	Clients       int           // users, one client each; default 24
	Conversations int           // group conversations; default 12
	MinMembers    int           // workload members per conversation; default 3
	MaxMembers    int           // default 5 (the probe user is a member of every conversation too)
	FaultInterval time.Duration // one fault starts every interval; default 10s
	Faults        []FaultKind   // kinds to inject; nil: kill, pause, store-pause; empty non-nil: none
	FinalBound    time.Duration // the final send must be acked within this; default 30s
	Client        ClientConfig
	Dir           string   // work directory: data dirs and process logs (required)
	Bin           Binaries // chatd and devstore (required)
	Log           io.Writer
	// Endpoints maps the nodes' WebSocket URLs to the URLs the workload
	// clients dial (a test puts a proxy in front of a node). Nil: direct.
	Endpoints func(ws []string) []string
	// BeforeHeal runs when the run phase is over, before healing.
	BeforeHeal func()
}

func (c Config) withDefaults() Config {
	if c.Duration <= 0 {
		c.Duration = 60 * time.Second
	}
	if c.Nodes <= 0 {
		c.Nodes = 3
	}
	if c.Clients <= 0 {
		c.Clients = 24
	}
	if c.Conversations <= 0 {
		c.Conversations = 12
	}
	if c.MinMembers <= 0 {
		c.MinMembers = 3
	}
	if c.MaxMembers < c.MinMembers {
		c.MaxMembers = max(c.MinMembers, 5)
	}
	if c.FaultInterval <= 0 {
		c.FaultInterval = 10 * time.Second
	}
	if c.Faults == nil {
		c.Faults = []FaultKind{FaultKill, FaultPause, FaultStorePause}
	}
	if c.FinalBound <= 0 {
		c.FinalBound = 30 * time.Second
	}
	return c
}

// Result is what a run recorded and found.
type Result struct {
	Config     Config         `json:"-"`
	Input      Input          `json:"-"`
	Violations []Violation    `json:"violations"`
	Figures    Figures        `json:"figures"`
	Faults     []*Fault       `json:"faults"`
	Journal    []JournalEntry `json:"journal"`
	Phases     Phases         `json:"phases"`
	HealErrors []string       `json:"healErrors,omitempty"`
	// LogTails are the last lines of every process log (kept for reports).
	LogTails string `json:"-"`
}

// Phases are wall-clock durations of a run's steps.
type Phases struct {
	Start time.Duration `json:"start"` // processes up, users and conversations, cluster formed
	Run   time.Duration `json:"run"`
	Heal  time.Duration `json:"heal"` // resume, readiness, probes, final phase
	Check time.Duration `json:"check"`
}

// Run starts a cluster, runs the workload with faults, heals, reads the
// store and checks every invariant. It kills every process it started
// before returning. An error means the harness could not do its job; the
// engine's failures are Result.Violations.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if cfg.Dir == "" || cfg.Bin.Chatd == "" || cfg.Bin.Devstore == "" {
		return nil, errors.New("chaos: Config.Dir and Config.Bin are required")
	}
	j := NewJournal(cfg.Log)
	res := &Result{Config: cfg}
	t0 := time.Now()
	j.Addf("phase", "start: %d nodes (%s), %d clients, %d conversations, seed %d", cfg.Nodes, cmp.Or(cfg.Provider, ProviderAutoManaged), cfg.Clients, cfg.Conversations, cfg.Seed)
	cl, err := StartCluster(ctx, ClusterConfig{Nodes: cfg.Nodes, Provider: cfg.Provider, Dir: cfg.Dir, Bin: cfg.Bin, Journal: j})
	if err != nil {
		return nil, err
	}
	defer func() {
		cl.Close()
		res.Journal = j.Entries()
	}()
	r := &runner{cfg: cfg, cl: cl, j: j, res: res}
	if err := r.run(ctx, t0); err != nil {
		res.LogTails = cl.LogTails(40)
		return res, err
	}
	return res, nil
}

// runner holds one run's moving parts.
type runner struct {
	cfg Config
	cl  *Cluster
	j   *Journal
	res *Result
	w   *workload

	healRestarts int // nodes the final heal restarted
}

func (r *runner) run(ctx context.Context, t0 time.Time) error {
	cfg, cl, j := r.cfg, r.cl, r.j
	var bases, ws []string
	for _, n := range cl.Nodes {
		bases, ws = append(bases, n.HTTP), append(ws, n.WS())
	}
	dial := ws
	if cfg.Endpoints != nil {
		dial = cfg.Endpoints(ws)
	}
	w, err := setupWorkload(ctx, cfg, bases, dial, j)
	if err != nil {
		return err
	}
	r.w = w
	// Probes always talk to the nodes themselves, never through Endpoints.
	probe := func(ctx context.Context, x, y int, limit time.Duration) error {
		return w.probeNode(ctx, ws, x, y, limit)
	}
	if err := r.formed(ctx, probe); err != nil {
		return err
	}
	r.res.Phases.Start = time.Since(t0)

	t1 := time.Now()
	j.Addf("phase", "run: %s, a fault every %s (%v)", cfg.Duration, cfg.FaultInterval, cfg.Faults)
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	clientCtx, stopClients := context.WithCancel(ctx)
	defer stopClients()
	if err := w.start(clientCtx); err != nil {
		return err
	}
	smp := newSampler(cl)
	smpCtx, stopSampler := context.WithCancel(ctx)
	defer stopSampler()
	go smp.run(smpCtx)
	nem := newNemesis(cl, cfg.Seed, cfg.Faults, cfg.FaultInterval, j, probe)
	var nemDone sync.WaitGroup
	nemDone.Add(1)
	go func() { defer nemDone.Done(); nem.run(runCtx) }()
	<-runCtx.Done()
	nemDone.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := w.stopSending(ctx, 5*time.Second); err != nil {
		j.Addf("phase", "stop sending: %v", err)
	}
	runEnd := time.Now()
	r.res.Phases.Run = runEnd.Sub(t1)
	if cfg.BeforeHeal != nil {
		cfg.BeforeHeal()
	}

	j.Addf("phase", "heal")
	if err := r.heal(ctx, probe); err != nil {
		r.res.HealErrors = append(r.res.HealErrors, err.Error())
		j.Addf("heal", "%v", err)
	}
	if err := w.finalPhase(ctx, cfg.FinalBound); err != nil {
		r.res.HealErrors = append(r.res.HealErrors, err.Error())
		j.Addf("heal", "final phase: %v", err)
	}
	w.close()
	stopClients()
	stopSampler()
	t2 := time.Now()
	r.res.Phases.Heal = t2.Sub(runEnd)

	store, err := r.readStore(ctx)
	if err != nil {
		return err
	}
	in := Input{Clients: w.histories(), Members: w.members, Store: store, Bound: cfg.FinalBound}
	r.res.Input = in
	r.res.Faults = nem.Faults()
	r.res.Violations = Check(in)
	r.res.Figures = computeFigures(in, r.res.Faults, w.convs, runEnd)
	r.res.Figures.HealerRestarts += r.healRestarts
	r.res.Figures.AcksPer10s, r.res.Figures.ConnectFailuresPer10s = timeline(in, t1, runEnd)
	r.res.Figures.CPU, r.res.Figures.LoadAvgMax = smp.stats()
	for _, p := range cl.Processes() {
		for _, e := range p.Exits() {
			if !e.Planned {
				r.res.Figures.UnplannedExits[p.Name]++
			}
		}
	}
	for _, n := range cl.LogCount("concurrent activation") {
		r.res.Figures.SeqConflicts += n
	}
	r.res.Phases.Check = time.Since(t2)
	if len(r.res.Violations) > 0 || len(r.res.HealErrors) > 0 {
		r.res.LogTails = cl.LogTails(40)
	}
	j.Addf("phase", "done: %d violations", len(r.res.Violations))
	return nil
}

// formed waits until every node passes a probe: the cluster has formed.
func (r *runner) formed(ctx context.Context, probe func(context.Context, int, int, time.Duration) error) error {
	deadline := time.Now().Add(90 * time.Second)
	n := len(r.cl.Nodes)
	for x := range n {
		for {
			err := probe(ctx, x, (x+1)%n, 15*time.Second)
			if err == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("cluster did not form: %w", err)
			}
			r.j.Addf("phase", "waiting for the cluster: %v", err)
			time.Sleep(500 * time.Millisecond)
		}
	}
	r.j.Addf("phase", "cluster formed: every node delivers to every other")
	return nil
}

// heal resumes whatever is stopped, waits for readiness and probes every
// node: first alone (connect, send, see its own message), then with each
// other node. A node that fails alone, or with every other node, is
// restarted; at most three rounds.
func (r *runner) heal(ctx context.Context, probe func(context.Context, int, int, time.Duration) error) error {
	for _, p := range r.cl.Processes() {
		if p.Paused() {
			r.j.Addf("heal", "SIGCONT %s", p.Name)
			_ = p.Resume()
		}
	}
	if err := r.cl.WaitStore(ctx, 60*time.Second); err != nil {
		return err
	}
	for round := 0; ; round++ {
		for _, n := range r.cl.Nodes {
			if err := r.cl.WaitReady(ctx, n, 60*time.Second); err != nil {
				return err
			}
		}
		bad := r.badNodes(ctx, probe)
		if len(bad) == 0 {
			r.j.Addf("heal", "every node ready and probed")
			return nil
		}
		if round == 2 {
			return fmt.Errorf("nodes still failing their probes after restarts: %v", bad)
		}
		for x, why := range bad {
			node := r.cl.Nodes[x]
			r.j.Addf("heal", "%s fails its probes (%v): restarting it", node.Name, why)
			r.healRestarts++
			up := node.Proc.UpChan()
			if _, err := node.Proc.Kill(500 * time.Millisecond); err == nil {
				<-up
			}
		}
	}
}

// badNodes probes every node alone, then (if all pass) with each other node.
func (r *runner) badNodes(ctx context.Context, probe func(context.Context, int, int, time.Duration) error) map[int]error {
	n := len(r.cl.Nodes)
	bad := map[int]error{}
	for x := range n {
		var err error
		for try := 0; try < 2; try++ {
			if err = probe(ctx, x, x, 15*time.Second); err == nil {
				break
			}
		}
		if err != nil {
			bad[x] = err
		}
	}
	if len(bad) > 0 || n == 1 {
		return bad
	}
	for x := range n {
		var err error
		for y := range n {
			if y == x {
				continue
			}
			if err = probe(ctx, x, y, 15*time.Second); err == nil {
				break
			}
		}
		if err != nil {
			bad[x] = err
		}
	}
	return bad
}

// readStore reads every conversation through REST (retrying a failed read
// on another node).
func (r *runner) readStore(ctx context.Context) (map[string][]StoredMessage, error) {
	out := map[string][]StoredMessage{}
	for i, conv := range r.w.convs {
		var err error
		for try := range 5 {
			node := r.cl.Nodes[(i+try)%len(r.cl.Nodes)]
			var msgs []StoredMessage
			if msgs, err = r.w.rest.readAll(ctx, node.HTTP, r.w.owners[conv], conv); err == nil {
				out[conv] = msgs
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			return nil, fmt.Errorf("read the store: %w", err)
		}
	}
	return out, nil
}
