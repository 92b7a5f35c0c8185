package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/actorchat/engine/persistence"
)

// MessageBySeq implements persistence.Events with one lookup in messages_seq.
func (s *Store) MessageBySeq(ctx context.Context, conversationID string, seq int64) (persistence.Message, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? AND seq = ?`,
		conversationID, seq)
	m, err := scanMessage(row)
	if err != nil {
		return persistence.Message{}, fmt.Errorf("message %d of %s: %w", seq, conversationID, translate(err))
	}
	return m, nil
}

// EditMessage implements persistence.Events in one write transaction.
func (s *Store) EditMessage(ctx context.Context, conversationID string, seq int64, body string, at time.Time, eventSeq int64) error {
	err := s.inTx(ctx, func(tx txExec) error {
		if err := liveChatMessage(ctx, tx, conversationID, seq); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE messages SET body = ?, edited_at = ?, updated_seq = ?
			WHERE conversation_id = ? AND seq = ? AND updated_seq < ?`,
			body, millis(at), eventSeq, conversationID, seq, eventSeq)
		return err
	})
	if err != nil {
		return fmt.Errorf("edit message %d of %s: %w", seq, conversationID, translate(err))
	}
	return nil
}

// DeleteMessage implements persistence.Events in one write transaction.
func (s *Store) DeleteMessage(ctx context.Context, conversationID string, seq int64, eventSeq int64) error {
	err := s.inTx(ctx, func(tx txExec) error {
		var kind string
		if err := tx.QueryRowContext(ctx, `SELECT kind FROM messages WHERE conversation_id = ? AND seq = ?`,
			conversationID, seq).Scan(&kind); err != nil {
			return err
		}
		if kind != string(persistence.KindMessage) {
			return persistence.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET body = '', attachments = '', deleted = 1, updated_seq = max(updated_seq, ?)
			WHERE conversation_id = ? AND seq = ?`, eventSeq, conversationID, seq); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM blob_refs WHERE conversation_id = ? AND seq = ?`, conversationID, seq); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE messages SET body = ''
			WHERE conversation_id = ? AND target_seq = ? AND kind = ?`, conversationID, seq, string(persistence.KindEdit))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete message %d of %s: %w", seq, conversationID, translate(err))
	}
	return nil
}

// liveChatMessage returns ErrNotFound unless a chat message that is not
// deleted is stored at seq.
func liveChatMessage(ctx context.Context, tx txExec, conversationID string, seq int64) error {
	var kind string
	var deleted bool
	if err := tx.QueryRowContext(ctx, `SELECT kind, deleted FROM messages WHERE conversation_id = ? AND seq = ?`,
		conversationID, seq).Scan(&kind, &deleted); err != nil {
		return err
	}
	if kind != string(persistence.KindMessage) || deleted {
		return persistence.ErrNotFound
	}
	return nil
}
