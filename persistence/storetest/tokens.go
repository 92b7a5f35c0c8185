package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func tokenCases() []testCase {
	return []testCase{
		{"Tokens/UseOnce", testTokenUseOnce},
		{"Tokens/Unknown", testTokenUnknown},
		{"Tokens/DuplicateHash", testTokenDuplicateHash},
		{"Tokens/ExpiryIsCallersCheck", testTokenExpiryNotChecked},
		{"Tokens/RevokeUser", testTokenRevokeUser},
		{"Tokens/ConcurrentUse", testTokenConcurrentUse},
		{"Tokens/Successor", testTokenSuccessor},
	}
}

// newToken returns an active token of userID that expires in 30 days.
func newToken(hash, userID string) persistence.RefreshToken {
	return persistence.RefreshToken{
		Hash:      hash,
		UserID:    userID,
		CreatedAt: at(time.Hour),
		ExpiresAt: at(time.Hour + 30*24*time.Hour),
	}
}

// createTokens stores newToken(hash, userID) for every hash.
func createTokens(t *testing.T, s persistence.Store, userID string, hashes ...string) []persistence.RefreshToken {
	t.Helper()
	toks := make([]persistence.RefreshToken, 0, len(hashes))
	for _, h := range hashes {
		tok := newToken(h, userID)
		ok(t, s.CreateRefreshToken(t.Context(), tok), "create refresh token "+h)
		toks = append(toks, tok)
	}
	return toks
}

func normToken(tok persistence.RefreshToken) persistence.RefreshToken {
	tok.CreatedAt = ms(tok.CreatedAt)
	tok.ExpiresAt = ms(tok.ExpiresAt)
	tok.RevokedAt = ms(tok.RevokedAt)
	return tok
}

func wantToken(t *testing.T, got, want persistence.RefreshToken) {
	t.Helper()
	if normToken(got) != normToken(want) {
		t.Fatalf("refresh token:\n got %+v\nwant %+v", got, want)
	}
	if want.RevokedAt.IsZero() != got.RevokedAt.IsZero() {
		t.Fatalf("refresh token RevokedAt = %v, want zero=%v", got.RevokedAt, want.RevokedAt.IsZero())
	}
}

// useRevoked uses a token that must already be revoked at revokedAt.
func useRevoked(t *testing.T, s persistence.Store, tok persistence.RefreshToken, revokedAt time.Time) {
	t.Helper()
	got, err := s.UseRefreshToken(t.Context(), tok.Hash, at(100*time.Hour))
	wantErr(t, err, persistence.ErrRevoked, "UseRefreshToken of revoked token "+tok.Hash)
	tok.RevokedAt = revokedAt
	wantToken(t, got, tok)
}

func testTokenUseOnce(t *testing.T, s persistence.Store) {
	createUsers(t, s, "u1")
	tok := createTokens(t, s, "u1", "h1")[0]
	used := at(2 * time.Hour)

	got, err := s.UseRefreshToken(t.Context(), tok.Hash, used)
	ok(t, err, "first UseRefreshToken")
	wantToken(t, got, tok) // as it was: RevokedAt still zero

	useRevoked(t, s, tok, used)
	useRevoked(t, s, tok, used) // a reuse does not move RevokedAt
}

func testTokenUnknown(t *testing.T, s persistence.Store) {
	createUsers(t, s, "u1")
	createTokens(t, s, "u1", "h1")
	_, err := s.UseRefreshToken(t.Context(), "unknown", at(2*time.Hour))
	wantErr(t, err, persistence.ErrNotFound, "UseRefreshToken unknown hash")
}

func testTokenDuplicateHash(t *testing.T, s persistence.Store) {
	createUsers(t, s, "u1", "u2")
	tok := createTokens(t, s, "u1", "h1")[0]
	err := s.CreateRefreshToken(t.Context(), newToken("h1", "u2"))
	wantErr(t, err, persistence.ErrDuplicate, "CreateRefreshToken with a taken hash")

	got, err := s.UseRefreshToken(t.Context(), "h1", at(2*time.Hour))
	ok(t, err, "UseRefreshToken")
	wantToken(t, got, tok) // still the first token
}

func testTokenExpiryNotChecked(t *testing.T, s persistence.Store) {
	createUsers(t, s, "u1")
	tok := newToken("h1", "u1")
	tok.ExpiresAt = at(-time.Hour) // long expired at use time
	ok(t, s.CreateRefreshToken(t.Context(), tok), "CreateRefreshToken")

	got, err := s.UseRefreshToken(t.Context(), tok.Hash, at(48*time.Hour))
	ok(t, err, "UseRefreshToken of an expired token")
	wantToken(t, got, tok)
}

func testTokenRevokeUser(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createUsers(t, s, "u1", "u2", "u3")
	toks := createTokens(t, s, "u1", "a", "b", "c")
	other := createTokens(t, s, "u2", "d")[0]

	usedA := at(2 * time.Hour)
	_, err := s.UseRefreshToken(ctx, "a", usedA)
	ok(t, err, "UseRefreshToken a")

	revoked := at(3 * time.Hour)
	ok(t, s.RevokeUserRefreshTokens(ctx, "u1", revoked), "RevokeUserRefreshTokens")
	ok(t, s.RevokeUserRefreshTokens(ctx, "u3", revoked), "RevokeUserRefreshTokens of a user without tokens")

	useRevoked(t, s, toks[0], usedA) // already revoked: keeps its time
	useRevoked(t, s, toks[1], revoked)
	useRevoked(t, s, toks[2], revoked)

	got, err := s.UseRefreshToken(ctx, other.Hash, at(4*time.Hour))
	ok(t, err, "UseRefreshToken of another user's token")
	wantToken(t, got, other)
}

func testTokenConcurrentUse(t *testing.T, s persistence.Store) {
	const tokens, racers = 10, 8
	createUsers(t, s, "u1")
	for i := range tokens {
		tok := createTokens(t, s, "u1", fmt.Sprintf("h%d", i))[0]

		start := make(chan struct{}) // released at once, to widen the race
		errs := make(chan error, racers)
		var wg sync.WaitGroup
		for r := range racers {
			wg.Go(func() {
				<-start
				_, err := s.UseRefreshToken(t.Context(), tok.Hash, at(time.Duration(2+r)*time.Hour))
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)

		var wins int
		for err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, persistence.ErrRevoked):
			default:
				t.Errorf("concurrent UseRefreshToken: unexpected error %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("token %s: %d of %d concurrent uses succeeded, want exactly 1", tok.Hash, wins, racers)
		}
	}
}

// testTokenSuccessor: the successor recorded at rotation comes back with the
// token, used or reused; an unknown hash is ErrNotFound.
func testTokenSuccessor(t *testing.T, s persistence.Store) {
	createUsers(t, s, "u1")
	toks := createTokens(t, s, "u1", "h1", "h2")
	used := at(2 * time.Hour)
	got, err := s.UseRefreshToken(t.Context(), "h1", used)
	ok(t, err, "UseRefreshToken h1")
	if got.Successor != "" {
		t.Fatalf("successor %q before any was set", got.Successor)
	}
	ok(t, s.SetRefreshSuccessor(t.Context(), "h1", "h2"), "SetRefreshSuccessor")
	want := toks[0]
	want.Successor = "h2"
	useRevoked(t, s, want, used)
	wantErr(t, s.SetRefreshSuccessor(t.Context(), "nope", "h2"), persistence.ErrNotFound, "SetRefreshSuccessor of an unknown hash")
}
