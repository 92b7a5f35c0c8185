package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	chatmongo "github.com/actorchat/engine/persistence/mongo"
)

// EnvURI names the environment variable that points the tests at an
// external MongoDB instead of an embedded FerretDB.
const EnvURI = "CHAT_TEST_MONGO_URI"

// cleanupTimeout bounds each clean-up step (drop, close).
const cleanupTimeout = 10 * time.Second

// OpTimeout is the per-operation timeout of the Configs this package makes.
// It is generous on purpose: FerretDB under -race on a busy machine needs
// several seconds for a 1000-message insertMany or a sorted scan, and tests
// assert behaviour, not timings. It only stops a hung test.
const OpTimeout = 30 * time.Second

// URI returns the URI of a MongoDB-wire server for this test: $CHAT_TEST_MONGO_URI
// when set, else a new embedded FerretDB in t.TempDir() on 127.0.0.1, stopped
// in t.Cleanup. Call it once per test and share the result between the
// stores of that test (a multi-node test wants one server). FerretDB's
// error-level logs go to t.Log; it logs every error reply (duplicate keys
// included) at warn level, which would drown the test log.
func URI(t testing.TB) string {
	t.Helper()
	if uri := os.Getenv(EnvURI); uri != "" {
		return uri
	}
	logger := slog.New(slog.NewTextHandler(tbWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	uri, stop, err := startServer(context.Background(), t.TempDir(), "127.0.0.1:0", logger)
	if err != nil {
		t.Fatalf("mongotest: %v", err)
	}
	t.Cleanup(stop)
	return uri
}

// DatabaseName returns a database name unique to this call: "t_", the
// test's name reduced to [A-Za-z0-9_-] and cut to fit, "_" and 12 random
// hex digits. It is at most 63 bytes, valid on MongoDB and FerretDB. It
// creates nothing; see Config for a database that is dropped afterwards.
func DatabaseName(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("mongotest: random database suffix: %v", err)
	}
	suffix := "_" + hex.EncodeToString(b[:])
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		default:
			return '_'
		}
	}, t.Name())
	name = "t_" + name
	if limit := 63 - len(suffix); len(name) > limit {
		name = name[:limit]
	}
	return name + suffix
}

// Config returns an adapter Config for uri with a database of its own
// (DatabaseName) and Timeout OpTimeout, and registers a t.Cleanup that drops that database. Open
// stores on it after calling Config, so that their Close cleanups run first.
func Config(t testing.TB, uri string) chatmongo.Config {
	t.Helper()
	cfg := chatmongo.Config{URI: uri, Database: DatabaseName(t), Timeout: OpTimeout}
	t.Cleanup(func() {
		if err := dropDatabase(uri, cfg.Database); err != nil {
			t.Errorf("mongotest: drop database %s: %v", cfg.Database, err)
		}
	})
	return cfg
}

// Open returns an adapter store on a fresh database of a server for this
// test (URI, then Config). t.Cleanup closes the store, drops the database
// and stops the embedded server, in that order.
func Open(t testing.TB) *chatmongo.Store {
	t.Helper()
	cfg := Config(t, URI(t))
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	s, err := chatmongo.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("mongotest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("mongotest: %v", err)
		}
	})
	return s
}

// dropDatabase drops one database through a client of its own.
func dropDatabase(uri, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(ctx) }()
	return client.Database(name).Drop(ctx)
}
