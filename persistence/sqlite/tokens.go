package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/actorchat/engine/persistence"
)

// CreateRefreshToken inserts t; ErrDuplicate when the hash exists,
// ErrNotFound when its user does not.
func (s *Store) CreateRefreshToken(ctx context.Context, t persistence.RefreshToken) error {
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO refresh_tokens (hash, user_id, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?)`,
		t.Hash, t.UserID, millis(t.CreatedAt), millis(t.ExpiresAt), nullMillis(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("create refresh token of user %s: %w", t.UserID, translate(err))
	}
	return nil
}

// UseRefreshToken revokes the active token with this hash at now and
// returns it as it was. An unknown hash is ErrNotFound; a revoked token is
// returned with ErrRevoked. The read and the revocation share one write
// transaction, so of concurrent uses exactly one succeeds. Expiry is not
// checked. Errors never include the hash.
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (persistence.RefreshToken, error) {
	tok, err := s.useRefreshToken(ctx, hash, now)
	if err != nil {
		return tok, fmt.Errorf("use refresh token: %w", err)
	}
	return tok, nil
}

func (s *Store) useRefreshToken(ctx context.Context, hash string, now time.Time) (persistence.RefreshToken, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return persistence.RefreshToken{}, translate(err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit

	tok := persistence.RefreshToken{Hash: hash}
	var created, expires int64
	var revoked sql.NullInt64
	err = tx.QueryRowContext(ctx,
		`SELECT user_id, created_at, expires_at, revoked_at, successor FROM refresh_tokens WHERE hash = ?`, hash,
	).Scan(&tok.UserID, &created, &expires, &revoked, &tok.Successor)
	if err != nil {
		return persistence.RefreshToken{}, translate(err)
	}
	tok.CreatedAt, tok.ExpiresAt, tok.RevokedAt = fromMillis(created), fromMillis(expires), fromNullMillis(revoked)
	if revoked.Valid {
		return tok, persistence.ErrRevoked
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = ? WHERE hash = ?`, millis(now), hash); err != nil {
		return persistence.RefreshToken{}, translate(err)
	}
	if err := tx.Commit(); err != nil {
		return persistence.RefreshToken{}, translate(err)
	}
	return tok, nil
}

// RevokeUserRefreshTokens revokes every active token of the user at now;
// tokens already revoked keep their revocation time.
func (s *Store) RevokeUserRefreshTokens(ctx context.Context, userID string, now time.Time) error {
	_, err := s.w.ExecContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
		millis(now), userID)
	if err != nil {
		return fmt.Errorf("revoke refresh tokens of user %s: %w", userID, translate(err))
	}
	return nil
}

// SetRefreshSuccessor implements persistence.Tokens.
func (s *Store) SetRefreshSuccessor(ctx context.Context, hash, successor string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE refresh_tokens SET successor = ? WHERE hash = ?`, successor, hash)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = sql.ErrNoRows
		}
	}
	if err != nil {
		return fmt.Errorf("set refresh token successor: %w", translate(err))
	}
	return nil
}
