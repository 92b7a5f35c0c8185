package gateway

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// Limits are the per-user and per-connection limits of the gateway. Per-user
// limits count what one user does on this node (all their connections and
// requests here together); a user spread over n nodes gets up to n times
// them. Every refusal answers rate_limited and stores nothing. The zero value
// of every field means its documented default.
type Limits struct {
	// SendRate and SendBurst limit sends, edits, deletes and reactions per
	// connection. Defaults 20/s, burst 50.
	SendRate  float64
	SendBurst int
	// UserSendRate and UserSendBurst limit the same per user. Defaults 50/s, burst 100.
	UserSendRate  float64
	UserSendBurst int
	// TypingRate and TypingBurst limit typing frames per connection. Defaults 2/s, burst 5.
	TypingRate  float64
	TypingBurst int
	// UserTypingRate and UserTypingBurst limit typing frames per user. Defaults 4/s, burst 10.
	UserTypingRate  float64
	UserTypingBurst int
	// UploadRate and UploadBurst limit uploads (files and avatars) per user.
	// Defaults 0.5/s, burst 5.
	UploadRate  float64
	UploadBurst int
	// MaxConnsPerUser caps one user's WebSockets on this node; more are
	// refused with close code 4005. Default 20.
	MaxConnsPerUser int
	// MaxUploadBytes caps one uploaded file. Default 10 MiB.
	MaxUploadBytes int64
}

func (l Limits) withDefaults() Limits {
	rateDef := func(r *float64, b *int, dr float64, db int) {
		if *r <= 0 {
			*r = dr
		}
		if *b <= 0 {
			*b = db
		}
	}
	rateDef(&l.SendRate, &l.SendBurst, 20, 50)
	rateDef(&l.UserSendRate, &l.UserSendBurst, 50, 100)
	rateDef(&l.TypingRate, &l.TypingBurst, 2, 5)
	rateDef(&l.UserTypingRate, &l.UserTypingBurst, 4, 10)
	rateDef(&l.UploadRate, &l.UploadBurst, 0.5, 5)
	if l.MaxConnsPerUser <= 0 {
		l.MaxConnsPerUser = 20
	}
	if l.MaxUploadBytes <= 0 {
		l.MaxUploadBytes = 10 << 20
	}
	return l
}

// Validate reports limits that cannot work.
func (l Limits) Validate() error {
	for name, v := range map[string]float64{
		"SendRate": l.SendRate, "UserSendRate": l.UserSendRate, "TypingRate": l.TypingRate,
		"UserTypingRate": l.UserTypingRate, "UploadRate": l.UploadRate,
	} {
		if v < 0 {
			return fmt.Errorf("gateway: limit %s is negative", name)
		}
	}
	return nil
}

// CloseTooManyConns refuses a WebSocket beyond Limits.MaxConnsPerUser.
const CloseTooManyConns = 4005

// limitClass is what a client frame counts against.
type limitClass int

const (
	classNone   limitClass = iota
	classSend              // send, edit, delete, react, unreact
	classTyping            // typing
)

func classOf(frameType string) limitClass {
	switch frameType {
	case "send", "edit", "delete", "react", "unreact":
		return classSend
	case "typing":
		return classTyping
	}
	return classNone
}

// connLimits are one connection's limiters, each made on first use (an idle
// connection has none). Owned by its reader.
type connLimits struct {
	frames, send, typing *rate.Limiter
}

func (s *Server) frameLimiter(cl *connLimits) *rate.Limiter {
	if cl.frames == nil {
		cl.frames = rate.NewLimiter(rate.Limit(s.cfg.FrameRate), s.cfg.FrameBurst)
	}
	return cl.frames
}

// allowFrame reports whether a decoded frame is within its connection's and
// its user's limits; if not it returns the refusal to send. Called only from
// the connection's reader.
func (s *Server) allowFrame(cl *connLimits, userID string, f *inFrame) *frameError {
	var conn *rate.Limiter
	class := classOf(f.Type)
	l := s.cfg.Limits
	switch class {
	case classSend:
		if cl.send == nil {
			cl.send = rate.NewLimiter(rate.Limit(l.SendRate), l.SendBurst)
		}
		conn = cl.send
	case classTyping:
		if cl.typing == nil {
			cl.typing = rate.NewLimiter(rate.Limit(l.TypingRate), l.TypingBurst)
		}
		conn = cl.typing
	default:
		return nil
	}
	if !conn.Allow() || !s.users.allow(userID, class) {
		s.metrics.rateLimited.Inc()
		return &frameError{id: f.ID, code: CodeRateLimited, msg: "too many requests; slow down"}
	}
	return nil
}

// userLimits holds every user's limiters and connection count on this node.
// Entries of users without connections are swept after idleAfter.
type userLimits struct {
	cfg       Limits
	mu        sync.Mutex
	users     map[string]*userEntry
	lastSweep time.Time
}

type userEntry struct {
	send, typing, upload *rate.Limiter
	conns                int
	used                 time.Time
}

const idleAfter = 10 * time.Minute

func newUserLimits(cfg Limits) *userLimits {
	return &userLimits{cfg: cfg, users: map[string]*userEntry{}, lastSweep: time.Now()}
}

// entry returns the user's entry, creating it; mu must be held.
func (u *userLimits) entry(userID string, now time.Time) *userEntry {
	if now.Sub(u.lastSweep) > time.Minute {
		u.lastSweep = now
		for id, e := range u.users {
			if e.conns == 0 && now.Sub(e.used) > idleAfter {
				delete(u.users, id)
			}
		}
	}
	e := u.users[userID]
	if e == nil {
		c := u.cfg
		e = &userEntry{
			send:   rate.NewLimiter(rate.Limit(c.UserSendRate), c.UserSendBurst),
			typing: rate.NewLimiter(rate.Limit(c.UserTypingRate), c.UserTypingBurst),
			upload: rate.NewLimiter(rate.Limit(c.UploadRate), c.UploadBurst),
		}
		u.users[userID] = e
	}
	e.used = now
	return e
}

func (u *userLimits) allow(userID string, class limitClass) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.entry(userID, time.Now())
	switch class {
	case classSend:
		return e.send.Allow()
	case classTyping:
		return e.typing.Allow()
	}
	return true
}

// allowUpload reports whether the user may upload one more file now.
func (u *userLimits) allowUpload(userID string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.entry(userID, time.Now()).upload.Allow()
}

// connect counts a new connection of the user, unless the user is at
// MaxConnsPerUser; release undoes it.
func (u *userLimits) connect(userID string) (release func(), ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.entry(userID, time.Now())
	if e.conns >= u.cfg.MaxConnsPerUser {
		return nil, false
	}
	e.conns++
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			e.conns--
			e.used = time.Now()
			u.mu.Unlock()
		})
	}, true
}

// refuseTooMany tells a client over its user's connection cap why it is
// closed (a rate_limited error frame), then closes with 4005. Called before
// the connection's writer starts, so it writes directly.
func refuseTooMany(ws *websocket.Conn, timeout time.Duration) {
	_ = ws.SetWriteDeadline(time.Now().Add(timeout))
	frame, _ := json.Marshal(outError{Type: "error", Code: CodeRateLimited, Message: "too many connections for this user"})
	_ = ws.WriteMessage(websocket.TextMessage, frame)
	closeNow(ws, CloseTooManyConns, "too many connections for this user", timeout)
}
