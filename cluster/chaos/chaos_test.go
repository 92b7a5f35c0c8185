package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testBin holds the chatd and devstore binaries TestMain builds once for
// every test of the package; set before any test runs, read-only after.
var testBin Binaries

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	wd, _ := os.Getwd()
	root, err := ModuleRoot(ctx, wd)
	if err == nil {
		testBin, err = Build(ctx, root, dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos tests: building chatd and devstore:", err)
		return 1
	}
	return m.Run()
}

// testWriter sends journal lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// runChaos runs cfg in a fresh directory and fails the test on a harness
// error, printing the process logs.
func runChaos(t *testing.T, cfg Config) *Result {
	t.Helper()
	cfg.Dir = filepath.Join(t.TempDir(), "run")
	cfg.Bin = testBin
	if cfg.Provider == ProviderEtcd {
		etcd, err := exec.LookPath("etcd")
		if err != nil {
			t.Fatalf("etcd not found (Debian package etcd-server; `make deps` installs it): %v", err)
		}
		cfg.Bin.Etcd = etcd
	}
	cfg.Log = testWriter{t}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		if res != nil {
			t.Log(res.LogTails)
		}
		t.Fatalf("chaos run: %v", err)
	}
	var b strings.Builder
	res.WriteSummary(&b, 5)
	t.Log("\n" + b.String())
	return res
}

// TestChaosShort: three nodes, 24 clients, one minute with a fault every
// 10s (one full deck: two node kills, a node pause past the membership
// timeout, a store pause, a store kill), then heal and check. Any
// violation fails the test; so does a run with fewer faults than that or no
// acknowledged send after healing. The checker's teeth are tested on the
// run's own history: tampered copies must be flagged.
func TestChaosShort(t *testing.T) {
	res := runChaos(t, Config{
		Duration: 55 * time.Second, Seed: 20261122, FaultInterval: 10 * time.Second,
		Faults: []FaultKind{FaultKill, FaultPause, FaultStorePause, FaultStoreKill},
	})
	f := res.Figures
	if kills, total := f.Faults[FaultKill], len(res.Faults); kills < 2 || total < 4 || len(f.Faults) < 3 {
		t.Errorf("faults injected: %v (want >= 4 of >= 3 kinds, >= 2 node kills)", f.Faults)
	}
	finalAcks := 0
	for _, h := range res.Input.Clients {
		for _, s := range h.Sends {
			if s.Final && s.Outcome == OutcomeAck {
				finalAcks++
			}
		}
	}
	if finalAcks == 0 {
		t.Error("no send succeeded after healing")
	}
	if f.Acked == 0 || f.Deliveries == 0 {
		t.Errorf("no work done: %+v", f)
	}
	for _, e := range res.HealErrors {
		t.Errorf("heal: %s", e)
	}
	if len(res.Violations) > 0 {
		for _, v := range res.Violations[:min(len(res.Violations), 20)] {
			t.Errorf("violation: %s", v)
		}
		t.Log(res.LogTails)
		t.FailNow()
	}
	t.Run("tampered", func(t *testing.T) { testTampered(t, res.Input) })
}

// TestChaosSplitHeals: a node paused just long enough for its peers to
// drop it, but not for its own --pause-exit, ends up in a split that
// Proto.Actor never mends by itself. The node must find out and restart on
// its own (--evict-exit), without the harness's healer, and no invariant
// may break meanwhile.
func TestChaosSplitHeals(t *testing.T) {
	res := runChaos(t, Config{
		Duration: 20 * time.Second, Seed: 20261123, FaultInterval: 8 * time.Second,
		Faults: []FaultKind{FaultShortPause},
	})
	if len(res.Faults) == 0 {
		t.Fatal("no short pause injected")
	}
	paused := map[string]int{}
	for _, f := range res.Faults {
		paused[f.Target]++
		if !f.SelfExit || f.HealerRestart {
			t.Errorf("short pause of %s (hold %s): exited by itself %v, restarted by the healer %v; want a self exit",
				f.Target, f.Hold, f.SelfExit, f.HealerRestart)
		}
	}
	// Only the paused nodes leave: the others still agree and stay.
	if !maps.Equal(res.Figures.UnplannedExits, paused) {
		t.Errorf("unplanned exits %v, want one per short pause %v", res.Figures.UnplannedExits, paused)
	}
	for _, e := range res.HealErrors {
		t.Errorf("heal: %s", e)
	}
	for _, v := range res.Violations[:min(len(res.Violations), 20)] {
		t.Errorf("violation: %s", v)
	}
}

// TestChaosEtcd: the production membership provider under node kills,
// pauses and graceful restarts (SIGTERM, as a rolling restart does).
// Besides the invariants, a node may leave by itself only after a pause of
// its own (--pause-exit, or --evict-exit when its lease expired during
// one): a healthy etcd node never exits, and the healer restarts nothing;
// a SIGTERM ends in a clean drain (exit status 0).
func TestChaosEtcd(t *testing.T) {
	res := runChaos(t, Config{
		Provider: ProviderEtcd, Duration: 48 * time.Second, Seed: 20261153, // deck: kill, restart, pause, short-pause, kill
		FaultInterval: 8 * time.Second,
		Faults:        []FaultKind{FaultKill, FaultPause, FaultShortPause, FaultRestart},
	})
	if len(res.Faults) < 4 || res.Figures.Faults[FaultRestart] == 0 {
		t.Errorf("faults injected: %v (want >= 4, a restart among them)", res.Figures.Faults)
	}
	paused := map[string]int{}
	for _, f := range res.Faults {
		if f.Kind == FaultRestart && (f.ExitStatus == nil || *f.ExitStatus != 0) {
			t.Errorf("restart of %s: SIGTERM did not end in a clean drain (%s)", f.Target, strings.Join(f.Notes, "; "))
		}
		if f.Kind == FaultPause || f.Kind == FaultShortPause {
			paused[f.Target]++
		}
		if f.HealerRestart {
			t.Errorf("%s of %s: the healer had to restart it", f.Kind, f.Target)
		}
	}
	for node, n := range res.Figures.UnplannedExits {
		if n > paused[node] {
			t.Errorf("%s exited by itself %d times after %d pauses (unplanned exits %v)", node, n, paused[node], res.Figures.UnplannedExits)
		}
	}
	if res.Figures.Acked == 0 || res.Figures.Deliveries == 0 {
		t.Errorf("no work done: %+v", res.Figures)
	}
	for _, e := range res.HealErrors {
		t.Errorf("heal: %s", e)
	}
	for _, v := range res.Violations[:min(len(res.Violations), 20)] {
		t.Errorf("violation: %s", v)
	}
}

// cloneInput deep-copies a checker input.
func cloneInput(t *testing.T, in Input) Input {
	t.Helper()
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Input
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// testTampered: copies of a real run's history, each with one fault the
// engine must never show, must be flagged with the matching invariant.
func testTampered(t *testing.T, real Input) {
	// An acked workload send and a client with live deliveries to reorder.
	var acked *Send
	var ackedClient int
	for i, h := range real.Clients {
		for _, s := range h.Sends {
			if acked == nil && !h.Probe && s.Outcome == OutcomeAck && !s.Final {
				acked, ackedClient = s, i
			}
		}
	}
	if acked == nil {
		t.Fatal("the run acknowledged nothing")
	}
	liveIdx := func(h *ClientHistory) (int, int) {
		for i := 0; i+1 < len(h.Deliveries); i++ {
			a, b := h.Deliveries[i], h.Deliveries[i+1]
			if !a.InSync && !b.InSync && a.Conn == b.Conn && a.Conversation == b.Conversation && b.Seq == a.Seq+1 {
				return i, i + 1
			}
		}
		return -1, -1
	}
	cases := []struct {
		name  string
		apply func(in *Input) bool
		want  string
	}{
		{"acked message removed from the store", func(in *Input) bool {
			msgs := in.Store[acked.Conversation]
			in.Store[acked.Conversation] = slices.DeleteFunc(msgs, func(m StoredMessage) bool { return m.Seq == acked.Seq })
			return true
		}, I1},
		{"delivery duplicated", func(in *Input) bool {
			h := in.Clients[ackedClient]
			i, _ := liveIdx(h)
			if i < 0 {
				return false
			}
			h.Deliveries = slices.Insert(h.Deliveries, i+1, h.Deliveries[i])
			return true
		}, I3},
		{"live deliveries reordered", func(in *Input) bool {
			h := in.Clients[ackedClient]
			i, j := liveIdx(h)
			if i < 0 {
				return false
			}
			h.Deliveries[i], h.Deliveries[j] = h.Deliveries[j], h.Deliveries[i]
			return true
		}, I3},
		{"a delivery lost for good", func(in *Input) bool {
			h := in.Clients[ackedClient]
			h.Deliveries = slices.DeleteFunc(h.Deliveries, func(d Delivery) bool {
				return d.Conversation == acked.Conversation && d.Seq == acked.Seq
			})
			return true
		}, I6},
		{"retry stored twice", func(in *Input) bool {
			msgs := in.Store[acked.Conversation]
			var orig StoredMessage
			for _, m := range msgs {
				if m.Seq == acked.Seq {
					orig = m
				}
			}
			orig.Seq, orig.MessageID = msgs[len(msgs)-1].Seq+1, "tampered-copy"
			in.Store[acked.Conversation] = append(msgs, orig)
			return true
		}, I4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := cloneInput(t, real)
			if !tc.apply(&in) {
				t.Fatal("the run has no history this tampering applies to")
			}
			by := ByInvariant(Check(in))
			if len(by[tc.want]) == 0 {
				t.Fatalf("tampered history not flagged with %s; flagged: %v", tc.want, flagged(Check(in)))
			}
			t.Logf("flagged %s: %s", tc.want, by[tc.want][0])
		})
	}
}
