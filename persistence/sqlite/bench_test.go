package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
	"github.com/actorchat/engine/persistence/sqlite"
)

// benchBody is a typical chat message body, about 100 bytes.
var benchBody = strings.Repeat("hello, world ", 8)

func openBench(b *testing.B, fullSync bool, convs int) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(b.Context(), sqlite.Config{Path: filepath.Join(b.TempDir(), "chat.db"), FullSync: fullSync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	for i := range convs {
		c := persistence.Conversation{ID: fmt.Sprintf("c%d", i), Kind: persistence.KindGroup, Title: "bench"}
		if err := s.CreateConversation(b.Context(), c, nil); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// fill sets msgs to the next len(msgs) messages of conv after *seq.
func fill(msgs []persistence.Message, conv string, seq *int64) {
	for i := range msgs {
		*seq++
		msgs[i] = persistence.Message{
			ConversationID: conv,
			Seq:            *seq,
			ID:             fmt.Sprintf("%s-%d", conv, *seq),
			Kind:           persistence.KindMessage,
			SenderID:       "u1",
			ClientMsgID:    fmt.Sprintf("m%d", *seq),
			Body:           benchBody,
			CreatedAt:      time.Now(),
		}
	}
}

// BenchmarkAppendMessages measures one appender writing batches to one
// conversation (a conversation actor's group commit), with the default
// synchronous=NORMAL and with FullSync, and reports messages/s.
func BenchmarkAppendMessages(b *testing.B) {
	for _, batch := range []int{1, 64} {
		for _, fullSync := range []bool{false, true} {
			name := fmt.Sprintf("batch=%d/sync=normal", batch)
			if fullSync {
				name = fmt.Sprintf("batch=%d/sync=full", batch)
			}
			b.Run(name, func(b *testing.B) {
				s := openBench(b, fullSync, 1)
				msgs := make([]persistence.Message, batch)
				var seq int64
				for b.Loop() {
					fill(msgs, "c0", &seq)
					if n, err := s.AppendMessages(b.Context(), msgs); err != nil || n != batch {
						b.Fatalf("append: %d, %v", n, err)
					}
				}
				b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// BenchmarkAppendMessagesParallel measures many conversations appending at
// once (one goroutine each, batches of 1), all through the single writer.
func BenchmarkAppendMessagesParallel(b *testing.B) {
	s := openBench(b, false, 64)
	var next, total atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		conv := fmt.Sprintf("c%d", next.Add(1)-1)
		msgs := make([]persistence.Message, 1)
		var seq int64
		for pb.Next() {
			fill(msgs, conv, &seq)
			if _, err := s.AppendMessages(b.Context(), msgs); err != nil {
				b.Error(err)
				return
			}
		}
		total.Add(seq)
	})
	b.ReportMetric(float64(total.Load())/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkMessagesPage reads random 50-message pages from a history of
// 200,000 messages over 20 conversations: served by messages_seq, its cost
// must not grow with the history.
func BenchmarkMessagesPage(b *testing.B) {
	const convs, perConv = 20, 10_000
	s := openBench(b, false, convs)
	msgs := make([]persistence.Message, 1000)
	for c := range convs {
		var seq int64
		for seq < perConv {
			fill(msgs, fmt.Sprintf("c%d", c), &seq)
			if _, err := s.AppendMessages(b.Context(), msgs); err != nil {
				b.Fatal(err)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		conv := fmt.Sprintf("c%d", rng.IntN(convs))
		page, err := s.Messages(b.Context(), conv, persistence.MessageQuery{Before: 51 + rng.Int64N(perConv-50)})
		if err != nil || len(page) != persistence.DefaultPageLimit {
			b.Fatalf("page: %d messages, %v", len(page), err)
		}
	}
}
