package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func openInternal(t *testing.T, cfg Config) *Store {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "chat.db")
	}
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fullSync bool
		wantSync string
	}{
		{"default", false, "1"}, // NORMAL
		{"full sync", true, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openInternal(t, Config{FullSync: tc.fullSync, BusyTimeout: 1500 * time.Millisecond})
			for _, want := range []struct{ pragma, value string }{
				{"journal_mode", "wal"},
				{"synchronous", tc.wantSync},
				{"foreign_keys", "1"},
				{"busy_timeout", "1500"},
				{"query_only", "0"},
				{"user_version", strconv.Itoa(len(migrations))},
			} {
				if got := pragma(t, s.w, want.pragma); got != want.value {
					t.Errorf("writer PRAGMA %s = %s, want %s", want.pragma, got, want.value)
				}
			}
			for _, want := range []struct{ pragma, value string }{
				{"journal_mode", "wal"},
				{"foreign_keys", "1"},
				{"busy_timeout", "1500"},
				{"query_only", "1"},
			} {
				if got := pragma(t, s.r, want.pragma); got != want.value {
					t.Errorf("reader PRAGMA %s = %s, want %s", want.pragma, got, want.value)
				}
			}
			if n := s.w.Stats().MaxOpenConnections; n != 1 {
				t.Errorf("writer pool allows %d connections, want 1", n)
			}
		})
	}
}

func TestReadersCannotWrite(t *testing.T) {
	t.Parallel()
	s := openInternal(t, Config{})
	_, err := s.r.ExecContext(t.Context(),
		`INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES ('a', 'a', '', '', 0)`)
	if err == nil {
		t.Fatal("insert through the read pool succeeded, want a query_only error")
	}
}

// TestQueryPlans checks that every query of the adapter is served by an
// index: no full scan of a table, whatever its size.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	s := openInternal(t, Config{})
	for _, q := range []struct {
		query string
		args  []any
		index string // expected in the plan
	}{
		{`SELECT ` + userColumns + ` FROM users WHERE id = ?`, []any{"u"}, "sqlite_autoindex_users_1"},
		{`SELECT ` + userColumns + ` FROM users WHERE username = ?`, []any{"u"}, "users_username"},
		{`SELECT ` + userColumns + ` FROM users WHERE id IN (SELECT value FROM json_each(?))`, []any{`["a"]`}, "sqlite_autoindex_users_1"},
		{`SELECT user_id FROM refresh_tokens WHERE hash = ?`, []any{"h"}, "sqlite_autoindex_refresh_tokens_1"},
		{`UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, []any{1, "u"}, "refresh_tokens_active"},
		{`SELECT ` + conversationColumns + ` FROM conversations WHERE id = ?`, []any{"c"}, "sqlite_autoindex_conversations_1"},
		{`SELECT ` + conversationColumns + ` FROM conversations WHERE dm_key = ? AND dm_key <> ''`, []any{"a:b"}, "conversations_dm_key"},
		{memberSQL, []any{"c", "u"}, "PRIMARY KEY"},
		{`SELECT ` + memberColumns + ` FROM members WHERE conversation_id = ? ORDER BY joined_at, user_id`, []any{"c"}, "members_joined"},
		{`SELECT ` + memberColumns + ` FROM members WHERE user_id = ? ORDER BY conversation_id`, []any{"u"}, "members_user"},
		{membersPageSQL, []any{"c", 0, "", 100}, "members_joined"},
		{`UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?`, []any{"r", "c", "u"}, "PRIMARY KEY"},
		{`DELETE FROM members WHERE conversation_id = ? AND user_id = ?`, []any{"c", "u"}, "PRIMARY KEY"},
		{markReadSQL, []any{1, "c", "u"}, "PRIMARY KEY"},
		{lastSeqSQL, []any{"c"}, "messages_seq"},
		{byClientIDSQL, []any{"c", "u", "m"}, "messages_client"},
		{pageAfterSQL, []any{"c", 1, 100, 50}, "messages_seq"},
		{pageBeforeSQL, []any{"c", 100, 50}, "messages_seq"},
		{unreferencedBlobsSQL, []any{1, 10}, "blobs_created"},
	} {
		plan := queryPlan(t, s.r, q.query, q.args)
		if !strings.Contains(plan, q.index) {
			t.Errorf("plan of %q does not use %s:\n%s", q.query, q.index, plan)
		}
		for line := range strings.Lines(plan) {
			if strings.HasPrefix(strings.TrimSpace(line), "SCAN ") && !strings.Contains(line, "VIRTUAL TABLE") {
				t.Errorf("plan of %q scans a table:\n%s", q.query, plan)
			}
		}
		if (strings.Contains(q.query, "ORDER BY seq") || q.query == membersPageSQL) && strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("plan of %q sorts instead of walking messages_seq:\n%s", q.query, plan)
		}
	}
}

func queryPlan(t *testing.T, db *sql.DB, query string, args []any) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %q: %v", query, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("explain %q: %v", query, err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain %q: %v", query, err)
	}
	return b.String()
}
