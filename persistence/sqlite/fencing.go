package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/actorchat/engine/persistence"
)

// ClaimConversation implements persistence.Fencing.
func (s *Store) ClaimConversation(ctx context.Context, conversationID string) (int64, error) {
	var epoch int64
	err := s.w.QueryRowContext(ctx,
		`UPDATE conversations SET epoch = epoch + 1 WHERE id = ? RETURNING epoch`, conversationID).Scan(&epoch)
	if err != nil {
		return 0, fmt.Errorf("claim conversation %s: %w", conversationID, epochErr(err))
	}
	return epoch, nil
}

// ConversationEpoch implements persistence.Fencing.
func (s *Store) ConversationEpoch(ctx context.Context, conversationID string) (int64, error) {
	var epoch int64
	err := s.r.QueryRowContext(ctx, `SELECT epoch FROM conversations WHERE id = ?`, conversationID).Scan(&epoch)
	if err != nil {
		return 0, fmt.Errorf("epoch of conversation %s: %w", conversationID, epochErr(err))
	}
	return epoch, nil
}

func epochErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return persistence.ErrNotFound
	}
	return translate(err)
}
