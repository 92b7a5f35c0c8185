package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/actorchat/engine/persistence"
)

const notificationColumns = `user_id, seq, id, key, kind, conversation_id, actor_id, message_seq, title, created_at`

// AppendNotification implements persistence.Notifications.
func (s *Store) AppendNotification(ctx context.Context, n persistence.Notification) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO notifications (`+notificationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.UserID, n.Seq, n.ID, n.Key, n.Kind, n.ConversationID, n.ActorID, n.MessageSeq, n.Title, millis(n.CreatedAt))
	if err != nil {
		return fmt.Errorf("append notification %d of %s: %w", n.Seq, n.UserID, translate(err))
	}
	return nil
}

// NotificationByKey implements persistence.Notifications.
func (s *Store) NotificationByKey(ctx context.Context, userID, key string) (persistence.Notification, error) {
	n, err := scanNotification(s.r.QueryRowContext(ctx,
		`SELECT `+notificationColumns+` FROM notifications WHERE user_id = ? AND key = ?`, userID, key))
	if err != nil {
		return n, fmt.Errorf("notification of %s by key: %w", userID, translate(err))
	}
	return n, nil
}

// LastNotificationSeq implements persistence.Notifications.
func (s *Store) LastNotificationSeq(ctx context.Context, userID string) (int64, error) {
	var seq int64
	err := translate(s.r.QueryRowContext(ctx,
		`SELECT seq FROM notifications WHERE user_id = ? ORDER BY seq DESC LIMIT 1`, userID).Scan(&seq))
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return 0, fmt.Errorf("last notification of %s: %w", userID, err)
	}
	return seq, nil
}

// Notifications implements persistence.Notifications.
func (s *Store) Notifications(ctx context.Context, userID string, afterSeq int64, limit int) ([]persistence.Notification, error) {
	limit = persistence.MessageQuery{Limit: limit}.EffectiveLimit()
	rows, err := s.r.QueryContext(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?`, userID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", userID, translate(err))
	}
	out, err := collect(rows, scanNotification)
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", userID, translate(err))
	}
	return out, nil
}

func scanNotification(sc scanner) (persistence.Notification, error) {
	var n persistence.Notification
	var at int64
	err := sc.Scan(&n.UserID, &n.Seq, &n.ID, &n.Key, &n.Kind, &n.ConversationID, &n.ActorID, &n.MessageSeq, &n.Title, &at)
	n.CreatedAt = fromMillis(at)
	return n, err
}
