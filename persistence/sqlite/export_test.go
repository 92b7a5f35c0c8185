package sqlite

import (
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

// Crash implements storetest.Crash for this adapter: it writes the rows
// that a PutBlob which died leaves behind, its blob_uploads row included.
type Crash struct{}

// MidContent leaves two chunks of a longer blob and the upload's row.
func (Crash) MidContent(t *testing.T, s persistence.Store, id string, at time.Time) {
	t.Helper()
	crash(t, s.(*Store), id, at, 2)
}

// BeforeMetadata leaves all three chunks of a blob and the upload's row:
// on SQLite the metadata row and the removal of the upload's row are one
// transaction, so this is what dying before it leaves.
func (Crash) BeforeMetadata(t *testing.T, s persistence.Store, id string, at time.Time) {
	t.Helper()
	crash(t, s.(*Store), id, at, 3)
}

// HasContent reports whether blob id has chunks or an upload row.
func (Crash) HasContent(t *testing.T, s persistence.Store, id string) bool {
	t.Helper()
	var has bool
	err := s.(*Store).w.QueryRowContext(t.Context(), `SELECT EXISTS (SELECT 1 FROM blob_chunks WHERE blob_id = ?)
		OR EXISTS (SELECT 1 FROM blob_uploads WHERE blob_id = ?)`, id, id).Scan(&has)
	if err != nil {
		t.Fatalf("content of %s: %v", id, err)
	}
	return has
}

func crash(t *testing.T, s *Store, id string, at time.Time, chunks int) {
	t.Helper()
	err := s.inTx(t.Context(), func(tx txExec) error {
		if _, err := tx.ExecContext(t.Context(), `INSERT INTO blob_uploads (blob_id, at) VALUES (?, ?)`, id, millis(at)); err != nil {
			return err
		}
		for n := range chunks {
			if _, err := tx.ExecContext(t.Context(), `INSERT INTO blob_chunks (blob_id, n, data) VALUES (?, ?, ?)`,
				id, n, []byte("part of a file")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("crash upload %s: %v", id, err)
	}
}
