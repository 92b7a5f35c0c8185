package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// ClientConfig tunes a workload client. Zero fields take the defaults.
type ClientConfig struct {
	SendMin, SendMax  time.Duration // pause between two sends; default 500ms..1500ms (see Config)
	AttemptTimeout    time.Duration // no answer this long: outcome unknown, retry; default 3s
	MaxAttempts       int           // attempts per message before giving up (unknown); default 8
	SyncTimeout       time.Duration // a sync unanswered this long drops the connection; default 10s
	ConnectTimeout    time.Duration // dial + auth + ready; default 8s
	DropAfterTimeouts int           // consecutive send timeouts that drop the connection; default 2
}

func (c ClientConfig) withDefaults() ClientConfig {
	if c.SendMin <= 0 {
		c.SendMin = 500 * time.Millisecond
	}
	if c.SendMax < c.SendMin {
		c.SendMax = max(c.SendMin, 1500*time.Millisecond)
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 3 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.SyncTimeout <= 0 {
		c.SyncTimeout = 10 * time.Second
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 8 * time.Second
	}
	if c.DropAfterTimeouts <= 0 {
		c.DropAfterTimeouts = 2
	}
	return c
}

// client is one user's WebSocket client. Its loop goroutine owns every
// field below cmds and the history; other goroutines talk to it only
// through commands (do).
type client struct {
	cfg     ClientConfig
	acct    *Account
	nodes   []string // WebSocket URLs
	pinned  bool     // reconnect to nodes[0] only (probes)
	resync  bool     // sync every conversation from its contiguous seq on (re)connect
	relogin func(ctx context.Context, a *Account) error
	rng     *rand.Rand
	cmds    chan *command
	exited  chan struct{} // closed when loop returns

	hist     *ClientHistory
	phase    string
	next     int // index of the next node to connect to
	conn     *liveConn
	closed   bool
	recv     map[string]*seqSet // per conversation, union over connections
	attempts map[string]attemptRef
	syncByID map[string]*SyncRecord
	op       *opState
	auto     bool
	nextSend time.Time
	cmd      *command
	nReq     int
	nMsg     int
	nConn    int
	events   int
}

// liveConn is the client's current connection and its per-connection state.
type liveConn struct {
	*wsConn
	node     int
	rec      *Connection
	syncs    map[string]*SyncRecord // outstanding sync per conversation
	queued   map[string]int64       // sync to send after the outstanding one
	retryAt  map[string]time.Time   // a failed sync is retried then (afterSeq in queued)
	gapSync  map[string]time.Time   // last sync started because of a seq jump
	got      map[string]*seqSet     // seqs delivered on this connection
	timeouts int                    // consecutive send timeouts
}

func newClient(cfg ClientConfig, idx int, acct *Account, convs []string, nodes []string, seed uint64) *client {
	return &client{
		cfg: cfg.withDefaults(), acct: acct, nodes: nodes, resync: true,
		rng:  rand.New(rand.NewPCG(seed, uint64(idx)+1)),
		cmds: make(chan *command), exited: make(chan struct{}),
		hist: &ClientHistory{Client: idx, UserID: acct.ID, Username: acct.Username,
			Conversations: append([]string(nil), convs...)},
		phase: phaseRun, next: idx % len(nodes),
		recv: map[string]*seqSet{}, attempts: map[string]attemptRef{}, syncByID: map[string]*SyncRecord{},
	}
}

// loop runs until the client is closed or ctx ends.
func (c *client) loop(ctx context.Context) {
	defer close(c.exited)
	defer c.shutdown()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	fails := 0
	for ctx.Err() == nil && !c.closed {
		if c.conn == nil {
			if err := c.connect(ctx); err != nil {
				fails++
				c.progress(time.Now())
				c.pause(ctx, reconnectDelay(c.rng, fails))
				continue
			}
			fails = 0
		}
		var cmds chan *command
		if c.cmd == nil {
			cmds = c.cmds
		}
		select {
		case <-ctx.Done():
			return
		case m, ok := <-c.conn.in:
			switch {
			case !ok:
				c.drop("reader ended")
			case m.err != nil:
				c.drop(describeReadErr(m.err))
			default:
				c.handle(m)
			}
		case cmd := <-cmds:
			c.begin(cmd)
		case <-tick.C:
		}
		c.progress(time.Now())
	}
}

// reconnectDelay is the web client's reconnect backoff (web/src/lib/socket.ts):
// uniform in [cap/2, cap], cap = min(15s, 500ms·2^(n-1)).
func reconnectDelay(rng *rand.Rand, n int) time.Duration {
	capd := 500 * time.Millisecond
	for i := 1; i < n && capd < 15*time.Second; i++ {
		capd *= 2
	}
	capd = min(capd, 15*time.Second)
	return capd/2 + time.Duration(rng.Int64N(int64(capd/2)+1))
}

// pause waits d while still accepting commands; a reconnect command ends
// the wait at once.
func (c *client) pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		var cmds chan *command
		if c.cmd == nil {
			cmds = c.cmds
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			return
		case cmd := <-cmds:
			c.begin(cmd)
			c.progress(time.Now())
			if c.closed || cmd.kind == cmdReconnect {
				return
			}
		}
	}
}

func describeReadErr(err error) string {
	if code := closeCode(err); code != 0 {
		return fmt.Sprintf("close %d", code)
	}
	return "read: " + err.Error()
}

// connect opens a connection to the next node (round-robin unless pinned).
func (c *client) connect(ctx context.Context) error {
	node := c.next % len(c.nodes)
	if !c.pinned {
		c.next++
	}
	ws, early, err := dialWS(ctx, c.nodes[node], c.acct.Token, c.cfg.ConnectTimeout)
	if err != nil {
		c.hist.Failures = append(c.hist.Failures, ConnectFailure{At: time.Now(), Node: node, Err: err.Error()})
		if closeCode(err) == 4001 && c.relogin != nil {
			_ = c.relogin(ctx, c.acct)
		}
		return err
	}
	c.nConn++
	rec := &Connection{ID: fmt.Sprintf("c%d.%d", c.hist.Client, c.nConn), Node: node, Opened: time.Now(), Phase: c.phase}
	c.hist.Conns = append(c.hist.Conns, rec)
	c.conn = &liveConn{wsConn: ws, node: node, rec: rec,
		syncs: map[string]*SyncRecord{}, queued: map[string]int64{}, retryAt: map[string]time.Time{},
		gapSync: map[string]time.Time{}, got: map[string]*seqSet{}}
	for _, m := range early {
		c.handle(m)
	}
	if c.resync {
		for _, conv := range c.hist.Conversations {
			c.requestSync(conv, c.contig(conv))
		}
	}
	c.onConnected()
	return nil
}

// drop ends the current connection: what was in flight on it is lost.
func (c *client) drop(reason string) {
	lc := c.conn
	if lc == nil {
		return
	}
	c.conn = nil
	lc.close()
	now := time.Now()
	lc.rec.Closed, lc.rec.CloseReason = now, reason
	for _, rec := range lc.syncs {
		if rec.Result == "" {
			rec.Result, rec.End, rec.EndIndex = SyncLost, now, c.nextEvent()
		}
	}
	if op := c.op; op != nil && op.cur != nil && op.cur.Conn == lc.rec.ID {
		op.cur.Result, op.cur.End = ResultLost, now
		op.cur = nil
		c.scheduleRetry(now)
	}
}

// shutdown closes the connection and decides what is still open.
func (c *client) shutdown() {
	c.drop("client stopped")
	if c.op != nil {
		c.decide(c.op.send, OutcomeUnknown, time.Now())
		c.finishOp()
	}
	if c.cmd != nil {
		c.reply(errStopped)
	}
}

func (c *client) nextEvent() int {
	c.events++
	return c.events
}

func (c *client) contig(conv string) int64 {
	if s := c.recv[conv]; s != nil {
		return s.contig
	}
	return 0
}

// backoff is base·2^(n-1), capped, with ±50% jitter.
func backoff(rng *rand.Rand, n int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return time.Duration(float64(d) * (0.5 + rng.Float64()))
}

// seqSet is a set of seqs with its highest contiguous prefix 1..contig.
type seqSet struct {
	has    map[int64]bool
	contig int64
}

func (s *seqSet) add(seq int64) {
	if s.has == nil {
		s.has = map[int64]bool{}
	}
	s.has[seq] = true
	for s.has[s.contig+1] {
		s.contig++
	}
}

func setOf(m map[string]*seqSet, conv string) *seqSet {
	s := m[conv]
	if s == nil {
		s = &seqSet{}
		m[conv] = s
	}
	return s
}
