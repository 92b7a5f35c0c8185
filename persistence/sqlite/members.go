package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/actorchat/engine/persistence"
)

const (
	memberColumns   = `conversation_id, user_id, role, joined_at, last_read_seq`
	insertMemberSQL = `INSERT INTO members (` + memberColumns + `) VALUES (?, ?, ?, ?, ?)`
	memberSQL       = `SELECT ` + memberColumns + ` FROM members WHERE conversation_id = ? AND user_id = ?`
	markReadSQL     = `UPDATE members SET last_read_seq = max(last_read_seq, ?)
		WHERE conversation_id = ? AND user_id = ? RETURNING last_read_seq`
)

func memberArgs(m persistence.Member) []any {
	return []any{m.ConversationID, m.UserID, string(m.Role), millis(m.JoinedAt), m.LastReadSeq}
}

// AddMember inserts m; ErrDuplicate when already a member, ErrNotFound when
// the conversation does not exist.
func (s *Store) AddMember(ctx context.Context, m persistence.Member) error {
	if _, err := s.w.ExecContext(ctx, insertMemberSQL, memberArgs(m)...); err != nil {
		return fmt.Errorf("add member %s to %s: %w", m.UserID, m.ConversationID, translate(err))
	}
	return nil
}

// RemoveMember deletes the membership; ErrNotFound when absent.
func (s *Store) RemoveMember(ctx context.Context, conversationID, userID string) error {
	res, err := s.w.ExecContext(ctx,
		`DELETE FROM members WHERE conversation_id = ? AND user_id = ?`, conversationID, userID)
	if err = oneRow(res, err); err != nil {
		return fmt.Errorf("remove member %s from %s: %w", userID, conversationID, err)
	}
	return nil
}

// SetRole changes a member's role; ErrNotFound when not a member.
func (s *Store) SetRole(ctx context.Context, conversationID, userID string, role persistence.Role) error {
	res, err := s.w.ExecContext(ctx,
		`UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?`,
		string(role), conversationID, userID)
	if err = oneRow(res, err); err != nil {
		return fmt.Errorf("set role of %s in %s: %w", userID, conversationID, err)
	}
	return nil
}

// oneRow translates the outcome of a statement that must touch one row.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return persistence.ErrNotFound
	}
	return nil
}

// Member returns one membership or ErrNotFound.
func (s *Store) Member(ctx context.Context, conversationID, userID string) (persistence.Member, error) {
	m, err := scanMember(s.stmts.member.QueryRowContext(ctx, conversationID, userID))
	if err != nil {
		return persistence.Member{}, fmt.Errorf("member %s of %s: %w", userID, conversationID, translate(err))
	}
	return m, nil
}

// Members returns every membership of a conversation, ordered by JoinedAt
// (then user id), walking members_joined.
func (s *Store) Members(ctx context.Context, conversationID string) ([]persistence.Member, error) {
	return s.queryMembers(ctx, "members of "+conversationID,
		`SELECT `+memberColumns+` FROM members WHERE conversation_id = ? ORDER BY joined_at, user_id`, conversationID)
}

// membersPageSQL walks members_joined from a (joined_at, user_id) position.
const membersPageSQL = `SELECT ` + memberColumns + ` FROM members
	WHERE conversation_id = ? AND (joined_at, user_id) > (?, ?) ORDER BY joined_at, user_id LIMIT ?`

// MembersPage returns up to limit memberships after the given position.
func (s *Store) MembersPage(ctx context.Context, conversationID string, after persistence.MemberKey, limit int) ([]persistence.Member, error) {
	joined := int64(-1 << 62) // the zero key: before every member
	if !after.JoinedAt.IsZero() || after.UserID != "" {
		joined = millis(after.JoinedAt)
	}
	return s.queryMembers(ctx, "members of "+conversationID, membersPageSQL, conversationID, joined, after.UserID, limit)
}

// UserMemberships returns every membership of a user, by conversation id.
func (s *Store) UserMemberships(ctx context.Context, userID string) ([]persistence.Member, error) {
	return s.queryMembers(ctx, "memberships of "+userID,
		`SELECT `+memberColumns+` FROM members WHERE user_id = ? ORDER BY conversation_id`, userID)
}

// queryMembers runs a query of memberColumns on a reader; what names it in errors.
func (s *Store) queryMembers(ctx context.Context, what, query string, args ...any) ([]persistence.Member, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	members, err := collect(rows, scanMember)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	return members, nil
}

// memberCountChunk bounds the ids of one MemberCounts query (SQLite caps
// the parameters of a statement).
const memberCountChunk = 500

// MemberCounts counts through the primary key (conversation_id, user_id),
// a few hundred conversations per query.
func (s *Store) MemberCounts(ctx context.Context, conversationIDs []string) (map[string]int, error) {
	counts := make(map[string]int, len(conversationIDs))
	for chunk := range slices.Chunk(conversationIDs, memberCountChunk) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		marks := strings.Repeat(",?", len(chunk))[1:]
		rows, err := s.r.QueryContext(ctx,
			`SELECT conversation_id, COUNT(*) FROM members WHERE conversation_id IN (`+marks+`) GROUP BY conversation_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("member counts: %w", translate(err))
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("member counts: %w", translate(err))
			}
			counts[id] = n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("member counts: %w", translate(err))
		}
	}
	return counts, nil
}

// MarkRead moves LastReadSeq forward to seq (never backward) in one
// statement and returns the value now stored; ErrNotFound when not a member.
func (s *Store) MarkRead(ctx context.Context, conversationID, userID string, seq int64) (int64, error) {
	var stored int64
	if err := s.stmts.markRead.QueryRowContext(ctx, seq, conversationID, userID).Scan(&stored); err != nil {
		return 0, fmt.Errorf("mark read %s in %s: %w", userID, conversationID, translate(err))
	}
	return stored, nil
}

func scanMember(sc scanner) (persistence.Member, error) {
	var m persistence.Member
	var role string
	var joined int64
	if err := sc.Scan(&m.ConversationID, &m.UserID, &role, &joined, &m.LastReadSeq); err != nil {
		return persistence.Member{}, err
	}
	m.Role = persistence.Role(role)
	m.JoinedAt = fromMillis(joined)
	return m, nil
}
