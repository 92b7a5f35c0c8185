// Command chaos runs a long chaos test of a local chat cluster: it builds
// chatd and devstore (or uses --chatd/--devstore), starts a devstore and
// --nodes chatd processes on 127.0.0.1, runs --clients WebSocket clients on
// --conversations group conversations for --duration while a seeded nemesis
// kills, pauses and resumes nodes and the store every --fault-interval,
// heals, reads the store and checks the invariants of cluster/chaos.
//
//	go run ./cmd/chaos --duration 6m --fault-interval 10s --seed 7
//
// It prints the harness journal to stderr, then a readable summary and one
// JSON line to stdout, and exits 1 when an invariant is violated or the
// cluster did not heal, 2 on a usage or harness error. Every process it
// started is killed before it exits, also on Ctrl-C. Nothing leaves loopback.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/actorchat/engine/cluster/chaos"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 6*time.Minute, "length of the run phase (workload and faults)")
	seed := fs.Int64("seed", time.Now().UnixNano()%1_000_000, "seed of membership, client choices and faults")
	nodes := fs.Int("nodes", 3, "chatd nodes")
	provider := fs.String("provider", chaos.ProviderAutoManaged, "cluster membership: automanaged or etcd (runs Debian's etcd, which is never faulted)")
	etcd := fs.String("etcd", "", "etcd binary for --provider etcd (default: etcd on PATH)")
	clients := fs.Int("clients", 24, "clients (one user each)")
	convs := fs.Int("conversations", 12, "group conversations (3-5 members each)")
	interval := fs.Duration("fault-interval", 10*time.Second, "a fault starts every interval")
	faults := fs.String("faults", "kill,pause,short-pause,store-pause,store-kill,restart", "fault kinds: kill, pause, short-pause, store-pause, store-kill, restart (empty: none)")
	bound := fs.Duration("final-bound", 30*time.Second, "the final send after healing must be acked within this")
	// The dev store scans the whole messages collection for every LastSeq
	// and sorted page (about 0.1-0.5ms per stored message here), and a
	// session reads one LastSeq per conversation within 5s: past a few
	// thousand messages no client can connect. These defaults keep a 6-minute
	// run near 3000 messages.
	sendMin := fs.Duration("send-min", 2*time.Second, "shortest pause of a client between two sends")
	sendMax := fs.Duration("send-max", 4*time.Second, "longest pause of a client between two sends")
	dir := fs.String("dir", "", "work directory for data and logs (default: a new temporary directory, removed unless --keep)")
	keep := fs.Bool("keep", false, "keep the work directory (logs, data, histories.json)")
	rev := fs.String("rev", "", "build chatd and devstore from this git revision (e.g. HEAD) instead of the work tree")
	chatd := fs.String("chatd", "", "chatd binary (default: go build ./cmd/chatd)")
	devstore := fs.String("devstore", "", "devstore binary (default: go build ./cmd/devstore)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	kinds, err := chaos.ParseFaults(*faults)
	if err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return 2
	}
	if kinds == nil {
		kinds = []chaos.FaultKind{}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	work := *dir
	if work == "" {
		if work, err = os.MkdirTemp("", "chaos-"); err != nil {
			fmt.Fprintln(stderr, "chaos:", err)
			return 2
		}
		if !*keep {
			defer os.RemoveAll(work)
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return 2
	}
	bin, err := binaries(ctx, work, *rev, *chatd, *devstore, stderr)
	if err == nil && *provider == chaos.ProviderEtcd {
		bin.Etcd = *etcd
		if bin.Etcd == "" {
			bin.Etcd, err = exec.LookPath("etcd")
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return 2
	}
	res, err := chaos.Run(ctx, chaos.Config{
		Duration: *duration, Seed: *seed, Nodes: *nodes, Provider: *provider, Clients: *clients, Conversations: *convs,
		FaultInterval: *interval, Faults: kinds, FinalBound: *bound,
		Client: chaos.ClientConfig{SendMin: *sendMin, SendMax: *sendMax},
		Dir:    filepath.Join(work, "run"), Bin: bin, Log: stderr,
	})
	if res != nil && *keep {
		if err := saveHistories(filepath.Join(work, "histories.json"), res); err != nil {
			fmt.Fprintln(stderr, "chaos: save histories:", err)
		}
		fmt.Fprintln(stderr, "chaos: work directory kept:", work)
	}
	if err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		if res != nil && res.LogTails != "" {
			fmt.Fprint(stderr, res.LogTails)
		}
		return 2
	}
	res.WriteSummary(stdout, 5)
	if err := res.WriteJSON(stdout); err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
	}
	if len(res.Violations) > 0 || len(res.HealErrors) > 0 {
		fmt.Fprint(stderr, res.LogTails)
		return 1
	}
	return 0
}

// binaries returns the given binaries or builds them into work/bin, from
// the work tree or from rev.
func binaries(ctx context.Context, work, rev, chatd, devstore string, stderr io.Writer) (chaos.Binaries, error) {
	if chatd != "" && devstore != "" {
		return chaos.Binaries{Chatd: chatd, Devstore: devstore}, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return chaos.Binaries{}, err
	}
	root, err := chaos.ModuleRoot(ctx, wd)
	if err != nil {
		return chaos.Binaries{}, err
	}
	var b chaos.Binaries
	if rev != "" {
		var commit string
		b, commit, err = chaos.BuildRevision(ctx, root, rev, filepath.Join(work, "bin"))
		fmt.Fprintf(stderr, "chaos: built chatd and devstore from %s (%s)\n", rev, commit)
	} else {
		b, err = chaos.Build(ctx, root, filepath.Join(work, "bin"))
		fmt.Fprintln(stderr, "chaos: built chatd and devstore from the work tree", root)
	}
	if err != nil {
		return chaos.Binaries{}, err
	}
	if chatd != "" {
		b.Chatd = chatd
	}
	if devstore != "" {
		b.Devstore = devstore
	}
	return b, nil
}

func saveHistories(path string, res *chaos.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewEncoder(f).Encode(struct {
		Input  chaos.Input   `json:"input"`
		Result *chaos.Result `json:"result"`
	}{res.Input, res})
}
