package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

// TestGroupCommitKeepsEachCallsSemantics runs many conversations' appends at
// once, so that they share transactions, with a duplicate in some calls: each
// call still stores exactly its own prefix.
func TestGroupCommitKeepsEachCallsSemantics(t *testing.T) {
	for _, linger := range []time.Duration{0, 2 * time.Millisecond} {
		t.Run(fmt.Sprint("linger ", linger), func(t *testing.T) { testGroupCommitSemantics(t, linger) })
	}
}

func testGroupCommitSemantics(t *testing.T, linger time.Duration) {
	s := openInternal(t, Config{CommitLinger: linger})
	ctx := context.Background()
	const convs, rounds = 16, 20
	for c := 0; c < convs; c++ {
		conv := persistence.Conversation{ID: fmt.Sprint("c", c), Kind: persistence.KindGroup, Title: "t", CreatedBy: "u", CreatedAt: time.Now()}
		if err := s.CreateConversation(ctx, conv, nil); err != nil {
			t.Fatal(err)
		}
	}
	msg := func(conv string, seq int64, client string) persistence.Message {
		return persistence.Message{ConversationID: conv, Seq: seq, ID: fmt.Sprint(conv, "-", client), Kind: persistence.KindMessage,
			SenderID: "u", ClientMsgID: client, Body: "b", CreatedAt: time.Now()}
	}
	var wg sync.WaitGroup
	errs := make(chan error, convs)
	for c := 0; c < convs; c++ {
		wg.Add(1)
		go func(conv string) {
			defer wg.Done()
			seq := int64(0)
			for r := 0; r < rounds; r++ {
				batch := []persistence.Message{msg(conv, seq+1, fmt.Sprint(r, "a")), msg(conv, seq+2, fmt.Sprint(r, "b"))}
				if r%5 == 4 { // the second message repeats the first's seq: only the first is stored
					batch[1].Seq = seq + 1
				}
				n, err := s.AppendMessages(ctx, batch)
				want := 2
				if r%5 == 4 {
					want = 1
					if !errors.Is(err, persistence.ErrDuplicate) {
						errs <- fmt.Errorf("%s round %d: err %v, want ErrDuplicate", conv, r, err)
						return
					}
				} else if err != nil {
					errs <- fmt.Errorf("%s round %d: %v", conv, r, err)
					return
				}
				if n != want {
					errs <- fmt.Errorf("%s round %d: stored %d, want %d", conv, r, n, want)
					return
				}
				seq += int64(n)
			}
		}(fmt.Sprint("c", c))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for c := 0; c < convs; c++ {
		if last, _ := s.LastSeq(ctx, fmt.Sprint("c", c)); last != 36 {
			t.Errorf("c%d: last seq %d, want 36 (16 rounds of 2, 4 of 1)", c, last)
		}
	}
}

// TestCommitLinger: under sustained load (a streak of commits each right
// after the previous one) requests that arrive within the linger share one
// transaction; fewer commits in a row than the streak never linger, so a
// store that is not busy commits each request on its own at once.
func TestCommitLinger(t *testing.T) {
	s := openInternal(t, Config{CommitLinger: 300 * time.Millisecond})
	ctx := context.Background()
	const convs = 1 + 4 + sustainedCommits + 4
	for c := range convs {
		conv := persistence.Conversation{ID: fmt.Sprint("c", c), Kind: persistence.KindGroup, Title: "t", CreatedBy: "u", CreatedAt: time.Now()}
		if err := s.CreateConversation(ctx, conv, nil); err != nil {
			t.Fatal(err)
		}
	}
	appendOne := func(c int) {
		m := persistence.Message{ConversationID: fmt.Sprint("c", c), Seq: 1, ID: fmt.Sprint("m", c), Kind: persistence.KindMessage,
			SenderID: "u", ClientMsgID: fmt.Sprint("k", c), Body: "b", CreatedAt: time.Now()}
		if _, err := s.AppendMessages(ctx, []persistence.Message{m}); err != nil {
			t.Error(err)
		}
	}
	// Four appends 2 ms apart, each while the previous one is waiting if
	// the committer lingers: without a streak behind them, none waits.
	concurrent := func(from int) int64 {
		before := s.commit.commits.Load()
		var wg sync.WaitGroup
		for c := from; c < from+4; c++ {
			wg.Add(1)
			go func() { defer wg.Done(); appendOne(c) }()
			time.Sleep(2 * time.Millisecond)
		}
		wg.Wait()
		return s.commit.commits.Load() - before
	}
	appendOne(0) // a commit has just ended, but one is no streak
	if n := concurrent(1); n < 2 {
		t.Fatalf("4 appends 2 ms apart right after one commit took %d commits: the committer lingered without sustained load", n)
	}
	// Back-to-back commits, each request arriving as the previous commit ends.
	for c := 1; c <= sustainedCommits; c++ {
		appendOne(c + 4)
	}
	if n := concurrent(1 + 4 + sustainedCommits); n != 1 {
		t.Fatalf("4 appends 2 ms apart after %d back-to-back commits took %d commits, want 1 (a 300 ms linger)", sustainedCommits, n)
	}
}

func TestAppendWithEndedContextStoresNothing(t *testing.T) {
	s := openInternal(t, Config{})
	ctx := context.Background()
	if err := s.CreateConversation(ctx, persistence.Conversation{ID: "c", Kind: persistence.KindGroup, Title: "t", CreatedBy: "u", CreatedAt: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	m := persistence.Message{ConversationID: "c", Seq: 1, ID: "m1", Kind: persistence.KindMessage, SenderID: "u", ClientMsgID: "x", Body: "b", CreatedAt: time.Now()}
	if n, err := s.AppendMessages(done, []persistence.Message{m}); err == nil || n != 0 {
		t.Fatalf("append with an ended context: n=%d err=%v", n, err)
	}
	if last, _ := s.LastSeq(ctx, "c"); last != 0 {
		t.Fatalf("last seq %d, want 0", last)
	}
}
