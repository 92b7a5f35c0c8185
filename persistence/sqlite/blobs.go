package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/actorchat/engine/persistence"
)

// blobChunkSize is the size of one stored chunk of a blob (the most an
// upload or a download holds in memory).
const blobChunkSize = 256 << 10

const blobColumns = `id, owner_id, purpose, content_type, name, size, chunks, created_at`

// errUploadSwept means DeleteOrphanContent took an upload in flight for
// abandoned (it wrote nothing for longer than the sweep's age) and deleted
// what it had written.
var errUploadSwept = errors.New("upload swept as abandoned")

// PutBlob implements persistence.Blobs: the upload registers itself in
// blob_uploads, writes each chunk in its own short write transaction that
// also touches that row, and writes the metadata row in the transaction
// that removes it (the blob exists from then on). A failed or oversized
// upload deletes what it wrote; one that dies leaves its blob_uploads row
// for DeleteOrphanContent. A chunk or the metadata finding the row gone
// (swept) fails the upload, so no blob ever lacks a chunk.
func (s *Store) PutBlob(ctx context.Context, b persistence.Blob, r io.Reader, max int64) (persistence.Blob, error) {
	if err := s.startUpload(ctx, b.ID); err != nil {
		return persistence.Blob{}, fmt.Errorf("put blob %s: %w", b.ID, err)
	}
	size, chunks, err := s.putChunks(ctx, b.ID, r, max)
	if err == nil {
		b.Size = size
		err = s.finishUpload(ctx, b, chunks)
	}
	if err != nil {
		s.dropUpload(context.WithoutCancel(ctx), b.ID)
		return persistence.Blob{}, fmt.Errorf("put blob %s: %w", b.ID, err)
	}
	return b, nil
}

// startUpload registers the upload of blob id; ErrDuplicate when a blob or
// an upload of that id exists (whose chunks are not ours to write or drop).
func (s *Store) startUpload(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO blob_uploads (blob_id, at)
		SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE id = ?)`, id, millis(time.Now()), id)
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = persistence.ErrDuplicate // a blob of that id exists
	}
	return err
}

// putChunks copies r into chunks of blob id; ErrTooLarge past max bytes.
func (s *Store) putChunks(ctx context.Context, id string, r io.Reader, max int64) (size int64, n int, err error) {
	buf := make([]byte, blobChunkSize)
	for {
		got, rerr := io.ReadFull(r, buf)
		if got > 0 {
			if size += int64(got); size > max {
				return size, n, persistence.ErrTooLarge
			}
			if err := s.putChunk(ctx, id, n, buf[:got]); err != nil {
				return size, n, err
			}
			n++
		}
		switch {
		case errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF):
			return size, n, nil
		case rerr != nil:
			return size, n, rerr
		}
	}
}

// putChunk writes chunk n of blob id and marks the upload as just written.
func (s *Store) putChunk(ctx context.Context, id string, n int, data []byte) error {
	err := s.inTx(ctx, func(tx txExec) error {
		if err := touchUpload(ctx, tx, `UPDATE blob_uploads SET at = ? WHERE blob_id = ?`, millis(time.Now()), id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO blob_chunks (blob_id, n, data) VALUES (?, ?, ?)`, id, n, data)
		return err
	})
	return translate(err)
}

// finishUpload writes the metadata of a blob whose chunks are all written.
func (s *Store) finishUpload(ctx context.Context, b persistence.Blob, chunks int) error {
	err := s.inTx(ctx, func(tx txExec) error {
		if err := touchUpload(ctx, tx, `DELETE FROM blob_uploads WHERE blob_id = ?`, b.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO blobs (`+blobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			b.ID, b.OwnerID, b.Purpose, b.ContentType, b.Name, b.Size, chunks, millis(b.CreatedAt))
		return err
	})
	return translate(err)
}

// touchUpload runs query (an update or delete of the upload's blob_uploads
// row) and fails with errUploadSwept when that row is gone.
func touchUpload(ctx context.Context, tx txExec, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = errUploadSwept
	}
	return err
}

// dropUpload deletes what a failed upload of blob id wrote, if the upload
// is still registered (else it completed, or a sweep deleted it already).
// Best effort: what it leaves, DeleteOrphanContent deletes later.
func (s *Store) dropUpload(ctx context.Context, id string) {
	_ = s.inTx(ctx, func(tx txExec) error {
		if err := touchUpload(ctx, tx, `DELETE FROM blob_uploads WHERE blob_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM blob_chunks WHERE blob_id = ?`, id)
		return err
	})
}

// Blob implements persistence.Blobs.
func (s *Store) Blob(ctx context.Context, id string) (persistence.Blob, error) {
	b, _, err := s.blobRow(ctx, id)
	return b, err
}

func (s *Store) blobRow(ctx context.Context, id string) (persistence.Blob, int, error) {
	var b persistence.Blob
	var chunks int
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT `+blobColumns+` FROM blobs WHERE id = ?`, id).
		Scan(&b.ID, &b.OwnerID, &b.Purpose, &b.ContentType, &b.Name, &b.Size, &chunks, &created)
	if err != nil {
		return b, 0, fmt.Errorf("blob %s: %w", id, translate(err))
	}
	b.CreatedAt = fromMillis(created)
	return b, chunks, nil
}

// OpenBlob implements persistence.Blobs: the reader fetches one chunk at a time.
func (s *Store) OpenBlob(ctx context.Context, id string) (persistence.Blob, io.ReadCloser, error) {
	b, chunks, err := s.blobRow(ctx, id)
	if err != nil {
		return b, nil, err
	}
	return b, &chunkReader{ctx: ctx, db: s.r, id: id, chunks: chunks}, nil
}

// chunkReader streams a blob's chunks in order.
type chunkReader struct {
	ctx    context.Context
	db     *sql.DB
	id     string
	chunks int
	next   int
	cur    []byte
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.cur) == 0 {
		if c.next >= c.chunks {
			return 0, io.EOF
		}
		if err := c.db.QueryRowContext(c.ctx, `SELECT data FROM blob_chunks WHERE blob_id = ? AND n = ?`,
			c.id, c.next).Scan(&c.cur); err != nil {
			return 0, fmt.Errorf("read blob %s chunk %d: %w", c.id, c.next, translate(err))
		}
		c.next++
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

func (c *chunkReader) Close() error { c.cur, c.next = nil, c.chunks; return nil }

// AddBlobRefs implements persistence.Blobs.
func (s *Store) AddBlobRefs(ctx context.Context, conversationID string, seq int64, blobIDs []string) error {
	err := s.inTx(ctx, func(tx txExec) error {
		for _, id := range blobIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO blob_refs (blob_id, conversation_id, seq) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, id, conversationID, seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add blob refs of %d in %s: %w", seq, conversationID, translate(err))
	}
	return nil
}

// BlobConversations implements persistence.Blobs.
func (s *Store) BlobConversations(ctx context.Context, blobID string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT conversation_id FROM blob_refs WHERE blob_id = ?`, blobID)
	if err != nil {
		return nil, fmt.Errorf("conversations of blob %s: %w", blobID, translate(err))
	}
	out, err := collect(rows, func(sc scanner) (string, error) {
		var id string
		return id, sc.Scan(&id)
	})
	if err != nil {
		return nil, fmt.Errorf("conversations of blob %s: %w", blobID, translate(err))
	}
	return out, nil
}

// SetAvatar implements persistence.Blobs.
func (s *Store) SetAvatar(ctx context.Context, userID, blobID string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO avatars (user_id, blob_id) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET blob_id = excluded.blob_id`, userID, blobID)
	if err != nil {
		return fmt.Errorf("set avatar of %s: %w", userID, translate(err))
	}
	return nil
}

// Avatar implements persistence.Blobs.
func (s *Store) Avatar(ctx context.Context, userID string) (string, error) {
	var id string
	err := translate(s.r.QueryRowContext(ctx, `SELECT blob_id FROM avatars WHERE user_id = ?`, userID).Scan(&id))
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return "", fmt.Errorf("avatar of %s: %w", userID, err)
	}
	return id, nil
}

// encodeIDs stores a list of ids as a JSON array ("" when empty).
func encodeIDs(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	b, _ := json.Marshal(ids) // strings only: cannot fail
	return string(b)
}

// decodeIDs is the inverse of encodeIDs.
func decodeIDs(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, fmt.Errorf("attachments %q: %w", s, err)
	}
	return ids, nil
}

// unreferencedBlobsSQL lists old blobs that no message carries and no
// avatar uses (blobs_created, the blob_refs key, avatars_blob).
const unreferencedBlobsSQL = `SELECT id FROM blobs b WHERE created_at < ?
	AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.blob_id = b.id)
	AND NOT EXISTS (SELECT 1 FROM avatars a WHERE a.blob_id = b.id)
	ORDER BY created_at LIMIT ?`

// DeleteUnreferencedBlobs implements persistence.Blobs in one write
// transaction, so a reference added meanwhile either comes first (and the
// blob stays) or finds the blob gone.
func (s *Store) DeleteUnreferencedBlobs(ctx context.Context, createdBefore time.Time, limit int) (int, error) {
	n, err := s.deletePicked(ctx, `SELECT coalesce(json_group_array(id), '[]') FROM (`+unreferencedBlobsSQL+`)`,
		[]any{millis(createdBefore), limit},
		`DELETE FROM blob_chunks WHERE blob_id IN (SELECT value FROM json_each(?))`,
		`DELETE FROM blobs WHERE id IN (SELECT value FROM json_each(?))`)
	if err != nil {
		return 0, fmt.Errorf("delete unreferenced blobs: %w", err)
	}
	return n, nil
}

// deletePicked runs, in one write transaction, pick (a query answering a
// JSON array of blob ids) and then delChunks and delRows, each bound to that
// array; it returns how many rows delRows deleted.
func (s *Store) deletePicked(ctx context.Context, pick string, pickArgs []any, delChunks, delRows string) (int, error) {
	deleted := 0
	err := s.inTx(ctx, func(tx txExec) error {
		var list string
		if err := tx.QueryRowContext(ctx, pick, pickArgs...).Scan(&list); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, delChunks, list); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, delRows, list)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		deleted = int(n)
		return err
	})
	return deleted, translate(err)
}

// DeleteOrphanContent implements persistence.Blobs in one write
// transaction: the uploads registered in blob_uploads that last wrote a
// chunk before olderThan, oldest first (blob_uploads_at), lose their chunks
// and their registration. An upload that comes back later finds its
// registration gone and fails (see PutBlob). Complete blobs are never
// registered, and the NOT EXISTS keeps their chunks regardless.
func (s *Store) DeleteOrphanContent(ctx context.Context, olderThan time.Time, limit int) (int, error) {
	n, err := s.deletePicked(ctx, `SELECT coalesce(json_group_array(blob_id), '[]') FROM
		(SELECT blob_id FROM blob_uploads WHERE at < ? ORDER BY at LIMIT ?)`, []any{millis(olderThan), limit},
		`DELETE FROM blob_chunks WHERE blob_id IN (SELECT value FROM json_each(?))
			AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.id = blob_chunks.blob_id)`,
		`DELETE FROM blob_uploads WHERE blob_id IN (SELECT value FROM json_each(?))`)
	if err != nil {
		return 0, fmt.Errorf("delete orphan blob content: %w", err)
	}
	return n, nil
}
