package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/gorilla/websocket"

	"github.com/actorchat/engine/actors"
)

func (s *Server) upgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		ReadBufferSize:  0, // readBufferHijacker supplies the read buffer
		WriteBufferSize: 1024,
		WriteBufferPool: &s.writeBuffers,
		CheckOrigin:     s.checkOrigin,
		Subprotocols:    []string{SubprotocolProto},
	}
}

// checkOrigin allows requests without an Origin (non-browser clients), the
// server's own origin, and the configured allowlist.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, allowed := range s.cfg.AllowedOrigins {
		if allowed == "*" || strings.EqualFold(strings.TrimSuffix(allowed, "/"), origin) {
			return true
		}
	}
	return false
}

// handleWS upgrades, authenticates with the first frame and starts the
// session actor, then hands the socket to its reader (reader.go) and
// returns: net/http's goroutine, whose stack grew deep during the upgrade
// and the authentication, and its buffered reader and writer are released.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeError(w, CodeUnavailable, "server is shutting down")
		return
	}
	if !s.checkOrigin(r) {
		s.metrics.refused.Inc()
		writeError(w, CodeForbidden, "origin not allowed")
		return
	}
	hj := &readBufferHijacker{ResponseWriter: w, size: readBufferSize}
	ws, err := s.upgrader().Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := newWSConn(ws, &s.cfg, &s.batchBuffers, s.writerPool())
	if !s.track(c) {
		s.metrics.refused.Inc()
		closeNow(ws, CloseTryAgainLater, "node full: try another node", s.cfg.WriteTimeout)
		return
	}
	ws.SetReadLimit(s.cfg.ReadLimit)
	claims, ok := s.authenticate(ws)
	if !ok {
		s.metrics.refused.Inc()
		s.untrack(c)
		return
	}
	release, ok := s.users.connect(claims.UserID)
	if !ok {
		s.metrics.refused.Inc()
		s.metrics.rateLimited.Inc()
		refuseTooMany(ws, s.cfg.WriteTimeout)
		s.untrack(c)
		return
	}
	rd := &wsReader{s: s, c: c, br: hj.br, claims: claims, release: release}
	c.reader.Store(rd)
	ws.SetPongHandler(func(string) error {
		c.lastRead.Store(time.Now().UnixMilli())
		return ws.SetReadDeadline(time.Now().Add(2 * s.cfg.PingInterval))
	})
	c.nextPing.Store(time.Now().Add(s.cfg.PingInterval).UnixMilli())
	c.expires.Store(claims.ExpiresAt.UnixMilli())
	s.metrics.connections.Inc()
	connID := strconv.FormatUint(s.nextConn.Add(1), 36)
	rd.session = actors.SpawnSession(s.deps.System, s.deps.Actors, claims.UserID, connID, c)
	s.startReading(rd)
}

// track registers c unless the node is full or draining, and counts it in
// the drain's wait group until untrack.
func (s *Server) track(c *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) >= s.cfg.MaxConnections || s.draining.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.startPinger.Do(func() { go s.pingLoop() })
	return true
}

func (s *Server) untrack(c *wsConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// pingLoop is the server's one pinger: a few times per PingInterval it
// visits every connection, ends those whose token expired and queues a ping
// where one is due (so no connection needs a timer or goroutine of its own).
func (s *Server) pingLoop() {
	every := s.cfg.PingInterval
	t := time.NewTicker(max(every/4, time.Millisecond))
	defer t.Stop()
	var conns []*wsConn
	for {
		select {
		case <-s.stopPinger:
			return
		case now := <-t.C:
			s.mu.Lock()
			for c := range s.conns {
				conns = append(conns, c)
			}
			s.mu.Unlock()
			for _, c := range conns {
				c.tick(now, every)
			}
			clear(conns)
			conns = conns[:0]
		}
	}
}

func closeNow(ws *websocket.Conn, code int, text string, timeout time.Duration) {
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(timeout))
	_ = ws.Close()
}

// authenticate reads the first frame, which must be a valid auth frame.
func (s *Server) authenticate(ws *websocket.Conn) (Claims, bool) {
	_ = ws.SetReadDeadline(time.Now().Add(s.cfg.AuthTimeout))
	typ, data, err := ws.ReadMessage()
	if err != nil {
		var netErr interface{ Timeout() bool }
		if errors.As(err, &netErr) && netErr.Timeout() {
			closeNow(ws, CloseAuthTimeout, "auth frame expected", s.cfg.WriteTimeout)
		} else {
			_ = ws.Close()
		}
		return Claims{}, false
	}
	if typ != websocket.TextMessage {
		closeNow(ws, ClosePolicy, "text frames only", s.cfg.WriteTimeout)
		return Claims{}, false
	}
	f, fe := decodeFrame(data, s.cfg.MaxBodyBytes)
	if fe != nil || f.Type != "auth" || f.Token == "" {
		closeNow(ws, CloseUnauthorized, "first frame must be auth with a token", s.cfg.WriteTimeout)
		return Claims{}, false
	}
	claims, err := s.deps.Accounts.Verify(f.Token)
	if err != nil {
		closeNow(ws, CloseUnauthorized, "invalid or expired token", s.cfg.WriteTimeout)
		return Claims{}, false
	}
	return claims, true
}

// peekID returns the id of a frame refused before decoding, so the client
// can tell which request it was ("" when there is none to read).
func peekID(data []byte) string {
	var f struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &f) != nil || len(f.ID) > maxIDLen {
		return ""
	}
	return f.ID
}

// handleFrame processes one frame; false ends the connection.
func (s *Server) handleFrame(c *wsConn, session *actor.PID, claims Claims, data []byte, limits *connLimits) bool {
	f, fe := decodeFrame(data, s.cfg.MaxBodyBytes)
	if fe != nil {
		s.metrics.badFrames.Inc()
		c.enqueue(fe)
		return true
	}
	switch f.Type {
	case "ping":
		c.enqueue(&pong{id: f.ID})
	case "auth":
		// A fresh token for the same user extends the connection.
		next, err := s.deps.Accounts.Verify(f.Token)
		if err != nil || next.UserID != claims.UserID {
			c.shutdown(CloseUnauthorized, "invalid token")
			return false
		}
		c.expires.Store(next.ExpiresAt.UnixMilli())
		c.enqueue(&pong{id: f.ID})
	default:
		if time.Now().UnixMilli() > c.expires.Load() {
			c.shutdown(CloseUnauthorized, "token expired")
			return false
		}
		if fe := s.allowFrame(limits, claims.UserID, f); fe != nil {
			c.enqueue(fe)
			return true
		}
		s.deps.System.Root.Send(session, f.toActor())
	}
	return true
}
