package actors

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
	"github.com/actorchat/engine/persistence/sqlite"
)

func openStore(t *testing.T) persistence.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

// newTestDeps builds Deps whose hubs are a single collector actor.
func newTestDeps(t *testing.T, st persistence.Store, hubs ...*actor.PID) *Deps {
	t.Helper()
	d, err := NewDeps(Deps{Store: st, Hubs: func() []*actor.PID { return hubs }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func createConv(t *testing.T, st persistence.Store, id string, users ...string) {
	t.Helper()
	now := time.Now()
	c := persistence.Conversation{ID: id, Kind: persistence.KindGroup, Title: "t", CreatedBy: users[0], CreatedAt: now}
	var ms []persistence.Member
	for i, u := range users {
		role := persistence.RoleMember
		if i == 0 {
			role = persistence.RoleOwner
		}
		ms = append(ms, persistence.Member{ConversationID: id, UserID: u, Role: role, JoinedAt: now.Add(time.Duration(i))})
	}
	if err := st.CreateConversation(context.Background(), c, ms); err != nil {
		t.Fatal(err)
	}
}

func tryPost(sys *actor.ActorSystem, pid *actor.PID, sender, clientID, body string) (*PostMessageResult, error) {
	res, err := sys.Root.RequestFuture(pid, &PostMessage{SenderId: sender, ClientMsgId: clientID, Body: body}, 2*time.Second).Result()
	if err != nil {
		return nil, err
	}
	return res.(*PostMessageResult), nil
}

func post(t *testing.T, sys *actor.ActorSystem, pid *actor.PID, sender, clientID, body string) *PostMessageResult {
	t.Helper()
	res, err := sys.Root.RequestFuture(pid, &PostMessage{SenderId: sender, ClientMsgId: clientID, Body: body}, 10*time.Second).Result()
	if err != nil {
		t.Errorf("post %s: %v", clientID, err)
		return nil
	}
	return res.(*PostMessageResult)
}

// TestDoubleActivationKeepsSeqUniqueAndGapFree runs two activations of one
// conversation grain against one store, as Proto.Actor can produce after a
// node rejoins (upstream #799), and sends to both at once.
func TestDoubleActivationKeepsSeqUniqueAndGapFree(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice", "bob")
	sys := actor.NewActorSystem()
	deps := newTestDeps(t, st)
	a := sys.Root.Spawn(newConversationWithID(deps, "c1"))
	b := sys.Root.Spawn(newConversationWithID(deps, "c1"))

	const senders, perSender = 8, 40
	var mu sync.Mutex
	acked := map[string]int64{}
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := 0; i < perSender; i++ {
				id := fmt.Sprintf("s%d-m%d", s, i)
				// Like a client: an unanswered or refused send is retried with
				// the same clientMsgId, on the other activation.
				for attempt := 0; attempt < 4; attempt++ {
					pid := []*actor.PID{a, b}[(s+i+attempt)%2]
					r, err := tryPost(sys, pid, []string{"alice", "bob"}[s%2], id, "hello "+id)
					if err == nil && r.ErrorCode == "" {
						mu.Lock()
						acked[id] = r.Message.Seq
						mu.Unlock()
						break
					}
				}
			}
		}(s)
	}
	wg.Wait()

	msgs, err := st.Messages(context.Background(), "c1", persistence.MessageQuery{After: 0, Limit: persistence.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(acked) != senders*perSender {
		t.Fatalf("acked %d of %d sends", len(acked), senders*perSender)
	}
	if len(msgs) != len(acked) {
		t.Fatalf("stored %d messages, acked %d", len(msgs), len(acked))
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("seq %d at position %d: gap or duplicate", m.Seq, i)
		}
		if acked[m.ClientMsgID] != m.Seq {
			t.Fatalf("%s acked with seq %d but stored at %d", m.ClientMsgID, acked[m.ClientMsgID], m.Seq)
		}
	}
	if c := counterValue(deps.Metrics.SeqConflicts); c == 0 {
		t.Errorf("two activations wrote concurrently but no seq conflict was detected")
	}
	if c := counterValue(deps.Metrics.StaleActivations); c != 1 {
		t.Errorf("%v activations stopped as stale, want exactly 1 (the older claim)", c)
	}
}

// TestRetriedClientMsgIDStoredOnce sends one clientMsgId twice through each
// of two activations: one message, one seq.
func TestRetriedClientMsgIDStoredOnce(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice")
	sys := actor.NewActorSystem()
	deps := newTestDeps(t, st)
	a := sys.Root.Spawn(newConversationWithID(deps, "c1"))
	b := sys.Root.Spawn(newConversationWithID(deps, "c1"))
	first := post(t, sys, a, "alice", "same", "hi")
	second := post(t, sys, b, "alice", "same", "hi again")
	third := post(t, sys, a, "alice", "same", "hi")
	if first == nil || second == nil || third == nil {
		t.FailNow()
	}
	if first.Duplicate || !second.Duplicate || !third.Duplicate {
		t.Fatalf("duplicate flags = %v %v %v, want false true true", first.Duplicate, second.Duplicate, third.Duplicate)
	}
	if second.Message.Seq != first.Message.Seq || third.Message.Seq != first.Message.Seq || second.Message.Body != "hi" {
		t.Fatalf("retries answered seq %d/%d body %q, want seq %d body %q", second.Message.Seq, third.Message.Seq, second.Message.Body, first.Message.Seq, "hi")
	}
	last, _ := st.LastSeq(context.Background(), "c1")
	if last != 1 {
		t.Fatalf("last seq = %d, want 1", last)
	}
}

func TestPostRefusals(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice")
	sys := actor.NewActorSystem()
	deps := newTestDeps(t, st)
	g := sys.Root.Spawn(newConversationWithID(deps, "c1"))
	missing := sys.Root.Spawn(newConversationWithID(deps, "nope"))
	cases := []struct {
		name string
		pid  *actor.PID
		user string
		cid  string
		body string
		want string
	}{
		{"non-member", g, "mallory", "x1", "hi", CodeForbidden},
		{"unknown conversation", missing, "alice", "x2", "hi", CodeNotFound},
		{"empty body", g, "alice", "x3", "", CodeInvalid},
		{"no client id", g, "alice", "", "hi", CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, sys, tc.pid, tc.user, tc.cid, tc.body)
			if r == nil || r.ErrorCode != tc.want {
				t.Fatalf("got %+v, want error %q", r, tc.want)
			}
		})
	}
	if last, _ := st.LastSeq(context.Background(), "c1"); last != 0 {
		t.Fatalf("refused sends stored something: last seq %d", last)
	}
}
