package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/actorchat/engine/persistence"
	"github.com/actorchat/engine/persistence/sqlite"
	"github.com/actorchat/engine/persistence/storetest"
)

// openTemp opens a store in a fresh temporary directory, closed at cleanup.
func openTemp(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(tb.Context(), sqlite.Config{Path: filepath.Join(tb.TempDir(), "chat.db")})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		// tb.Context is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persistence.Store { return openTemp(t) }, sqlite.Crash{})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cfg     sqlite.Config
		wantErr bool
	}{
		{"zero value", sqlite.Config{}, false},
		{"everything set", sqlite.Config{Path: "/var/lib/chat/chat.db", BusyTimeout: time.Second, MaxReadConns: 8, FullSync: true}, false},
		{"memory", sqlite.Config{Path: ":memory:"}, true},
		{"uri", sqlite.Config{Path: "file:chat.db"}, true},
		{"query in path", sqlite.Config{Path: "chat.db?mode=ro"}, true},
		{"negative busy timeout", sqlite.Config{BusyTimeout: -time.Second}, true},
		{"negative read conns", sqlite.Config{MaxReadConns: -1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, sqlite.ErrInvalidConfig)) {
				t.Fatalf("Validate() = %v, want error: %v (wrapping ErrInvalidConfig)", err, tc.wantErr)
			}
		})
	}
	if _, err := sqlite.Open(t.Context(), sqlite.Config{Path: ":memory:"}); !errors.Is(err, sqlite.ErrInvalidConfig) {
		t.Fatalf("Open with an invalid config: %v, want ErrInvalidConfig", err)
	}
}

// TestDefaultPath opens the zero Config, which must create ./data/chat.db.
func TestDefaultPath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // not parallel: changes the working directory
	s, err := sqlite.Open(t.Context(), sqlite.Config{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close(context.Background())
	if _, err := os.Stat(filepath.Join(dir, "data", "chat.db")); err != nil {
		t.Fatalf("default database file: %v", err)
	}
}

// TestReopen checks that data survives Close and that migrations are
// idempotent.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := sqlite.Config{Path: filepath.Join(t.TempDir(), "nested", "dir", "chat.db")}
	for round := range 3 {
		s, err := sqlite.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("open round %d: %v", round, err)
		}
		conv := persistence.Conversation{ID: "g1", Kind: persistence.KindGroup, Title: "g"}
		if round == 0 {
			if err := s.CreateConversation(ctx, conv, nil); err != nil {
				t.Fatalf("create conversation: %v", err)
			}
		}
		msg := persistence.Message{ConversationID: "g1", Seq: int64(round + 1), ID: fmt.Sprint(round), ClientMsgID: fmt.Sprint(round)}
		if _, err := s.AppendMessages(ctx, []persistence.Message{msg}); err != nil {
			t.Fatalf("append round %d: %v", round, err)
		}
		if last, err := s.LastSeq(ctx, "g1"); err != nil || last != int64(round+1) {
			t.Fatalf("LastSeq after reopen %d = %d, %v; want %d", round, last, err, round+1)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
}

// TestMissingReferences: the adapter enforces foreign keys from members and
// messages to their conversation and from tokens to their user, reported as
// ErrNotFound (the port leaves this to adapters; the suite never violates it).
func TestMissingReferences(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTemp(t)

	err := s.AddMember(ctx, persistence.Member{ConversationID: "nope", UserID: "u1", Role: persistence.RoleMember})
	if !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("AddMember to a missing conversation: %v, want ErrNotFound", err)
	}
	n, err := s.AppendMessages(ctx, []persistence.Message{{ConversationID: "nope", Seq: 1, ID: "m", ClientMsgID: "c"}})
	if n != 0 || !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("AppendMessages to a missing conversation = %d, %v; want 0, ErrNotFound", n, err)
	}
	err = s.CreateRefreshToken(ctx, persistence.RefreshToken{Hash: "h", UserID: "nobody"})
	if !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("CreateRefreshToken of a missing user: %v, want ErrNotFound", err)
	}
}

// TestErrorsKeepContextAndCause checks the wrapping: our context, the
// sentinel, and the driver error underneath.
func TestErrorsKeepContextAndCause(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTemp(t)
	if err := s.CreateConversation(ctx, persistence.Conversation{ID: "g1", Kind: persistence.KindGroup}, nil); err != nil {
		t.Fatal(err)
	}
	msg := persistence.Message{ConversationID: "g1", Seq: 1, ID: "m1", ClientMsgID: "c1"}
	if _, err := s.AppendMessages(ctx, []persistence.Message{msg}); err != nil {
		t.Fatal(err)
	}
	msg.ClientMsgID = "c2"
	_, err := s.AppendMessages(ctx, []persistence.Message{msg})
	var driverErr *sqlitedriver.Error
	switch {
	case !errors.Is(err, persistence.ErrDuplicate):
		t.Fatalf("duplicate seq: %v, want ErrDuplicate", err)
	case !errors.As(err, &driverErr) || driverErr.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		t.Fatalf("duplicate seq: %v does not carry the driver's unique violation", err)
	case !strings.HasPrefix(err.Error(), "append messages g1: "):
		t.Fatalf("duplicate seq: %q lacks the context prefix", err)
	}
}

// TestUnavailable: a lock held past BusyTimeout by another connection, and
// an expired deadline, are ErrUnavailable.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "chat.db")
	s, err := sqlite.Open(t.Context(), sqlite.Config{Path: path, BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())

	other, err := sql.Open("sqlite", path) // another process, in effect
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	err = s.CreateUser(t.Context(), persistence.User{ID: "u1", Username: "u1"})
	if !errors.Is(err, persistence.ErrUnavailable) {
		t.Errorf("write while another connection holds the lock: %v, want ErrUnavailable", err)
	}
	if _, err := lock.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}

	expired, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := s.UserByID(expired, "u1"); !errors.Is(err, persistence.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read with an expired deadline: %v, want ErrUnavailable and DeadlineExceeded", err)
	}
}
