package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func userCases() []testCase {
	return []testCase{
		{"Users/CreateAndLookup", testUserCreateAndLookup},
		{"Users/DuplicateUsername", testUserDuplicateUsername},
		{"Users/DuplicateID", testUserDuplicateID},
		{"Users/NotFound", testUserNotFound},
		{"Users/ByIDs", testUsersByIDs},
	}
}

// newUser returns a valid user whose username is derived from id.
func newUser(id string) persistence.User {
	return persistence.User{
		ID:           id,
		Username:     strings.ToLower("name-" + id),
		DisplayName:  "Display " + id,
		PasswordHash: "$2a$10$hash." + id,
		CreatedAt:    at(time.Minute),
	}
}

// createUsers stores newUser(id) for every id.
func createUsers(t *testing.T, s persistence.Store, ids ...string) []persistence.User {
	t.Helper()
	users := make([]persistence.User, 0, len(ids))
	for _, id := range ids {
		u := newUser(id)
		ok(t, s.CreateUser(t.Context(), u), "create user "+id)
		users = append(users, u)
	}
	return users
}

func normUser(u persistence.User) persistence.User {
	u.CreatedAt = ms(u.CreatedAt)
	return u
}

func wantUser(t *testing.T, got, want persistence.User) {
	t.Helper()
	if normUser(got) != normUser(want) {
		t.Fatalf("user:\n got %+v\nwant %+v", got, want)
	}
}

func testUserCreateAndLookup(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	users := createUsers(t, s, "u1", "u2")
	for _, u := range users {
		got, err := s.UserByID(ctx, u.ID)
		ok(t, err, "UserByID")
		wantUser(t, got, u)
		got, err = s.UserByUsername(ctx, u.Username)
		ok(t, err, "UserByUsername")
		wantUser(t, got, u)
	}
}

func testUserDuplicateUsername(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	first := createUsers(t, s, "u1")[0]
	dup := newUser("u2")
	dup.Username = first.Username
	wantErr(t, s.CreateUser(ctx, dup), persistence.ErrDuplicate, "CreateUser with a taken username")

	_, err := s.UserByID(ctx, dup.ID)
	wantErr(t, err, persistence.ErrNotFound, "UserByID of the rejected user")
	got, err := s.UserByUsername(ctx, first.Username)
	ok(t, err, "UserByUsername")
	wantUser(t, got, first)
}

func testUserDuplicateID(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	first := createUsers(t, s, "u1")[0]
	dup := newUser("u1")
	dup.Username = "someone-else"
	wantErr(t, s.CreateUser(ctx, dup), persistence.ErrDuplicate, "CreateUser with a taken id")

	_, err := s.UserByUsername(ctx, dup.Username)
	wantErr(t, err, persistence.ErrNotFound, "UserByUsername of the rejected user")
	got, err := s.UserByID(ctx, first.ID)
	ok(t, err, "UserByID")
	wantUser(t, got, first)
}

func testUserNotFound(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createUsers(t, s, "u1")
	_, err := s.UserByID(ctx, "nobody")
	wantErr(t, err, persistence.ErrNotFound, "UserByID unknown")
	_, err = s.UserByUsername(ctx, "nobody")
	wantErr(t, err, persistence.ErrNotFound, "UserByUsername unknown")
	_, err = s.UserByUsername(ctx, "")
	wantErr(t, err, persistence.ErrNotFound, "UserByUsername empty")
}

func testUsersByIDs(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	users := createUsers(t, s, "u1", "u2", "u3")

	got, err := s.UsersByIDs(ctx, []string{"u3", "missing", "u1", "u3"})
	ok(t, err, "UsersByIDs")
	slices.SortFunc(got, func(a, b persistence.User) int { return strings.Compare(a.ID, b.ID) })
	if len(got) != 2 {
		t.Fatalf("UsersByIDs returned %d users, want 2 (u1, u3): %+v", len(got), got)
	}
	wantUser(t, got[0], users[0])
	wantUser(t, got[1], users[2])

	for _, ids := range [][]string{nil, {}, {"missing"}} {
		got, err = s.UsersByIDs(ctx, ids)
		ok(t, err, "UsersByIDs of no existing user")
		if len(got) != 0 {
			t.Fatalf("UsersByIDs(%q) = %+v, want none", ids, got)
		}
	}
}
