package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/actorchat/engine/persistence"
)

// fKind is a message's kind.
const fKind = "kind"

// CountUnread implements persistence.Unread with one count over the
// conversationId_seq_unique range after the read marker, limited to
// MaxUnread documents.
func (s *Store) CountUnread(ctx context.Context, conversationID, userID string, afterSeq int64) (int64, error) {
	filter := bson.D{
		{Key: fConversationID, Value: conversationID},
		{Key: fSeq, Value: bson.D{{Key: "$gt", Value: afterSeq}}},
		{Key: fKind, Value: string(persistence.KindMessage)},
		{Key: fDeleted, Value: bson.D{{Key: "$ne", Value: true}}},
		{Key: fSenderID, Value: bson.D{{Key: "$ne", Value: userID}}},
	}
	var n int64
	err := s.do(ctx, func(ctx context.Context) (err error) {
		n, err = s.messages.CountDocuments(ctx, filter, options.Count().SetLimit(persistence.MaxUnread))
		return err
	})
	if err != nil {
		return 0, wrap(fmt.Sprintf("count unread of %s in %s", userID, conversationID), err)
	}
	return n, nil
}
