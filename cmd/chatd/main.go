// Command chatd runs one node of the chat engine: the HTTP/WebSocket gateway,
// the node's actors in a Proto.Actor cluster, and the store (embedded SQLite
// by default, MongoDB with --mongo-uri). It is the only code that reads flags
// and environment variables.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatd:", err)
		os.Exit(2)
	}
	log := newLogger(cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("chatd stopped", "err", err)
		if errors.Is(err, errEvicted) {
			os.Exit(exitPaused)
		}
		os.Exit(1)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// run builds the node, serves until ctx is done, then drains: stop
// accepting, close sockets with "reconnect elsewhere", let in-flight store
// writes finish, leave the cluster, close the store.
func run(ctx context.Context, cfg config, log *slog.Logger) error {
	n, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		n.close(log)
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	if cfg.ClusterProvider != "local" && cfg.PauseExit > 0 {
		go watchPauses(ctx, cfg.PauseExit, log)
	}
	if cfg.PprofListen != "" {
		go servePprof(cfg.PprofListen, log)
	}
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		sweepUploads(sweepCtx, n.store, cfg.UploadGrace, time.Hour, log)
	}()
	srv := &http.Server{Handler: n.gateway.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("chatd listening", "addr", ln.Addr().String(), "store", cfg.storeKind(), "cluster_address", n.node.Address(), "ui", n.ui,
		"max_connections", cfg.MaxConnections)
	if lim := openFileLimit(); lim > 0 && cfg.MaxConnections > lim-fdReserve {
		log.Warn("--max-connections leaves little room under the open-file limit: accepts may fail with too many open files",
			"max_connections", cfg.MaxConnections, "open_file_limit", lim)
	}

	select {
	case <-ctx.Done():
	case err = <-served:
		log.Error("http server failed", "err", err)
	case peer := <-n.evicted:
		err = fmt.Errorf("%w by %s", errEvicted, peer)
	}
	log.Info("draining")
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	if err := n.gateway.Drain(drainCtx); err != nil {
		log.Warn("websocket drain", "err", err)
	}
	stopSweep()
	<-swept
	n.close(log)
	log.Info("stopped")
	return err
}

// servePprof exposes the profiler on its own listener, never on the public one.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("pprof listening", "addr", addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Warn("pprof server stopped", "err", err)
	}
}

// exitPaused is chatd's exit status after it found itself paused too long,
// or evicted by a peer (errEvicted): a supervisor restarts it as a fresh member.
const exitPaused = 3

// errEvicted ends run after the eviction watch fired (--evict-exit): the
// node drains (clients reconnect elsewhere) and exits with exitPaused.
var errEvicted = errors.New("evicted from the cluster")

// watchPauses ends the process when a tick comes far later than scheduled:
// the process was stopped (SIGSTOP, a VM pause, a long GC or swap storm)
// for longer than the cluster's membership timeout. By then the other
// members have evicted this node, its grain activations are stale, and
// Proto.Actor never lets an evicted member back in; a supervisor restarts
// it as a fresh member and its clients reconnect elsewhere and sync.
func watchPauses(ctx context.Context, limit time.Duration, log *slog.Logger) {
	const tick = 250 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Monotonic clock: a paused process sees the whole pause here.
			now := time.Now()
			if gap := now.Sub(last); gap > limit+tick {
				log.Error("process was paused beyond the membership timeout: exiting so a supervisor restarts a fresh member",
					"paused_for", gap.String(), "limit", limit.String())
				os.Exit(exitPaused)
			}
			last = now
		}
	}
}
