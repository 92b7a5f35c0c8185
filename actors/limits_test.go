package actors

import (
	"context"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// TestMaxMembers: a full conversation refuses another member with conflict
// and stores nothing; re-adding a member stays idempotent.
func TestMaxMembers(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice", "bob")
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := st.CreateUser(context.Background(), userRecord(u)); err != nil {
			t.Fatal(err)
		}
	}
	sys := actor.NewActorSystem()
	deps := newTestDeps(t, st)
	deps.Config.MaxMembers = 2
	g := sys.Root.Spawn(newConversationWithID(deps, "c1"))
	add := func(user string) string {
		t.Helper()
		res, err := sys.Root.RequestFuture(g, &AddMember{ActorId: "alice", UserId: user}, 10*time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		return res.(*AdminResult).ErrorCode
	}
	if code := add("carol"); code != CodeConflict {
		t.Fatalf("adding a third member to a conversation of at most 2: %q, want conflict", code)
	}
	if code := add("bob"); code != "" {
		t.Fatalf("re-adding a member of a full conversation: %q, want success", code)
	}
	ms, err := st.Members(context.Background(), "c1")
	if err != nil || len(ms) != 2 {
		t.Fatalf("members after the refusal: %d (%v), want 2", len(ms), err)
	}
	if last, _ := st.LastSeq(context.Background(), "c1"); last != 0 {
		t.Fatalf("the refused add stored an event: last seq %d", last)
	}
}

func userRecord(id string) persistence.User {
	return persistence.User{ID: id, Username: id, CreatedAt: time.Now()}
}
