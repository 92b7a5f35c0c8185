package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/actorchat/engine/actors"
)

// Config tunes the HTTP and WebSocket front. The zero value of every field
// means the documented default.
type Config struct {
	// AllowedOrigins lists extra browser origins ("https://chat.example.com")
	// allowed to open WebSockets; the server's own origin is always allowed.
	AllowedOrigins []string
	// ReadLimit caps one client frame in bytes; a larger frame closes the
	// connection with 1009. Default 64 KiB.
	ReadLimit int64
	// MaxBodyBytes caps a message body (UTF-8 bytes). Default 8 KiB.
	MaxBodyBytes int
	// AuthTimeout is how long a new socket may take to send its auth frame. Default 5s.
	AuthTimeout time.Duration
	// PingInterval is how often the server pings; a socket silent for two
	// intervals is closed. Default 25s.
	PingInterval time.Duration
	// WriteTimeout bounds one frame write. Default 10s.
	WriteTimeout time.Duration
	// SendQueue is the per-connection outbound queue, in frames; a client
	// that lets it fill is disconnected as a slow consumer. Default 1024.
	SendQueue int
	// FrameRate and FrameBurst limit inbound frames per connection. Defaults 50/s, 100.
	FrameRate  float64
	FrameBurst int
	// GoroutineReaders gives every WebSocket a reader goroutine instead of
	// waiting for idle sockets in one epoll set (Linux; see reader.go).
	GoroutineReaders bool
	// WriterPool is how many writer goroutines the WebSockets share (Linux,
	// plain TCP; see writepool.go). Default (0): GOMAXPROCS. Negative: none,
	// each connection starts a writer goroutine while it has frames to write.
	WriterPool int
	// MaxConnections caps this node's WebSockets; more are closed with 1013. Default 18000.
	MaxConnections int
	// MaxRESTBody caps REST request bodies. Default 64 KiB.
	MaxRESTBody int64
	// Limits are the per-user and per-connection rate and size limits.
	Limits Limits
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.ReadLimit <= 0 {
		c.ReadLimit = 64 << 10
	}
	if c.MaxRESTBody <= 0 {
		c.MaxRESTBody = 64 << 10
	}
	if c.FrameRate <= 0 {
		c.FrameRate = 50
	}
	def(&c.MaxBodyBytes, 8<<10)
	def(&c.SendQueue, 1024)
	def(&c.FrameBurst, 100)
	def(&c.MaxConnections, 18000)
	if c.WriterPool == 0 {
		c.WriterPool = runtime.GOMAXPROCS(0)
	}
	defDur(&c.AuthTimeout, 5*time.Second)
	defDur(&c.PingInterval, 25*time.Second)
	defDur(&c.WriteTimeout, 10*time.Second)
	c.Limits = c.Limits.withDefaults()
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	if int64(c.MaxBodyBytes) >= c.ReadLimit {
		return fmt.Errorf("gateway: MaxBodyBytes %d must be below ReadLimit %d", c.MaxBodyBytes, c.ReadLimit)
	}
	return c.Limits.Validate()
}

// Grains sends requests to conversation grains (the cluster node).
type Grains interface {
	Request(conversationID string, msg any) (any, error)
}

// UserGrains sends requests to user grains (the cluster node).
type UserGrains interface {
	RequestUser(userID string, msg any) (any, error)
}

// Deps is what the server is built from.
type Deps struct {
	Accounts  *Accounts
	Directory Directory
	Grains    Grains
	// Users answers presence queries; nil: GET /api/presence answers unavailable.
	Users    UserGrains
	System   *actor.ActorSystem
	Actors   *actors.Deps
	Registry *prometheus.Registry
	Static   fs.FS // the built SPA; nil serves no UI
	Log      *slog.Logger
	// Ready reports whether the store answers; used by /readyz.
	Ready func(ctx context.Context) error
}

// Server is the HTTP front: REST, WebSocket, health, metrics and the SPA.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *gatewayMetrics

	draining atomic.Bool
	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	wg       sync.WaitGroup // one per tracked WebSocket
	nextConn atomic.Uint64

	startPinger sync.Once
	stopPinger  chan struct{} // closed by Drain, once (endPinger)
	endPinger   sync.Once

	pollerOnce sync.Once
	poller     *poller // nil: a reader goroutine per connection
	writerOnce sync.Once
	writers    *writerPool // nil: a writer goroutine per busy connection

	writeBuffers sync.Pool // write buffers shared by idle connections
	batchBuffers sync.Pool // *[]byte for wsConn.writeBatch

	users *userLimits // per-user limiters and connection counts
}

// NewServer builds the server and its routes.
func NewServer(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Accounts == nil || deps.Directory == nil || deps.Grains == nil || deps.System == nil || deps.Actors == nil {
		return nil, errors.New("gateway: Accounts, Directory, Grains, System and Actors are required")
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg.withDefaults(), deps: deps, log: deps.Log, mux: http.NewServeMux(), conns: map[*wsConn]struct{}{}, stopPinger: make(chan struct{})}
	s.metrics = newGatewayMetrics(deps.Registry)
	s.users = newUserLimits(s.cfg.Limits)
	s.batchBuffers.New = func() any { b := make([]byte, 0, 4096); return &b }
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.deps.Accounts.Routes(s.mux)
	s.conversationRoutes()
	s.userRoutes()
	s.featureRoutes()
	s.mux.HandleFunc("GET /ws", s.handleWS)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{}))
	if s.deps.Static != nil {
		s.mux.Handle("GET /", spaHandler(s.deps.Static))
	}
}

// Handler returns the root handler with security headers.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		s.mux.ServeHTTP(w, r)
	})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeError(w, CodeUnavailable, "draining")
		return
	}
	if s.deps.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.deps.Ready(ctx); err != nil {
			writeError(w, CodeUnavailable, "store unavailable")
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Drain refuses new WebSockets, closes the open ones with 1001 ("reconnect
// elsewhere") and waits for their goroutines, or for ctx.
func (s *Server) Drain(ctx context.Context) error {
	s.draining.Store(true)
	s.mu.Lock()
	for c := range s.conns {
		c.shutdown(CloseGoingAway, "server shutting down: reconnect")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.endPinger.Do(func() { close(s.stopPinger) })
		s.pollerOnce.Do(func() {}) // no poller starts after the drain
		if s.poller != nil {
			s.poller.close()
		}
		s.writerOnce.Do(func() {})
		if s.writers != nil {
			s.writers.stop()
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain websockets: %w", ctx.Err())
	}
}

// writerPool is the server's pool of WebSocket writers, started with the
// first connection; nil when Config.WriterPool is negative or where
// non-blocking writes are not supported.
func (s *Server) writerPool() *writerPool {
	s.writerOnce.Do(func() {
		if s.cfg.WriterPool >= 0 && canWriteNow {
			s.writers = newWriterPool(s.cfg.WriterPool)
		}
	})
	return s.writers
}

// readPoller is the server's epoll poller, started with the first
// connection; nil with Config.GoroutineReaders or where there is none.
func (s *Server) readPoller() *poller {
	s.pollerOnce.Do(func() {
		if s.cfg.GoroutineReaders {
			return
		}
		p, err := newPoller()
		if err != nil {
			s.log.Warn("no epoll poller: one reader goroutine per connection", "err", err)
			return
		}
		s.poller = p
	})
	return s.poller
}

type gatewayMetrics struct {
	connections prometheus.Gauge
	refused     prometheus.Counter
	badFrames   prometheus.Counter
	rateLimited prometheus.Counter
}

func newGatewayMetrics(reg prometheus.Registerer) *gatewayMetrics {
	m := &gatewayMetrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chat_ws_connections", Help: "Open authenticated WebSockets."}),
		refused:     prometheus.NewCounter(prometheus.CounterOpts{Name: "chat_ws_refused_total", Help: "WebSockets refused (auth, origin, capacity)."}),
		badFrames:   prometheus.NewCounter(prometheus.CounterOpts{Name: "chat_ws_bad_frames_total", Help: "Client frames rejected as malformed or invalid."}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "chat_rate_limited_total", Help: "Requests refused by a per-user or per-connection limit."}),
	}
	reg.MustRegister(m.connections, m.refused, m.badFrames, m.rateLimited)
	return m
}
