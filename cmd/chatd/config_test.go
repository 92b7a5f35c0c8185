package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actorchat/engine/gateway"
	"github.com/actorchat/engine/persistence"
	"github.com/actorchat/engine/persistence/sqlite"
)

// TestLimitFlagsAndEnv: every limit has a flag and a CHAT_ variable; the
// flag wins.
func TestLimitFlagsAndEnv(t *testing.T) {
	env := map[string]string{
		"CHAT_SEND_RATE": "7", "CHAT_SEND_BURST": "8", "CHAT_USER_SEND_RATE": "9", "CHAT_USER_SEND_BURST": "10",
		"CHAT_TYPING_RATE": "1.5", "CHAT_TYPING_BURST": "3", "CHAT_USER_TYPING_RATE": "2.5", "CHAT_USER_TYPING_BURST": "4",
		"CHAT_UPLOAD_RATE": "0.25", "CHAT_UPLOAD_BURST": "2", "CHAT_MAX_CONNS_PER_USER": "6",
		"CHAT_MAX_UPLOAD_BYTES": "1234", "CHAT_MAX_MEMBERS": "50", "CHAT_MAX_BODY_BYTES": "999",
	}
	c, err := parseConfig([]string{"--send-rate", "70", "--max-members", "60"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := gateway.Limits{SendRate: 70, SendBurst: 8, UserSendRate: 9, UserSendBurst: 10, TypingRate: 1.5, TypingBurst: 3,
		UserTypingRate: 2.5, UserTypingBurst: 4, UploadRate: 0.25, UploadBurst: 2, MaxConnsPerUser: 6, MaxUploadBytes: 1234}
	if c.Limits != want || c.MaxMembers != 60 || c.MaxBodyBytes != 999 {
		t.Fatalf("limits %+v, max members %d, max body %d;\nwant %+v, 60, 999", c.Limits, c.MaxMembers, c.MaxBodyBytes, want)
	}
	def, err := parseConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if def.Limits.SendRate != 20 || def.Limits.MaxConnsPerUser != 20 || def.MaxMembers != 10000 || def.Limits.MaxUploadBytes != 10<<20 {
		t.Fatalf("defaults: %+v, max members %d", def.Limits, def.MaxMembers)
	}
	if lim := openFileLimit(); lim > 0 && def.MaxConnections != connectionBudget(lim) {
		t.Fatalf("default max connections %d, want the open-file limit %d minus the reserve", def.MaxConnections, lim)
	}
}

// TestConnectionBudget: the default --max-connections leaves room under the
// open-file limit for everything else.
func TestConnectionBudget(t *testing.T) {
	for _, c := range []struct{ limit, want int }{{20000, 18000}, {65536, 63536}, {1024, 64}, {0, 18000}} {
		if got := connectionBudget(c.limit); got != c.want {
			t.Errorf("connectionBudget(%d) = %d, want %d", c.limit, got, c.want)
		}
	}
}

// TestSweepOnce: the sweep deletes, batch after batch, every unreferenced
// upload older than the cut-off, and keeps the rest.
func TestSweepOnce(t *testing.T) {
	st, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	old, now := time.Now().Add(-48*time.Hour), time.Now()
	for i := range sweepBatch + 3 {
		put(t, st, fmt.Sprint("old", i), old)
	}
	put(t, st, "carried", old)
	put(t, st, "new", now)
	if err := st.AddBlobRefs(t.Context(), "c1", 1, []string{"carried"}); err != nil {
		t.Fatal(err)
	}
	n, err := sweepOnce(t.Context(), st, now.Add(-24*time.Hour))
	if err != nil || n != sweepBatch+3 {
		t.Fatalf("sweepOnce deleted %d, %v; want %d", n, err, sweepBatch+3)
	}
	for _, id := range []string{"carried", "new"} {
		if _, err := st.Blob(t.Context(), id); err != nil {
			t.Fatalf("%s: %v, want kept", id, err)
		}
	}
}

func put(t *testing.T, st persistence.Store, id string, at time.Time) {
	t.Helper()
	_, err := st.PutBlob(t.Context(), persistence.Blob{ID: id, OwnerID: "u", Purpose: persistence.PurposeAttachment,
		ContentType: "text/plain", Name: id, CreatedAt: at}, strings.NewReader("x"), 10)
	if err != nil {
		t.Fatal(err)
	}
}
