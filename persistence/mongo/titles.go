package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// fTitle is a conversation's title.
const fTitle = "title"

// SetTitle implements persistence.Titles.
func (s *Store) SetTitle(ctx context.Context, conversationID, title string) error {
	op := "set title of " + conversationID
	var res *mongo.UpdateResult
	err := s.do(ctx, func(ctx context.Context) (err error) {
		res, err = s.conversations.UpdateOne(ctx, bson.D{{Key: fID, Value: conversationID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: fTitle, Value: title}}}})
		return err
	})
	if err != nil {
		return wrap(op, err)
	}
	if res.MatchedCount == 0 {
		return notFound(op)
	}
	return nil
}
