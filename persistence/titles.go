package persistence

import "context"

// Titles renames conversations.
type Titles interface {
	// SetTitle sets the conversation's title; ErrNotFound when it does not exist.
	SetTitle(ctx context.Context, conversationID, title string) error
}
