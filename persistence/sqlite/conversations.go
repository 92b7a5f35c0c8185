package sqlite

import (
	"context"
	"fmt"

	"github.com/actorchat/engine/persistence"
)

const conversationColumns = `id, kind, title, dm_key, created_by, created_at`

// CreateConversation inserts c and then its initial members in one
// transaction: ErrDuplicate when the id or the DM key exists, and then no
// member is written. Members are stored under c.ID whatever their
// ConversationID says.
func (s *Store) CreateConversation(ctx context.Context, c persistence.Conversation, members []persistence.Member) error {
	if err := s.createConversation(ctx, c, members); err != nil {
		return fmt.Errorf("create conversation %s: %w", c.ID, translate(err))
	}
	return nil
}

func (s *Store) createConversation(ctx context.Context, c persistence.Conversation, members []persistence.Member) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit

	if _, err := tx.ExecContext(ctx,
		`INSERT INTO conversations (`+conversationColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, string(c.Kind), c.Title, c.DMKey, c.CreatedBy, millis(c.CreatedAt)); err != nil {
		return err
	}
	for _, m := range members {
		m.ConversationID = c.ID
		if _, err := tx.ExecContext(ctx, insertMemberSQL, memberArgs(m)...); err != nil {
			return fmt.Errorf("member %s: %w", m.UserID, err)
		}
	}
	return tx.Commit()
}

// Conversation returns the conversation or ErrNotFound.
func (s *Store) Conversation(ctx context.Context, id string) (persistence.Conversation, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = ?`, id)
	c, err := scanConversation(row)
	if err != nil {
		return persistence.Conversation{}, fmt.Errorf("conversation %s: %w", id, translate(err))
	}
	return c, nil
}

// ConversationByDMKey returns the DM with that key or ErrNotFound. The empty
// key (every group's) matches nothing.
func (s *Store) ConversationByDMKey(ctx context.Context, dmKey string) (persistence.Conversation, error) {
	// "dm_key <> ''" repeats the partial index's condition so that the
	// planner may use conversations_dm_key.
	row := s.r.QueryRowContext(ctx,
		`SELECT `+conversationColumns+` FROM conversations WHERE dm_key = ? AND dm_key <> ''`, dmKey)
	c, err := scanConversation(row)
	if err != nil {
		return persistence.Conversation{}, fmt.Errorf("conversation by DM key %s: %w", dmKey, translate(err))
	}
	return c, nil
}

func scanConversation(sc scanner) (persistence.Conversation, error) {
	var c persistence.Conversation
	var kind string
	var created int64
	if err := sc.Scan(&c.ID, &kind, &c.Title, &c.DMKey, &c.CreatedBy, &created); err != nil {
		return persistence.Conversation{}, err
	}
	c.Kind = persistence.ConversationKind(kind)
	c.CreatedAt = fromMillis(created)
	return c, nil
}
