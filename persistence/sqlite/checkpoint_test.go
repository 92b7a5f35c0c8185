package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

// TestBackgroundCheckpoint: committed pages reach the database file without
// any commit crossing the writer's (raised) automatic checkpoint threshold:
// the background checkpointer copies them out of the WAL.
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	s := openInternal(t, Config{Path: path})
	if got := pragma(t, s.w, "wal_autocheckpoint"); got != fmt.Sprint(walSafetyPages) {
		t.Fatalf("writer wal_autocheckpoint = %s, want %d", got, walSafetyPages)
	}
	before := fileSize(t, path)
	ctx := t.Context()
	now := time.Now()
	if err := s.CreateConversation(ctx, persistence.Conversation{ID: "c1", Kind: persistence.KindGroup, Title: "t", CreatedBy: "u1", CreatedAt: now},
		[]persistence.Member{{ConversationID: "c1", UserID: "u1", Role: persistence.RoleOwner, JoinedAt: now}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 200; i++ {
		m := persistence.Message{ConversationID: "c1", Seq: int64(i), ID: fmt.Sprint("m", i), Kind: persistence.KindMessage,
			SenderID: "u1", ClientMsgID: fmt.Sprint("k", i), Body: fmt.Sprintf("%0500d", i), CreatedAt: now}
		if _, err := s.AppendMessages(ctx, []persistence.Message{m}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(40 * checkpointEvery)
	for fileSize(t, path) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes after %v: nothing was checkpointed", before, 40*checkpointEvery)
		}
		time.Sleep(checkpointEvery / 5)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
