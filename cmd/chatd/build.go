package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/cluster"
	"github.com/actorchat/engine/gateway"
	"github.com/actorchat/engine/persistence"
	"github.com/actorchat/engine/persistence/mongo"
	"github.com/actorchat/engine/persistence/sqlite"
	"github.com/actorchat/engine/web"
)

// node is everything one chatd process runs.
type node struct {
	store   persistence.Store
	deps    *actors.Deps
	node    *cluster.Node
	gateway *gateway.Server
	ui      bool
	evicted chan string // the peer that evicted this node (cluster.Config.OnEvicted)
}

func build(ctx context.Context, cfg config, log *slog.Logger) (*node, error) {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	n := &node{store: store, evicted: make(chan string, 1)}
	if err := n.wire(cfg, log); err != nil {
		n.close(log)
		return nil, err
	}
	return n, nil
}

func (n *node) wire(cfg config, log *slog.Logger) error {
	secret, err := jwtSecret(cfg)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.deps, err = actors.NewDeps(actors.Deps{Store: n.store, Log: log, Metrics: actors.NewMetrics(reg), Encode: gateway.EncodeMessage,
		Config: actors.Config{MaxMembers: cfg.MaxMembers, PresenceMaxMembers: cfg.PresenceMax, RequestTimeout: cfg.GrainTimeout,
			PooledMailboxes: !cluster.Config{Provider: cfg.ClusterProvider}.Multi()}})
	if err != nil {
		return err
	}
	ccfg := cluster.Config{
		Name: cfg.ClusterName, Host: cfg.ClusterHost, Port: cfg.ClusterPort, Provider: cfg.ClusterProvider,
		Peers: cfg.ClusterPeers, AutoManagedPort: cfg.AutoManagedPort, EtcdEndpoints: cfg.EtcdEndpoints,
	}
	if cfg.EvictExit > 0 {
		ccfg.EvictAfter = cfg.EvictExit
		ccfg.OnEvicted = func(peer string) { n.evicted <- peer } // runs once
	}
	n.node, err = cluster.Start(ccfg, n.deps, log)
	if err != nil {
		return err
	}
	tokens, err := gateway.NewTokens(gateway.TokenConfig{Secret: secret, AccessTTL: cfg.AccessTTL})
	if err != nil {
		return err
	}
	accounts := gateway.NewAccounts(n.store, tokens, gateway.AccountsConfig{
		BcryptCost: cfg.BcryptCost, AuthRate: rate.Limit(float64(cfg.AuthPerMinute) / 60), AuthBurst: cfg.AuthPerMinute, RefreshGrace: cfg.RefreshGrace}, log)
	var static fs.FS
	if d := web.Dist(); d != nil {
		static, n.ui = d, true
	}
	n.gateway, err = gateway.NewServer(gateway.Config{
		AllowedOrigins: cfg.AllowedOrigins, MaxBodyBytes: cfg.MaxBodyBytes, MaxConnections: cfg.MaxConnections, GoroutineReaders: cfg.WSGoroutines, WriterPool: cfg.WSWriters,
		FrameRate: cfg.FrameRate, FrameBurst: cfg.FrameBurst, SendQueue: cfg.SendQueue, Limits: cfg.Limits,
	}, gateway.Deps{
		Accounts: accounts, Directory: n.store, Grains: n.node, Users: n.node, System: n.node.System, Actors: n.deps,
		Registry: reg, Static: static, Log: log, Ready: n.ready,
	})
	return err
}

// ready probes the store with a lookup that must answer "not found".
func (n *node) ready(ctx context.Context) error {
	_, err := n.store.UserByID(ctx, "readiness-probe")
	if errors.Is(err, persistence.ErrNotFound) {
		return nil
	}
	return err
}

// close takes the node out of the cluster while it still answers for its
// grains (peers stop routing here first), waits for the store calls in
// flight (writes complete and are acked), stops the actors, waits for the
// calls that came meanwhile, and closes the store.
func (n *node) close(log *slog.Logger) {
	if n.node != nil {
		n.node.Leave(5 * time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n.deps != nil {
		if err := n.deps.WaitStarted(ctx); err != nil {
			log.Warn("store calls still running at shutdown", "err", err)
		}
	}
	if n.node != nil {
		n.node.Stop(false)
	}
	last, cancelLast := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelLast()
	if n.deps != nil {
		if err := n.deps.WaitIdle(last); err != nil {
			log.Warn("store calls still running after leaving the cluster", "err", err)
		}
	}
	if err := n.store.Close(last); err != nil {
		log.Warn("store close", "err", err)
	}
}

func openStore(ctx context.Context, cfg config) (persistence.Store, error) {
	if cfg.Store == "mongo" {
		s, err := mongo.Open(ctx, mongo.Config{URI: cfg.MongoURI, Database: cfg.MongoDatabase})
		if err != nil {
			return nil, fmt.Errorf("open mongo store: %w", err)
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(cfg.DataDir, "chat.db"), CommitLinger: cfg.CommitLinger})
	if err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	return s, nil
}

// jwtSecret returns the configured secret, or the one generated on first
// start and kept (mode 0600) in the data dir. There is no built-in default.
func jwtSecret(cfg config) ([]byte, error) {
	if cfg.JWTSecret != "" {
		if len(cfg.JWTSecret) < 32 {
			return nil, errors.New("--jwt-secret must be at least 32 bytes")
		}
		return []byte(cfg.JWTSecret), nil
	}
	path := filepath.Join(cfg.DataDir, "jwt.secret")
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("%s holds fewer than 32 bytes", path)
	}
	if cfg.Store == "mongo" {
		// Every node of a cluster must share the secret: generating one per node would split logins.
		return nil, errors.New("with the mongo store set --jwt-secret (or CHAT_JWT_SECRET), shared by every node")
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(raw)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keep generated JWT secret: %w", err)
	}
	return []byte(secret), nil
}
