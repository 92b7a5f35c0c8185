package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

type connectionsResult struct {
	Scenario string `json:"scenario"`
	Params   struct {
		Conns     int    `json:"conns"`
		Users     int    `json:"users"`
		SourceIPs int    `json:"source_ips"`
		Hold      string `json:"hold"`
		Nodes     int    `json:"nodes"`
	} `json:"params"`
	RegisterSeconds float64          `json:"register_s"`
	Connect         connectStats     `json:"connect"`
	Refused1013     int64            `json:"refused_1013"`
	OpenAfterHold   int              `json:"open_after_hold"`
	ClosedByServer  map[string]int64 `json:"closed_by_server"`
	Unexpected      int64            `json:"unexpected_frames"`
	RSSBeforeKB     int64            `json:"server_rss_before_kb,omitempty"`
	RSSAfterKB      int64            `json:"server_rss_after_kb,omitempty"`
	RSSClosedKB     int64            `json:"server_rss_after_close_kb,omitempty"`
	KBPerConn       float64          `json:"server_kb_per_conn,omitempty"`
	CPU             cpuUse           `json:"cpu_connect"`
	Pass            bool             `json:"pass"`
}

// runConnections opens --conns idle authenticated connections over
// --source-ips source addresses, holds them for --duration and, with --pid,
// reports the server's RSS per connection. Users are spread over groups of
// 10 so each session follows one conversation.
func runConnections(ctx context.Context, b *bench) (result, error) {
	cfg := b.cfg
	res := &connectionsResult{Scenario: "connections"}
	nUsers := cfg.users
	if nUsers == 0 {
		nUsers = min(cfg.conns, 100)
	}
	res.Params.Conns, res.Params.Users, res.Params.SourceIPs = cfg.conns, nUsers, cfg.sourceIPs
	res.Params.Hold, res.Params.Nodes = cfg.duration.String(), len(b.targets)
	t0 := time.Now()
	users, err := b.registerUsers(ctx, nUsers, "c")
	if err != nil {
		return nil, fail("register", err)
	}
	err = forEach(ctx, (nUsers+9)/10, cfg.concurrency, func(g int) error {
		_, err := b.createRoom(ctx, fmt.Sprintf("idle %s %d", b.prefix, g), users[g*10:min((g+1)*10, nUsers)])
		return err
	})
	if err != nil {
		return nil, fail("create rooms", err)
	}
	res.RegisterSeconds = sinceSec(t0)
	time.Sleep(time.Second) // let setup garbage settle before the baseline
	res.RSSBeforeKB = procRSSKB(cfg.pid)
	var unexpected atomic.Int64
	cpu0 := sampleCPU(cfg.pid)
	clients, st, err := b.connectAll(ctx, cfg.conns,
		func(i int) string { return users[i%nUsers].Token },
		func(int) handler { return func(*event) { unexpected.Add(1) } })
	res.CPU = cpu0.until(sampleCPU(cfg.pid))
	res.Connect = st
	if err != nil {
		return nil, fail("connect", err)
	}
	res.Refused1013 = st.Failed["close_1013"]
	res.OpenAfterHold = b.hold(ctx, clients)
	res.RSSAfterKB = procRSSKB(cfg.pid)
	b.prog.set("close", nil)
	res.ClosedByServer = closeAll(clients)
	res.Unexpected = unexpected.Load()
	if cfg.pid > 0 && res.RSSBeforeKB > 0 && st.Connected > 0 {
		res.KBPerConn = roundTo(float64(res.RSSAfterKB-res.RSSBeforeKB)/float64(st.Connected), 2)
		time.Sleep(2 * time.Second)
		res.RSSClosedKB = procRSSKB(cfg.pid)
	}
	res.Pass = len(res.failures()) == 0
	return res, nil
}

// hold keeps the connections open for --duration and returns how many are
// still open at the end.
func (b *bench) hold(ctx context.Context, clients []*wsClient) int {
	open := func() int {
		n := 0
		for _, c := range clients {
			if c != nil && !c.isDone() {
				n++
			}
		}
		return n
	}
	b.prog.set("hold", func() string {
		s := fmt.Sprintf("holding %d open connections", open())
		if kb := procRSSKB(b.cfg.pid); kb > 0 {
			s += fmt.Sprintf(", chatd RSS %.1f MiB", float64(kb)/1024)
		}
		return s
	})
	select {
	case <-ctx.Done():
	case <-time.After(b.cfg.duration):
	}
	return open()
}

// failures: every connection that got in must stay open while idle.
func (r *connectionsResult) failures() []string {
	if lost := r.Connect.Connected - r.OpenAfterHold; lost > 0 {
		return []string{fmt.Sprintf("%d idle connections were closed by the server during the hold", lost)}
	}
	return nil
}

func (r *connectionsResult) writeText(w io.Writer) {
	p := r.Params
	fmt.Fprintf(w, "== connections: %d idle connections, %d users, %d source addresses, hold %s, %d node(s)\n",
		p.Conns, p.Users, p.SourceIPs, p.Hold, p.Nodes)
	c := r.Connect
	fmt.Fprintf(w, "   connected %d/%d in %.1fs (%.0f/s); refused with 1013 (node full): %d; other failures: %s\n",
		c.Connected, c.Attempted, c.Seconds, c.PerSecond, r.Refused1013, formatCounts(without(c.Failed, "close_1013")))
	writeLatency(w, "dial->ready", c.ReadyMillis)
	fmt.Fprintf(w, "   open after hold %d; closed by server: %s; unexpected frames %d\n",
		r.OpenAfterHold, formatCounts(r.ClosedByServer), r.Unexpected)
	if r.RSSBeforeKB > 0 {
		fmt.Fprintf(w, "   chatd RSS: before %.1f MiB, with connections %.1f MiB => %.2f KB per connection; after close %.1f MiB\n",
			float64(r.RSSBeforeKB)/1024, float64(r.RSSAfterKB)/1024, r.KBPerConn, float64(r.RSSClosedKB)/1024)
	} else {
		fmt.Fprintln(w, "   chatd RSS: give --pid to measure")
	}
	writeCPU(w, r.CPU)
	writeVerdict(w, r.Pass)
}

func without(m map[string]int64, key string) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
