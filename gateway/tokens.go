package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/actorchat/engine/persistence"
)

// ErrBadToken is returned (wrapped) by VerifyAccess for every token that must
// not be accepted: missing, malformed, badly signed, of another algorithm,
// issuer or audience, expired or without an expiry. The wrapped detail is
// for logs and tests only; clients get CodeUnauthorized.
var ErrBadToken = errors.New("gateway: bad access token")

// Token defaults, applied to zero fields of TokenConfig.
const (
	DefaultTokenIssuer   = "chatd"
	DefaultTokenAudience = "chat"
	DefaultAccessTTL     = 15 * time.Minute
	DefaultRefreshTTL    = 30 * 24 * time.Hour
)

const (
	// minTokenSecret is the minimum HS256 key length (the hash output size).
	minTokenSecret = 32
	// tokenLeeway tolerates clock skew between cluster nodes.
	tokenLeeway = 5 * time.Second
	// maxAccessTokenLen bounds the work spent on a presented token.
	maxAccessTokenLen = 4096
	// refreshTokenBytes is the entropy of an opaque refresh token.
	refreshTokenBytes = 32
)

// TokenConfig configures access and refresh tokens. The zero value of every
// field but Secret is a documented default.
type TokenConfig struct {
	// Secret is the HS256 key; at least 32 bytes. Every node of a cluster
	// must share it.
	Secret []byte
	// Issuer is the iss claim written and required; default "chatd".
	Issuer string
	// Audience is the aud claim written and required; default "chat".
	Audience string
	// AccessTTL is the lifetime of an access token; default 15m.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of a refresh token; default 30 days.
	RefreshTTL time.Duration
	// Now is the clock VerifyAccess checks expiry against; default time.Now.
	Now func() time.Time
}

// Validate reports whether c can be used.
func (c TokenConfig) Validate() error {
	switch {
	case len(c.Secret) < minTokenSecret:
		return fmt.Errorf("token secret must be at least %d bytes, got %d", minTokenSecret, len(c.Secret))
	case c.AccessTTL < 0:
		return errors.New("token access TTL must not be negative")
	case c.RefreshTTL < 0:
		return errors.New("token refresh TTL must not be negative")
	}
	return nil
}

// withDefaults returns c with zero fields set to their defaults.
func (c TokenConfig) withDefaults() TokenConfig {
	if c.Issuer == "" {
		c.Issuer = DefaultTokenIssuer
	}
	if c.Audience == "" {
		c.Audience = DefaultTokenAudience
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = DefaultAccessTTL
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Claims is what a verified access token says about its bearer.
type Claims struct {
	UserID    string
	Username  string
	ExpiresAt time.Time
}

// accessJWTClaims is the JWT payload of an access token: sub is the user id.
type accessJWTClaims struct {
	Username string `json:"usr"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies access tokens (HS256 JWTs) and mints opaque
// refresh tokens. It is immutable and safe for concurrent use.
type Tokens struct {
	cfg    TokenConfig
	parser *jwt.Parser
}

// NewTokens validates cfg, fills its defaults and returns a Tokens.
func NewTokens(cfg TokenConfig) (*Tokens, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.Secret = append([]byte(nil), cfg.Secret...) // the caller's slice stays theirs
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(cfg.Now),
	)
	return &Tokens{cfg: cfg, parser: parser}, nil
}

// IssueAccess signs an access token for the user, valid from now for
// AccessTTL, and returns it with its expiry.
func (t *Tokens) IssueAccess(userID, username string, now time.Time) (token string, expires time.Time, err error) {
	if userID == "" {
		return "", time.Time{}, errors.New("issue access token: empty user id")
	}
	expires = now.Add(t.cfg.AccessTTL).Truncate(time.Second) // JWT times are whole seconds
	claims := accessJWTClaims{
		Username: username,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expires),
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.cfg.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return token, expires, nil
}

// VerifyAccess checks an access token: HS256 with this secret only, iss and
// aud as configured, exp present and not past (with a few seconds' leeway),
// sub present. Every failure wraps ErrBadToken.
func (t *Tokens) VerifyAccess(token string) (Claims, error) {
	if token == "" || len(token) > maxAccessTokenLen {
		return Claims{}, fmt.Errorf("%w: empty or oversized", ErrBadToken)
	}
	var c accessJWTClaims
	_, err := t.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) {
		return t.cfg.Secret, nil // the parser has already enforced HS256
	})
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	if c.Subject == "" || c.ExpiresAt == nil {
		return Claims{}, fmt.Errorf("%w: missing subject", ErrBadToken)
	}
	return Claims{UserID: c.Subject, Username: c.Username, ExpiresAt: c.ExpiresAt.Time}, nil
}

// RefreshTTL returns the configured refresh token lifetime.
func (t *Tokens) RefreshTTL() time.Duration { return t.cfg.RefreshTTL }

// newRefresh mints an opaque refresh token for the user and the record to
// store for it. Only the record's hash is ever persisted; the token itself
// goes to the client once.
func (t *Tokens) newRefresh(userID string, now time.Time) (string, persistence.RefreshToken, error) {
	buf := make([]byte, refreshTokenBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", persistence.RefreshToken{}, fmt.Errorf("mint refresh token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(buf)
	rec := persistence.RefreshToken{
		Hash:      hashRefreshToken(token),
		UserID:    userID,
		CreatedAt: now,
		ExpiresAt: now.Add(t.cfg.RefreshTTL),
	}
	return token, rec, nil
}

// hashRefreshToken returns the hex SHA-256 of a refresh token, the only
// form in which refresh tokens are stored. A fast hash is enough: the token
// has 256 bits of entropy, so it cannot be guessed from its hash.
func hashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
