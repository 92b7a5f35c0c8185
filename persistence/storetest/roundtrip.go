package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func roundTripCases() []testCase {
	return []testCase{
		{"RoundTrip/Timestamps", testTimestampsRoundTrip},
		{"RoundTrip/Strings", testStringsRoundTrip},
	}
}

// wantSameInstant checks that got is want to millisecond precision.
func wantSameInstant(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Truncate(time.Millisecond).Equal(want.Truncate(time.Millisecond)) {
		t.Errorf("%s: got %v, want %v (to the millisecond)", what, got, want)
	}
}

func testTimestampsRoundTrip(t *testing.T, s persistence.Store) {
	tokyo := time.FixedZone("UTC+9", 9*3600)
	west := time.FixedZone("UTC-7", -7*3600)
	times := []time.Time{
		time.Date(2024, 2, 29, 23, 59, 59, 999_400_000, tokyo),
		time.Date(1969, 7, 20, 20, 17, 40, 1_000_000, time.UTC), // before the epoch
		time.Date(2099, 12, 31, 23, 59, 58, 123_456_789, west),
		time.Date(2025, 1, 1, 0, 0, 0, 7_000_000, time.UTC),
		time.Date(2031, 6, 15, 12, 0, 0, 0, time.Local),
	}

	createUsers(t, s, "u0")
	for i, ts := range times {
		id := fmt.Sprintf("t%d", i)
		userTimeRoundTrip(t, s, id, ts)
		tokenTimesRoundTrip(t, s, id, ts)
		conversationTimesRoundTrip(t, s, id, ts)
	}
}

func userTimeRoundTrip(t *testing.T, s persistence.Store, id string, ts time.Time) {
	t.Helper()
	u := newUser(id)
	u.CreatedAt = ts
	ok(t, s.CreateUser(t.Context(), u), "CreateUser")
	got, err := s.UserByID(t.Context(), id)
	ok(t, err, "UserByID")
	wantSameInstant(t, "User.CreatedAt", got.CreatedAt, ts)
}

// tokenTimesRoundTrip stores a token of "u0" with hash id.
func tokenTimesRoundTrip(t *testing.T, s persistence.Store, id string, ts time.Time) {
	t.Helper()
	ctx := t.Context()
	tok := newToken(id, "u0")
	tok.CreatedAt, tok.ExpiresAt = ts, ts.Add(time.Hour)
	ok(t, s.CreateRefreshToken(ctx, tok), "CreateRefreshToken")
	got, err := s.UseRefreshToken(ctx, id, ts.Add(time.Minute))
	ok(t, err, "UseRefreshToken")
	wantSameInstant(t, "RefreshToken.CreatedAt", got.CreatedAt, ts)
	wantSameInstant(t, "RefreshToken.ExpiresAt", got.ExpiresAt, ts.Add(time.Hour))
	got, err = s.UseRefreshToken(ctx, id, ts.Add(2*time.Minute))
	wantErr(t, err, persistence.ErrRevoked, "UseRefreshToken again")
	wantSameInstant(t, "RefreshToken.RevokedAt", got.RevokedAt, ts.Add(time.Minute))
}

// conversationTimesRoundTrip stores conversation id with member "u0" and
// one message.
func conversationTimesRoundTrip(t *testing.T, s persistence.Store, id string, ts time.Time) {
	t.Helper()
	ctx := t.Context()
	c := newGroup(id)
	c.CreatedAt = ts
	m := member(id, "u0", persistence.RoleOwner, 0)
	m.JoinedAt = ts
	ok(t, s.CreateConversation(ctx, c, []persistence.Member{m}), "CreateConversation")
	gotConv, err := s.Conversation(ctx, id)
	ok(t, err, "Conversation")
	wantSameInstant(t, "Conversation.CreatedAt", gotConv.CreatedAt, ts)
	gotMember, err := s.Member(ctx, id, "u0")
	ok(t, err, "Member")
	wantSameInstant(t, "Member.JoinedAt", gotMember.JoinedAt, ts)

	msg := newMessage(id, 1, "u0", "c1")
	msg.CreatedAt = ts
	appendAll(t, s, msg)
	gotMsg, err := s.MessageByClientID(ctx, id, "u0", "c1")
	ok(t, err, "MessageByClientID")
	wantSameInstant(t, "Message.CreatedAt", gotMsg.CreatedAt, ts)
}

// awkwardStrings are stored and read back literally: unicode, operator- and
// path-like strings, quotes, SQL and an empty string.
func awkwardStrings() []string {
	return []string{
		"héllo wörld",
		"日本語のテキスト",
		"emoji 👋🏽 family 👨‍👩‍👧 flag 🇳🇿",
		"$set",
		"$",
		"$where: function() { return true }",
		`{"$gt": ""}`,
		".",
		".hidden",
		"a.b.c",
		"$.a[0]",
		"line1\nline2\r\n\ttab",
		`quote ' double " backslash \ percent % underscore _`,
		"'; DROP TABLE messages; --",
		"",
		strings.Repeat("long body ", 6400),
	}
}

func testStringsRoundTrip(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	strs := awkwardStrings()

	c := newGroup("$g.1")
	c.Title = "$title.with.dots 🎉"
	ok(t, s.CreateConversation(ctx, c, []persistence.Member{member(c.ID, "$u.1", persistence.RoleOwner, 1)}), "CreateConversation")
	gotConv, err := s.Conversation(ctx, c.ID)
	ok(t, err, "Conversation")
	wantConversation(t, gotConv, c)

	var msgs []persistence.Message
	for i, body := range strs {
		m := newMessage(c.ID, int64(i+1), "$u.1", fmt.Sprintf("$client.%d", i))
		m.Body = body
		msgs = append(msgs, m)
	}
	appendAll(t, s, msgs...)
	wantHistory(t, s, c.ID, msgs)
	for _, m := range msgs {
		wantByClientID(t, s, m)
	}

	for i, str := range strs[:len(strs)-1] {
		u := newUser(fmt.Sprintf("$user.%d", i))
		u.Username = fmt.Sprintf(".name$%d", i)
		u.DisplayName = str
		ok(t, s.CreateUser(ctx, u), "CreateUser")
		got, err := s.UserByUsername(ctx, u.Username)
		ok(t, err, "UserByUsername")
		wantUser(t, got, u)
	}
}
