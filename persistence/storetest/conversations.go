package storetest

import (
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func conversationCases() []testCase {
	return []testCase{
		{"Conversations/CreateAndGet", testConversationCreateAndGet},
		{"Conversations/DuplicateID", testConversationDuplicateID},
		{"Conversations/DuplicateDMKey", testConversationDuplicateDMKey},
		{"Conversations/GroupsHaveNoDMKey", testConversationGroupsHaveNoDMKey},
		{"Conversations/NotFound", testConversationNotFound},
	}
}

// newGroup returns a group conversation created by "u1".
func newGroup(id string) persistence.Conversation {
	return persistence.Conversation{
		ID:        id,
		Kind:      persistence.KindGroup,
		Title:     "Group " + id,
		CreatedBy: "u1",
		CreatedAt: at(2 * time.Minute),
	}
}

// newDM returns the direct conversation of a and b (a < b) created by a.
func newDM(id, a, b string) persistence.Conversation {
	return persistence.Conversation{
		ID:        id,
		Kind:      persistence.KindDirect,
		DMKey:     a + ":" + b,
		CreatedBy: a,
		CreatedAt: at(3 * time.Minute),
	}
}

// member returns a membership that started minute minutes after the base time.
func member(conv, user string, role persistence.Role, minute int) persistence.Member {
	return persistence.Member{
		ConversationID: conv,
		UserID:         user,
		Role:           role,
		JoinedAt:       at(time.Duration(minute) * time.Minute),
	}
}

// createGroup stores newGroup(id) with no members.
func createGroup(t *testing.T, s persistence.Store, id string) persistence.Conversation {
	t.Helper()
	c := newGroup(id)
	ok(t, s.CreateConversation(t.Context(), c, nil), "create conversation "+id)
	return c
}

func normConversation(c persistence.Conversation) persistence.Conversation {
	c.CreatedAt = ms(c.CreatedAt)
	return c
}

func wantConversation(t *testing.T, got, want persistence.Conversation) {
	t.Helper()
	if normConversation(got) != normConversation(want) {
		t.Fatalf("conversation:\n got %+v\nwant %+v", got, want)
	}
}

func normMember(m persistence.Member) persistence.Member {
	m.JoinedAt = ms(m.JoinedAt)
	return m
}

// wantMembers compares memberships in order.
func wantMembers(t *testing.T, what string, got, want []persistence.Member) {
	t.Helper()
	equal := len(got) == len(want)
	for i := 0; equal && i < len(got); i++ {
		equal = normMember(got[i]) == normMember(want[i])
	}
	if !equal {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testConversationCreateAndGet(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	group := newGroup("g1")
	groupMembers := []persistence.Member{
		member("g1", "u1", persistence.RoleOwner, 1),
		member("g1", "u2", persistence.RoleAdmin, 2),
		member("g1", "u3", persistence.RoleMember, 3),
	}
	ok(t, s.CreateConversation(ctx, group, groupMembers), "create group")
	dm := newDM("d1", "u1", "u2")
	dmMembers := []persistence.Member{
		member("d1", "u1", persistence.RoleMember, 4),
		member("d1", "u2", persistence.RoleMember, 5),
	}
	ok(t, s.CreateConversation(ctx, dm, dmMembers), "create DM")

	got, err := s.Conversation(ctx, "g1")
	ok(t, err, "Conversation g1")
	wantConversation(t, got, group)
	got, err = s.Conversation(ctx, "d1")
	ok(t, err, "Conversation d1")
	wantConversation(t, got, dm)
	got, err = s.ConversationByDMKey(ctx, dm.DMKey)
	ok(t, err, "ConversationByDMKey")
	wantConversation(t, got, dm)

	members, err := s.Members(ctx, "g1")
	ok(t, err, "Members g1")
	wantMembers(t, "members of g1", members, groupMembers)
	members, err = s.Members(ctx, "d1")
	ok(t, err, "Members d1")
	wantMembers(t, "members of d1", members, dmMembers)
}

func testConversationDuplicateID(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	first := newGroup("g1")
	firstMembers := []persistence.Member{member("g1", "u1", persistence.RoleOwner, 1)}
	ok(t, s.CreateConversation(ctx, first, firstMembers), "create g1")

	again := newGroup("g1")
	again.Title = "another title"
	err := s.CreateConversation(ctx, again, []persistence.Member{member("g1", "u2", persistence.RoleOwner, 2)})
	wantErr(t, err, persistence.ErrDuplicate, "CreateConversation with a taken id")

	got, err := s.Conversation(ctx, "g1")
	ok(t, err, "Conversation g1")
	wantConversation(t, got, first)
	members, err := s.Members(ctx, "g1")
	ok(t, err, "Members g1")
	wantMembers(t, "members of g1 after the rejected create", members, firstMembers)
	memberships, err := s.UserMemberships(ctx, "u2")
	ok(t, err, "UserMemberships u2")
	wantMembers(t, "memberships of u2", memberships, nil)
}

func testConversationDuplicateDMKey(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	first := newDM("d1", "u1", "u2")
	// Only u1 so far, so that a member leaking from the rejected create shows.
	firstMembers := []persistence.Member{member("d1", "u1", persistence.RoleMember, 1)}
	ok(t, s.CreateConversation(ctx, first, firstMembers), "create d1")

	err := s.CreateConversation(ctx, newDM("d2", "u1", "u2"), []persistence.Member{
		member("d2", "u1", persistence.RoleMember, 2),
		member("d2", "u2", persistence.RoleMember, 2),
	})
	wantErr(t, err, persistence.ErrDuplicate, "CreateConversation with a taken DM key")

	_, err = s.Conversation(ctx, "d2")
	wantErr(t, err, persistence.ErrNotFound, "Conversation of the rejected DM")
	members, err := s.Members(ctx, "d2")
	ok(t, err, "Members d2")
	wantMembers(t, "members of the rejected DM", members, nil)
	members, err = s.UserMemberships(ctx, "u2")
	ok(t, err, "UserMemberships u2")
	wantMembers(t, "memberships of u2", members, nil)
	members, err = s.UserMemberships(ctx, "u1")
	ok(t, err, "UserMemberships u1")
	wantMembers(t, "memberships of u1", members, firstMembers)

	got, err := s.ConversationByDMKey(ctx, first.DMKey)
	ok(t, err, "ConversationByDMKey")
	wantConversation(t, got, first)
}

func testConversationGroupsHaveNoDMKey(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	g1 := createGroup(t, s, "g1")
	g2 := createGroup(t, s, "g2") // a second empty DMKey is not a duplicate
	for _, want := range []persistence.Conversation{g1, g2} {
		got, err := s.Conversation(ctx, want.ID)
		ok(t, err, "Conversation "+want.ID)
		wantConversation(t, got, want)
	}
	_, err := s.ConversationByDMKey(ctx, "")
	wantErr(t, err, persistence.ErrNotFound, "ConversationByDMKey of the empty key")
}

func testConversationNotFound(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	ok(t, s.CreateConversation(ctx, newDM("d1", "u1", "u2"), nil), "create d1")

	_, err := s.Conversation(ctx, "nope")
	wantErr(t, err, persistence.ErrNotFound, "Conversation unknown")
	_, err = s.ConversationByDMKey(ctx, "u1:u3")
	wantErr(t, err, persistence.ErrNotFound, "ConversationByDMKey unknown")
	_, err = s.ConversationByDMKey(ctx, "d1") // an id is not a key
	wantErr(t, err, persistence.ErrNotFound, "ConversationByDMKey with a conversation id")
}
