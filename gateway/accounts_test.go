package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/actorchat/engine/persistence"
	"github.com/actorchat/engine/persistence/sqlite"
)

const acctPassword = "correct horse battery"

// acctClock is a settable clock shared by the test and the server's goroutines.
type acctClock struct{ ns atomic.Int64 }

func (c *acctClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *acctClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// acctLogBuf collects log output from concurrent handlers.
type acctLogBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *acctLogBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *acctLogBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// acctEnv is an httptest server with the account routes over a real sqlite store.
type acctEnv struct {
	t        *testing.T
	srv      *httptest.Server
	clock    *acctClock
	store    *sqlite.Store
	accounts *Accounts
	logs     *acctLogBuf
}

// acctEnvOpts adjusts a test environment.
type acctEnvOpts struct {
	tls bool
	cfg func(*AccountsConfig)
}

func newAcctEnv(t *testing.T, opts acctEnvOpts) *acctEnv {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(context.Background()); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	clock := &acctClock{}
	clock.ns.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	tokens, err := NewTokens(TokenConfig{Secret: tokTestSecret, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg := AccountsConfig{BcryptCost: bcrypt.MinCost, AuthRate: rate.Inf, Now: clock.Now}
	if opts.cfg != nil {
		opts.cfg(&cfg)
	}
	logs := &acctLogBuf{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug}))
	accounts := NewAccounts(store, tokens, cfg, log)
	mux := http.NewServeMux()
	accounts.Routes(mux)
	srv := httptest.NewUnstartedServer(mux)
	if opts.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return &acctEnv{t: t, srv: srv, clock: clock, store: store, accounts: accounts, logs: logs}
}

// acctResp is a fully read response.
type acctResp struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    []byte
}

// session decodes a session response.
func (r acctResp) session(t *testing.T) accountSession {
	t.Helper()
	var s accountSession
	if err := json.Unmarshal(r.body, &s); err != nil {
		t.Fatalf("decode session %s: %v", r.body, err)
	}
	return s
}

// errCode decodes an error response's code.
func (r acctResp) errCode(t *testing.T) Code {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("decode error %s: %v", r.body, err)
	}
	return e.Error.Code
}

// refreshCookie returns the chat_refresh cookie the response set, or nil.
func (r acctResp) refreshCookie() *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == RefreshCookieName {
			return c
		}
	}
	return nil
}

// do sends a request with a raw body; mod may add headers.
func (e *acctEnv) do(method, path, contentType, body string, mod func(*http.Request)) acctResp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if mod != nil {
		mod(req)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return acctResp{status: res.StatusCode, header: res.Header, cookies: res.Cookies(), body: b}
}

// post sends v as JSON.
func (e *acctEnv) post(path string, v any, mod func(*http.Request)) acctResp {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(http.MethodPost, path, "application/json", string(b), mod)
}

// register creates an account and returns its session.
func (e *acctEnv) register(username string) accountSession {
	e.t.Helper()
	r := e.post("/api/register", map[string]string{"username": username, "password": acctPassword}, nil)
	if r.status != http.StatusCreated {
		e.t.Fatalf("register %s: %d %s", username, r.status, r.body)
	}
	return r.session(e.t)
}

// login logs in and returns the session.
func (e *acctEnv) login(username string) accountSession {
	e.t.Helper()
	r := e.post("/api/login", map[string]string{"username": username, "password": acctPassword}, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", username, r.status, r.body)
	}
	return r.session(e.t)
}

// refresh presents a refresh token in the body.
func (e *acctEnv) refresh(token string) acctResp {
	e.t.Helper()
	return e.post("/api/refresh", map[string]string{"refreshToken": token}, nil)
}

// me calls GET /api/me with the given Authorization header value.
func (e *acctEnv) me(authorization string) acctResp {
	e.t.Helper()
	return e.do(http.MethodGet, "/api/me", "", "", func(r *http.Request) {
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
	})
}

// acctBearer returns a request modifier that sets a bearer token.
func acctBearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// wantStatus fails the test unless r has the status and, for errors, the code.
func (e *acctEnv) wantStatus(what string, r acctResp, status int, code Code) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
	if code != "" {
		if got := r.errCode(e.t); got != code {
			e.t.Fatalf("%s: code %q, want %q", what, got, code)
		}
	}
}

func TestAccountsRegister(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	r := e.post("/api/register", map[string]string{"username": "Alice.B_1-x", "password": acctPassword}, nil)
	e.wantStatus("register", r, http.StatusCreated, "")
	s := r.session(t)
	if s.User.Username != "alice.b_1-x" || s.User.DisplayName != "alice.b_1-x" || len(s.User.ID) != 32 {
		t.Fatalf("user = %+v", s.User)
	}
	if want := e.clock.Now().Add(DefaultAccessTTL).Truncate(time.Millisecond); !time.Time(s.AccessExpiresAt).Equal(want) {
		t.Fatalf("accessExpiresAt = %v, want %v", s.AccessExpiresAt, want)
	}
	claims, err := e.accounts.Verify(s.AccessToken)
	if err != nil || claims.UserID != s.User.ID || claims.Username != s.User.Username {
		t.Fatalf("Verify(access) = %+v, %v", claims, err)
	}
	if c := r.refreshCookie(); c == nil || c.Value != s.RefreshToken || s.RefreshToken == "" {
		t.Fatalf("refresh cookie %+v does not carry refresh token", c)
	}
	stored, err := e.store.UserByUsername(context.Background(), "alice.b_1-x")
	if err != nil {
		t.Fatal(err)
	}
	if stored.PasswordHash == acctPassword || bcrypt.CompareHashAndPassword([]byte(stored.PasswordHash), []byte(acctPassword)) != nil {
		t.Fatal("stored password is not a bcrypt hash of the password")
	}
	if strings.Contains(string(r.body), stored.PasswordHash) {
		t.Fatal("response leaks the password hash")
	}

	r = e.post("/api/register", map[string]string{"username": "bob", "password": acctPassword, "displayName": "  Bob 🚀 Builder "}, nil)
	e.wantStatus("register with display name", r, http.StatusCreated, "")
	if got := r.session(t).User.DisplayName; got != "Bob 🚀 Builder" {
		t.Fatalf("displayName = %q", got)
	}
}

func TestAccountsRegisterDuplicate(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	e.register("alice")
	r := e.post("/api/register", map[string]string{"username": "ALICE", "password": "another password"}, nil)
	e.wantStatus("duplicate", r, http.StatusConflict, CodeConflict)
	e.login("alice") // the original password still works
}

func TestAccountsRegisterInvalid(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	cases := []struct {
		name, contentType, body string
		status                  int
		code                    Code
	}{
		{"short username", "", `{"username":"ab","password":"` + acctPassword + `"}`, 400, CodeInvalid},
		{"long username", "", `{"username":"` + strings.Repeat("a", 33) + `","password":"` + acctPassword + `"}`, 400, CodeInvalid},
		{"space in username", "", `{"username":"al ice","password":"` + acctPassword + `"}`, 400, CodeInvalid},
		{"non-ascii username", "", `{"username":"ålice","password":"` + acctPassword + `"}`, 400, CodeInvalid},
		{"kelvin sign username", "", `{"username":"\u212Aate","password":"` + acctPassword + `"}`, 400, CodeInvalid},
		{"short password", "", `{"username":"alice","password":"1234567"}`, 400, CodeInvalid},
		{"long password", "", `{"username":"alice","password":"` + strings.Repeat("p", 73) + `"}`, 400, CodeInvalid},
		{"long display name", "", `{"username":"alice","password":"` + acctPassword + `","displayName":"` + strings.Repeat("é", 65) + `"}`, 400, CodeInvalid},
		{"control char display name", "", `{"username":"alice","password":"` + acctPassword + `","displayName":"a\u0007b"}`, 400, CodeInvalid},
		{"unknown field", "", `{"username":"alice","password":"` + acctPassword + `","admin":true}`, 400, CodeInvalid},
		{"operator key", "", `{"username":"alice","password":"` + acctPassword + `","$where":"1"}`, 400, CodeInvalid},
		{"malformed", "", `{"username":"alice"`, 400, CodeInvalid},
		{"form content type", "application/x-www-form-urlencoded", `username=alice&password=x`, 400, CodeInvalid},
		{"oversized", "", `{"username":"alice","password":"` + strings.Repeat("p", DefaultAuthBodyBytes) + `"}`, 413, CodeTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			r := e.do(http.MethodPost, "/api/register", ct, tc.body, nil)
			e.wantStatus(tc.name, r, tc.status, tc.code)
		})
	}
	if _, err := e.store.UserByUsername(context.Background(), "alice"); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("an invalid registration created alice: %v", err)
	}
	// The boundaries themselves are accepted.
	r := e.post("/api/register", map[string]string{
		"username": strings.Repeat("a", 32), "password": strings.Repeat("p", 72), "displayName": strings.Repeat("é", 64),
	}, nil)
	e.wantStatus("boundaries", r, http.StatusCreated, "")
}

func TestAccountsLogin(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	reg := e.register("alice")
	s := e.login("ALICE")
	if s.User.ID != reg.User.ID || s.RefreshToken == reg.RefreshToken {
		t.Fatalf("login session %+v, registered %+v", s.User, reg.User)
	}
	if c, err := e.accounts.Verify(s.AccessToken); err != nil || c.UserID != reg.User.ID {
		t.Fatalf("login access token: %+v, %v", c, err)
	}

	wrong := e.post("/api/login", map[string]string{"username": "alice", "password": "wrong password"}, nil)
	e.wantStatus("wrong password", wrong, http.StatusUnauthorized, CodeUnauthorized)
	unknown := e.post("/api/login", map[string]string{"username": "mallory", "password": acctPassword}, nil)
	e.wantStatus("unknown user", unknown, http.StatusUnauthorized, CodeUnauthorized)
	malformed := e.post("/api/login", map[string]string{"username": "no such name!", "password": acctPassword}, nil)
	e.wantStatus("impossible username", malformed, http.StatusUnauthorized, CodeUnauthorized)
	long := e.post("/api/login", map[string]string{"username": "alice", "password": acctPassword + strings.Repeat("x", 72)}, nil)
	e.wantStatus("overlong password", long, http.StatusUnauthorized, CodeUnauthorized)
	for name, r := range map[string]acctResp{"unknown": unknown, "impossible": malformed, "overlong": long} {
		if !bytes.Equal(r.body, wrong.body) {
			t.Fatalf("%s user answer %s differs from wrong password answer %s", name, r.body, wrong.body)
		}
	}
	if wrong.refreshCookie() != nil {
		t.Fatal("failed login set a refresh cookie")
	}

	// bcrypt reads only 72 bytes; a longer password must not log in as its prefix.
	pw72 := strings.Repeat("p", 72)
	e.wantStatus("register 72 bytes", e.post("/api/register", map[string]string{"username": "carol", "password": pw72}, nil), http.StatusCreated, "")
	r := e.post("/api/login", map[string]string{"username": "carol", "password": pw72 + "suffix"}, nil)
	e.wantStatus("login with 72-byte prefix", r, http.StatusUnauthorized, CodeUnauthorized)
}

func TestAccountsRefreshRotation(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	s1 := e.register("alice")
	e.clock.Advance(time.Hour) // the first access token has expired
	r := e.refresh(s1.RefreshToken)
	e.wantStatus("refresh", r, http.StatusOK, "")
	s2 := r.session(t)
	if s2.RefreshToken == s1.RefreshToken || s2.User != s1.User {
		t.Fatalf("refresh did not rotate: %+v", s2)
	}
	if c := r.refreshCookie(); c == nil || c.Value != s2.RefreshToken {
		t.Fatalf("refresh cookie %+v is not the new token", c)
	}
	e.wantStatus("me with refreshed token", e.me("Bearer "+s2.AccessToken), http.StatusOK, "")
	r = e.refresh(s2.RefreshToken)
	e.wantStatus("second rotation", r, http.StatusOK, "")

	old := e.refresh(s1.RefreshToken)
	e.wantStatus("old token", old, http.StatusUnauthorized, CodeUnauthorized)
	if c := old.refreshCookie(); c == nil || c.MaxAge >= 0 {
		t.Fatalf("rejected refresh did not clear the cookie: %+v", c)
	}
}

func TestAccountsRefreshReuseRevokesAll(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	s1 := e.register("alice")
	other := e.login("alice") // a second device
	bob := e.register("bob")
	r := e.refresh(s1.RefreshToken)
	e.wantStatus("rotate", r, http.StatusOK, "")
	s2 := r.session(t)

	e.clock.Advance(DefaultRefreshGrace + time.Second) // a replay, not a retry of a lost answer
	e.wantStatus("replay of rotated token", e.refresh(s1.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("newer token after replay", e.refresh(s2.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("other device after replay", e.refresh(other.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("other user unaffected", e.refresh(bob.RefreshToken), http.StatusOK, "")
	e.login("alice") // logging in again still works
	if !strings.Contains(e.logs.String(), "refresh token reuse") {
		t.Fatal("reuse was not logged")
	}
}

// TestAccountsRefreshGrace: a rotated token presented again within the
// grace window while its successor was never used is a retry of a lost
// answer and gets a new session (the unused successor is rotated instead);
// a used successor, a late replay, a logout-all in between or a logged-out
// token make it a reuse that ends every session of the user.
func TestAccountsRefreshGrace(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})

	// The answer to a refresh is lost; the retry works, once.
	s1 := e.register("alice")
	lost := e.refresh(s1.RefreshToken)
	e.wantStatus("refresh whose answer is lost", lost, http.StatusOK, "")
	e.clock.Advance(DefaultRefreshGrace / 2)
	retry := e.refresh(s1.RefreshToken)
	e.wantStatus("retry within the grace window", retry, http.StatusOK, "")
	s3 := retry.session(t)
	if s3.RefreshToken == lost.session(t).RefreshToken || s3.RefreshToken == s1.RefreshToken {
		t.Fatal("the retry did not issue a new refresh token")
	}
	r := e.refresh(s3.RefreshToken)
	e.wantStatus("the client moves on with the retried session", r, http.StatusOK, "")
	s4 := r.session(t)
	e.wantStatus("the first token again, its successor spent: a reuse", e.refresh(s1.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("which ends every session of the user", e.refresh(s4.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)

	// The successor was used: presenting the old token is theft.
	b1 := e.register("bob")
	r = e.refresh(b1.RefreshToken)
	e.wantStatus("bob rotates", r, http.StatusOK, "")
	b2 := r.session(t)
	r = e.refresh(b2.RefreshToken)
	e.wantStatus("bob uses the successor", r, http.StatusOK, "")
	b3 := r.session(t)
	e.wantStatus("old token after its successor was used", e.refresh(b1.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("every session of bob ended", e.refresh(b3.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)

	// Logout-all between the rotation and the retry.
	c1 := e.register("carol")
	e.wantStatus("carol rotates", e.refresh(c1.RefreshToken), http.StatusOK, "")
	e.wantStatus("logout all", e.post("/api/logout", map[string]any{"all": true}, acctBearer(c1.AccessToken)), http.StatusNoContent, "")
	e.wantStatus("retry after logout all", e.refresh(c1.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)

	// A logged-out token has no successor: no grace.
	d1 := e.register("dave")
	e.wantStatus("logout", e.post("/api/logout", map[string]string{"refreshToken": d1.RefreshToken}, nil), http.StatusNoContent, "")
	e.wantStatus("logged-out token within the window", e.refresh(d1.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
	if !strings.Contains(e.logs.String(), "refresh retried within the grace window") {
		t.Fatal("the retry was not logged")
	}
}

func TestAccountsRefreshRejects(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	s := e.register("alice")
	e.wantStatus("unknown token", e.refresh("bm90IGEgcmVhbCB0b2tlbg"), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("no token", e.post("/api/refresh", map[string]string{}, nil), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("no body", e.do(http.MethodPost, "/api/refresh", "application/json", "", nil), http.StatusBadRequest, CodeInvalid)
	e.clock.Advance(DefaultRefreshTTL + time.Second)
	e.wantStatus("expired token", e.refresh(s.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
}

func TestAccountsRefreshCookie(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	s := e.register("alice")
	withCookie := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: RefreshCookieName, Value: v}) }
	}
	r := e.post("/api/refresh", struct{}{}, withCookie(s.RefreshToken))
	e.wantStatus("refresh by cookie", r, http.StatusOK, "")
	s2 := r.session(t)
	if c := r.refreshCookie(); c == nil || c.Value != s2.RefreshToken || c.Value == s.RefreshToken {
		t.Fatalf("cookie after refresh = %+v", c)
	}
	// A token in the body wins over the cookie.
	r = e.post("/api/refresh", map[string]string{"refreshToken": s2.RefreshToken}, withCookie("stale"))
	e.wantStatus("body over cookie", r, http.StatusOK, "")
}

func TestAccountsLogout(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	s := e.register("alice")
	keep := e.login("alice")
	r := e.post("/api/logout", map[string]string{"refreshToken": s.RefreshToken}, nil)
	e.wantStatus("logout", r, http.StatusNoContent, "")
	if len(r.body) != 0 {
		t.Fatalf("204 with body %q", r.body)
	}
	e.wantStatus("logout again", e.post("/api/logout", map[string]string{"refreshToken": s.RefreshToken}, nil), http.StatusNoContent, "")
	e.wantStatus("logout unknown", e.post("/api/logout", map[string]string{"refreshToken": "nope"}, nil), http.StatusNoContent, "")
	// The other session was not touched by logging out this one.
	e.wantStatus("other session", e.refresh(keep.RefreshToken), http.StatusOK, "")
	e.wantStatus("logged-out token", e.refresh(s.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
}

func TestAccountsLogoutAll(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	s1 := e.register("alice")
	s2 := e.login("alice")
	bob := e.register("bob")
	all := map[string]any{"all": true}
	e.wantStatus("all without access token", e.post("/api/logout", all, nil), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("all with bad access token", e.post("/api/logout", all, acctBearer("junk")), http.StatusUnauthorized, CodeUnauthorized)
	r := e.refresh(s1.RefreshToken) // still valid: nothing was revoked
	e.wantStatus("refresh before logout all", r, http.StatusOK, "")
	s1 = r.session(t)

	e.wantStatus("logout all", e.post("/api/logout", all, acctBearer(s2.AccessToken)), http.StatusNoContent, "")
	e.wantStatus("session 1 after logout all", e.refresh(s1.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("session 2 after logout all", e.refresh(s2.RefreshToken), http.StatusUnauthorized, CodeUnauthorized)
	e.wantStatus("other user", e.refresh(bob.RefreshToken), http.StatusOK, "")
}

// acctFailingStore fails every user lookup with err.
type acctFailingStore struct {
	AccountStore
	err error
}

func (s acctFailingStore) UserByUsername(context.Context, string) (persistence.User, error) {
	return persistence.User{}, s.err
}

func TestAccountsStoreErrors(t *testing.T) {
	tokens, err := NewTokens(TokenConfig{Secret: tokTestSecret})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		err    error
		status int
		code   Code
	}{
		{fmt.Errorf("user by username: dial tcp 10.1.2.3: %w", persistence.ErrUnavailable), 503, CodeUnavailable},
		{errors.New("disk I/O error at /var/lib/secret"), 500, CodeInternal},
	}
	for _, tc := range cases {
		logs := &acctLogBuf{}
		a := NewAccounts(acctFailingStore{err: tc.err}, tokens, AccountsConfig{BcryptCost: bcrypt.MinCost, AuthRate: rate.Inf}, slog.New(slog.NewTextHandler(logs, nil)))
		mux := http.NewServeMux()
		a.Routes(mux)
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/api/login", strings.NewReader(`{"username":"alice","password":"`+acctPassword+`"}`))
		req.Header.Set("Content-Type", "application/json")
		mux.ServeHTTP(w, req)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), `"code":"`+string(tc.code)+`"`) {
			t.Fatalf("store error %v: %d %s", tc.err, w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), "10.1.2.3") || strings.Contains(w.Body.String(), "/var/lib") {
			t.Fatalf("internal error text leaked to client: %s", w.Body)
		}
		if got := strings.Count(logs.String(), "account store error"); got != 1 {
			t.Fatalf("store error logged %d times, want once: %s", got, logs.String())
		}
	}
}

func TestAccountsConfigValidate(t *testing.T) {
	bad := []AccountsConfig{
		{BcryptCost: bcrypt.MinCost - 1},
		{BcryptCost: bcrypt.MaxCost + 1},
		{AuthRate: -1},
		{AuthBurst: -1},
		{AuthLimiterMax: -1},
		{AuthLimiterIdle: -time.Second},
		{MaxBodyBytes: -1},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	if err := (AccountsConfig{}).Validate(); err != nil {
		t.Fatalf("zero config invalid: %v", err)
	}
}
