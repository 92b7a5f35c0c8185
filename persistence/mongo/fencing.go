package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// fEpoch is the conversation document's activation epoch.
const fEpoch = "epoch"

type epochDoc struct {
	Epoch int64 `bson:"epoch"`
}

// ClaimConversation implements persistence.Fencing with one $inc
// (findAndModify), atomic on MongoDB.
func (s *Store) ClaimConversation(ctx context.Context, conversationID string) (int64, error) {
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: fEpoch, Value: int64(1)}}}}
	opts := options.FindOneAndUpdate().SetReturnDocument(options.After)
	var d epochDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.conversations.FindOneAndUpdate(ctx, bson.D{{Key: fID, Value: conversationID}}, update, opts).Decode(&d)
	})
	if err != nil {
		return 0, wrap("claim conversation "+conversationID, err)
	}
	return d.Epoch, nil
}

// ConversationEpoch implements persistence.Fencing.
func (s *Store) ConversationEpoch(ctx context.Context, conversationID string) (int64, error) {
	var d epochDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.conversations.FindOne(ctx, bson.D{{Key: fID, Value: conversationID}}).Decode(&d)
	})
	if err != nil {
		return 0, wrap("epoch of conversation "+conversationID, err)
	}
	return d.Epoch, nil
}
