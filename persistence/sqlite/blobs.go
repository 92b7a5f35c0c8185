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

// PutBlob implements persistence.Blobs: each chunk is its own short write
// transaction, the metadata row comes last (the blob exists from then on),
// and a failed or oversized upload deletes what it wrote.
func (s *Store) PutBlob(ctx context.Context, b persistence.Blob, r io.Reader, max int64) (persistence.Blob, error) {
	size, chunks, err := s.putChunks(ctx, b.ID, r, max)
	if err == nil {
		b.Size = size
		_, err = s.w.ExecContext(ctx, `INSERT INTO blobs (`+blobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			b.ID, b.OwnerID, b.Purpose, b.ContentType, b.Name, b.Size, chunks, millis(b.CreatedAt))
		err = translate(err)
	}
	if err != nil {
		_, _ = s.w.ExecContext(context.WithoutCancel(ctx), `DELETE FROM blob_chunks WHERE blob_id = ?`, b.ID)
		return persistence.Blob{}, fmt.Errorf("put blob %s: %w", b.ID, err)
	}
	return b, nil
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
			if _, err := s.w.ExecContext(ctx, `INSERT INTO blob_chunks (blob_id, n, data) VALUES (?, ?, ?)`,
				id, n, buf[:got]); err != nil {
				return size, n, translate(err)
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
	deleted := 0
	err := s.inTx(ctx, func(tx txExec) error {
		var list string
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(json_group_array(id), '[]') FROM (`+unreferencedBlobsSQL+`)`,
			millis(createdBefore), limit).Scan(&list); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM blob_chunks WHERE blob_id IN (SELECT value FROM json_each(?))`, list); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE id IN (SELECT value FROM json_each(?))`, list)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		deleted = int(n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete unreferenced blobs: %w", translate(err))
	}
	return deleted, nil
}
