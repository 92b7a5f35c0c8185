package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// This file holds the authentication primitives of the gateway: the bearer
// middleware and its context accessor, the refresh cookie, the credential
// rules and the per-IP limiter of login and register.

// msgNeedAccess is the message of a request without a valid access token.
const msgNeedAccess = "missing or invalid access token"

// accountsClaimsKey is the context key under which RequireAuth stores Claims.
type accountsClaimsKey struct{}

// RequireAuth lets a request through to next only with a valid
// "Authorization: Bearer <access token>" header, and makes the token's
// Claims available to next through UserFrom. Otherwise it answers 401 with
// code unauthorized.
func (a *Accounts) RequireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, err := a.bearerClaims(r)
		if err != nil {
			a.log.DebugContext(r.Context(), "access token rejected", "err", err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="chat"`)
			writeError(w, CodeUnauthorized, msgNeedAccess)
			return
		}
		ctx := context.WithValue(r.Context(), accountsClaimsKey{}, claims)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// UserFrom returns the Claims RequireAuth put into ctx.
func UserFrom(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(accountsClaimsKey{}).(Claims)
	return c, ok
}

// Verify checks an access token presented outside HTTP headers, such as in
// the WebSocket auth frame. Failures wrap ErrBadToken.
func (a *Accounts) Verify(token string) (Claims, error) {
	return a.tokens.VerifyAccess(token)
}

// bearerClaims verifies the bearer token of r.
func (a *Accounts) bearerClaims(r *http.Request) (Claims, error) {
	return a.tokens.VerifyAccess(bearerToken(r))
}

// bearerToken returns the token of an "Authorization: Bearer" header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// refreshTokenFrom returns the refresh token given in the body, else the
// one in the refresh cookie, else "".
func refreshTokenFrom(r *http.Request, fromBody string) string {
	if fromBody != "" {
		return fromBody
	}
	if c, err := r.Cookie(RefreshCookieName); err == nil {
		return c.Value
	}
	return ""
}

// setRefreshCookie hands the refresh token to the browser in a cookie that
// scripts cannot read, sent only to /api and only same-site, and only over
// TLS when the request came over TLS.
func setRefreshCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     RefreshCookieName,
		Value:    token,
		Path:     refreshCookiePath,
		Expires:  expires.UTC(),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// clearRefreshCookie tells the browser to drop the refresh cookie.
func clearRefreshCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     RefreshCookieName,
		Value:    "",
		Path:     refreshCookiePath,
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// allowAuthAttempt applies the per-IP login/register limit; when it is
// exceeded it answers 429 and returns false.
func (a *Accounts) allowAuthAttempt(w http.ResponseWriter, r *http.Request) bool {
	if a.limiter.allow(clientIPKey(r), a.cfg.Now()) {
		return true
	}
	a.log.InfoContext(r.Context(), "auth rate limit hit", "path", r.URL.Path)
	w.Header().Set("Retry-After", strconv.Itoa(a.limiter.retryAfterSeconds()))
	writeError(w, CodeRateLimited, msgRateLimited)
	return false
}

// clientIPKey is the rate limit key of r: the remote IP, or its /64 for
// IPv6 (one subscriber usually holds a whole /64). It trusts RemoteAddr
// only; a server behind a reverse proxy must set RemoteAddr from the
// proxy's header itself before this runs.
func clientIPKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}

// authLimiter is a set of token buckets keyed by client IP with bounded
// memory: at most max entries; when full, entries idle for longer than idle
// are dropped, and if none is, the least recently used one. Dropping an
// idle entry loses nothing as long as idle exceeds the bucket's refill time
// (burst/rate); the defaults (10m vs 1m) do. It is safe for concurrent use.
type authLimiter struct {
	limit   rate.Limit
	burst   int
	max     int
	idle    time.Duration
	mu      sync.Mutex
	entries map[string]*authLimiterEntry // guarded by mu
}

// authLimiterEntry is one client's bucket and when it was last used.
type authLimiterEntry struct {
	lim      *rate.Limiter
	lastSeen time.Time
}

// newAuthLimiter returns an empty limiter set.
func newAuthLimiter(limit rate.Limit, burst, maxEntries int, idle time.Duration) *authLimiter {
	return &authLimiter{limit: limit, burst: burst, max: maxEntries, idle: idle, entries: make(map[string]*authLimiterEntry)}
}

// allow spends one token of key's bucket at now and reports whether there was one.
func (l *authLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok {
		if len(l.entries) >= l.max {
			l.evictLocked(now)
		}
		e = &authLimiterEntry{lim: rate.NewLimiter(l.limit, l.burst)}
		l.entries[key] = e
	}
	e.lastSeen = now
	return e.lim.AllowN(now, 1)
}

// evictLocked drops idle entries, or the least recently used one if none is
// idle. Called with mu held, only when the set is full.
func (l *authLimiter) evictLocked(now time.Time) {
	var lruKey string
	var lruSeen time.Time
	for k, e := range l.entries {
		if now.Sub(e.lastSeen) >= l.idle {
			delete(l.entries, k)
			continue
		}
		if lruKey == "" || e.lastSeen.Before(lruSeen) {
			lruKey, lruSeen = k, e.lastSeen
		}
	}
	if len(l.entries) >= l.max {
		delete(l.entries, lruKey)
	}
}

// size returns the number of tracked clients.
func (l *authLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// retryAfterSeconds is how long one token takes to come back, rounded up.
func (l *authLimiter) retryAfterSeconds() int {
	if l.limit <= 0 || l.limit == rate.Inf {
		return 1
	}
	return max(1, int(math.Ceil(1/float64(l.limit)-1e-6))) // tolerate float error
}

// Input limits.
const (
	minUsernameLen    = 3
	maxUsernameLen    = 32
	minPasswordBytes  = 8
	maxPasswordBytes  = 72 // bcrypt ignores what follows; reject rather than truncate
	maxDisplayNameLen = 64 // runes
)

// normaliseUsername lower-cases an ASCII username and checks it is 3-32
// characters of [a-z0-9_.-]. Non-ASCII input is rejected before folding, so
// no Unicode case mapping can alias another name.
func normaliseUsername(s string) (string, bool) {
	if len(s) < minUsernameLen || len(s) > maxUsernameLen {
		return "", false
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'A' <= c && c <= 'Z':
			b[i] = c + ('a' - 'A')
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return "", false
		}
	}
	return string(b), true
}

// normaliseDisplayName trims s and checks it is valid UTF-8 of at most 64
// runes without control characters; empty means the username.
func normaliseDisplayName(s, username string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return username, true
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxDisplayNameLen {
		return "", false
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", false
	}
	return s, true
}

// newAccountID returns a random 128-bit id in hex.
func newAccountID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
