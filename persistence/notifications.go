package persistence

import (
	"context"
	"time"
)

// Notification is one entry of a user's own notification stream, separate
// from conversations: (UserID, Seq) is unique and gap-free from 1, and
// (UserID, Key) is unique so that a notification sent twice by its source
// is stored once.
type Notification struct {
	UserID         string
	Seq            int64
	ID             string
	Key            string // the source's idempotency key
	Kind           string // "added", "removed", "mentioned", "renamed"
	ConversationID string
	ActorID        string // who caused it
	MessageSeq     int64  // the conversation entry that caused it
	Title          string // the conversation's title, when relevant
	CreatedAt      time.Time
}

// Notifications stores the users' notification streams.
type Notifications interface {
	// AppendNotification inserts n. ErrDuplicate when (UserID, Seq) or
	// (UserID, Key) exists; then nothing is stored.
	AppendNotification(ctx context.Context, n Notification) error
	// NotificationByKey returns the user's notification stored under key,
	// or ErrNotFound.
	NotificationByKey(ctx context.Context, userID, key string) (Notification, error)
	// LastNotificationSeq returns the user's highest seq, 0 when none.
	LastNotificationSeq(ctx context.Context, userID string) (int64, error)
	// Notifications returns up to limit (capped at MaxPageLimit) of the
	// user's notifications with seq > afterSeq, ascending.
	Notifications(ctx context.Context, userID string, afterSeq int64, limit int) ([]Notification, error)
}
