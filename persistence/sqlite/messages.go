package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/actorchat/engine/persistence"
)

const (
	messageColumns = `conversation_id, seq, id, kind, sender_id, client_msg_id, body, created_at,
		target_seq, subject_id, edited_at, deleted, updated_seq, attachments`
	insertMessageSQL = `INSERT INTO messages (` + messageColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	lastSeqSQL       = `SELECT seq FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1`
	byClientIDSQL    = `SELECT ` + messageColumns + ` FROM messages
		WHERE conversation_id = ? AND sender_id = ? AND client_msg_id = ?`
	// pageAfterSQL and pageBeforeSQL are range scans of messages_seq,
	// forward and backward; neither sorts.
	pageAfterSQL = `SELECT ` + messageColumns + ` FROM messages
		WHERE conversation_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?`
	pageBeforeSQL = `SELECT ` + messageColumns + ` FROM messages
		WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`
)

// AppendMessages inserts msgs in order in one transaction, so a batch costs
// one commit (group commit). At the first unique violation it commits the
// messages before it and returns their count with an error wrapping
// ErrDuplicate. Any other error rolls the whole batch back and returns 0.
func (s *Store) AppendMessages(ctx context.Context, msgs []persistence.Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	n, dup, err := s.appendGrouped(ctx, msgs)
	if err != nil {
		return 0, fmt.Errorf("append messages %s: %w", msgs[min(n, len(msgs)-1)].ConversationID, translate(err))
	}
	if dup != nil {
		m := msgs[n]
		return n, fmt.Errorf("append messages %s: message %d (seq %d): %w", m.ConversationID, n, m.Seq, dup)
	}
	return n, nil
}

// MessageByClientID returns the message a sender stored under a client id,
// or ErrNotFound.
func (s *Store) MessageByClientID(ctx context.Context, conversationID, senderID, clientMsgID string) (persistence.Message, error) {
	m, err := scanMessage(s.stmts.byClientID.QueryRowContext(ctx, conversationID, senderID, clientMsgID))
	if err != nil {
		return persistence.Message{}, fmt.Errorf("message of %s by client id in %s: %w", senderID, conversationID, translate(err))
	}
	return m, nil
}

// LastSeq returns the highest stored seq of the conversation, 0 when empty:
// one step down the end of the conversation's messages_seq range.
func (s *Store) LastSeq(ctx context.Context, conversationID string) (int64, error) {
	var seq int64
	err := s.stmts.lastSeq.QueryRowContext(ctx, conversationID).Scan(&seq)
	if err = translate(err); err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return 0, fmt.Errorf("last seq of %s: %w", conversationID, err)
	}
	return seq, nil
}

// Messages returns a page of messages in ascending seq order (see
// persistence.MessageQuery). Pages before a seq, and the latest page, are
// read backward from the index and reversed.
func (s *Store) Messages(ctx context.Context, conversationID string, q persistence.MessageQuery) ([]persistence.Message, error) {
	limit := q.EffectiveLimit()
	before := q.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	var rows *sql.Rows
	var err error
	if q.Forward() {
		rows, err = s.stmts.pageAfter.QueryContext(ctx, conversationID, q.After, before, limit)
	} else {
		rows, err = s.stmts.pageBefore.QueryContext(ctx, conversationID, before, limit)
	}
	var msgs []persistence.Message
	if err == nil {
		msgs, err = collect(rows, scanMessage)
	}
	if err != nil {
		return nil, fmt.Errorf("messages of %s: %w", conversationID, translate(err))
	}
	if !q.Forward() {
		slices.Reverse(msgs)
	}
	return msgs, nil
}

func scanMessage(sc scanner) (persistence.Message, error) {
	var m persistence.Message
	var kind string
	var created int64
	var edited sql.NullInt64
	var attachments string
	err := sc.Scan(&m.ConversationID, &m.Seq, &m.ID, &kind, &m.SenderID, &m.ClientMsgID, &m.Body, &created,
		&m.TargetSeq, &m.SubjectID, &edited, &m.Deleted, &m.UpdatedSeq, &attachments)
	if err != nil {
		return persistence.Message{}, err
	}
	if m.Attachments, err = decodeIDs(attachments); err != nil {
		return persistence.Message{}, err
	}
	m.Kind = persistence.MessageKind(kind)
	m.CreatedAt = fromMillis(created)
	m.EditedAt = fromNullMillis(edited)
	return m, nil
}
