package storetest

import (
	"fmt"
	"testing"

	"github.com/actorchat/engine/persistence"
)

func messageQueryCases() []testCase {
	return []testCase{
		{"Messages/Pages", testMessagePages},
		{"Messages/PageLimitCapped", testMessagePageLimitCapped},
		{"Messages/EmptyConversation", testMessagesEmpty},
	}
}

// pageCase is one query and the inclusive seq range it must return; from >
// to means an empty page.
type pageCase struct {
	q        persistence.MessageQuery
	from, to int64
}

// checkPages runs every query against conv, whose history is all (seq i+1 at
// index i).
func checkPages(t *testing.T, s persistence.Store, conv string, all []persistence.Message, pages []pageCase) {
	t.Helper()
	for _, p := range pages {
		got, err := s.Messages(t.Context(), conv, p.q)
		ok(t, err, fmt.Sprintf("Messages(%+v)", p.q))
		var want []persistence.Message
		if p.from <= p.to {
			want = all[p.from-1 : p.to]
		}
		wantMessages(t, fmt.Sprintf("Messages(%+v)", p.q), got, want)
	}
}

func testMessagePages(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	all := seqRange("g1", 1, 120)
	appendAll(t, s, all...)
	appendAll(t, s, seqRange("g2", 1, 130)...) // must not leak into g1's pages

	type q = persistence.MessageQuery
	checkPages(t, s, "g1", all, []pageCase{
		// Latest.
		{q{}, 71, 120},
		{q{Limit: -1}, 71, 120},
		{q{Limit: 10}, 111, 120},
		{q{Limit: 1}, 120, 120},
		{q{Limit: 500}, 1, 120},
		// After: the first Limit with seq > After.
		{q{After: 10, Limit: 5}, 11, 15},
		{q{After: 100}, 101, 120},
		{q{After: 1}, 2, 51},
		{q{After: 118, Limit: 5}, 119, 120},
		{q{After: 120}, 1, 0},
		{q{After: 500, Limit: 5}, 1, 0},
		// FromStart: forward from After even when it is 0.
		{q{FromStart: true, Limit: 5}, 1, 5},
		{q{FromStart: true}, 1, 50},
		{q{After: 0, FromStart: true, Limit: 500}, 1, 120},
		{q{After: 115, FromStart: true}, 116, 120},
		// Before: the last Limit with seq < Before, still ascending.
		{q{Before: 10, Limit: 5}, 5, 9},
		{q{Before: 100}, 50, 99},
		{q{Before: 3, Limit: 5}, 1, 2},
		{q{Before: 2}, 1, 1},
		{q{Before: 1}, 1, 0},
		{q{Before: 500, Limit: 3}, 118, 120},
	})
}

func testMessagePageLimitCapped(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	const total = persistence.MaxPageLimit + 5
	all := seqRange("g1", 1, total)
	appendAll(t, s, all...)

	type q = persistence.MessageQuery
	checkPages(t, s, "g1", all, []pageCase{
		// Three full pages only: the default limit is checked in Pages.
		{q{Limit: persistence.MaxPageLimit + 1}, total - persistence.MaxPageLimit + 1, total},
		{q{After: 2, Limit: 5000}, 3, persistence.MaxPageLimit + 2},
		{q{Before: total, Limit: 5000}, total - persistence.MaxPageLimit, total - 1},
	})
}

func testMessagesEmpty(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	appendAll(t, s, seqRange("g2", 1, 3)...)
	for _, q := range []persistence.MessageQuery{{}, {After: 1}, {Before: 5}} {
		got, err := s.Messages(t.Context(), "g1", q)
		ok(t, err, "Messages of an empty conversation")
		wantMessages(t, fmt.Sprintf("Messages(%+v) of an empty conversation", q), got, nil)
	}
}
