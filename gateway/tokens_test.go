package gateway

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	tokTestSecret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	tokTestNow    = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

// newTokTestTokens returns Tokens with default TTLs and a clock frozen at tokTestNow.
func newTokTestTokens(t *testing.T) *Tokens {
	t.Helper()
	tk, err := NewTokens(TokenConfig{Secret: tokTestSecret, Now: func() time.Time { return tokTestNow }})
	if err != nil {
		t.Fatalf("NewTokens: %v", err)
	}
	return tk
}

// tokTestClaims returns claims that would verify, for cases to spoil.
func tokTestClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": DefaultTokenIssuer,
		"aud": []string{DefaultTokenAudience},
		"sub": "user-1",
		"usr": "alice",
		"iat": tokTestNow.Unix(),
		"exp": tokTestNow.Add(time.Minute).Unix(),
	}
}

// tokTestSign signs claims with method and key, failing the test on error.
func tokTestSign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// tokTestUnsigned crafts an "alg":"none" token with otherwise valid claims by hand.
func tokTestUnsigned(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
}

func TestTokenConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  TokenConfig
		ok   bool
	}{
		{"ok", TokenConfig{Secret: tokTestSecret}, true},
		{"no secret", TokenConfig{}, false},
		{"short secret", TokenConfig{Secret: tokTestSecret[:31]}, false},
		{"negative access ttl", TokenConfig{Secret: tokTestSecret, AccessTTL: -time.Second}, false},
		{"negative refresh ttl", TokenConfig{Secret: tokTestSecret, RefreshTTL: -time.Second}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if _, err := NewTokens(tc.cfg); (err == nil) != tc.ok {
				t.Fatalf("NewTokens() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestTokenIssueAndVerify(t *testing.T) {
	tk := newTokTestTokens(t)
	token, exp, err := tk.IssueAccess("user-1", "alice", tokTestNow)
	if err != nil {
		t.Fatalf("IssueAccess: %v", err)
	}
	if want := tokTestNow.Add(DefaultAccessTTL); !exp.Equal(want) {
		t.Fatalf("expires = %v, want %v", exp, want)
	}
	c, err := tk.VerifyAccess(token)
	if err != nil {
		t.Fatalf("VerifyAccess: %v", err)
	}
	want := Claims{UserID: "user-1", Username: "alice", ExpiresAt: exp}
	if c.UserID != want.UserID || c.Username != want.Username || !c.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("claims = %+v, want %+v", c, want)
	}
	if _, _, err := tk.IssueAccess("", "alice", tokTestNow); err == nil {
		t.Fatal("IssueAccess with empty user id succeeded")
	}
}

// tokRejectCase is a token VerifyAccess must refuse.
type tokRejectCase struct {
	name   string
	token  string
	detail error // a jwt error the failure must also wrap, when meaningful
}

// tokRejectCases builds the refused tokens; valid is a control token that verifies.
func tokRejectCases(t *testing.T, tk *Tokens) (cases []tokRejectCase, valid string) {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	with := func(mut func(jwt.MapClaims)) jwt.MapClaims { c := tokTestClaims(); mut(c); return c }
	hs256 := func(c jwt.MapClaims) string { return tokTestSign(t, jwt.SigningMethodHS256, tokTestSecret, c) }
	expired, _, err := tk.IssueAccess("user-1", "alice", tokTestNow.Add(-DefaultAccessTTL-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	valid = hs256(tokTestClaims())
	parts := strings.Split(valid, ".")
	otherPayload := strings.Split(hs256(with(func(c jwt.MapClaims) { c["sub"] = "user-2" })), ".")[1]

	return []tokRejectCase{
		{"no token", "", nil},
		{"garbage", "garbage", jwt.ErrTokenMalformed},
		{"three garbage segments", "a.b.c", jwt.ErrTokenMalformed},
		{"oversized", strings.Repeat("a", maxAccessTokenLen+1), nil},
		{"expired", expired, jwt.ErrTokenExpired},
		{"wrong signature", tokTestSign(t, jwt.SigningMethodHS256, []byte("another-secret-of-32-bytes-xxxxx"), tokTestClaims()), jwt.ErrTokenSignatureInvalid},
		{"tampered payload", parts[0] + "." + otherPayload + "." + parts[2], jwt.ErrTokenSignatureInvalid},
		{"signature stripped", parts[0] + "." + parts[1] + ".", jwt.ErrTokenSignatureInvalid},
		{"alg none", tokTestUnsigned(t, tokTestClaims()), jwt.ErrTokenSignatureInvalid},
		{"RS256", tokTestSign(t, jwt.SigningMethodRS256, rsaKey, tokTestClaims()), jwt.ErrTokenSignatureInvalid},
		{"HS384 same secret", tokTestSign(t, jwt.SigningMethodHS384, tokTestSecret, tokTestClaims()), jwt.ErrTokenSignatureInvalid},
		{"HS512 same secret", tokTestSign(t, jwt.SigningMethodHS512, tokTestSecret, tokTestClaims()), jwt.ErrTokenSignatureInvalid},
		{"wrong issuer", hs256(with(func(c jwt.MapClaims) { c["iss"] = "evil" })), jwt.ErrTokenInvalidIssuer},
		{"missing issuer", hs256(with(func(c jwt.MapClaims) { delete(c, "iss") })), jwt.ErrTokenRequiredClaimMissing},
		{"wrong audience", hs256(with(func(c jwt.MapClaims) { c["aud"] = []string{"admin"} })), jwt.ErrTokenInvalidAudience},
		{"missing audience", hs256(with(func(c jwt.MapClaims) { delete(c, "aud") })), jwt.ErrTokenRequiredClaimMissing},
		{"missing exp", hs256(with(func(c jwt.MapClaims) { delete(c, "exp") })), jwt.ErrTokenRequiredClaimMissing},
		{"missing sub", hs256(with(func(c jwt.MapClaims) { delete(c, "sub") })), nil},
		{"not yet valid", hs256(with(func(c jwt.MapClaims) { c["nbf"] = tokTestNow.Add(time.Hour).Unix() })), jwt.ErrTokenNotValidYet},
	}, valid
}

func TestTokenVerifyRejects(t *testing.T) {
	tk := newTokTestTokens(t)
	cases, valid := tokRejectCases(t, tk)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tk.VerifyAccess(tc.token)
			if !errors.Is(err, ErrBadToken) {
				t.Fatalf("VerifyAccess = %+v, %v; want ErrBadToken", c, err)
			}
			if tc.detail != nil && !errors.Is(err, tc.detail) {
				t.Fatalf("VerifyAccess error %v does not wrap %v", err, tc.detail)
			}
			if c != (Claims{}) {
				t.Fatalf("rejected token yielded claims %+v", c)
			}
		})
	}
	if _, err := tk.VerifyAccess(valid); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
}

func TestTokenLeewayIsSmall(t *testing.T) {
	tk := newTokTestTokens(t)
	within, _, _ := tk.IssueAccess("user-1", "alice", tokTestNow.Add(-DefaultAccessTTL-2*time.Second))
	if _, err := tk.VerifyAccess(within); err != nil {
		t.Fatalf("token expired 2s ago rejected despite leeway: %v", err)
	}
	beyond, _, _ := tk.IssueAccess("user-1", "alice", tokTestNow.Add(-DefaultAccessTTL-30*time.Second))
	if _, err := tk.VerifyAccess(beyond); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("token expired 30s ago: err = %v, want expired", err)
	}
}

func TestTokenRefreshOpaqueAndHashed(t *testing.T) {
	tk := newTokTestTokens(t)
	tok1, rec, err := tk.newRefresh("user-1", tokTestNow)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok1)
	if err != nil || len(raw) != refreshTokenBytes {
		t.Fatalf("token %q is not %d bytes of base64url: %v", tok1, refreshTokenBytes, err)
	}
	if rec.Hash != hashRefreshToken(tok1) || rec.Hash == tok1 {
		t.Fatalf("record hash %q is not the hash of the token", rec.Hash)
	}
	if h, err := hex.DecodeString(rec.Hash); err != nil || len(h) != 32 {
		t.Fatalf("hash %q is not hex SHA-256", rec.Hash)
	}
	if rec.UserID != "user-1" || !rec.CreatedAt.Equal(tokTestNow) || !rec.ExpiresAt.Equal(tokTestNow.Add(DefaultRefreshTTL)) {
		t.Fatalf("record = %+v", rec)
	}
	if !rec.RevokedAt.IsZero() {
		t.Fatal("new refresh token is revoked")
	}
	tok2, _, _ := tk.newRefresh("user-1", tokTestNow)
	if tok1 == tok2 {
		t.Fatal("two refresh tokens are equal")
	}
	// hashRefreshToken is a fixed function: stored hashes must stay valid across releases.
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := hashRefreshToken(""); got != emptySHA256 {
		t.Fatalf("hashRefreshToken(\"\") = %s", got)
	}
}
