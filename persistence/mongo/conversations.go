package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/actorchat/engine/persistence"
)

// CreateConversation implements persistence.Conversations without a
// transaction: it inserts the conversation, then the members with one
// ordered insertMany. If the members cannot all be written it deletes the
// conversation and whatever members were stored (best effort, under a fresh
// timeout) so that a failed create leaves nothing behind; a failure of that
// clean-up is joined to the returned error.
func (s *Store) CreateConversation(ctx context.Context, c persistence.Conversation, members []persistence.Member) error {
	op := "create conversation " + c.ID
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.conversations.InsertOne(ctx, toConversationDoc(c))
		return err
	})
	if err != nil {
		return wrap(op, err)
	}
	if len(members) == 0 {
		return nil
	}
	docs := make([]memberDoc, len(members))
	for i, m := range members {
		docs[i] = toMemberDoc(m)
	}
	err = s.do(ctx, func(ctx context.Context) error {
		_, err := s.members.InsertMany(ctx, docs)
		return err
	})
	if err == nil {
		return nil
	}
	err = wrap(op+": members", err)
	if cerr := s.undoConversation(context.WithoutCancel(ctx), c.ID); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}

// undoConversation deletes a conversation and its members.
func (s *Store) undoConversation(ctx context.Context, id string) error {
	err := s.do(ctx, func(ctx context.Context) error {
		if _, err := s.members.DeleteMany(ctx, bson.D{{Key: fConversationID, Value: id}}); err != nil {
			return err
		}
		_, err := s.conversations.DeleteOne(ctx, bson.D{{Key: fID, Value: id}})
		return err
	})
	if err != nil {
		return wrap("undo conversation "+id, err)
	}
	return nil
}

// Conversation implements persistence.Conversations.
func (s *Store) Conversation(ctx context.Context, id string) (persistence.Conversation, error) {
	return s.findConversation(ctx, "conversation "+id, bson.D{{Key: fID, Value: id}})
}

// ConversationByDMKey implements persistence.Conversations. An empty key
// never matches: groups store no dmKey.
func (s *Store) ConversationByDMKey(ctx context.Context, dmKey string) (persistence.Conversation, error) {
	op := fmt.Sprintf("conversation by dm key %q", dmKey)
	if dmKey == "" {
		return persistence.Conversation{}, notFound(op)
	}
	return s.findConversation(ctx, op, bson.D{{Key: fDMKey, Value: dmKey}})
}

func (s *Store) findConversation(ctx context.Context, op string, filter bson.D) (persistence.Conversation, error) {
	var d conversationDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.conversations.FindOne(ctx, filter).Decode(&d)
	})
	if err != nil {
		return persistence.Conversation{}, wrap(op, err)
	}
	return d.record(), nil
}

// memberKey is the filter of one membership.
func memberKey(conversationID, userID string) bson.D {
	return bson.D{{Key: fConversationID, Value: conversationID}, {Key: fUserID, Value: userID}}
}

// AddMember implements persistence.Conversations.
func (s *Store) AddMember(ctx context.Context, m persistence.Member) error {
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.members.InsertOne(ctx, toMemberDoc(m))
		return err
	})
	if err != nil {
		return wrap(fmt.Sprintf("add member %s to %s", m.UserID, m.ConversationID), err)
	}
	return nil
}

// RemoveMember implements persistence.Conversations.
func (s *Store) RemoveMember(ctx context.Context, conversationID, userID string) error {
	op := fmt.Sprintf("remove member %s from %s", userID, conversationID)
	var res *mongo.DeleteResult
	err := s.do(ctx, func(ctx context.Context) (err error) {
		res, err = s.members.DeleteOne(ctx, memberKey(conversationID, userID))
		return err
	})
	if err != nil {
		return wrap(op, err)
	}
	if res.DeletedCount == 0 {
		return notFound(op)
	}
	return nil
}

// SetRole implements persistence.Conversations.
func (s *Store) SetRole(ctx context.Context, conversationID, userID string, role persistence.Role) error {
	op := fmt.Sprintf("set role of %s in %s", userID, conversationID)
	update := bson.D{{Key: "$set", Value: bson.D{{Key: fRole, Value: string(role)}}}}
	var res *mongo.UpdateResult
	err := s.do(ctx, func(ctx context.Context) (err error) {
		res, err = s.members.UpdateOne(ctx, memberKey(conversationID, userID), update)
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

// Member implements persistence.Conversations.
func (s *Store) Member(ctx context.Context, conversationID, userID string) (persistence.Member, error) {
	var d memberDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.members.FindOne(ctx, memberKey(conversationID, userID)).Decode(&d)
	})
	if err != nil {
		return persistence.Member{}, wrap(fmt.Sprintf("member %s of %s", userID, conversationID), err)
	}
	return d.record(), nil
}

// Members implements persistence.Conversations. Members that joined in the
// same millisecond come in insertion order (_id is a driver ObjectID).
func (s *Store) Members(ctx context.Context, conversationID string) ([]persistence.Member, error) {
	sort := bson.D{{Key: fJoinedAt, Value: 1}, {Key: fID, Value: 1}}
	return s.findMembers(ctx, "members of "+conversationID,
		bson.D{{Key: fConversationID, Value: conversationID}}, options.Find().SetSort(sort))
}

// MembersPage implements persistence.Conversations on the
// (conversationId, joinedAt, userId) index.
func (s *Store) MembersPage(ctx context.Context, conversationID string, after persistence.MemberKey, limit int) ([]persistence.Member, error) {
	filter := bson.D{{Key: fConversationID, Value: conversationID}}
	if !after.JoinedAt.IsZero() || after.UserID != "" {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: fJoinedAt, Value: bson.D{{Key: "$gt", Value: after.JoinedAt}}}},
			bson.D{{Key: fJoinedAt, Value: after.JoinedAt}, {Key: fUserID, Value: bson.D{{Key: "$gt", Value: after.UserID}}}},
		}})
	}
	sort := bson.D{{Key: fJoinedAt, Value: 1}, {Key: fUserID, Value: 1}}
	return s.findMembers(ctx, "members of "+conversationID, filter, options.Find().SetSort(sort).SetLimit(int64(limit)))
}

// UserMemberships implements persistence.Conversations.
func (s *Store) UserMemberships(ctx context.Context, userID string) ([]persistence.Member, error) {
	return s.findMembers(ctx, "memberships of "+userID, bson.D{{Key: fUserID, Value: userID}}, options.Find())
}

// MemberCounts implements persistence.Conversations with one aggregation
// ($match on the indexed conversation id, $group by it).
func (s *Store) MemberCounts(ctx context.Context, conversationIDs []string) (map[string]int, error) {
	counts := make(map[string]int, len(conversationIDs))
	if len(conversationIDs) == 0 {
		return counts, nil
	}
	pipeline := mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: fConversationID, Value: bson.D{{Key: "$in", Value: conversationIDs}}}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$" + fConversationID}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	}
	var rows []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	err := s.do(ctx, func(ctx context.Context) error {
		cur, err := s.members.Aggregate(ctx, pipeline)
		if err != nil {
			return err
		}
		return cur.All(ctx, &rows)
	})
	if err != nil {
		return nil, wrap("member counts", err)
	}
	for _, r := range rows {
		counts[r.ID] = r.N
	}
	return counts, nil
}

func (s *Store) findMembers(ctx context.Context, op string, filter bson.D, opts *options.FindOptionsBuilder) ([]persistence.Member, error) {
	var docs []memberDoc
	err := s.do(ctx, func(ctx context.Context) error {
		cur, err := s.members.Find(ctx, filter, opts)
		if err != nil {
			return err
		}
		return cur.All(ctx, &docs)
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	members := make([]persistence.Member, len(docs))
	for i, d := range docs {
		members[i] = d.record()
	}
	return members, nil
}

// MarkRead implements persistence.Conversations with one findAndModify
// applying $max and returning the document after the update. (No
// projection: FerretDB's findAndModify does not implement "fields".)
func (s *Store) MarkRead(ctx context.Context, conversationID, userID string, seq int64) (int64, error) {
	update := bson.D{{Key: "$max", Value: bson.D{{Key: fLastReadSeq, Value: seq}}}}
	opts := options.FindOneAndUpdate().SetReturnDocument(options.After)
	var d memberDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.members.FindOneAndUpdate(ctx, memberKey(conversationID, userID), update, opts).Decode(&d)
	})
	if err != nil {
		return 0, wrap(fmt.Sprintf("mark read %s in %s", userID, conversationID), err)
	}
	return d.LastReadSeq, nil
}
