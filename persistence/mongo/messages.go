package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/actorchat/engine/persistence"
)

// AppendMessages implements persistence.Messages with one ordered
// insertMany. On a write error the server stops at the failing document, so
// its index in the batch is exactly the number of leading messages stored.
// Without a write error index (network failure, timeout, write concern
// error) nothing is known to be stored and it returns 0.
func (s *Store) AppendMessages(ctx context.Context, msgs []persistence.Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	docs := make([]messageDoc, len(msgs))
	for i, m := range msgs {
		docs[i] = toMessageDoc(m)
	}
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.messages.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
		return err
	})
	if err == nil {
		return len(msgs), nil
	}
	op := fmt.Sprintf("append %d messages to %s", len(msgs), msgs[0].ConversationID)
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) == 0 {
		return 0, wrap(op, err)
	}
	first := bwe.WriteErrors[0]
	for _, we := range bwe.WriteErrors[1:] {
		if we.Index < first.Index {
			first = we
		}
	}
	n := min(max(first.Index, 0), len(msgs))
	op = fmt.Sprintf("%s: message %d (seq %d)", op, n, msgs[min(n, len(msgs)-1)].Seq)
	if isDuplicate(first.WriteError) {
		return n, fmt.Errorf("mongo: %s: %w: %w", op, persistence.ErrDuplicate, err)
	}
	return n, wrap(op, err)
}

// MessageByClientID implements persistence.Messages.
func (s *Store) MessageByClientID(ctx context.Context, conversationID, senderID, clientMsgID string) (persistence.Message, error) {
	filter := bson.D{
		{Key: fConversationID, Value: conversationID},
		{Key: fSenderID, Value: senderID},
		{Key: fClientMsgID, Value: clientMsgID},
	}
	var d messageDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.messages.FindOne(ctx, filter).Decode(&d)
	})
	if err != nil {
		return persistence.Message{}, wrap(fmt.Sprintf("message %q of %s in %s", clientMsgID, senderID, conversationID), err)
	}
	return d.record(), nil
}

// LastSeq implements persistence.Messages: the first document of the
// conversation in descending seq order, projected to its seq.
func (s *Store) LastSeq(ctx context.Context, conversationID string) (int64, error) {
	opts := options.FindOne().
		SetSort(bson.D{{Key: fSeq, Value: -1}}).
		SetProjection(bson.D{{Key: fSeq, Value: 1}, {Key: fID, Value: 0}})
	var d struct {
		Seq int64 `bson:"seq"`
	}
	err := s.do(ctx, func(ctx context.Context) error {
		return s.messages.FindOne(ctx, bson.D{{Key: fConversationID, Value: conversationID}}, opts).Decode(&d)
	})
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return 0, nil
	case err != nil:
		return 0, wrap("last seq of "+conversationID, err)
	}
	return d.Seq, nil
}

// Messages implements persistence.Messages. Pages before a seq, or at the
// end, are read in descending order (so the limit keeps the newest) and
// reversed.
func (s *Store) Messages(ctx context.Context, conversationID string, q persistence.MessageQuery) ([]persistence.Message, error) {
	limit := q.EffectiveLimit()
	seqRange := bson.D{}
	if q.After > 0 {
		seqRange = append(seqRange, bson.E{Key: "$gt", Value: q.After})
	}
	if q.Before > 0 {
		seqRange = append(seqRange, bson.E{Key: "$lt", Value: q.Before})
	}
	filter := bson.D{{Key: fConversationID, Value: conversationID}}
	if len(seqRange) > 0 {
		filter = append(filter, bson.E{Key: fSeq, Value: seqRange})
	}
	descending := !q.Forward()
	order := 1
	if descending {
		order = -1
	}
	opts := options.Find().SetSort(bson.D{{Key: fSeq, Value: order}}).SetLimit(int64(limit))

	var docs []messageDoc
	err := s.do(ctx, func(ctx context.Context) error {
		cur, err := s.messages.Find(ctx, filter, opts)
		if err != nil {
			return err
		}
		return cur.All(ctx, &docs)
	})
	if err != nil {
		return nil, wrap("messages of "+conversationID, err)
	}
	if descending {
		slices.Reverse(docs)
	}
	msgs := make([]persistence.Message, len(docs))
	for i, d := range docs {
		msgs[i] = d.record()
	}
	return msgs, nil
}
