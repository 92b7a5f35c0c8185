package actors

import (
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

// TestMemberCountsCache: counts come from the store, are reused while fresh
// and read again once older than memberCountTTL.
func TestMemberCountsCache(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice", "bob")
	deps := newTestDeps(t, st)
	now := time.Now()
	deps.Now = func() time.Time { return now }
	get := func(want int, what string) {
		t.Helper()
		got, err := deps.counts.get(t.Context(), deps, []string{"c1", "none"})
		if err != nil {
			t.Fatal(err)
		}
		if got["c1"] != want || got["none"] != 0 {
			t.Fatalf("%s: counts %v, want c1=%d none=0", what, got, want)
		}
	}
	get(2, "first read")
	if err := st.AddMember(t.Context(), persistence.Member{ConversationID: "c1", UserID: "carol", Role: persistence.RoleMember, JoinedAt: now}); err != nil {
		t.Fatal(err)
	}
	get(2, "within the TTL (cached)")
	now = now.Add(memberCountTTL)
	get(3, "after the TTL")
}
