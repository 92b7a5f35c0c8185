package chaos

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Binaries are the paths of the programs a cluster runs.
type Binaries struct {
	Chatd    string
	Devstore string
	Etcd     string // Debian's etcd (package etcd-server); needed for ProviderEtcd only
}

// ModuleRoot returns the directory of the main module containing dir
// (the engine's go.mod).
func ModuleRoot(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// Build compiles cmd/chatd and cmd/devstore of the module at root into
// outDir, both at once (without -race: the processes are the system under
// test, not the test).
func Build(ctx context.Context, root, outDir string) (Binaries, error) {
	b := Binaries{Chatd: filepath.Join(outDir, "chatd"), Devstore: filepath.Join(outDir, "devstore")}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, target := range []struct{ out, pkg string }{{b.Chatd, "./cmd/chatd"}, {b.Devstore, "./cmd/devstore"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, "go", "build", "-o", target.out, target.pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build %s: %w\n%s", target.pkg, err, out)
			}
		}()
	}
	wg.Wait()
	return b, errors.Join(errs...)
}

// BuildRevision builds the binaries from a git revision of the module at
// root (git archive into outDir/src), not from the work tree: a run then
// tests a known commit even while others edit the tree. It returns the
// binaries and the full commit id.
func BuildRevision(ctx context.Context, root, rev, outDir string) (Binaries, string, error) {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--verify", rev+"^{commit}").Output()
	if err != nil {
		return Binaries{}, "", fmt.Errorf("git rev-parse %s: %w", rev, err)
	}
	commit := strings.TrimSpace(string(out))
	src := filepath.Join(outDir, "src")
	cmd := exec.CommandContext(ctx, "git", "-C", root, "archive", "--format=tar", commit)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return Binaries{}, "", err
	}
	if err := cmd.Start(); err != nil {
		return Binaries{}, "", fmt.Errorf("git archive: %w", err)
	}
	xerr := untar(pipe, src)
	_, _ = io.Copy(io.Discard, pipe)
	if err := cmd.Wait(); err != nil || xerr != nil {
		return Binaries{}, "", fmt.Errorf("git archive %s: %w", commit, errors.Join(err, xerr))
	}
	b, err := Build(ctx, src, outDir)
	return b, commit, err
}

// untar writes a tar stream's directories and regular files under dir.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, filepath.Clean(dir)+string(os.PathSeparator)) {
			return fmt.Errorf("tar entry %q escapes %s", h.Name, dir)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// portPicker hands out distinct free TCP ports on 127.0.0.1, below the
// kernel's ephemeral range (32768+) so that restarting a process on its
// port rarely collides with an outgoing connection's source port.
type portPicker struct {
	used map[int]bool
	rng  *rand.Rand
}

func newPortPicker() *portPicker {
	return &portPicker{used: map[int]bool{}, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// next returns a port that was free a moment ago.
func (p *portPicker) next() (int, error) {
	for range 500 {
		port := 20000 + p.rng.IntN(12000)
		if p.used[port] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ln.Close()
		p.used[port] = true
		return port, nil
	}
	return 0, errors.New("no free loopback port found")
}
