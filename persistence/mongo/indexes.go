package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index names. They are explicit so that a changed definition under the same
// name fails loudly at Open instead of silently adding a second index.
const (
	idxUsername        = "username_unique"
	idxTokenHash       = "hash_unique"
	idxTokenUser       = "userId"
	idxDMKey           = "dmKey_unique_sparse"
	idxMemberConvUser  = "conversationId_userId_unique"
	idxMemberUser      = "userId"
	idxMemberJoined    = "conversationId_joinedAt_userId"
	idxMessageSeq      = "conversationId_seq_unique"
	idxMessageClientID = "conversationId_senderId_clientMsgId_unique"
	idxMessageTarget   = "conversationId_targetSeq_sparse"
	idxReaction        = "conversationId_seq_emoji_userId_unique"
	idxNotificationSeq = "userId_seq_unique"
	idxNotificationKey = "userId_key_unique"
	idxBlobRef         = "blobId_conversationId_seq_unique"
	idxBlobRefMessage  = "conversationId_seq"
	idxBlobCreated     = "createdAt"
	idxAvatarBlob      = "blobId"
)

// indexSpec is one index of one collection.
type indexSpec struct {
	collection string
	name       string
	keys       bson.D
	unique     bool
	sparse     bool
}

// indexSpecs lists every index Open creates.
//
// The DM key index is unique and sparse rather than partial: groups store no
// dmKey at all, so a sparse index leaves them out on MongoDB. FerretDB 1.x
// rejects partialFilterExpression (NotImplemented) and accepts but ignores
// "sparse"; its SQLite backend indexes a missing field as NULL and SQLite
// unique indexes treat NULLs as distinct, so groups never collide there
// either. TestDMKeyIndexIgnoresGroups pins that behaviour.
var indexSpecs = []indexSpec{
	{collUsers, idxUsername, bson.D{{Key: fUsername, Value: 1}}, true, false},
	{collRefreshTokens, idxTokenHash, bson.D{{Key: fHash, Value: 1}}, true, false},
	{collRefreshTokens, idxTokenUser, bson.D{{Key: fUserID, Value: 1}}, false, false},
	{collConversations, idxDMKey, bson.D{{Key: fDMKey, Value: 1}}, true, true},
	{collMembers, idxMemberConvUser, bson.D{{Key: fConversationID, Value: 1}, {Key: fUserID, Value: 1}}, true, false},
	{collMembers, idxMemberUser, bson.D{{Key: fUserID, Value: 1}}, false, false},
	{collMembers, idxMemberJoined, bson.D{{Key: fConversationID, Value: 1}, {Key: fJoinedAt, Value: 1}, {Key: fUserID, Value: 1}}, false, false},
	{collMessages, idxMessageSeq, bson.D{{Key: fConversationID, Value: 1}, {Key: fSeq, Value: 1}}, true, false},
	{collMessages, idxMessageClientID, bson.D{
		{Key: fConversationID, Value: 1}, {Key: fSenderID, Value: 1}, {Key: fClientMsgID, Value: 1},
	}, true, false},
	// The edits of a message, for DeleteMessage (only events have targetSeq).
	{collMessages, idxMessageTarget, bson.D{{Key: fConversationID, Value: 1}, {Key: fTargetSeq, Value: 1}}, false, true},
	{collReactions, idxReaction, bson.D{
		{Key: fConversationID, Value: 1}, {Key: fSeq, Value: 1}, {Key: fEmoji, Value: 1}, {Key: fUserID, Value: 1},
	}, true, false},
	{collNotifications, idxNotificationSeq, bson.D{{Key: fUserID, Value: 1}, {Key: fSeq, Value: 1}}, true, false},
	{collNotifications, idxNotificationKey, bson.D{{Key: fUserID, Value: 1}, {Key: fKey, Value: 1}}, true, false},
	{collBlobRefs, idxBlobRef, bson.D{{Key: fBlobID, Value: 1}, {Key: fConversationID, Value: 1}, {Key: fSeq, Value: 1}}, true, false},
	{collBlobRefs, idxBlobRefMessage, bson.D{{Key: fConversationID, Value: 1}, {Key: fSeq, Value: 1}}, false, false},
	{collBlobs, idxBlobCreated, bson.D{{Key: fBlobCreatedAt, Value: 1}}, false, false},
	{collAvatars, idxAvatarBlob, bson.D{{Key: fBlobID, Value: 1}}, false, false},
}

// ensureIndexes creates every index of indexSpecs, one createIndexes
// command each. createIndexes is a no-op for an index that already exists
// with the same name and keys, so Open is idempotent and safe to run from
// several nodes at once. One index per command works around FerretDB 1.24,
// whose createIndexes panics (and drops the connection) when two or more of
// the requested indexes already exist.
func (s *Store) ensureIndexes(ctx context.Context) error {
	for _, spec := range indexSpecs {
		opts := options.Index().SetName(spec.name)
		if spec.unique {
			opts.SetUnique(true)
		}
		if spec.sparse {
			opts.SetSparse(true)
		}
		model := mongo.IndexModel{Keys: spec.keys, Options: opts}
		err := s.do(ctx, func(ctx context.Context) error {
			_, err := s.db.Collection(spec.collection).Indexes().CreateOne(ctx, model)
			return err
		})
		if err != nil {
			return wrap(fmt.Sprintf("create index %s.%s", spec.collection, spec.name), err)
		}
	}
	return nil
}
