package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/actorchat/engine/persistence"
)

// testConcurrentAppenders races several writers for the next seq of one
// conversation, each retrying with a fresh LastSeq when the store rejects its
// seq. The store's unique index is the only arbiter, so the history must come
// out gap-free from 1, every message stored exactly once, each writer's
// messages in the order it sent them.
func testConcurrentAppenders(t *testing.T, s persistence.Store) {
	const writers, perWriter = 6, 20
	createGroup(t, s, "g1")

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			sender := fmt.Sprintf("w%d", w)
			for i := range perWriter {
				if err := appendNext(t.Context(), s, "g1", sender, fmt.Sprintf("m%02d", i)); err != nil {
					t.Errorf("writer %s: %v", sender, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	wantInterleaved(t, s, "g1", writers, perWriter)
}

// wantInterleaved checks the history written by testConcurrentAppenders.
func wantInterleaved(t *testing.T, s persistence.Store, conv string, writers, perWriter int) {
	t.Helper()
	got, err := s.Messages(t.Context(), conv, persistence.MessageQuery{Limit: persistence.MaxPageLimit})
	ok(t, err, "Messages")
	if len(got) != writers*perWriter {
		t.Fatalf("history has %d messages, want %d", len(got), writers*perWriter)
	}
	next := make(map[string]int) // sender -> index of its next message
	for i, m := range got {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d, want %d (gap or duplicate): %v", i, m.Seq, i+1, seqs(got))
		}
		if want := fmt.Sprintf("m%02d", next[m.SenderID]); m.ClientMsgID != want {
			t.Fatalf("seq %d: writer %s's message %s, want %s (lost, duplicated or reordered)",
				m.Seq, m.SenderID, m.ClientMsgID, want)
		}
		next[m.SenderID]++
	}
	for w := range writers {
		if n := next[fmt.Sprintf("w%d", w)]; n != perWriter {
			t.Fatalf("writer w%d has %d messages stored, want %d", w, n, perWriter)
		}
	}
	last, err := s.LastSeq(t.Context(), conv)
	ok(t, err, "LastSeq")
	if last != int64(writers*perWriter) {
		t.Fatalf("LastSeq = %d, want %d", last, writers*perWriter)
	}
}

// appendNext stores one message at LastSeq+1, retrying while another writer
// takes that seq first.
func appendNext(ctx context.Context, s persistence.Store, conv, sender, clientID string) error {
	const maxAttempts = 10_000 // bounds a store that rejects forever
	for range maxAttempts {
		last, err := s.LastSeq(ctx, conv)
		if err != nil {
			return fmt.Errorf("LastSeq: %w", err)
		}
		n, err := s.AppendMessages(ctx, []persistence.Message{newMessage(conv, last+1, sender, clientID)})
		switch {
		case err == nil && n == 1:
			return nil
		case err == nil:
			return fmt.Errorf("AppendMessages stored %d of 1 without error", n)
		case errors.Is(err, persistence.ErrDuplicate):
			if n != 0 {
				return fmt.Errorf("AppendMessages returned %d with a duplicate at index 0", n)
			}
			continue // lost the race for last+1
		default:
			return fmt.Errorf("AppendMessages seq %d: %w", last+1, err)
		}
	}
	return fmt.Errorf("message %s: seq still taken after %d attempts", clientID, maxAttempts)
}
