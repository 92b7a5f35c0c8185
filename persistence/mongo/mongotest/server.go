package mongotest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// newMu serialises ferretdb.New, which writes FerretDB's package-level
// version info (version.Get().Package) on every call: parallel tests each
// starting a server would otherwise race under -race. It guards that
// third-party global only; this package keeps no state of its own.
var newMu sync.Mutex

// StartServer starts an embedded FerretDB storing its SQLite files in dir
// (created if missing) and listening on addr ("127.0.0.1:0" picks a free
// port). It returns the server's MongoDB URI and a stop function that shuts
// the listener, waits for connections to close (FerretDB gives connected
// clients up to 3 s), closes the backend and returns; calling stop again is
// a no-op. The server also stops when ctx ends. Only errors are logged, to
// standard error.
func StartServer(ctx context.Context, dir, addr string) (uri string, stop func(), err error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	return startServer(ctx, dir, addr, logger)
}

func startServer(ctx context.Context, dir, addr string, logger *slog.Logger) (string, func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("mongotest: data dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return "", nil, fmt.Errorf("mongotest: data dir: %w", err)
	}
	// FerretDB wants a "file:" URI of a directory, ending in a slash.
	sqliteURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs) + "/"}).String()

	if err := probeListen(addr); err != nil {
		return "", nil, fmt.Errorf("mongotest: start ferretdb: %w", err)
	}

	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	newMu.Unlock()
	if err != nil {
		return "", nil, fmt.Errorf("mongotest: start ferretdb on %s: %w", addr, err)
	}

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx) // always nil; it returns once everything is closed
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		<-done
	})
	// The listener is bound by New, so the address (and URI) is known now.
	return f.MongoDBURI(), stop, nil
}

// probeListen checks that addr can be bound before ferretdb.New tries.
// When New fails to listen it returns without closing the SQLite backend it
// has just opened, and FerretDB's leak tracker then panics from a finalizer
// at the next garbage collection, killing the process. Port 0 cannot clash;
// a fixed port can still be taken between the probe and New, which only
// concerns cmd/devstore, and it exits on that error anyway.
func probeListen(addr string) error {
	if _, port, err := net.SplitHostPort(addr); err == nil && port == "0" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

// tbWriter sends FerretDB's log lines to the test log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		return p[:n-1]
	}
	return p
}
