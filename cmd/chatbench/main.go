// Command chatbench is a load generator for chatd that speaks only the
// documented wire protocol (docs/protocol.md): REST to register users and
// create conversations, JSON WebSockets to send and receive. It runs
// bounded scenarios (fanout, connections, bigroom, history) against one or
// more nodes on loopback addresses, prints a progress line every second to
// stderr, a summary and one JSON line per scenario to stdout, and exits 1
// when a delivery invariant fails (lost, duplicate or out-of-order
// messages), 2 on a usage or setup error.
//
// Goroutines: one progress printer; per WebSocket one reader; per sending
// connection one sender; bounded worker pools for setup.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// result is what one scenario reports.
type result interface {
	// writeText prints the human-readable summary.
	writeText(w io.Writer)
	// failures lists broken invariants; empty means the run passed.
	failures() []string
}

// scenarioFunc returns the runner of a scenario, nil for an unknown name.
func scenarioFunc(name string) func(context.Context, *bench) (result, error) {
	switch name {
	case "fanout":
		return runFanout
	case "connections":
		return runConnections
	case "bigroom":
		return runBigroom
	case "history":
		return runHistory
	case "floor":
		return runFloor
	}
	return nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "chatbench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	b, err := newBench(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "chatbench:", err)
		return 2
	}
	if cfg.cpuProfile != "" {
		stopProfile, err := startCPUProfile(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "chatbench:", err)
			return 2
		}
		defer stopProfile()
	}
	go b.prog.run(ctx)
	code := 0
	for _, name := range cfg.scenarios {
		b.prog.begin(name)
		res, err := scenarioFunc(name)(ctx, b)
		b.prog.set("", nil)
		if err != nil {
			fmt.Fprintf(stderr, "chatbench: %s: %v\n", name, err)
			return 2
		}
		if !cfg.jsonOnly {
			res.writeText(stdout)
		}
		line, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(line))
		if f := res.failures(); len(f) > 0 {
			fmt.Fprintf(stderr, "chatbench: %s: INVARIANT FAILED: %s\n", name, strings.Join(f, "; "))
			code = 1
		}
	}
	return code
}

// startCPUProfile profiles chatbench itself until the returned stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// bench is what every scenario shares: the nodes, the REST client, the
// source address pools, the run's name prefix and the progress printer.
type bench struct {
	cfg     *config
	targets []target
	rest    *restClient
	wsSrc   addrPool // source addresses of WebSockets
	regSrc  addrPool // source addresses of register requests
	prefix  string   // unique per run: user names and client message ids start with it
	prog    *progress
	regSlot atomic.Int64 // register attempts so far: attempt k leaves from regSrc.ip(k / perIP)
	pool    []*user      // users of --users-file and those registered by this run
	used    int          // pool[:used] belong to scenarios that ran already

	addConflicts atomic.Int64 // 409 answers to adding a member (see addMembers)
	added        atomic.Int64 // members added through the members endpoint
	addRetries   atomic.Int64 // member adds retried after unavailable/internal/transport
}

func newBench(cfg *config, stderr io.Writer) (*bench, error) {
	targets, err := parseTargets(cfg.urls)
	if err != nil {
		return nil, err
	}
	for i := range targets {
		targets[i].proto = cfg.frames == "proto"
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	return &bench{
		cfg:     cfg,
		targets: targets,
		rest:    newRESTClient(targets, max(cfg.concurrency, 4)),
		// 127.16.x.x-127.239.x.x; 127.0.x.x stays free for interactive use.
		wsSrc:  addrPool{second: 16 + rnd[0]%112},
		regSrc: addrPool{second: 128 + rnd[1]%112},
		prefix: "cb" + hex.EncodeToString(rnd[2:]),
		prog:   &progress{w: stderr, quiet: cfg.quiet},
	}, nil
}

// target returns the node of the i-th connection (round-robin).
func (b *bench) target(i int) target { return b.targets[i%len(b.targets)] }

// fail wraps a setup error with the scenario phase it happened in.
func fail(phase string, err error) error { return fmt.Errorf("%s: %w", phase, err) }

func sinceSec(t time.Time) float64 { return roundTo(time.Since(t).Seconds(), 3) }

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}
