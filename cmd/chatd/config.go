package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/actorchat/engine/gateway"
)

// config is every setting of chatd. Each flag has an environment variable
// (CHAT_ + upper-case flag name with '-' as '_'); a flag given on the command
// line wins over the environment.
type config struct {
	Listen         string
	DataDir        string
	Store          string // "sqlite" or "mongo"
	MongoURI       string
	MongoDatabase  string
	JWTSecret      string
	AllowedOrigins []string
	LogLevel       string
	DrainTimeout   time.Duration
	ClusterHost    string
	ClusterPort    int
	AccessTTL      time.Duration
	MaxBodyBytes   int
	MaxConnections int
	WSGoroutines   bool // a reader goroutine per WebSocket instead of the epoll poller
	WSWriters      int  // WebSocket writer pool size: 0 one per core, -1 none
	FrameRate      float64
	FrameBurst     int
	SendQueue      int
	AuthPerMinute  int
	BcryptCost     int
	CommitLinger   time.Duration // sqlite: see sqlite.Config.CommitLinger
	PprofListen    string
	Limits         gateway.Limits // per-user and per-connection limits
	MaxMembers     int
	PresenceMax    int
	UploadGrace    time.Duration // unreferenced uploads older than this are deleted (0: never)
	RefreshGrace   time.Duration // see gateway.AccountsConfig.RefreshGrace

	ClusterProvider string
	ClusterName     string
	ClusterPeers    []string
	AutoManagedPort int
	EtcdEndpoints   []string
	PauseExit       time.Duration
	EvictExit       time.Duration
	GrainTimeout    time.Duration
}

func (c config) storeKind() string { return c.Store }

func envFloat(v string, def float64) float64 {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f
	}
	return def
}

// parseConfig reads flags, falling back to environment variables.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	var origins string
	fs := flag.NewFlagSet("chatd", flag.ContinueOnError)
	env := func(name, def string) string {
		if v := getenv("CHAT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
			return v
		}
		return def
	}
	envDur := func(name string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(env(name, "")); err == nil {
			return d
		}
		return def
	}
	envInt := func(name string, def int) int {
		if n, err := strconv.Atoi(env(name, "")); err == nil {
			return n
		}
		return def
	}
	fs.StringVar(&c.Listen, "listen", env("listen", "127.0.0.1:8080"), "HTTP listen address")
	fs.StringVar(&c.DataDir, "data-dir", env("data-dir", "./data"), "directory for the SQLite store and the generated JWT secret")
	fs.StringVar(&c.Store, "store", env("store", ""), `store adapter: "sqlite" (default) or "mongo" (default when --mongo-uri is set)`)
	fs.StringVar(&c.MongoURI, "mongo-uri", env("mongo-uri", ""), "MongoDB URI for the mongo store")
	fs.StringVar(&c.MongoDatabase, "mongo-db", env("mongo-db", "chat"), "MongoDB database name")
	fs.StringVar(&c.JWTSecret, "jwt-secret", env("jwt-secret", ""), "JWT signing secret (>= 32 bytes); default: generated once and kept in the data dir")
	fs.StringVar(&origins, "allowed-origins", env("allowed-origins", ""), "comma-separated extra browser origins allowed to open WebSockets")
	fs.StringVar(&c.LogLevel, "log-level", env("log-level", "info"), "debug, info, warn or error")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", envDur("drain-timeout", 15*time.Second), "how long SIGTERM waits for sockets and writes")
	fs.StringVar(&c.ClusterHost, "cluster-host", env("cluster-host", "127.0.0.1"), "actor remoting bind host")
	fs.IntVar(&c.ClusterPort, "cluster-port", envInt("cluster-port", 0), "actor remoting port (0: any free port)")
	fs.DurationVar(&c.AccessTTL, "access-ttl", envDur("access-ttl", 15*time.Minute), "access token lifetime")
	fs.DurationVar(&c.RefreshGrace, "refresh-grace", envDur("refresh-grace", 30*time.Second), "a refresh token rotated this recently may be presented once more if its successor was never used (a lost answer); negative disables")
	fs.IntVar(&c.MaxBodyBytes, "max-body-bytes", envInt("max-body-bytes", 8192), "largest message body, in UTF-8 bytes")
	fs.BoolVar(&c.WSGoroutines, "ws-goroutine-readers", env("ws-goroutine-readers", "") == "true", "give every WebSocket a reader goroutine instead of waiting for idle sockets in one epoll set (Linux)")
	fs.IntVar(&c.WSWriters, "ws-writers", envInt("ws-writers", 0), "writer goroutines shared by all WebSockets (Linux): 0 one per core; -1 none, each busy connection starts its own")
	fs.IntVar(&c.MaxConnections, "max-connections", envInt("max-connections", 0), "WebSockets this node accepts; 0: the open-file limit minus 2000")
	fs.Float64Var(&c.FrameRate, "ws-frame-rate", envFloat(env("ws-frame-rate", ""), 50), "inbound WebSocket frames per second per connection")
	fs.IntVar(&c.FrameBurst, "ws-frame-burst", envInt("ws-frame-burst", 100), "burst of inbound frames per connection")
	fs.IntVar(&c.SendQueue, "ws-send-queue", envInt("ws-send-queue", 1024), "outbound frames queued per connection, while it does not read, before it is dropped as a slow consumer (8x while it keeps up)")
	fs.DurationVar(&c.CommitLinger, "sqlite-commit-linger", envDur("sqlite-commit-linger", 0), "sqlite: under sustained load, how long a commit waits for more messages to share it (0: never; 1ms takes 8-10% of CPU off at high rates for 1.5-2.5 ms more latency there, nothing at low rates)")
	fs.IntVar(&c.BcryptCost, "bcrypt-cost", envInt("bcrypt-cost", 10), "password hashing cost of new passwords (4-31); lower it only for load tests that register thousands of users")
	fs.IntVar(&c.AuthPerMinute, "auth-rate", envInt("auth-rate", 10), "login and register requests per minute per client IP (burst the same)")
	var peers, etcdEndpoints string
	fs.StringVar(&c.ClusterProvider, "cluster-provider", env("cluster-provider", "local"), "membership: local (single node), automanaged (fixed peers) or etcd")
	fs.StringVar(&c.ClusterName, "cluster-name", env("cluster-name", "chat"), "cluster name; every node must agree")
	fs.StringVar(&peers, "cluster-peers", env("cluster-peers", ""), "automanaged: comma-separated host:port of every node's automanaged endpoint, this one included")
	fs.IntVar(&c.AutoManagedPort, "automanaged-port", envInt("automanaged-port", 0), "automanaged: this node's membership endpoint port")
	fs.StringVar(&etcdEndpoints, "etcd-endpoints", env("etcd-endpoints", ""), "etcd: comma-separated endpoints")
	fs.DurationVar(&c.PauseExit, "pause-exit", envDur("pause-exit", 3*time.Second), "in a multi-node cluster, exit (status 3) when the process finds it was paused or starved for longer than this: the other nodes have evicted it and will not let it back in, so it must restart (0 disables)")
	fs.DurationVar(&c.EvictExit, "evict-exit", envDur("evict-exit", 10*time.Second), "in a multi-node cluster, drain and exit (status 3) when the peers dropped this node without a long pause (they will never let its member id back in, so it must restart as a fresh member): automanaged, 3s after it and a live peer stop listing each other if it is the node fewer peers list; etcd, when a peer in its view has answered for this long that it does not list it, or 3s after its own view dropped it; no check in the node's first 10s (0 disables)")
	fs.DurationVar(&c.GrainTimeout, "grain-timeout", envDur("grain-timeout", 0), "how long a session waits for a conversation grain to answer a send before answering unavailable (default 5s single node, 2s in a cluster, where a grain on a dead node must fail over fast)")
	fs.StringVar(&c.PprofListen, "pprof-listen", env("pprof-listen", ""), "address for net/http/pprof (off when empty; keep it on loopback)")
	l := &c.Limits
	fs.Float64Var(&l.SendRate, "send-rate", envFloat(env("send-rate", ""), 20), "sends, edits, deletes and reactions per second per connection")
	fs.IntVar(&l.SendBurst, "send-burst", envInt("send-burst", 50), "burst of sends per connection")
	fs.Float64Var(&l.UserSendRate, "user-send-rate", envFloat(env("user-send-rate", ""), 50), "sends per second per user on this node (all connections)")
	fs.IntVar(&l.UserSendBurst, "user-send-burst", envInt("user-send-burst", 100), "burst of sends per user on this node")
	fs.Float64Var(&l.TypingRate, "typing-rate", envFloat(env("typing-rate", ""), 2), "typing frames per second per connection")
	fs.IntVar(&l.TypingBurst, "typing-burst", envInt("typing-burst", 5), "burst of typing frames per connection")
	fs.Float64Var(&l.UserTypingRate, "user-typing-rate", envFloat(env("user-typing-rate", ""), 4), "typing frames per second per user on this node")
	fs.IntVar(&l.UserTypingBurst, "user-typing-burst", envInt("user-typing-burst", 10), "burst of typing frames per user on this node")
	fs.Float64Var(&l.UploadRate, "upload-rate", envFloat(env("upload-rate", ""), 0.5), "uploads (files, avatars) per second per user on this node")
	fs.IntVar(&l.UploadBurst, "upload-burst", envInt("upload-burst", 5), "burst of uploads per user on this node")
	fs.IntVar(&l.MaxConnsPerUser, "max-conns-per-user", envInt("max-conns-per-user", 20), "WebSockets per user on this node; more are closed with 4004")
	fs.Int64Var(&l.MaxUploadBytes, "max-upload-bytes", int64(envInt("max-upload-bytes", 10<<20)), "largest uploaded file, in bytes")
	fs.IntVar(&c.MaxMembers, "max-members", envInt("max-members", 10000), "members per conversation")
	fs.DurationVar(&c.UploadGrace, "upload-grace", envDur("upload-grace", 24*time.Hour), "uploads no message carries and no avatar uses are deleted this long after upload (hourly sweep; 0 disables; the leftovers of uploads that died are swept after a day regardless)")
	fs.IntVar(&c.PresenceMax, "presence-max-members", envInt("presence-max-members", 100), "presence and avatar changes are pushed in conversations up to this size (bigger rooms: GET /api/presence)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.GrainTimeout <= 0 {
		c.GrainTimeout = 5 * time.Second
		if c.ClusterProvider != "local" {
			c.GrainTimeout = 2 * time.Second
		}
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = connectionBudget(openFileLimit())
	}
	c.AllowedOrigins = splitList(origins)
	c.ClusterPeers = splitList(peers)
	c.EtcdEndpoints = splitList(etcdEndpoints)
	if c.Store == "" {
		c.Store = "sqlite"
		if c.MongoURI != "" {
			c.Store = "mongo"
		}
	}
	switch {
	case c.Store != "sqlite" && c.Store != "mongo":
		return c, fmt.Errorf("--store must be sqlite or mongo, not %q", c.Store)
	case c.Store == "mongo" && c.MongoURI == "":
		return c, fmt.Errorf("--store mongo needs --mongo-uri (or CHAT_MONGO_URI)")
	case c.ClusterProvider != "local" && c.Store != "mongo":
		return c, fmt.Errorf("a multi-node cluster (--cluster-provider %s) needs the mongo store: every node must see the same data; set --mongo-uri", c.ClusterProvider)
	}
	return c, nil
}

func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
