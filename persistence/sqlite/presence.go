package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/actorchat/engine/persistence"
)

// SetLastSeen implements persistence.Presence with one upsert keeping the
// later time.
func (s *Store) SetLastSeen(ctx context.Context, userID string, t time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO last_seen (user_id, at) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET at = max(at, excluded.at)`, userID, millis(t))
	if err != nil {
		return fmt.Errorf("set last seen of %s: %w", userID, translate(err))
	}
	return nil
}

// LastSeen implements persistence.Presence.
func (s *Store) LastSeen(ctx context.Context, userID string) (time.Time, error) {
	var at int64
	err := translate(s.r.QueryRowContext(ctx, `SELECT at FROM last_seen WHERE user_id = ?`, userID).Scan(&at))
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("last seen of %s: %w", userID, err)
	}
	return fromMillis(at), nil
}
