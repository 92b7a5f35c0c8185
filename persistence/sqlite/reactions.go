package sqlite

import (
	"context"
	"fmt"

	"github.com/actorchat/engine/persistence"
)

// SetReaction implements persistence.Reactions in one write transaction.
func (s *Store) SetReaction(ctx context.Context, r persistence.Reaction, on bool, eventSeq int64) error {
	err := s.inTx(ctx, func(tx txExec) error {
		if err := liveChatMessage(ctx, tx, r.ConversationID, r.Seq); err != nil {
			return err
		}
		var err error
		if on {
			_, err = tx.ExecContext(ctx, `INSERT INTO reactions (conversation_id, seq, emoji, user_id, created_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, r.ConversationID, r.Seq, r.Emoji, r.UserID, millis(r.At))
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM reactions WHERE conversation_id = ? AND seq = ? AND emoji = ? AND user_id = ?`,
				r.ConversationID, r.Seq, r.Emoji, r.UserID)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE messages SET updated_seq = max(updated_seq, ?) WHERE conversation_id = ? AND seq = ?`,
			eventSeq, r.ConversationID, r.Seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("set reaction on %d of %s: %w", r.Seq, r.ConversationID, translate(err))
	}
	return nil
}

// Reactions implements persistence.Reactions with one range scan of the
// primary key.
func (s *Store) Reactions(ctx context.Context, conversationID string, fromSeq, toSeq int64) ([]persistence.Reaction, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT conversation_id, seq, emoji, user_id, created_at FROM reactions
		WHERE conversation_id = ? AND seq >= ? AND seq <= ? ORDER BY seq, emoji, created_at, user_id`,
		conversationID, fromSeq, toSeq)
	if err != nil {
		return nil, fmt.Errorf("reactions of %s: %w", conversationID, translate(err))
	}
	out, err := collect(rows, func(sc scanner) (persistence.Reaction, error) {
		var r persistence.Reaction
		var at int64
		err := sc.Scan(&r.ConversationID, &r.Seq, &r.Emoji, &r.UserID, &at)
		r.At = fromMillis(at)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("reactions of %s: %w", conversationID, translate(err))
	}
	return out, nil
}
