package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/actorchat/engine/persistence"
)

// collReactions holds one document per reaction.
const collReactions = "reactions"

// fEmoji is a reaction's emoji.
const fEmoji = "emoji"

type reactionDoc struct {
	ConversationID string    `bson:"conversationId"`
	Seq            int64     `bson:"seq"`
	Emoji          string    `bson:"emoji"`
	UserID         string    `bson:"userId"`
	At             time.Time `bson:"at"`
}

func reactionKey(r persistence.Reaction) bson.D {
	return bson.D{
		{Key: fConversationID, Value: r.ConversationID}, {Key: fSeq, Value: r.Seq},
		{Key: fEmoji, Value: r.Emoji}, {Key: fUserID, Value: r.UserID},
	}
}

// SetReaction implements persistence.Reactions: check the target, upsert or
// delete the reaction, raise the target's updatedSeq. Each step is
// idempotent, so a retry after a failure completes it.
func (s *Store) SetReaction(ctx context.Context, r persistence.Reaction, on bool, eventSeq int64) error {
	op := fmt.Sprintf("set reaction on %d of %s", r.Seq, r.ConversationID)
	var d messageDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.messages.FindOne(ctx, liveChatMessage(r.ConversationID, r.Seq)).Decode(&d)
	})
	if err != nil {
		return wrap(op, err)
	}
	coll := s.db.Collection(collReactions)
	err = s.do(ctx, func(ctx context.Context) error {
		if on {
			// The key fields come from the filter on insert.
			update := bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: fAt, Value: r.At}}}}
			_, err := coll.UpdateOne(ctx, reactionKey(r), update, options.UpdateOne().SetUpsert(true))
			return err
		}
		_, err := coll.DeleteOne(ctx, reactionKey(r))
		return err
	})
	if err != nil && !isDuplicate(err) { // a concurrent upsert of the same reaction won
		return wrap(op, err)
	}
	err = s.do(ctx, func(ctx context.Context) error {
		_, err := s.messages.UpdateOne(ctx, seqKey(r.ConversationID, r.Seq),
			bson.D{{Key: "$max", Value: bson.D{{Key: fUpdatedSeq, Value: eventSeq}}}})
		return err
	})
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// Reactions implements persistence.Reactions with one range query on the
// reactions' unique index.
func (s *Store) Reactions(ctx context.Context, conversationID string, fromSeq, toSeq int64) ([]persistence.Reaction, error) {
	filter := bson.D{
		{Key: fConversationID, Value: conversationID},
		{Key: fSeq, Value: bson.D{{Key: "$gte", Value: fromSeq}, {Key: "$lte", Value: toSeq}}},
	}
	sort := bson.D{{Key: fSeq, Value: 1}, {Key: fEmoji, Value: 1}, {Key: fAt, Value: 1}, {Key: fUserID, Value: 1}}
	var docs []reactionDoc
	err := s.do(ctx, func(ctx context.Context) error {
		cur, err := s.db.Collection(collReactions).Find(ctx, filter, options.Find().SetSort(sort))
		if err != nil {
			return err
		}
		return cur.All(ctx, &docs)
	})
	if err != nil {
		return nil, wrap("reactions of "+conversationID, err)
	}
	out := make([]persistence.Reaction, len(docs))
	for i, d := range docs {
		out[i] = persistence.Reaction{ConversationID: d.ConversationID, Seq: d.Seq, Emoji: d.Emoji, UserID: d.UserID, At: d.At.UTC()}
	}
	return out, nil
}
