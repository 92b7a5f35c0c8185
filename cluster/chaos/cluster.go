package chaos

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ClusterConfig describes a local cluster: one devstore, Nodes chatd.
type ClusterConfig struct {
	Nodes     int
	Provider  string // ProviderAutoManaged (default) or ProviderEtcd
	Dir       string // data directories and logs go here
	Bin       Binaries
	Journal   *Journal
	ChatdArgs []string // extra chatd flags
}

// Membership providers a chaos cluster can run on (chatd --cluster-provider).
const (
	ProviderAutoManaged = "automanaged" // fixed peers, health checks over HTTP
	ProviderEtcd        = "etcd"        // leases in one etcd process, which the harness never faults
)

// Node is one chatd of a cluster.
type Node struct {
	Index int    // 0-based
	Name  string // n1, n2, ...
	HTTP  string // http://127.0.0.1:PORT
	Proc  *Process
}

// WS is the node's WebSocket URL.
func (n *Node) WS() string { return "ws" + strings.TrimPrefix(n.HTTP, "http") + "/ws" }

// Cluster is a running store and its chatd nodes, all on 127.0.0.1.
type Cluster struct {
	Store    *Process
	StoreURI string
	Etcd     *Process // ProviderEtcd only
	Nodes    []*Node
	dir      string
	journal  *Journal
	http     *http.Client
}

// StartCluster starts the devstore and every node, and waits until each
// answers /readyz. On error everything started is killed.
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	if cfg.Nodes < 1 {
		return nil, fmt.Errorf("chaos: %d nodes", cfg.Nodes)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{dir: cfg.Dir, journal: cfg.Journal, http: &http.Client{Timeout: 3 * time.Second}}
	if err := c.start(ctx, cfg); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, cfg ClusterConfig) (err error) {
	ports := newPortPicker()
	storePort, err := ports.next()
	if err != nil {
		return err
	}
	storeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(storePort))
	c.StoreURI = "mongodb://" + storeAddr + "/"
	c.Store = NewProcess("store", cfg.Bin.Devstore,
		[]string{"--listen", storeAddr, "--data", filepath.Join(cfg.Dir, "store")},
		filepath.Join(cfg.Dir, "store.log"), cfg.Journal)
	if err := c.Store.Start(); err != nil {
		return err
	}
	if err := waitTCP(ctx, storeAddr, 60*time.Second); err != nil {
		return fmt.Errorf("devstore: %w", err)
	}

	provider := cfg.Provider
	if provider == "" {
		provider = ProviderAutoManaged
	}
	var etcdAddr string
	if provider == ProviderEtcd {
		if etcdAddr, err = c.startEtcd(ctx, cfg, ports); err != nil {
			return err
		}
	} else if provider != ProviderAutoManaged {
		return fmt.Errorf("chaos: unknown provider %q", provider)
	}

	type nodePorts struct{ http, cluster, auto int }
	np := make([]nodePorts, cfg.Nodes)
	peers := make([]string, cfg.Nodes)
	for i := range np {
		for _, p := range []*int{&np[i].http, &np[i].cluster, &np[i].auto} {
			if *p, err = ports.next(); err != nil {
				return err
			}
		}
		peers[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(np[i].auto))
	}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	for i, p := range np {
		name := fmt.Sprintf("n%d", i+1)
		listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.http))
		args := []string{
			"--listen", listen, "--mongo-uri", c.StoreURI, "--mongo-db", "chat",
			"--jwt-secret", hex.EncodeToString(secret),
			"--cluster-provider", provider, "--cluster-host", "127.0.0.1", "--cluster-port", strconv.Itoa(p.cluster),
			"--data-dir", filepath.Join(cfg.Dir, name),
			"--auth-rate", "100000", "--ws-frame-rate", "1000", "--ws-frame-burst", "1000",
			"--access-ttl", "12h",
		}
		if provider == ProviderEtcd {
			args = append(args, "--etcd-endpoints", etcdAddr)
		} else {
			args = append(args, "--automanaged-port", strconv.Itoa(p.auto), "--cluster-peers", strings.Join(peers, ","))
		}
		args = append(args, cfg.ChatdArgs...)
		n := &Node{Index: i, Name: name, HTTP: "http://" + listen,
			Proc: NewProcess(name, cfg.Bin.Chatd, args, filepath.Join(cfg.Dir, name+".log"), cfg.Journal)}
		c.Nodes = append(c.Nodes, n)
		if err := n.Proc.Start(); err != nil {
			return err
		}
	}
	for _, n := range c.Nodes {
		if err := c.WaitReady(ctx, n, 90*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// startEtcd starts a one-member etcd for the nodes' membership and returns
// its client address.
func (c *Cluster) startEtcd(ctx context.Context, cfg ClusterConfig, ports *portPicker) (string, error) {
	if cfg.Bin.Etcd == "" {
		return "", errors.New("chaos: the etcd provider needs Binaries.Etcd (Debian package etcd-server)")
	}
	client, err := ports.next()
	if err != nil {
		return "", err
	}
	peer, err := ports.next()
	if err != nil {
		return "", err
	}
	clientURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(client))
	peerURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(peer))
	c.Etcd = NewProcess("etcd", cfg.Bin.Etcd, []string{
		"--name", "chaos", "--data-dir", filepath.Join(cfg.Dir, "etcd"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "chaos=" + peerURL, "--log-level", "warn",
	}, filepath.Join(cfg.Dir, "etcd.log"), cfg.Journal)
	if err := c.Etcd.Start(); err != nil {
		return "", err
	}
	addr := strings.TrimPrefix(clientURL, "http://")
	if err := waitTCP(ctx, addr, 30*time.Second); err != nil {
		return "", fmt.Errorf("etcd: %w", err)
	}
	return addr, nil
}

func waitTCP(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening after %s: %w", addr, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Ready reports whether the node answers /readyz with 200 now.
func (c *Cluster) Ready(ctx context.Context, n *Node) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.HTTP+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitReady polls /readyz until it answers 200, for at most limit.
func (c *Cluster) WaitReady(ctx context.Context, n *Node, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for !c.Ready(ctx, n) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", n.Name, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// WaitStore waits until the store accepts TCP connections.
func (c *Cluster) WaitStore(ctx context.Context, limit time.Duration) error {
	return waitTCP(ctx, strings.TrimSuffix(strings.TrimPrefix(c.StoreURI, "mongodb://"), "/"), limit)
}

// Processes lists the store and every node.
func (c *Cluster) Processes() []*Process {
	ps := []*Process{}
	if c.Store != nil {
		ps = append(ps, c.Store)
	}
	if c.Etcd != nil {
		ps = append(ps, c.Etcd)
	}
	for _, n := range c.Nodes {
		ps = append(ps, n.Proc)
	}
	return ps
}

// Close kills every process by PID (process group), nodes first.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Proc.Close()
	}
	if c.Store != nil {
		c.Store.Close()
	}
	if c.Etcd != nil {
		c.Etcd.Close()
	}
}

// LogTails returns the last lines of every process's log.
func (c *Cluster) LogTails(lines int) string {
	var b strings.Builder
	for _, p := range c.Processes() {
		fmt.Fprintf(&b, "----- %s (last %d lines of %s)\n", p.Name, lines, p.logPath)
		for _, l := range tail(p.logPath, lines) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// LogCount counts, per process, the log lines containing substr.
func (c *Cluster) LogCount(substr string) map[string]int {
	out := map[string]int{}
	for _, p := range c.Processes() {
		f, err := os.Open(p.logPath)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), substr) {
				out[p.Name]++
			}
		}
		f.Close()
	}
	return out
}

func tail(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return []string{"(" + err.Error() + ")"}
	}
	defer f.Close()
	var ring []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		ring = append(ring, sc.Text())
		if len(ring) > n {
			ring = ring[1:]
		}
	}
	return ring
}
