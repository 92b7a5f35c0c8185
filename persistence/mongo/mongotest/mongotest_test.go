package mongotest_test

import (
	"context"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/actorchat/engine/persistence"
	chatmongo "github.com/actorchat/engine/persistence/mongo"
	"github.com/actorchat/engine/persistence/mongo/mongotest"
)

func TestDatabaseName(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}$`)
	seen := map[string]bool{}
	for _, name := range []string{"short", strings.Repeat("very/long name.with$odd:chars ", 5)} {
		t.Run(name, func(t *testing.T) {
			for range 3 {
				db := mongotest.DatabaseName(t)
				if !valid.MatchString(db) {
					t.Errorf("DatabaseName = %q: not a valid database name", db)
				}
				if seen[db] {
					t.Errorf("DatabaseName = %q twice", db)
				}
				seen[db] = true
			}
		})
	}
}

func TestURIFromEnvironment(t *testing.T) {
	t.Setenv(mongotest.EnvURI, "mongodb://db.example:27017")
	if got := mongotest.URI(t); got != "mongodb://db.example:27017" {
		t.Fatalf("URI = %q, want the environment's", got)
	}
}

func TestStartServer(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir() + "/nested/data"
	uri, stop, err := mongotest.StartServer(ctx, dir, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	if !strings.HasPrefix(uri, "mongodb://127.0.0.1:") {
		t.Fatalf("URI = %q", uri)
	}

	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Database("d").Collection("c").InsertOne(ctx, bson.D{{Key: "k", Value: "v"}}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if err := client.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}

	stop()
	stop() // idempotent

	// The data outlives the server: a new one on the same directory sees it.
	uri, stop2, err := mongotest.StartServer(ctx, dir, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop2)
	client, err = mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	n, err := client.Database("d").Collection("c").CountDocuments(ctx, bson.D{{Key: "k", Value: "v"}})
	if err != nil || n != 1 {
		t.Fatalf("CountDocuments after restart = %d, %v; want 1", n, err)
	}
}

func TestStartServerAddressInUse(t *testing.T) {
	uri, stop, err := mongotest.StartServer(t.Context(), t.TempDir(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	addr := strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/")
	if _, _, err := mongotest.StartServer(t.Context(), t.TempDir(), addr); err == nil {
		t.Fatalf("second server on %s started", addr)
	}
	// A backend leaked by the failed start would make FerretDB's finalizer
	// panic now and crash the test binary.
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond) // let the finalizer goroutine run
}

func TestOpenDropsDatabase(t *testing.T) {
	uri := mongotest.URI(t)
	var db string
	t.Run("inner", func(t *testing.T) {
		cfg := mongotest.Config(t, uri)
		db = cfg.Database
		inner, err := chatmongo.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = inner.Close(context.Background()) })
		if err := inner.CreateUser(t.Context(), persistence.User{ID: "u1", Username: "ada"}); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(databases(t, uri), db) {
			t.Fatalf("database %s missing while in use", db)
		}
	})
	if slices.Contains(databases(t, uri), db) {
		t.Fatalf("database %s still exists after the subtest's cleanup", db)
	}
}

func databases(t *testing.T, uri string) []string {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	names, err := client.ListDatabaseNames(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return names
}
