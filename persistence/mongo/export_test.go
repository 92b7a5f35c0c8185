package mongo

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/actorchat/engine/persistence"
)

// Crash implements storetest.Crash for this adapter: it writes the GridFS
// documents that a PutBlob which died leaves behind.
type Crash struct{}

// MidContent leaves two chunks of a longer file and no file document (the
// upload died in a flush or in Close before the file document).
func (Crash) MidContent(t *testing.T, s persistence.Store, id string, at time.Time) {
	t.Helper()
	putChunks(t, s.(*Store), id, at, 2)
}

// BeforeMetadata leaves a whole file, uploaded at at, without its blobs
// document (the upload died between up.Close and the metadata insert).
func (Crash) BeforeMetadata(t *testing.T, s persistence.Store, id string, at time.Time) {
	t.Helper()
	st := s.(*Store)
	putChunks(t, st, id, at, 3)
	file := bson.D{{Key: fID, Value: id}, {Key: "length", Value: int64(3 * len("part of a file"))}, {Key: "chunkSize", Value: int32(len("part of a file"))},
		{Key: fFileUploadDate, Value: at}, {Key: "filename", Value: id}}
	if _, err := st.db.Collection(collBlobFiles).InsertOne(t.Context(), file); err != nil {
		t.Fatalf("crash upload %s: file: %v", id, err)
	}
}

// HasContent reports whether file id has chunks or a file document.
func (Crash) HasContent(t *testing.T, s persistence.Store, id string) bool {
	t.Helper()
	st := s.(*Store)
	chunks, err := st.db.Collection(collBlobChunks).CountDocuments(t.Context(), bson.D{{Key: fChunkFileID, Value: id}})
	if err != nil {
		t.Fatalf("chunks of %s: %v", id, err)
	}
	files, err := st.db.Collection(collBlobFiles).CountDocuments(t.Context(), bson.D{{Key: fID, Value: id}})
	if err != nil {
		t.Fatalf("file %s: %v", id, err)
	}
	return chunks+files > 0
}

// putChunks writes chunks 0..n-1 of file id as the driver does, with
// ObjectIDs of the second of at.
func putChunks(t *testing.T, s *Store, id string, at time.Time, n int) {
	t.Helper()
	docs := make([]any, n)
	for i := range docs {
		oid := bson.NewObjectID() // unique, then dated at
		binary.BigEndian.PutUint32(oid[:4], uint32(at.Unix()))
		docs[i] = bson.D{{Key: fID, Value: oid}, {Key: fChunkFileID, Value: id}, {Key: fChunkN, Value: int32(i)},
			{Key: "data", Value: bson.Binary{Data: []byte("part of a file")}}} // short: FerretDB decodes every chunk it scans
	}
	if _, err := s.db.Collection(collBlobChunks).InsertMany(t.Context(), docs); err != nil {
		t.Fatalf("crash upload %s: chunks: %v", id, err)
	}
}

// ErrChunksSwept is errChunksSwept, for TestCheckChunks.
var ErrChunksSwept = errChunksSwept

// CheckChunks exposes checkChunks to TestCheckChunks: a PutBlob whose
// chunks a sweep deleted before Close needs a file over the driver's
// 16 MiB buffer, which FerretDB makes too slow for a test.
func (s *Store) CheckChunks(ctx context.Context, id string, size int64) error {
	return s.checkChunks(ctx, id, size)
}
