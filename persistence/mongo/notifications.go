package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/actorchat/engine/persistence"
)

// collNotifications holds the users' notification streams, one document each.
const collNotifications = "notifications"

// fKey is a notification's idempotency key.
const fKey = "key"

type notificationDoc struct {
	ID             string    `bson:"_id"`
	UserID         string    `bson:"userId"`
	Seq            int64     `bson:"seq"`
	Key            string    `bson:"key"`
	Kind           string    `bson:"kind"`
	ConversationID string    `bson:"conversationId"`
	ActorID        string    `bson:"actorId"`
	MessageSeq     int64     `bson:"messageSeq"`
	Title          string    `bson:"title"`
	CreatedAt      time.Time `bson:"createdAt"`
}

func (d notificationDoc) record() persistence.Notification {
	return persistence.Notification{UserID: d.UserID, Seq: d.Seq, ID: d.ID, Key: d.Key, Kind: d.Kind,
		ConversationID: d.ConversationID, ActorID: d.ActorID, MessageSeq: d.MessageSeq, Title: d.Title, CreatedAt: d.CreatedAt.UTC()}
}

// AppendNotification implements persistence.Notifications.
func (s *Store) AppendNotification(ctx context.Context, n persistence.Notification) error {
	d := notificationDoc{ID: n.ID, UserID: n.UserID, Seq: n.Seq, Key: n.Key, Kind: n.Kind, ConversationID: n.ConversationID,
		ActorID: n.ActorID, MessageSeq: n.MessageSeq, Title: n.Title, CreatedAt: n.CreatedAt}
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(collNotifications).InsertOne(ctx, d)
		return err
	})
	if err != nil {
		return wrap(fmt.Sprintf("append notification %d of %s", n.Seq, n.UserID), err)
	}
	return nil
}

// NotificationByKey implements persistence.Notifications.
func (s *Store) NotificationByKey(ctx context.Context, userID, key string) (persistence.Notification, error) {
	var d notificationDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.db.Collection(collNotifications).FindOne(ctx, bson.D{{Key: fUserID, Value: userID}, {Key: fKey, Value: key}}).Decode(&d)
	})
	if err != nil {
		return persistence.Notification{}, wrap("notification of "+userID+" by key", err)
	}
	return d.record(), nil
}

// LastNotificationSeq implements persistence.Notifications.
func (s *Store) LastNotificationSeq(ctx context.Context, userID string) (int64, error) {
	var d struct {
		Seq int64 `bson:"seq"`
	}
	opts := options.FindOne().SetSort(bson.D{{Key: fSeq, Value: -1}}).SetProjection(bson.D{{Key: fSeq, Value: 1}, {Key: fID, Value: 0}})
	err := s.do(ctx, func(ctx context.Context) error {
		return s.db.Collection(collNotifications).FindOne(ctx, bson.D{{Key: fUserID, Value: userID}}, opts).Decode(&d)
	})
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return 0, nil
	case err != nil:
		return 0, wrap("last notification of "+userID, err)
	}
	return d.Seq, nil
}

// Notifications implements persistence.Notifications.
func (s *Store) Notifications(ctx context.Context, userID string, afterSeq int64, limit int) ([]persistence.Notification, error) {
	limit = persistence.MessageQuery{Limit: limit}.EffectiveLimit()
	filter := bson.D{{Key: fUserID, Value: userID}, {Key: fSeq, Value: bson.D{{Key: "$gt", Value: afterSeq}}}}
	opts := options.Find().SetSort(bson.D{{Key: fSeq, Value: 1}}).SetLimit(int64(limit))
	var docs []notificationDoc
	err := s.do(ctx, func(ctx context.Context) error {
		cur, err := s.db.Collection(collNotifications).Find(ctx, filter, opts)
		if err != nil {
			return err
		}
		return cur.All(ctx, &docs)
	})
	if err != nil {
		return nil, wrap("notifications of "+userID, err)
	}
	out := make([]persistence.Notification, len(docs))
	for i, d := range docs {
		out[i] = d.record()
	}
	return out, nil
}
