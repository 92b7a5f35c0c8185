package mongo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/actorchat/engine/persistence"
)

// Blob collections: content in the GridFS bucket "uploads" (uploads.files,
// uploads.chunks, the file id being the blob id), metadata in "blobs"
// (written once the content is complete), references from messages in
// "blob_refs", avatars in "avatars" ({_id: userId, blobId}).
const (
	blobBucket     = "uploads"
	collBlobs      = "blobs"
	collBlobRefs   = "blob_refs"
	collAvatars    = "avatars"
	fBlobID        = "blobId"
	fBlobCreatedAt = "createdAt"
)

type blobDoc struct {
	ID          string    `bson:"_id"`
	OwnerID     string    `bson:"ownerId"`
	Purpose     string    `bson:"purpose"`
	ContentType string    `bson:"contentType"`
	Name        string    `bson:"name"`
	Size        int64     `bson:"size"`
	CreatedAt   time.Time `bson:"createdAt"`
}

func (d blobDoc) record() persistence.Blob {
	return persistence.Blob{ID: d.ID, OwnerID: d.OwnerID, Purpose: d.Purpose, ContentType: d.ContentType,
		Name: d.Name, Size: d.Size, CreatedAt: d.CreatedAt.UTC()}
}

func (s *Store) bucket() *mongo.GridFSBucket {
	return s.db.GridFSBucket(options.GridFSBucket().SetName(blobBucket))
}

// PutBlob implements persistence.Blobs with a GridFS upload stream (the
// driver buffers up to 16 MiB and writes the chunks of a smaller file in
// Close). The caller's ctx bounds the whole upload, not the per-operation
// timeout: a large file from a slow client takes longer. Before writing the
// metadata it counts the chunks, in case DeleteOrphanContent took an upload
// that went silent for too long for abandoned.
func (s *Store) PutBlob(ctx context.Context, b persistence.Blob, r io.Reader, max int64) (persistence.Blob, error) {
	op := "put blob " + b.ID
	up, err := s.bucket().OpenUploadStreamWithID(ctx, b.ID, b.Name)
	if err != nil {
		return persistence.Blob{}, wrap(op, err)
	}
	n, err := io.Copy(up, io.LimitReader(r, max+1))
	if err == nil && n > max {
		err = persistence.ErrTooLarge
	}
	if err != nil {
		_ = up.Abort() // deletes the chunks written so far
		if errors.Is(err, persistence.ErrTooLarge) {
			return persistence.Blob{}, fmt.Errorf("mongo: %s: %w", op, err)
		}
		return persistence.Blob{}, wrap(op, err)
	}
	if err := up.Close(); err != nil {
		return persistence.Blob{}, wrap(op, err)
	}
	if err := s.checkChunks(ctx, b.ID, n); err != nil {
		_ = s.do(context.WithoutCancel(ctx), func(ctx context.Context) error { return s.bucket().Delete(ctx, b.ID) })
		return persistence.Blob{}, wrap(op, err)
	}
	b.Size = n
	d := blobDoc{ID: b.ID, OwnerID: b.OwnerID, Purpose: b.Purpose, ContentType: b.ContentType, Name: b.Name, Size: b.Size, CreatedAt: b.CreatedAt}
	err = s.do(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(collBlobs).InsertOne(ctx, d)
		return err
	})
	if err != nil {
		return persistence.Blob{}, wrap(op+": metadata", err)
	}
	return b, nil
}

// errChunksSwept means an upload's content lost chunks while it was being
// written: DeleteOrphanContent took the upload for abandoned.
var errChunksSwept = errors.New("chunks swept as abandoned")

// checkChunks fails with errChunksSwept unless file id, of size bytes, has
// all its chunks.
func (s *Store) checkChunks(ctx context.Context, id string, size int64) error {
	chunk := int64(mongo.DefaultGridFSChunkSize) // the bucket's: s.bucket sets none
	want := (size + chunk - 1) / chunk
	var got int64
	err := s.do(ctx, func(ctx context.Context) error {
		var err error
		got, err = s.db.Collection(collBlobChunks).CountDocuments(ctx, bson.D{{Key: fChunkFileID, Value: id}})
		return err
	})
	if err == nil && got != want {
		err = fmt.Errorf("%w: %d of %d", errChunksSwept, got, want)
	}
	return err
}

// Blob implements persistence.Blobs.
func (s *Store) Blob(ctx context.Context, id string) (persistence.Blob, error) {
	var d blobDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.db.Collection(collBlobs).FindOne(ctx, bson.D{{Key: fID, Value: id}}).Decode(&d)
	})
	if err != nil {
		return persistence.Blob{}, wrap("blob "+id, err)
	}
	return d.record(), nil
}

// OpenBlob implements persistence.Blobs with a GridFS download stream; ctx
// bounds the whole download.
func (s *Store) OpenBlob(ctx context.Context, id string) (persistence.Blob, io.ReadCloser, error) {
	b, err := s.Blob(ctx, id)
	if err != nil {
		return b, nil, err
	}
	down, err := s.bucket().OpenDownloadStream(ctx, id)
	if err != nil {
		if errors.Is(err, mongo.ErrFileNotFound) {
			return b, nil, notFound("open blob " + id)
		}
		return b, nil, wrap("open blob "+id, err)
	}
	return b, down, nil
}

// AddBlobRefs implements persistence.Blobs with idempotent upserts.
func (s *Store) AddBlobRefs(ctx context.Context, conversationID string, seq int64, blobIDs []string) error {
	coll := s.db.Collection(collBlobRefs)
	for _, id := range blobIDs {
		key := bson.D{{Key: fBlobID, Value: id}, {Key: fConversationID, Value: conversationID}, {Key: fSeq, Value: seq}}
		err := s.do(ctx, func(ctx context.Context) error {
			_, err := coll.UpdateOne(ctx, key, bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: fAt, Value: time.Now()}}}},
				options.UpdateOne().SetUpsert(true))
			return err
		})
		if err != nil && !isDuplicate(err) {
			return wrap(fmt.Sprintf("add blob ref %s of %d in %s", id, seq, conversationID), err)
		}
	}
	return nil
}

// BlobConversations implements persistence.Blobs.
func (s *Store) BlobConversations(ctx context.Context, blobID string) ([]string, error) {
	var docs []struct {
		ConversationID string `bson:"conversationId"`
	}
	err := s.do(ctx, func(ctx context.Context) error {
		cur, err := s.db.Collection(collBlobRefs).Find(ctx, bson.D{{Key: fBlobID, Value: blobID}})
		if err != nil {
			return err
		}
		return cur.All(ctx, &docs)
	})
	if err != nil {
		return nil, wrap("conversations of blob "+blobID, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range docs {
		if !seen[d.ConversationID] {
			seen[d.ConversationID] = true
			out = append(out, d.ConversationID)
		}
	}
	return out, nil
}

// SetAvatar implements persistence.Blobs.
func (s *Store) SetAvatar(ctx context.Context, userID, blobID string) error {
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.db.Collection(collAvatars).UpdateOne(ctx, bson.D{{Key: fID, Value: userID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: fBlobID, Value: blobID}}}}, options.UpdateOne().SetUpsert(true))
		return err
	})
	if err != nil {
		return wrap("set avatar of "+userID, err)
	}
	return nil
}

// Avatar implements persistence.Blobs.
func (s *Store) Avatar(ctx context.Context, userID string) (string, error) {
	var d struct {
		BlobID string `bson:"blobId"`
	}
	err := s.do(ctx, func(ctx context.Context) error {
		return s.db.Collection(collAvatars).FindOne(ctx, bson.D{{Key: fID, Value: userID}}).Decode(&d)
	})
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return "", nil
	case err != nil:
		return "", wrap("avatar of "+userID, err)
	}
	return d.BlobID, nil
}

// DeleteUnreferencedBlobs implements persistence.Blobs: it walks the blobs
// created before createdBefore, oldest first (index createdAt), and deletes
// the content and metadata of each that no blob_refs entry and no avatar
// names (both indexed by blobId), until limit are gone. Without
// transactions a reference added between the check and the delete can
// point at a deleted blob; callers keep a grace period far longer than an
// upload takes to be sent.
func (s *Store) DeleteUnreferencedBlobs(ctx context.Context, createdBefore time.Time, limit int) (int, error) {
	op := "delete unreferenced blobs"
	cur, err := s.db.Collection(collBlobs).Find(ctx, bson.D{{Key: fBlobCreatedAt, Value: bson.D{{Key: "$lt", Value: createdBefore}}}},
		options.Find().SetSort(bson.D{{Key: fBlobCreatedAt, Value: 1}}).SetProjection(bson.D{{Key: fID, Value: 1}}))
	if err != nil {
		return 0, wrap(op, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	deleted := 0
	for deleted < limit && cur.Next(ctx) {
		var c blobDoc
		if err := cur.Decode(&c); err != nil {
			return deleted, wrap(op, err)
		}
		used, err := s.blobInUse(ctx, c.ID)
		if err != nil {
			return deleted, wrap(op, err)
		}
		if used {
			continue
		}
		if err := s.bucket().Delete(ctx, c.ID); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
			return deleted, wrap(op+": content of "+c.ID, err)
		}
		err = s.do(ctx, func(ctx context.Context) error {
			_, err := s.db.Collection(collBlobs).DeleteOne(ctx, bson.D{{Key: fID, Value: c.ID}})
			return err
		})
		if err != nil {
			return deleted, wrap(op+": "+c.ID, err)
		}
		deleted++
	}
	if err := cur.Err(); err != nil {
		return deleted, wrap(op, err)
	}
	return deleted, nil
}

// blobInUse reports whether a message carries the blob or an avatar is it.
func (s *Store) blobInUse(ctx context.Context, id string) (bool, error) {
	for _, coll := range []string{collBlobRefs, collAvatars} {
		var n int64
		err := s.do(ctx, func(ctx context.Context) error {
			var err error
			n, err = s.db.Collection(coll).CountDocuments(ctx, bson.D{{Key: fBlobID, Value: id}}, options.Count().SetLimit(1))
			return err
		})
		if err != nil || n > 0 {
			return n > 0, err
		}
	}
	return false, nil
}
