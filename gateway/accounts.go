package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/actorchat/engine/persistence"
)

// AccountStore is the part of the store the account endpoints use: users and
// refresh tokens, nothing else. A persistence.Store satisfies it.
type AccountStore interface {
	persistence.Users
	persistence.Tokens
}

// Account defaults, applied to zero fields of AccountsConfig.
const (
	DefaultAuthRate        = rate.Limit(10.0 / 60.0) // 10 per minute
	DefaultAuthBurst       = 10
	DefaultAuthLimiterMax  = 10000
	DefaultAuthLimiterIdle = 10 * time.Minute
	DefaultAuthBodyBytes   = 4 << 10
)

// RefreshCookieName is the HttpOnly cookie that carries the refresh token.
const RefreshCookieName = "chat_refresh"

// refreshCookiePath limits the refresh cookie to the REST API.
const refreshCookiePath = "/api"

// AccountsConfig configures the account endpoints. The zero value is valid
// and means the documented defaults.
type AccountsConfig struct {
	// BcryptCost is the password hashing cost; default bcrypt.DefaultCost.
	BcryptCost int
	// AuthRate is the sustained rate of login and register requests allowed
	// per client IP (IPv6: per /64); default 10 per minute.
	AuthRate rate.Limit
	// AuthBurst is the burst of that limit; default 10.
	AuthBurst int
	// AuthLimiterMax bounds how many client IPs are tracked; default 10000.
	AuthLimiterMax int
	// AuthLimiterIdle is how long an unused per-IP limiter is kept; default 10m.
	AuthLimiterIdle time.Duration
	// MaxBodyBytes limits request bodies; default 4 KiB.
	MaxBodyBytes int64
	// Now is the clock for issuing tokens, refresh expiry and rate limits;
	// default time.Now.
	Now func() time.Time
	// RefreshGrace is how long after a rotation the rotated refresh token is
	// still accepted once, as long as the token that replaced it was never
	// used: the answer to a refresh can be lost (a network flap), and the
	// client's retry must not look like a stolen token. Default 30s;
	// negative disables.
	RefreshGrace time.Duration
}

// Validate reports whether c can be used.
func (c AccountsConfig) Validate() error {
	switch {
	case c.BcryptCost != 0 && (c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost):
		return fmt.Errorf("bcrypt cost %d outside [%d, %d]", c.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	case c.AuthRate < 0, c.AuthBurst < 0, c.AuthLimiterMax < 0, c.AuthLimiterIdle < 0, c.MaxBodyBytes < 0, c.RefreshGrace > time.Hour:
		return errors.New("accounts config: negative limit")
	}
	return nil
}

// withDefaults returns c with zero fields set to their defaults.
func (c AccountsConfig) withDefaults() AccountsConfig {
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.AuthRate == 0 {
		c.AuthRate = DefaultAuthRate
	}
	if c.AuthBurst == 0 {
		c.AuthBurst = DefaultAuthBurst
	}
	if c.AuthLimiterMax == 0 {
		c.AuthLimiterMax = DefaultAuthLimiterMax
	}
	if c.AuthLimiterIdle == 0 {
		c.AuthLimiterIdle = DefaultAuthLimiterIdle
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultAuthBodyBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RefreshGrace == 0 {
		c.RefreshGrace = DefaultRefreshGrace
	}
	return c
}

// DefaultRefreshGrace is AccountsConfig.RefreshGrace's default.
const DefaultRefreshGrace = 30 * time.Second

// Accounts serves registration, login, token refresh, logout and /api/me,
// and authenticates requests (RequireAuth, Verify). It is safe for
// concurrent use and starts no goroutines.
type Accounts struct {
	store     AccountStore
	tokens    *Tokens
	cfg       AccountsConfig
	log       *slog.Logger
	limiter   *authLimiter
	dummyHash []byte // compared against when the user does not exist
}

// NewAccounts returns the account service. It panics if cfg.Validate fails
// or store or tokens is nil: check the config at startup. A nil log
// discards. It computes one bcrypt hash at the configured cost.
func NewAccounts(store AccountStore, tokens *Tokens, cfg AccountsConfig, log *slog.Logger) *Accounts {
	if err := cfg.Validate(); err != nil {
		panic("gateway: NewAccounts: " + err.Error())
	}
	if store == nil || tokens == nil {
		panic("gateway: NewAccounts: nil store or tokens")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	dummy, err := bcrypt.GenerateFromPassword([]byte("no such user, constant work"), cfg.BcryptCost)
	if err != nil {
		panic("gateway: NewAccounts: " + err.Error()) // cost was validated
	}
	return &Accounts{
		store:     store,
		tokens:    tokens,
		cfg:       cfg,
		log:       log,
		limiter:   newAuthLimiter(cfg.AuthRate, cfg.AuthBurst, cfg.AuthLimiterMax, cfg.AuthLimiterIdle),
		dummyHash: dummy,
	}
}

// Routes registers the account endpoints on mux:
//
//	POST /api/register  {username, password, displayName?} -> 201 session
//	POST /api/login     {username, password}               -> 200 session
//	POST /api/refresh   {refreshToken?} or cookie          -> 200 session (rotated)
//	POST /api/logout    {refreshToken?, all?} or cookie    -> 204
//	GET  /api/me        Authorization: Bearer              -> 200 {user}
//
// A session is {user:{id,username,displayName}, accessToken,
// accessExpiresAt, refreshToken}; the refresh token is also set as the
// HttpOnly cookie chat_refresh. Errors are {"error":{code,message}}.
// Request bodies must be application/json (send {} to use the cookie); a
// non-simple content type also keeps cross-site forms out.
//
// Refresh tokens are single use. Presenting one that was already used or
// logged out revokes every refresh token of its user (theft detection), so
// a client must not refresh the same token twice concurrently. Login and
// register share a per-IP rate limit.
func (a *Accounts) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/register", a.handleRegister)
	mux.HandleFunc("POST /api/login", a.handleLogin)
	mux.HandleFunc("POST /api/refresh", a.handleRefresh)
	mux.HandleFunc("POST /api/logout", a.handleLogout)
	mux.Handle("GET /api/me", a.RequireAuth(http.HandlerFunc(a.handleMe)))
}

// accountUser is the public view of a user.
type accountUser struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
}

// accountSession is the response of register, login and refresh.
type accountSession struct {
	User            accountUser `json:"user"`
	AccessToken     string      `json:"accessToken"`
	AccessExpiresAt wireTime    `json:"accessExpiresAt"`
	RefreshToken    string      `json:"refreshToken"`
}

// accountMe is the response of GET /api/me.
type accountMe struct {
	User accountUser `json:"user"`
}

// registerRequest is the body of POST /api/register.
type registerRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"displayName"`
}

// loginRequest is the body of POST /api/login.
type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// refreshRequest is the body of POST /api/refresh.
type refreshRequest struct {
	RefreshToken string `json:"refreshToken"`
}

// logoutRequest is the body of POST /api/logout.
type logoutRequest struct {
	RefreshToken string `json:"refreshToken"`
	All          bool   `json:"all"`
}

// Fixed client messages of the account endpoints.
const (
	msgBadCredentials  = "invalid username or password"
	msgBadRefresh      = "invalid or expired refresh token"
	msgNoRefresh       = "refresh token required"
	msgLogoutAllAuth   = "logging out everywhere requires a valid access token"
	msgUsernameTaken   = "username is already taken"
	msgRateLimited     = "too many attempts, try again later"
	msgUnavailable     = "service temporarily unavailable, try again"
	msgInternal        = "internal error"
	msgUserGone        = "account no longer exists"
	msgInvalidUsername = "username must be 3-32 characters of a-z, 0-9, '_', '.', '-'"
	msgInvalidPassword = "password must be 8-72 bytes"
	msgInvalidDisplay  = "display name must be valid UTF-8, at most 64 characters, without control characters"
)

func (a *Accounts) handleRegister(w http.ResponseWriter, r *http.Request) {
	if !a.allowAuthAttempt(w, r) {
		return
	}
	var req registerRequest
	if code, msg, ok := decodeJSON(w, r, &req, a.cfg.MaxBodyBytes); !ok {
		writeError(w, code, msg)
		return
	}
	user, code, msg := a.newUser(req)
	if code != "" {
		writeError(w, code, msg)
		return
	}
	switch err := a.store.CreateUser(r.Context(), user); {
	case errors.Is(err, persistence.ErrDuplicate):
		writeError(w, CodeConflict, msgUsernameTaken)
		return
	case err != nil:
		a.storeFailed(w, r, "create user", err)
		return
	}
	a.log.InfoContext(r.Context(), "account registered", "user_id", user.ID)
	a.startSession(w, r, http.StatusCreated, user)
}

// newUser validates a registration and builds the user record, hashing the
// password. On failure it returns the code and message to answer with.
func (a *Accounts) newUser(req registerRequest) (persistence.User, Code, string) {
	username, ok := normaliseUsername(req.Username)
	if !ok {
		return persistence.User{}, CodeInvalid, msgInvalidUsername
	}
	if n := len(req.Password); n < minPasswordBytes || n > maxPasswordBytes {
		return persistence.User{}, CodeInvalid, msgInvalidPassword
	}
	display, ok := normaliseDisplayName(req.DisplayName, username)
	if !ok {
		return persistence.User{}, CodeInvalid, msgInvalidDisplay
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), a.cfg.BcryptCost)
	if err != nil {
		a.log.Error("hash password", "err", err)
		return persistence.User{}, CodeInternal, msgInternal
	}
	id, err := newAccountID()
	if err != nil {
		a.log.Error("new user id", "err", err)
		return persistence.User{}, CodeInternal, msgInternal
	}
	return persistence.User{
		ID:           id,
		Username:     username,
		DisplayName:  display,
		PasswordHash: string(hash),
		CreatedAt:    a.cfg.Now().UTC(),
	}, "", ""
}

func (a *Accounts) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !a.allowAuthAttempt(w, r) {
		return
	}
	var req loginRequest
	if code, msg, ok := decodeJSON(w, r, &req, a.cfg.MaxBodyBytes); !ok {
		writeError(w, code, msg)
		return
	}
	user, err := a.lookupLogin(r.Context(), req.Username)
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		a.storeFailed(w, r, "user by username", err)
		return
	}
	hash := a.dummyHash // unknown users cost the same bcrypt comparison
	if err == nil {
		hash = []byte(user.PasswordHash)
	}
	pwErr := bcrypt.CompareHashAndPassword(hash, []byte(req.Password))
	if err != nil || pwErr != nil || len(req.Password) > maxPasswordBytes {
		writeError(w, CodeUnauthorized, msgBadCredentials)
		return
	}
	a.startSession(w, r, http.StatusOK, user)
}

// lookupLogin finds the user a login names; a username that cannot exist
// is reported as ErrNotFound without asking the store.
func (a *Accounts) lookupLogin(ctx context.Context, raw string) (persistence.User, error) {
	username, ok := normaliseUsername(raw)
	if !ok {
		return persistence.User{}, persistence.ErrNotFound
	}
	return a.store.UserByUsername(ctx, username)
}

func (a *Accounts) handleRefresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if code, msg, ok := decodeJSON(w, r, &req, a.cfg.MaxBodyBytes); !ok {
		writeError(w, code, msg)
		return
	}
	token := refreshTokenFrom(r, req.RefreshToken)
	if token == "" {
		writeError(w, CodeUnauthorized, msgNoRefresh)
		return
	}
	ctx, now := r.Context(), a.cfg.Now()
	hash := hashRefreshToken(token)
	rec, err := a.store.UseRefreshToken(ctx, hash, now)
	switch {
	case errors.Is(err, persistence.ErrRevoked):
		if !a.refreshRetried(w, r, rec, now) {
			a.refreshReused(w, r, rec.UserID)
		}
		return
	case errors.Is(err, persistence.ErrNotFound):
		a.rejectRefresh(w, r)
		return
	case err != nil:
		a.storeFailed(w, r, "use refresh token", err)
		return
	case !now.Before(rec.ExpiresAt):
		a.rejectRefresh(w, r)
		return
	}
	a.rotate(w, r, hash, rec.UserID)
}

// rotate starts a session for userID that replaces the refresh token hash
// and records the new token as its successor (without it the grace window
// simply does not apply to hash).
func (a *Accounts) rotate(w http.ResponseWriter, r *http.Request, hash, userID string) {
	user, err := a.store.UserByID(r.Context(), userID)
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		a.rejectRefresh(w, r)
		return
	case err != nil:
		a.storeFailed(w, r, "user by id", err)
		return
	}
	next, ok := a.startSession(w, r, http.StatusOK, user)
	if !ok {
		return
	}
	if err := a.store.SetRefreshSuccessor(r.Context(), hash, next); err != nil {
		a.log.WarnContext(r.Context(), "record refresh token successor", "user_id", user.ID, "err", err)
	}
}

// refreshRetried handles the presentation of a rotated refresh token within
// RefreshGrace of its rotation whose successor was never used: the client
// did not get the answer to its refresh (a lost response) and retries. The
// unused successor is rotated in its place, and true is returned once the
// request is answered. Anything else (a successor that was used, a token
// revoked by logout, a late replay) is a reuse and returns false.
func (a *Accounts) refreshRetried(w http.ResponseWriter, r *http.Request, rec persistence.RefreshToken, now time.Time) bool {
	if a.cfg.RefreshGrace < 0 || rec.Successor == "" || now.Sub(rec.RevokedAt) > a.cfg.RefreshGrace || !now.Before(rec.ExpiresAt) {
		return false
	}
	ctx := r.Context()
	succ, err := a.store.UseRefreshToken(ctx, rec.Successor, now)
	switch {
	case errors.Is(err, persistence.ErrRevoked), errors.Is(err, persistence.ErrNotFound):
		return false
	case err != nil:
		a.storeFailed(w, r, "use refresh token successor", err)
		return true
	}
	a.log.InfoContext(ctx, "refresh retried within the grace window", "user_id", succ.UserID)
	a.rotate(w, r, rec.Successor, succ.UserID)
	return true
}

// refreshReused answers the presentation of an already used or revoked
// refresh token: someone holds a copy of it, so every session of the user
// ends (theft detection) and the request is refused.
func (a *Accounts) refreshReused(w http.ResponseWriter, r *http.Request, userID string) {
	a.log.WarnContext(r.Context(), "refresh token reuse, revoking all sessions", "user_id", userID)
	if err := a.store.RevokeUserRefreshTokens(r.Context(), userID, a.cfg.Now()); err != nil {
		a.storeFailed(w, r, "revoke user refresh tokens", err)
		return
	}
	a.rejectRefresh(w, r)
}

// rejectRefresh clears the refresh cookie and answers unauthorized.
func (a *Accounts) rejectRefresh(w http.ResponseWriter, r *http.Request) {
	clearRefreshCookie(w, r)
	writeError(w, CodeUnauthorized, msgBadRefresh)
}

func (a *Accounts) handleLogout(w http.ResponseWriter, r *http.Request) {
	var req logoutRequest
	if code, msg, ok := decodeJSON(w, r, &req, a.cfg.MaxBodyBytes); !ok {
		writeError(w, code, msg)
		return
	}
	ctx, now := r.Context(), a.cfg.Now()
	if req.All {
		claims, err := a.bearerClaims(r)
		if err != nil {
			writeError(w, CodeUnauthorized, msgLogoutAllAuth)
			return
		}
		if err := a.store.RevokeUserRefreshTokens(ctx, claims.UserID, now); err != nil {
			a.storeFailed(w, r, "revoke user refresh tokens", err)
			return
		}
	} else if token := refreshTokenFrom(r, req.RefreshToken); token != "" {
		_, err := a.store.UseRefreshToken(ctx, hashRefreshToken(token), now)
		if err != nil && !errors.Is(err, persistence.ErrNotFound) && !errors.Is(err, persistence.ErrRevoked) {
			a.storeFailed(w, r, "revoke refresh token", err)
			return
		}
	}
	clearRefreshCookie(w, r)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (a *Accounts) handleMe(w http.ResponseWriter, r *http.Request) {
	claims, _ := UserFrom(r.Context()) // RequireAuth guarantees them
	user, err := a.store.UserByID(r.Context(), claims.UserID)
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		writeError(w, CodeUnauthorized, msgUserGone)
		return
	case err != nil:
		a.storeFailed(w, r, "user by id", err)
		return
	}
	writeJSON(w, http.StatusOK, accountMe{User: publicUser(user)})
}

// startSession issues an access token and a stored refresh token for user,
// sets the refresh cookie and writes the session with status. It returns
// the refresh token's hash, and false when it answered with an error.
func (a *Accounts) startSession(w http.ResponseWriter, r *http.Request, status int, user persistence.User) (string, bool) {
	now := a.cfg.Now()
	access, accessExp, err := a.tokens.IssueAccess(user.ID, user.Username, now)
	if err != nil {
		a.log.ErrorContext(r.Context(), "issue access token", "user_id", user.ID, "err", err)
		writeError(w, CodeInternal, msgInternal)
		return "", false
	}
	refresh, rec, err := a.tokens.newRefresh(user.ID, now)
	if err != nil {
		a.log.ErrorContext(r.Context(), "mint refresh token", "user_id", user.ID, "err", err)
		writeError(w, CodeInternal, msgInternal)
		return "", false
	}
	if err := a.store.CreateRefreshToken(r.Context(), rec); err != nil {
		a.storeFailed(w, r, "create refresh token", err)
		return "", false
	}
	setRefreshCookie(w, r, refresh, rec.ExpiresAt)
	writeJSON(w, status, accountSession{
		User:            publicUser(user),
		AccessToken:     access,
		AccessExpiresAt: wireTime(accessExp),
		RefreshToken:    refresh,
	})
	return rec.Hash, true
}

// storeFailed logs a store error once and answers 503 when the store is
// unavailable, 500 otherwise, with fixed messages.
func (a *Accounts) storeFailed(w http.ResponseWriter, r *http.Request, op string, err error) {
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		a.log.DebugContext(r.Context(), "account request abandoned", "op", op, "path", r.URL.Path)
		writeError(w, CodeUnavailable, msgUnavailable) // the client has gone; nobody reads this
		return
	}
	a.log.ErrorContext(r.Context(), "account store error", "op", op, "path", r.URL.Path, "err", err)
	if errors.Is(err, persistence.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		writeError(w, CodeUnavailable, msgUnavailable)
		return
	}
	writeError(w, CodeInternal, msgInternal)
}

// publicUser returns what clients may see of a user.
func publicUser(u persistence.User) accountUser {
	return accountUser{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName}
}
