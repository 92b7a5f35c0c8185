package sqlite

import (
	"context"
	"fmt"

	"github.com/actorchat/engine/persistence"
)

// countUnreadSQL walks the conversation's messages_seq range after the read
// marker, stopping after MaxUnread matches.
const countUnreadSQL = `SELECT count(*) FROM (SELECT 1 FROM messages
	WHERE conversation_id = ? AND seq > ? AND kind = 'message' AND deleted = 0 AND sender_id <> ? LIMIT ?)`

// CountUnread implements persistence.Unread.
func (s *Store) CountUnread(ctx context.Context, conversationID, userID string, afterSeq int64) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, countUnreadSQL, conversationID, afterSeq, userID, persistence.MaxUnread).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unread of %s in %s: %w", userID, conversationID, translate(err))
	}
	return n, nil
}
