package storetest

import (
	"testing"

	"github.com/actorchat/engine/persistence"
)

func fencingCases() []testCase {
	return []testCase{
		{"Fencing/ClaimIncrements", testClaimIncrements},
		{"Fencing/NotFound", testClaimNotFound},
	}
}

func testClaimIncrements(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	e, err := s.ConversationEpoch(t.Context(), "g1")
	ok(t, err, "ConversationEpoch of a new conversation")
	if e != 0 {
		t.Fatalf("new conversation has epoch %d, want 0", e)
	}
	for want := int64(1); want <= 3; want++ {
		got, err := s.ClaimConversation(t.Context(), "g1")
		ok(t, err, "ClaimConversation")
		if got != want {
			t.Fatalf("claim %d returned epoch %d", want, got)
		}
	}
	if e, _ := s.ConversationEpoch(t.Context(), "g1"); e != 3 {
		t.Fatalf("epoch after three claims = %d, want 3", e)
	}
	if e, _ := s.ConversationEpoch(t.Context(), "g2"); e != 0 {
		t.Fatalf("claims on g1 moved g2's epoch to %d", e)
	}
	c, err := s.Conversation(t.Context(), "g1")
	ok(t, err, "Conversation after claims")
	if c.ID != "g1" || c.Title == "" {
		t.Fatalf("claims changed the conversation: %+v", c)
	}
}

func testClaimNotFound(t *testing.T, s persistence.Store) {
	_, err := s.ClaimConversation(t.Context(), "missing")
	wantErr(t, err, persistence.ErrNotFound, "ClaimConversation of a missing conversation")
	_, err = s.ConversationEpoch(t.Context(), "missing")
	wantErr(t, err, persistence.ErrNotFound, "ConversationEpoch of a missing conversation")
}
