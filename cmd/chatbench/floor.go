package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// floorResult is the machine's floor under bigroom: how long writing one
// small frame to each of N loopback sockets and reading it on the other
// end takes, with no chat server involved (both ends in this process, one
// reader goroutine per socket, as the load generator reads, and one writer
// per core). A room of N members cannot reach its last member faster than
// this on the same machine.
type floorResult struct {
	Scenario string `json:"scenario"`
	Params   struct {
		Sockets int `json:"sockets"`
		Rounds  int `json:"rounds"`
		Writers int `json:"writers"`
		Bytes   int `json:"frame_bytes"`
	} `json:"params"`
	AllSockets    latencySummary `json:"write_to_all_read"`
	MicrosPerSock float64        `json:"p50_us_per_socket"`
	Missing       int64          `json:"missing"` // frames not read within 10 s of a round
}

func (r *floorResult) failures() []string {
	if r.Missing > 0 {
		return []string{fmt.Sprintf("%d frames not read", r.Missing)}
	}
	return nil
}

func (r *floorResult) writeText(w io.Writer) {
	p := r.Params
	fmt.Fprintf(w, "== floor: one %d-byte frame to each of %d loopback sockets and read back, %d rounds, %d writers (no server)\n",
		p.Bytes, p.Sockets, p.Rounds, p.Writers)
	writeLatency(w, "write->all read", r.AllSockets)
	fmt.Fprintf(w, "   %.1f µs per socket at p50; missing %d\n", r.MicrosPerSock, r.Missing)
}

// runFloor measures the floor with --members sockets (default 1000; two
// descriptors each, so at most ~9,900 under a 20,000 open-file limit) and
// --messages rounds (default 20), --interval apart.
func runFloor(ctx context.Context, b *bench) (result, error) {
	n, rounds := b.cfg.membersOr(1000), b.cfg.messagesOr(20)
	res := &floorResult{Scenario: "floor"}
	res.Params.Sockets, res.Params.Rounds, res.Params.Writers, res.Params.Bytes = n, rounds, runtime.GOMAXPROCS(0), 120
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	var servers, clients []net.Conn
	defer func() {
		for _, c := range append(servers, clients...) {
			_ = c.Close()
		}
	}()
	var pending atomic.Int64
	var round sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return nil, fail(fmt.Sprintf("dial socket %d", i), err)
		}
		clients = append(clients, c)
		s, err := ln.Accept()
		if err != nil {
			return nil, fail("accept", err)
		}
		servers = append(servers, s)
		go func(c net.Conn) {
			buf := make([]byte, 512)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				pending.Add(-1)
				round.Done()
			}
		}(c)
	}
	b.prog.set("floor", func() string { return fmt.Sprintf("%d sockets, round in flight: %d unread", n, pending.Load()) })
	frame := make([]byte, res.Params.Bytes)
	var h histogram
	for range rounds {
		pending.Store(int64(n))
		round.Add(n)
		start := time.Now()
		for w := range res.Params.Writers {
			go func() {
				for i := w; i < n; i += res.Params.Writers {
					_ = servers[i].SetWriteDeadline(time.Now().Add(10 * time.Second))
					_, _ = servers[i].Write(frame)
				}
			}()
		}
		done := make(chan struct{})
		go func() { round.Wait(); close(done) }()
		select {
		case <-done:
			h.Record(int64(time.Since(start)))
		case <-time.After(10 * time.Second):
			res.Missing += pending.Load()
			res.AllSockets = h.Summary()
			return res, nil // the readers still owe Done calls: stop measuring
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		time.Sleep(b.cfg.interval)
	}
	res.AllSockets = h.Summary()
	res.MicrosPerSock = roundTo(res.AllSockets.P50Ms*1000/float64(n), 1)
	return res, nil
}
