package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/actorchat/engine/persistence"
)

// Fields of the current state of a message (see messageDoc).
const (
	fTargetSeq   = "targetSeq"
	fEditedAt    = "editedAt"
	fDeleted     = "deleted"
	fUpdatedSeq  = "updatedSeq"
	fBody        = "body"
	fAttachments = "attachments"
)

// seqKey is the filter of one entry of a conversation.
func seqKey(conversationID string, seq int64) bson.D {
	return bson.D{{Key: fConversationID, Value: conversationID}, {Key: fSeq, Value: seq}}
}

// MessageBySeq implements persistence.Events.
func (s *Store) MessageBySeq(ctx context.Context, conversationID string, seq int64) (persistence.Message, error) {
	var d messageDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.messages.FindOne(ctx, seqKey(conversationID, seq)).Decode(&d)
	})
	if err != nil {
		return persistence.Message{}, wrap(fmt.Sprintf("message %d of %s", seq, conversationID), err)
	}
	return d.record(), nil
}

// EditMessage implements persistence.Events: one conditional update; when it
// matches nothing, a read tells "stale event" (nil) from "no live chat
// message" (ErrNotFound).
func (s *Store) EditMessage(ctx context.Context, conversationID string, seq int64, body string, at time.Time, eventSeq int64) error {
	op := fmt.Sprintf("edit message %d of %s", seq, conversationID)
	filter := append(liveChatMessage(conversationID, seq),
		bson.E{Key: fUpdatedSeq, Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$gte", Value: eventSeq}}}}})
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: fBody, Value: body}, {Key: fEditedAt, Value: at}, {Key: fUpdatedSeq, Value: eventSeq},
	}}}
	var res *mongo.UpdateResult
	err := s.do(ctx, func(ctx context.Context) (err error) {
		res, err = s.messages.UpdateOne(ctx, filter, update)
		return err
	})
	if err != nil {
		return wrap(op, err)
	}
	if res.MatchedCount > 0 {
		return nil
	}
	var d messageDoc
	err = s.do(ctx, func(ctx context.Context) error {
		return s.messages.FindOne(ctx, liveChatMessage(conversationID, seq)).Decode(&d)
	})
	if err != nil {
		return wrap(op, err) // ErrNotFound: absent, not a chat message, or deleted
	}
	return nil // a newer event was applied already
}

// DeleteMessage implements persistence.Events: the target first (so its
// body is gone before anything else), then the bodies of its edits.
// Repeating it after a failure completes it.
func (s *Store) DeleteMessage(ctx context.Context, conversationID string, seq int64, eventSeq int64) error {
	op := fmt.Sprintf("delete message %d of %s", seq, conversationID)
	filter := append(seqKey(conversationID, seq), bson.E{Key: fKind, Value: string(persistence.KindMessage)})
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: fBody, Value: ""}, {Key: fDeleted, Value: true}}},
		{Key: "$unset", Value: bson.D{{Key: fAttachments, Value: ""}}},
		{Key: "$max", Value: bson.D{{Key: fUpdatedSeq, Value: eventSeq}}},
	}
	var res *mongo.UpdateResult
	err := s.do(ctx, func(ctx context.Context) (err error) {
		res, err = s.messages.UpdateOne(ctx, filter, update)
		return err
	})
	if err != nil {
		return wrap(op, err)
	}
	if res.MatchedCount == 0 {
		return notFound(op)
	}
	edits := bson.D{
		{Key: fConversationID, Value: conversationID},
		{Key: fTargetSeq, Value: seq},
		{Key: fKind, Value: string(persistence.KindEdit)},
	}
	err = s.do(ctx, func(ctx context.Context) error {
		_, err := s.messages.UpdateMany(ctx, edits, bson.D{{Key: "$set", Value: bson.D{{Key: fBody, Value: ""}}}})
		return err
	})
	if err != nil {
		return wrap(op+": clear edits", err)
	}
	err = s.do(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(collBlobRefs).DeleteMany(ctx, seqKey(conversationID, seq))
		return err
	})
	if err != nil {
		return wrap(op+": drop attachment refs", err)
	}
	return nil
}

// liveChatMessage filters the chat message at seq unless it is deleted.
func liveChatMessage(conversationID string, seq int64) bson.D {
	return append(seqKey(conversationID, seq),
		bson.E{Key: fKind, Value: string(persistence.KindMessage)},
		bson.E{Key: fDeleted, Value: bson.D{{Key: "$ne", Value: true}}})
}
