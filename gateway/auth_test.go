package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestAccountsMe(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	s := e.register("alice")
	r := e.me("Bearer " + s.AccessToken)
	e.wantStatus("me", r, http.StatusOK, "")
	var me accountMe
	if err := json.Unmarshal(r.body, &me); err != nil || me.User != s.User {
		t.Fatalf("me = %s (%v), want %+v", r.body, err, s.User)
	}
	if e.me("bearer "+s.AccessToken).status != http.StatusOK {
		t.Fatal("lower-case bearer scheme rejected")
	}
	for name, auth := range map[string]string{
		"none":    "",
		"garbage": "Bearer garbage",
		"basic":   "Basic " + s.AccessToken,
		"bare":    s.AccessToken,
	} {
		r := e.me(auth)
		e.wantStatus("me "+name, r, http.StatusUnauthorized, CodeUnauthorized)
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("me %s: WWW-Authenticate = %q", name, r.header.Get("WWW-Authenticate"))
		}
	}
	e.clock.Advance(DefaultAccessTTL + time.Minute)
	e.wantStatus("me expired", e.me("Bearer "+s.AccessToken), http.StatusUnauthorized, CodeUnauthorized)
}

func TestAccountsCookieFlags(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			e := newAcctEnv(t, acctEnvOpts{tls: tls})
			r := e.post("/api/register", map[string]string{"username": "alice", "password": acctPassword}, nil)
			e.wantStatus("register", r, http.StatusCreated, "")
			c := r.refreshCookie()
			if c == nil {
				t.Fatal("no refresh cookie")
			}
			if !c.HttpOnly || c.Secure != tls || c.SameSite != http.SameSiteStrictMode || c.Path != "/api" {
				t.Fatalf("cookie flags: HttpOnly=%v Secure=%v SameSite=%v Path=%q", c.HttpOnly, c.Secure, c.SameSite, c.Path)
			}
			if want := e.clock.Now().Add(DefaultRefreshTTL); c.Expires.Unix() != want.Unix() {
				t.Fatalf("cookie expires %v, want %v", c.Expires, want)
			}
			out := e.post("/api/logout", struct{}{}, func(req *http.Request) { req.AddCookie(c) })
			e.wantStatus("logout", out, http.StatusNoContent, "")
			cleared := out.refreshCookie()
			if cleared == nil || cleared.MaxAge >= 0 || cleared.Value != "" || cleared.Path != "/api" || cleared.Secure != tls {
				t.Fatalf("logout cookie %+v does not clear", cleared)
			}
		})
	}
}

func TestAccountsRateLimit(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{cfg: func(c *AccountsConfig) {
		c.AuthRate = rate.Every(time.Hour)
		c.AuthBurst = 3
	}})
	e.register("alice") // 1
	bad := map[string]string{"username": "alice", "password": "wrong password"}
	for i := 2; i <= 3; i++ {
		e.wantStatus(fmt.Sprintf("attempt %d", i), e.post("/api/login", bad, nil), http.StatusUnauthorized, CodeUnauthorized)
	}
	r := e.post("/api/login", map[string]string{"username": "alice", "password": acctPassword}, nil)
	e.wantStatus("over the limit", r, http.StatusTooManyRequests, CodeRateLimited)
	if r.header.Get("Retry-After") != "3600" {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	reg := e.post("/api/register", map[string]string{"username": "bob", "password": acctPassword}, nil)
	e.wantStatus("register shares the limit", reg, http.StatusTooManyRequests, CodeRateLimited)
	e.clock.Advance(time.Hour)
	e.login("alice")
}

func TestAccountsAuthLimiterBounded(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newAuthLimiter(rate.Every(time.Minute), 1, 3, 10*time.Minute)
	for i := range 10 {
		l.allow(fmt.Sprintf("10.0.0.%d", i), now.Add(time.Duration(i)*time.Second))
	}
	if n := l.size(); n != 3 {
		t.Fatalf("size = %d after 10 clients, want the bound 3", n)
	}
	// The most recent client kept its state: its bucket is still empty.
	if l.allow("10.0.0.9", now.Add(10*time.Second)) {
		t.Fatal("recent client's limiter was evicted")
	}
	// When full, idle entries all go at once.
	l.allow("10.0.1.1", now.Add(time.Hour))
	if n := l.size(); n != 1 {
		t.Fatalf("size = %d after idle sweep, want 1", n)
	}
}

func TestAccountsClientIPKey(t *testing.T) {
	cases := map[string]string{
		"192.0.2.7:5000":             "192.0.2.7",
		"[::ffff:192.0.2.7]:5000":    "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":          "fe80::/64",
		"not an address":             "not an address",
	}
	for remote, want := range cases {
		r := httptest.NewRequest(http.MethodPost, "/api/login", nil)
		r.RemoteAddr = remote
		if got := clientIPKey(r); got != want {
			t.Errorf("clientIPKey(%q) = %q, want %q", remote, got, want)
		}
	}
}

func TestAccountsLogsNoSecrets(t *testing.T) {
	e := newAcctEnv(t, acctEnvOpts{})
	s := e.register("alice")
	s2 := e.login("alice")
	e.post("/api/login", map[string]string{"username": "alice", "password": "wrong password"}, nil)
	e.me("Bearer " + s.AccessToken + "x")
	r := e.refresh(s.RefreshToken)
	e.refresh(s.RefreshToken) // reuse: logs a warning
	e.post("/api/logout", map[string]any{"all": true}, acctBearer(s2.AccessToken))
	logs := e.logs.String()
	if logs == "" {
		t.Fatal("nothing was logged; the check below would be vacuous")
	}
	secrets := []string{acctPassword, "wrong password", s.AccessToken, s.RefreshToken, s2.AccessToken, s2.RefreshToken, r.session(t).RefreshToken, hashRefreshToken(s.RefreshToken)}
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain a secret %q:\n%s", secret, logs)
		}
	}
}
