package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// collLastSeen holds one document per user: {_id: userId, at}.
const collLastSeen = "last_seen"

// fAt is the time field of a last_seen document.
const fAt = "at"

type lastSeenDoc struct {
	UserID string    `bson:"_id"`
	At     time.Time `bson:"at"`
}

// SetLastSeen implements persistence.Presence with one upsert applying $max.
func (s *Store) SetLastSeen(ctx context.Context, userID string, t time.Time) error {
	update := bson.D{{Key: "$max", Value: bson.D{{Key: fAt, Value: t}}}}
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(collLastSeen).UpdateOne(ctx, bson.D{{Key: fID, Value: userID}}, update,
			options.UpdateOne().SetUpsert(true))
		return err
	})
	if err != nil {
		return wrap("set last seen of "+userID, err)
	}
	return nil
}

// LastSeen implements persistence.Presence.
func (s *Store) LastSeen(ctx context.Context, userID string) (time.Time, error) {
	var d lastSeenDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.db.Collection(collLastSeen).FindOne(ctx, bson.D{{Key: fID, Value: userID}}).Decode(&d)
	})
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, wrap("last seen of "+userID, err)
	}
	return d.At.UTC(), nil
}
