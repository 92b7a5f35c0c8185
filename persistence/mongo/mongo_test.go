package mongo_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	drv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/actorchat/engine/persistence"
	"github.com/actorchat/engine/persistence/mongo"
	"github.com/actorchat/engine/persistence/mongo/mongotest"
	"github.com/actorchat/engine/persistence/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) persistence.Store { return mongotest.Open(t) }, mongo.Crash{})
}

// wantIndexes is what Open must create: collection -> index name -> keys
// and uniqueness.
var wantIndexes = map[string][]index{
	"users":          {{"_id_", "_id", false}, {"username_unique", "username", true}},
	"refresh_tokens": {{"_id_", "_id", false}, {"hash_unique", "hash", true}, {"userId", "userId", false}},
	"conversations":  {{"_id_", "_id", false}, {"dmKey_unique_sparse", "dmKey", true}},
	"members": {
		{"_id_", "_id", false},
		{"conversationId_userId_unique", "conversationId,userId", true},
		{"userId", "userId", false},
		{"conversationId_joinedAt_userId", "conversationId,joinedAt,userId", false},
	},
	"messages": {
		{"_id_", "_id", false},
		{"conversationId_seq_unique", "conversationId,seq", true},
		{"conversationId_senderId_clientMsgId_unique", "conversationId,senderId,clientMsgId", true},
		{"conversationId_targetSeq_sparse", "conversationId,targetSeq", false},
	},
	"reactions": {
		{"_id_", "_id", false},
		{"conversationId_seq_emoji_userId_unique", "conversationId,seq,emoji,userId", true},
	},
	"notifications": {
		{"_id_", "_id", false},
		{"userId_key_unique", "userId,key", true},
		{"userId_seq_unique", "userId,seq", true},
	},
	"blob_refs": {
		{"_id_", "_id", false},
		{"blobId_conversationId_seq_unique", "blobId,conversationId,seq", true},
		{"conversationId_seq", "conversationId,seq", false},
	},
}

type index struct {
	name   string
	keys   string // ascending key fields, comma separated
	unique bool
}

// listIndexes reads the indexes of every collection through a client of its own.
func listIndexes(t *testing.T, cfg mongo.Config) map[string][]index {
	t.Helper()
	client, err := drv.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	got := map[string][]index{}
	for coll := range wantIndexes {
		specs, err := client.Database(cfg.Database).Collection(coll).Indexes().ListSpecifications(t.Context())
		if err != nil {
			t.Fatalf("list indexes of %s: %v", coll, err)
		}
		for _, s := range specs {
			var keys []string
			elems, err := s.KeysDocument.Elements()
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range elems {
				if dir, ok := e.Value().AsInt64OK(); !ok || dir != 1 {
					t.Errorf("%s.%s: key %s has direction %v, want 1", coll, s.Name, e.Key(), e.Value())
				}
				keys = append(keys, e.Key())
			}
			unique := s.Unique != nil && *s.Unique
			got[coll] = append(got[coll], index{s.Name, strings.Join(keys, ","), unique})
		}
		slices.SortFunc(got[coll], func(a, b index) int { return strings.Compare(a.name, b.name) })
	}
	return got
}

func checkIndexes(t *testing.T, cfg mongo.Config) {
	t.Helper()
	got := listIndexes(t, cfg)
	for coll, want := range wantIndexes {
		want = slices.Clone(want)
		slices.SortFunc(want, func(a, b index) int { return strings.Compare(a.name, b.name) })
		if !slices.Equal(got[coll], want) {
			t.Errorf("indexes of %s:\n got %+v\nwant %+v", coll, got[coll], want)
		}
	}
}

func openStore(t *testing.T, cfg mongo.Config) *mongo.Store {
	t.Helper()
	s, err := mongo.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestOpenCreatesIndexes(t *testing.T) {
	t.Parallel()
	cfg := mongotest.Config(t, mongotest.URI(t))
	openStore(t, cfg)
	checkIndexes(t, cfg)
}

func TestOpenTwiceIsIdempotent(t *testing.T) {
	t.Parallel()
	cfg := mongotest.Config(t, mongotest.URI(t))
	first := openStore(t, cfg)
	u := persistence.User{ID: "u1", Username: "ada", CreatedAt: time.Now()}
	if err := first.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := openStore(t, cfg) // re-creates identical indexes: a no-op
	openStore(t, cfg)           // a second live store on the same database
	checkIndexes(t, cfg)
	got, err := second.UserByUsername(t.Context(), "ada")
	if err != nil || got.ID != "u1" {
		t.Fatalf("UserByUsername after re-open = %+v, %v; want u1", got, err)
	}
}

// TestUserStringsAreValues stores strings that would be operators or field
// paths if they were ever used as keys or parsed, and reads them back.
func TestUserStringsAreValues(t *testing.T) {
	t.Parallel()
	s := mongotest.Open(t)
	ctx := t.Context()
	nasty := []string{"$where", "$gt", "a.b", "$set.x", "{\"$ne\": null}", "$$ROOT", "."}

	conv := persistence.Conversation{ID: "c1", Kind: persistence.KindGroup, Title: "$set", CreatedBy: "u1", CreatedAt: time.Now()}
	if err := s.CreateConversation(ctx, conv, nil); err != nil {
		t.Fatal(err)
	}
	msgs := make([]persistence.Message, len(nasty))
	for i, body := range nasty {
		msgs[i] = persistence.Message{
			ConversationID: "c1", Seq: int64(i + 1), ID: fmt.Sprint("m", i), Kind: persistence.KindMessage,
			SenderID: "$u", ClientMsgID: body, Body: body, CreatedAt: time.Now(),
		}
	}
	if n, err := s.AppendMessages(ctx, msgs); n != len(msgs) || err != nil {
		t.Fatalf("AppendMessages = %d, %v", n, err)
	}
	page, err := s.Messages(ctx, "c1", persistence.MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != len(nasty) {
		t.Fatalf("got %d messages, want %d", len(page), len(nasty))
	}
	for i, m := range page {
		if m.Body != nasty[i] || m.ClientMsgID != nasty[i] {
			t.Errorf("message %d: body %q, client id %q; want %q", i, m.Body, m.ClientMsgID, nasty[i])
		}
		byID, err := s.MessageByClientID(ctx, "c1", "$u", nasty[i])
		if err != nil || byID.Body != nasty[i] {
			t.Errorf("MessageByClientID(%q) = %q, %v", nasty[i], byID.Body, err)
		}
	}
	got, err := s.Conversation(ctx, "c1")
	if err != nil || got.Title != "$set" {
		t.Fatalf("Conversation = %+v, %v; want title $set", got, err)
	}

	// A lookup by an operator-looking string matches that string only.
	if err := s.CreateUser(ctx, persistence.User{ID: "u1", Username: "ada", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"$ne", `{"$ne": ""}`, "$exists"} {
		if _, err := s.UserByUsername(ctx, name); !errors.Is(err, persistence.ErrNotFound) {
			t.Errorf("UserByUsername(%q) = %v, want ErrNotFound", name, err)
		}
	}
}

// TestDMKeyIndexIgnoresGroups pins the sparse-index behaviour the DM key
// relies on (FerretDB has no partial indexes and ignores "sparse").
func TestDMKeyIndexIgnoresGroups(t *testing.T) {
	t.Parallel()
	s := mongotest.Open(t)
	ctx := t.Context()
	for _, id := range []string{"g1", "g2", "g3"} {
		c := persistence.Conversation{ID: id, Kind: persistence.KindGroup, Title: id, CreatedAt: time.Now()}
		if err := s.CreateConversation(ctx, c, nil); err != nil {
			t.Fatalf("group %s: %v", id, err)
		}
	}
	dm := persistence.Conversation{ID: "d1", Kind: persistence.KindDirect, DMKey: "a:b", CreatedAt: time.Now()}
	if err := s.CreateConversation(ctx, dm, nil); err != nil {
		t.Fatal(err)
	}
	dm.ID = "d2"
	if err := s.CreateConversation(ctx, dm, nil); !errors.Is(err, persistence.ErrDuplicate) {
		t.Fatalf("second DM with the same key: %v, want ErrDuplicate", err)
	}
	if _, err := s.ConversationByDMKey(ctx, ""); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("ConversationByDMKey(\"\") = %v, want ErrNotFound", err)
	}
}

// TestAppendMessagesStopsAtDuplicate checks the count read from the bulk
// write exception, in the middle of a batch.
func TestAppendMessagesStopsAtDuplicate(t *testing.T) {
	t.Parallel()
	s := mongotest.Open(t)
	ctx := t.Context()
	msg := func(seq int64, id string) persistence.Message {
		return persistence.Message{ConversationID: "c1", Seq: seq, ID: id, Kind: persistence.KindMessage,
			SenderID: "u1", ClientMsgID: id, Body: "hi", CreatedAt: time.Now()}
	}
	if n, err := s.AppendMessages(ctx, []persistence.Message{msg(3, "x")}); n != 1 || err != nil {
		t.Fatalf("seed: %d, %v", n, err)
	}
	batch := []persistence.Message{msg(1, "a"), msg(2, "b"), msg(3, "c"), msg(4, "d")}
	n, err := s.AppendMessages(ctx, batch)
	if n != 2 || !errors.Is(err, persistence.ErrDuplicate) {
		t.Fatalf("AppendMessages = %d, %v; want 2, ErrDuplicate", n, err)
	}
	last, err := s.LastSeq(ctx, "c1")
	if err != nil || last != 3 {
		t.Fatalf("LastSeq = %d, %v; want 3", last, err)
	}
	if _, err := s.MessageByClientID(ctx, "c1", "u1", "d"); !errors.Is(err, persistence.ErrNotFound) {
		t.Fatalf("message after the duplicate: %v, want ErrNotFound", err)
	}
}

// TestUseRefreshTokenAfterCrashedUse simulates a use that stored its claim
// and died before marking the token: the next use reports ErrRevoked with
// the claim's time and repairs revokedAt.
func TestUseRefreshTokenAfterCrashedUse(t *testing.T) {
	t.Parallel()
	cfg := mongotest.Config(t, mongotest.URI(t))
	s := openStore(t, cfg)
	ctx := t.Context()
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tok := persistence.RefreshToken{Hash: "h1", UserID: "u1", CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
	if err := s.CreateRefreshToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	usedAt := created.Add(time.Minute)
	client, err := drv.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	claim := bson.D{{Key: "_id", Value: "h1"}, {Key: "userId", Value: "u1"}, {Key: "usedAt", Value: usedAt}}
	if _, err := client.Database(cfg.Database).Collection("refresh_token_uses").InsertOne(ctx, claim); err != nil {
		t.Fatal(err)
	}

	for range 2 { // the first use repairs, the second reads the repaired token
		got, err := s.UseRefreshToken(ctx, "h1", created.Add(time.Hour))
		if !errors.Is(err, persistence.ErrRevoked) {
			t.Fatalf("UseRefreshToken = %v, want ErrRevoked", err)
		}
		if !got.RevokedAt.Equal(usedAt) || got.UserID != "u1" {
			t.Fatalf("UseRefreshToken = %+v, want revoked at %v", got, usedAt)
		}
	}
	var stored struct {
		RevokedAt time.Time `bson:"revokedAt"`
	}
	err = client.Database(cfg.Database).Collection("refresh_tokens").FindOne(ctx, bson.D{{Key: "hash", Value: "h1"}}).Decode(&stored)
	if err != nil || !stored.RevokedAt.Equal(usedAt) {
		t.Fatalf("stored revokedAt = %v, %v; want %v", stored.RevokedAt, err, usedAt)
	}
}

// TestCheckChunks: PutBlob's last check before the metadata notices a
// chunk that a sweep deleted while the upload was silent.
func TestCheckChunks(t *testing.T) {
	t.Parallel()
	cfg := mongotest.Config(t, mongotest.URI(t))
	s := openStore(t, cfg)
	ctx := t.Context()
	size := int64(600 << 10) // three GridFS chunks
	b := persistence.Blob{ID: "b1", OwnerID: "u1", Purpose: persistence.PurposeAttachment, ContentType: "text/plain", CreatedAt: time.Now()}
	if _, err := s.PutBlob(ctx, b, strings.NewReader(strings.Repeat("x", int(size))), size); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckChunks(ctx, "b1", size); err != nil {
		t.Fatalf("CheckChunks of a complete file: %v", err)
	}
	client, err := drv.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	if _, err := client.Database(cfg.Database).Collection("uploads.chunks").DeleteOne(ctx,
		bson.D{{Key: "files_id", Value: "b1"}, {Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckChunks(ctx, "b1", size); !errors.Is(err, mongo.ErrChunksSwept) {
		t.Fatalf("CheckChunks with a chunk gone = %v, want ErrChunksSwept", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = mongo.Open(t.Context(), mongo.Config{URI: "mongodb://" + addr, Timeout: 300 * time.Millisecond})
	if !errors.Is(err, persistence.ErrUnavailable) {
		t.Fatalf("Open on a closed port = %v, want ErrUnavailable", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  mongo.Config
		ok   bool
	}{
		{"minimal", mongo.Config{URI: "mongodb://localhost"}, true},
		{"srv", mongo.Config{URI: "mongodb+srv://cluster.example.com", Database: "chat-1", Timeout: time.Second}, true},
		{"no URI", mongo.Config{}, false},
		{"not a mongodb URI", mongo.Config{URI: "http://localhost"}, false},
		{"dot in database", mongo.Config{URI: "mongodb://localhost", Database: "a.b"}, false},
		{"dollar in database", mongo.Config{URI: "mongodb://localhost", Database: "$x"}, false},
		{"long database", mongo.Config{URI: "mongodb://localhost", Database: strings.Repeat("d", 64)}, false},
		{"negative timeout", mongo.Config{URI: "mongodb://localhost", Timeout: -time.Second}, false},
	} {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// BenchmarkAppendMessages measures group commits of 1 and 64 messages into
// one conversation.
func BenchmarkAppendMessages(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := mongotest.Open(b)
			ctx := b.Context()
			body := strings.Repeat("x", 100)
			var seq int64
			msgs := make([]persistence.Message, batch)
			for b.Loop() {
				for i := range msgs {
					seq++
					id := fmt.Sprint("m", seq)
					msgs[i] = persistence.Message{ConversationID: "c1", Seq: seq, ID: id, Kind: persistence.KindMessage,
						SenderID: "u1", ClientMsgID: id, Body: body, CreatedAt: time.Now()}
				}
				if n, err := s.AppendMessages(ctx, msgs); err != nil || n != batch {
					b.Fatalf("AppendMessages = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
