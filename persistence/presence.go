package persistence

import (
	"context"
	"time"
)

// Presence keeps when each user was last seen online. Whether a user is
// online is soft state held by the actors and never stored.
type Presence interface {
	// SetLastSeen records that the user was last online at t. It only moves
	// forward: an earlier t than the stored one changes nothing.
	SetLastSeen(ctx context.Context, userID string, t time.Time) error
	// LastSeen returns when the user was last online, the zero time when
	// never recorded.
	LastSeen(ctx context.Context, userID string) (time.Time, error)
}
