package sqlite

import (
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrationRegistersOrphanChunks: chunks that uploads left without a
// blobs row before blob_uploads existed count as abandoned long ago, and
// the chunks of complete blobs do not count at all.
func TestMigrationRegistersOrphanChunks(t *testing.T) {
	t.Parallel()
	const before = 10 // the schema version before blob_uploads
	path := filepath.Join(t.TempDir(), "chat.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range append(migrations[:before:before],
		fmt.Sprintf("PRAGMA user_version = %d", before),
		`INSERT INTO blobs (`+blobColumns+`) VALUES ('done', 'u1', 'attachment', 'text/plain', 'done', 4, 1, 0)`,
		`INSERT INTO blob_chunks (blob_id, n, data) VALUES ('done', 0, x'646f6e65')`,
		`INSERT INTO blob_chunks (blob_id, n, data) VALUES ('dead', 0, x'00'), ('dead', 1, x'00')`,
	) {
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("%.40s: %v", stmt, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openInternal(t, Config{Path: path})
	n, err := s.DeleteOrphanContent(t.Context(), time.Now().Add(-365*24*time.Hour), 10)
	if err != nil || n != 1 {
		t.Fatalf("DeleteOrphanContent = %d, %v; want 1 (dead)", n, err)
	}
	if (Crash{}).HasContent(t, s, "dead") {
		t.Fatal("chunks of the dead upload are still stored")
	}
	_, rc, err := s.OpenBlob(t.Context(), "done")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if content, err := io.ReadAll(rc); err != nil || string(content) != "done" {
		t.Fatalf("content of done = %q, %v", content, err)
	}
	if n, err := s.DeleteOrphanContent(t.Context(), time.Now(), 10); err != nil || n != 0 {
		t.Fatalf("second sweep deleted %d, %v; want 0", n, err)
	}
}
