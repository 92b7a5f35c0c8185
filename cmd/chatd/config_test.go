package main

import (
	"context"
	"fmt"
	"log/slog"
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
	n, err := sweepOnce(t.Context(), st.DeleteUnreferencedBlobs, now.Add(-24*time.Hour))
	if err != nil || n != sweepBatch+3 {
		t.Fatalf("sweepOnce deleted %d, %v; want %d", n, err, sweepBatch+3)
	}
	for _, id := range []string{"carried", "new"} {
		if _, err := st.Blob(t.Context(), id); err != nil {
			t.Fatalf("%s: %v, want kept", id, err)
		}
	}
}

// TestSweepUploads: every tick sweeps what died uploads left, with a cut-off
// orphanAge back, and the unreferenced uploads only when grace is not 0.
func TestSweepUploads(t *testing.T) {
	for _, grace := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprint("grace=", grace), func(t *testing.T) {
			rec := sweepRecorder{unreferenced: make(chan time.Time, 1), orphans: make(chan time.Time, 1)}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			start := time.Now()
			go func() {
				defer close(done)
				sweepUploads(ctx, rec, grace, time.Millisecond, slog.New(slog.DiscardHandler))
			}()
			var cutoff time.Time
			select {
			case cutoff = <-rec.orphans:
			case <-time.After(10 * time.Second):
				t.Fatal("no sweep of abandoned uploads")
			}
			cancel()
			<-done
			if cutoff.Before(start.Add(-orphanAge)) || cutoff.After(time.Now().Add(-orphanAge)) {
				t.Errorf("orphan cut-off %v, want about %v ago", cutoff, orphanAge)
			}
			select {
			case c := <-rec.unreferenced: // the same tick swept them first
				if grace == 0 {
					t.Errorf("unreferenced uploads swept (cut-off %v) with grace 0", c)
				} else if c.Before(start.Add(-grace)) || c.After(time.Now().Add(-grace)) {
					t.Errorf("unreferenced cut-off %v, want about %v ago", c, grace)
				}
			default:
				if grace > 0 {
					t.Error("no sweep of unreferenced uploads")
				}
			}
		})
	}
}

// sweepRecorder is the part of a store the sweep uses: it records the
// first cut-off of each delete and deletes nothing.
type sweepRecorder struct {
	persistence.Blobs // nil: the sweep calls only the deletes below
	unreferenced      chan time.Time
	orphans           chan time.Time
}

func (r sweepRecorder) DeleteUnreferencedBlobs(_ context.Context, before time.Time, _ int) (int, error) {
	select {
	case r.unreferenced <- before:
	default:
	}
	return 0, nil
}

func (r sweepRecorder) DeleteOrphanContent(_ context.Context, olderThan time.Time, _ int) (int, error) {
	select {
	case r.orphans <- olderThan:
	default:
	}
	return 0, nil
}

func put(t *testing.T, st persistence.Store, id string, at time.Time) {
	t.Helper()
	_, err := st.PutBlob(t.Context(), persistence.Blob{ID: id, OwnerID: "u", Purpose: persistence.PurposeAttachment,
		ContentType: "text/plain", Name: id, CreatedAt: at}, strings.NewReader("x"), 10)
	if err != nil {
		t.Fatal(err)
	}
}
