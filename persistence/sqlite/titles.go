package sqlite

import (
	"context"
	"fmt"
)

// SetTitle implements persistence.Titles.
func (s *Store) SetTitle(ctx context.Context, conversationID, title string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE conversations SET title = ? WHERE id = ?`, title, conversationID)
	if err = oneRow(res, err); err != nil {
		return fmt.Errorf("set title of %s: %w", conversationID, err)
	}
	return nil
}
