package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The GridFS collections of the blob bucket and the fields of their
// documents that the orphan sweep reads (the GridFS spec's names).
const (
	collBlobFiles   = blobBucket + ".files"
	collBlobChunks  = blobBucket + ".chunks"
	fFileUploadDate = "uploadDate"
	fChunkFileID    = "files_id"
	fChunkN         = "n"
)

// orphanBatch is how many candidate ids one existence check looks up.
const orphanBatch = 256

// DeleteOrphanContent implements persistence.Blobs in two passes, each
// looking its candidates up by the batch:
//
//   - files: an upload that died between up.Close and the metadata insert
//     left a GridFS file without a blobs document. Files uploaded before
//     olderThan (uploadDate is set by Close, right before the metadata
//     insert) without one are deleted, chunks included.
//   - chunks: an upload that died while streaming left chunks without a
//     file. The chunks are read in files_id order with files_id alone
//     projected, which MongoDB serves from the GridFS index (files_id, n)
//     without reading a chunk; a files_id that has no file and no chunk
//     written since olderThan (chunk _ids are ObjectIDs made as the chunk
//     is written, to the second) loses its chunks.
//
// Either pass reads every file or chunk id on each run, as
// DeleteUnreferencedBlobs reads every old blob: sweeps are hourly.
//
// An upload in flight has no file yet, and chunks only once it passed the
// driver's 16 MiB buffer; the sweep takes them only when none was written
// since olderThan. Without transactions, such an upload that resumes can
// still finish with chunks missing: PutBlob counts the chunks after Close
// and fails then. What stays open is a sweep deleting those chunks in the
// instant between that count and the metadata insert, after the upload
// went silent for longer than olderThan.
func (s *Store) DeleteOrphanContent(ctx context.Context, olderThan time.Time, limit int) (int, error) {
	deleted, err := s.deleteOrphanFiles(ctx, olderThan, limit)
	if err != nil {
		return deleted, wrap("delete orphan blob files", err)
	}
	if deleted >= limit {
		return deleted, nil
	}
	n, err := s.deleteOrphanChunks(ctx, olderThan, limit-deleted)
	deleted += n
	if err != nil {
		return deleted, wrap("delete orphan blob chunks", err)
	}
	return deleted, nil
}

// deleteOrphanFiles deletes up to limit GridFS files uploaded before
// olderThan that have no blobs document, chunks included.
func (s *Store) deleteOrphanFiles(ctx context.Context, olderThan time.Time, limit int) (int, error) {
	cur, err := s.db.Collection(collBlobFiles).Find(ctx,
		bson.D{{Key: fFileUploadDate, Value: bson.D{{Key: "$lt", Value: olderThan}}}},
		options.Find().SetProjection(bson.D{{Key: fID, Value: 1}}))
	if err != nil {
		return 0, err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	deleted := 0
	err = eachBatch(ctx, cur, fID, func(ids []string) (bool, error) {
		orphans, err := s.missing(ctx, collBlobs, ids)
		if err != nil {
			return false, err
		}
		for _, id := range orphans[:min(len(orphans), limit-deleted)] {
			err := s.do(ctx, func(ctx context.Context) error { return s.bucket().Delete(ctx, id) })
			switch {
			case errors.Is(err, mongo.ErrFileNotFound): // another node's sweep was first
			case err != nil:
				return false, err
			default:
				deleted++
			}
		}
		return deleted < limit, nil
	})
	return deleted, err
}

// deleteOrphanChunks deletes the chunks of up to limit files_ids that have
// no file and no chunk written since olderThan.
func (s *Store) deleteOrphanChunks(ctx context.Context, olderThan time.Time, limit int) (int, error) {
	cur, err := s.db.Collection(collBlobChunks).Find(ctx, bson.D{}, options.Find().
		SetSort(bson.D{{Key: fChunkFileID, Value: 1}, {Key: fChunkN, Value: 1}}).
		SetProjection(bson.D{{Key: fID, Value: 0}, {Key: fChunkFileID, Value: 1}}))
	if err != nil {
		return 0, err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	cutoff := bson.NewObjectIDFromTimestamp(olderThan)
	deleted := 0
	err = eachBatch(ctx, cur, fChunkFileID, func(ids []string) (bool, error) {
		orphans, err := s.missing(ctx, collBlobFiles, ids)
		if err != nil {
			return false, err
		}
		for _, id := range orphans {
			if deleted >= limit {
				break
			}
			gone, err := s.deleteStaleChunks(ctx, id, cutoff)
			if err != nil {
				return false, err
			}
			if gone {
				deleted++
			}
		}
		return deleted < limit, nil
	})
	return deleted, err
}

// deleteStaleChunks deletes the chunks of file id unless one of them was
// written at or after the second of cutoff (an upload in flight), and
// reports whether it did.
func (s *Store) deleteStaleChunks(ctx context.Context, id string, cutoff bson.ObjectID) (bool, error) {
	chunks := s.db.Collection(collBlobChunks)
	var fresh int64
	err := s.do(ctx, func(ctx context.Context) error {
		var err error
		fresh, err = chunks.CountDocuments(ctx, bson.D{{Key: fChunkFileID, Value: id}, {Key: fID, Value: bson.D{{Key: "$gte", Value: cutoff}}}},
			options.Count().SetLimit(1))
		return err
	})
	if err != nil || fresh > 0 {
		return false, err
	}
	err = s.do(ctx, func(ctx context.Context) error {
		_, err := chunks.DeleteMany(ctx, bson.D{{Key: fChunkFileID, Value: id}})
		return err
	})
	return err == nil, err
}

// eachBatch reads the string field key of the documents of cur, skipping
// a value equal to the one before, and hands them to fn orphanBatch at a
// time (the rest at the end) until fn returns false or an error.
func eachBatch(ctx context.Context, cur *mongo.Cursor, key string, fn func(ids []string) (bool, error)) error {
	batch := make([]string, 0, orphanBatch)
	last := ""
	for cur.Next(ctx) {
		id, ok := cur.Current.Lookup(key).StringValueOK()
		if !ok || id == last {
			continue // not a blob id (not ours), or the same file's next chunk
		}
		last = id
		if batch = append(batch, id); len(batch) < orphanBatch {
			continue
		}
		more, err := fn(batch)
		if err != nil || !more {
			return err
		}
		batch = batch[:0]
	}
	if err := cur.Err(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	_, err := fn(batch)
	return err
}

// missing returns those of ids that no document of coll has as _id.
func (s *Store) missing(ctx context.Context, coll string, ids []string) ([]string, error) {
	found := make(map[string]bool, len(ids))
	err := s.do(ctx, func(ctx context.Context) error {
		cur, err := s.db.Collection(coll).Find(ctx, bson.D{{Key: fID, Value: bson.D{{Key: "$in", Value: ids}}}},
			options.Find().SetProjection(bson.D{{Key: fID, Value: 1}}))
		if err != nil {
			return err
		}
		defer cur.Close(context.WithoutCancel(ctx))
		for cur.Next(ctx) {
			if id, ok := cur.Current.Lookup(fID).StringValueOK(); ok {
				found[id] = true
			}
		}
		return cur.Err()
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		if !found[id] {
			out = append(out, id)
		}
	}
	return out, nil
}
