package storetest

import (
	"cmp"
	"slices"
	"testing"

	"github.com/actorchat/engine/persistence"
)

func memberCases() []testCase {
	return []testCase{
		{"Members/AddAndDuplicate", testMemberAddDuplicate},
		{"Members/Remove", testMemberRemove},
		{"Members/SetRole", testMemberSetRole},
		{"Members/OrderedByJoinedAt", testMembersOrdered},
		{"Members/Pages", testMembersPages},
		{"Members/UserMemberships", testUserMemberships},
		{"Members/MemberCounts", testMemberCounts},
		{"Members/MarkReadForwardOnly", testMarkReadForwardOnly},
		{"Members/NotFound", testMemberNotFound},
	}
}

// addMembers stores every m with AddMember.
func addMembers(t *testing.T, s persistence.Store, ms ...persistence.Member) {
	t.Helper()
	for _, m := range ms {
		ok(t, s.AddMember(t.Context(), m), "AddMember "+m.ConversationID+"/"+m.UserID)
	}
}

func wantMember(t *testing.T, s persistence.Store, want persistence.Member) {
	t.Helper()
	got, err := s.Member(t.Context(), want.ConversationID, want.UserID)
	ok(t, err, "Member "+want.ConversationID+"/"+want.UserID)
	wantMembers(t, "Member", []persistence.Member{got}, []persistence.Member{want})
}

func testMemberAddDuplicate(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	m := member("g1", "u1", persistence.RoleOwner, 1)
	m.LastReadSeq = 7
	addMembers(t, s, m)
	wantMember(t, s, m)

	dup := member("g1", "u1", persistence.RoleMember, 2)
	wantErr(t, s.AddMember(t.Context(), dup), persistence.ErrDuplicate, "AddMember twice")
	wantMember(t, s, m)
}

func testMemberRemove(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	stays := member("g1", "u2", persistence.RoleMember, 2)
	elsewhere := member("g2", "u1", persistence.RoleMember, 3)
	addMembers(t, s, member("g1", "u1", persistence.RoleOwner, 1), stays, elsewhere)

	ok(t, s.RemoveMember(ctx, "g1", "u1"), "RemoveMember")
	_, err := s.Member(ctx, "g1", "u1")
	wantErr(t, err, persistence.ErrNotFound, "Member after RemoveMember")
	wantErr(t, s.RemoveMember(ctx, "g1", "u1"), persistence.ErrNotFound, "RemoveMember twice")

	got, err := s.Members(ctx, "g1")
	ok(t, err, "Members g1")
	wantMembers(t, "members of g1", got, []persistence.Member{stays})
	got, err = s.UserMemberships(ctx, "u1")
	ok(t, err, "UserMemberships u1")
	wantMembers(t, "memberships of u1", got, []persistence.Member{elsewhere})

	addMembers(t, s, member("g1", "u1", persistence.RoleMember, 9)) // may rejoin
}

func testMemberSetRole(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	m := member("g1", "u2", persistence.RoleMember, 1)
	m.LastReadSeq = 4
	other := member("g1", "u3", persistence.RoleMember, 2)
	addMembers(t, s, m, other)

	ok(t, s.SetRole(ctx, "g1", "u2", persistence.RoleAdmin), "SetRole")
	m.Role = persistence.RoleAdmin
	wantMember(t, s, m) // only the role changed
	wantMember(t, s, other)

	wantErr(t, s.SetRole(ctx, "g1", "u9", persistence.RoleAdmin), persistence.ErrNotFound, "SetRole non-member")
	wantErr(t, s.SetRole(ctx, "nope", "u2", persistence.RoleAdmin), persistence.ErrNotFound, "SetRole unknown conversation")
}

func testMembersOrdered(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	// Inserted out of JoinedAt order, with user ids in neither order.
	joined := []persistence.Member{
		member("g1", "u5", persistence.RoleMember, 30),
		member("g1", "u1", persistence.RoleMember, 50),
		member("g1", "u9", persistence.RoleOwner, 10),
		member("g1", "u3", persistence.RoleMember, 40),
		member("g1", "u7", persistence.RoleAdmin, 20),
	}
	addMembers(t, s, joined...)
	addMembers(t, s, member("g2", "u1", persistence.RoleOwner, 1))

	got, err := s.Members(t.Context(), "g1")
	ok(t, err, "Members")
	want := slices.SortedFunc(slices.Values(joined), func(a, b persistence.Member) int {
		return a.JoinedAt.Compare(b.JoinedAt)
	})
	wantMembers(t, "members ordered by JoinedAt", got, want)
}

// testMembersPages: pages of every size walk the list in (JoinedAt, UserID)
// order, ties on JoinedAt included, without repeating or skipping anyone,
// and never cross into another conversation.
func testMembersPages(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	var all []persistence.Member
	for i, u := range []string{"u5", "u1", "u9", "u3", "u7", "u2", "u8"} {
		m := member("g1", u, persistence.RoleMember, 10+i%3) // three join times, shared
		all = append(all, m)
	}
	addMembers(t, s, all...)
	addMembers(t, s, member("g2", "u0", persistence.RoleOwner, 1), member("g2", "u4", persistence.RoleMember, 11))
	want := slices.SortedFunc(slices.Values(all), func(a, b persistence.Member) int {
		return cmp.Or(a.JoinedAt.Compare(b.JoinedAt), cmp.Compare(a.UserID, b.UserID))
	})
	for _, size := range []int{1, 2, 3, 7, 50} {
		var got []persistence.Member
		var after persistence.MemberKey
		for range 20 {
			page, err := s.MembersPage(t.Context(), "g1", after, size)
			ok(t, err, "MembersPage")
			if len(page) > size {
				t.Fatalf("page of %d members, limit %d", len(page), size)
			}
			got = append(got, page...)
			if len(page) < size {
				break
			}
			after = page[len(page)-1].Key()
		}
		wantMembers(t, "members page by page", got, want)
	}
	page, err := s.MembersPage(t.Context(), "g1", want[len(want)-1].Key(), 10)
	ok(t, err, "MembersPage after the last")
	if len(page) != 0 {
		t.Fatalf("after the last member: %+v, want none", page)
	}
}

func testUserMemberships(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	for _, id := range []string{"g1", "g2", "g3", "g4"} {
		createGroup(t, s, id)
	}
	mine := []persistence.Member{
		member("g3", "u1", persistence.RoleOwner, 1),
		member("g1", "u1", persistence.RoleMember, 2),
		member("g4", "u1", persistence.RoleAdmin, 3),
	}
	addMembers(t, s, mine...)
	addMembers(t, s, member("g1", "u2", persistence.RoleOwner, 4), member("g2", "u2", persistence.RoleOwner, 5))
	ok(t, s.RemoveMember(ctx, "g4", "u1"), "RemoveMember")

	got, err := s.UserMemberships(ctx, "u1")
	ok(t, err, "UserMemberships")
	byConv := func(a, b persistence.Member) int { return cmp.Compare(a.ConversationID, b.ConversationID) }
	slices.SortFunc(got, byConv) // any order
	want := slices.SortedFunc(slices.Values(mine[:2]), byConv)
	wantMembers(t, "memberships of u1", got, want)

	got, err = s.UserMemberships(ctx, "nobody")
	ok(t, err, "UserMemberships unknown user")
	wantMembers(t, "memberships of an unknown user", got, nil)
}

func testMemberCounts(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	for _, id := range []string{"g1", "g2", "g3"} {
		createGroup(t, s, id)
	}
	addMembers(t, s, member("g1", "u1", persistence.RoleOwner, 1), member("g1", "u2", persistence.RoleMember, 2),
		member("g1", "u3", persistence.RoleMember, 3), member("g2", "u1", persistence.RoleOwner, 4),
		member("g3", "u2", persistence.RoleOwner, 5))
	ok(t, s.RemoveMember(ctx, "g1", "u3"), "RemoveMember")
	ok(t, s.RemoveMember(ctx, "g3", "u2"), "RemoveMember")

	got, err := s.MemberCounts(ctx, []string{"g1", "g2", "g3", "nope"})
	ok(t, err, "MemberCounts")
	want := map[string]int{"g1": 2, "g2": 1}
	if len(got) != len(want) || got["g1"] != 2 || got["g2"] != 1 {
		t.Fatalf("MemberCounts = %v, want %v", got, want)
	}
	got, err = s.MemberCounts(ctx, nil)
	ok(t, err, "MemberCounts of none")
	if len(got) != 0 {
		t.Fatalf("MemberCounts(nil) = %v, want empty", got)
	}
}

func testMarkReadForwardOnly(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	m := member("g1", "u1", persistence.RoleMember, 1)
	other := member("g1", "u2", persistence.RoleMember, 2)
	addMembers(t, s, m, other)

	for _, step := range []struct{ seq, want int64 }{
		{5, 5},
		{3, 5}, // backward: ignored
		{5, 5},
		{0, 5},
		{12, 12},
	} {
		got, err := s.MarkRead(ctx, "g1", "u1", step.seq)
		ok(t, err, "MarkRead")
		if got != step.want {
			t.Fatalf("MarkRead(%d) = %d, want %d", step.seq, got, step.want)
		}
	}
	m.LastReadSeq = 12
	wantMember(t, s, m)
	wantMember(t, s, other) // untouched

	_, err := s.MarkRead(ctx, "g1", "u9", 3)
	wantErr(t, err, persistence.ErrNotFound, "MarkRead non-member")
}

func testMemberNotFound(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	addMembers(t, s, member("g1", "u1", persistence.RoleOwner, 1))

	_, err := s.Member(ctx, "g1", "u2")
	wantErr(t, err, persistence.ErrNotFound, "Member non-member")
	_, err = s.Member(ctx, "nope", "u1")
	wantErr(t, err, persistence.ErrNotFound, "Member unknown conversation")
	wantErr(t, s.RemoveMember(ctx, "g1", "u2"), persistence.ErrNotFound, "RemoveMember non-member")

	got, err := s.Members(ctx, "nope")
	ok(t, err, "Members unknown conversation")
	wantMembers(t, "members of an unknown conversation", got, nil)
}
