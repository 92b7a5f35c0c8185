package actors

import (
	"context"
	"errors"
	"time"

	"github.com/actorchat/engine/persistence"
)

// maxCommitRounds bounds how often one group commit re-reads the store after
// a conflict before it gives up with CodeUnavailable.
const maxCommitRounds = 8

// outcome is the result of one send within a group commit.
type outcome struct {
	msg       persistence.Message
	duplicate bool   // msg is the copy stored earlier under the same clientMsgId
	code      string // non-empty: not stored (as far as this commit knows)
}

// commitResult is what a group commit reports back to its grain.
type commitResult struct {
	outcomes  []outcome
	lastSeq   int64 // highest seq known to be stored after the commit
	conflicts int   // seq collisions: evidence of a concurrent activation
	elapsed   time.Duration
}

// commitBatch persists msgs in order with seqs from last+1, as one ordered
// write per round. It is the heart of persist-before-ack:
//
//   - a message is reported stored only after the store accepted it;
//   - a seq is written only as (known last)+1, and the store's unique index
//     on (conversation, seq) rejects a seq another activation took first;
//     then the commit re-reads the last seq and goes on, so seqs stay unique
//     and gap-free even when two activations of one grain write at once;
//   - a clientMsgId seen before resolves to the stored original (idempotent
//     retries), whether it was stored by an earlier commit or earlier in this one.
//
// msgs carry everything but Seq. It runs off the grain's mailbox.
func commitBatch(ctx context.Context, st persistence.Messages, conv string, msgs []persistence.Message, last int64) commitResult {
	start := time.Now()
	res := commitResult{outcomes: make([]outcome, len(msgs)), lastSeq: last}
	i := 0
	for round := 0; i < len(msgs); round++ {
		if round == maxCommitRounds || ctx.Err() != nil {
			break
		}
		pending := msgs[i:]
		for k := range pending {
			pending[k].Seq = res.lastSeq + int64(k) + 1
		}
		n, err := st.AppendMessages(ctx, pending)
		for k := 0; k < n; k++ {
			res.outcomes[i+k] = outcome{msg: pending[k]}
			res.lastSeq = pending[k].Seq
		}
		i += n
		if err == nil {
			break
		}
		var ok bool
		if errors.Is(err, persistence.ErrDuplicate) {
			i, ok = resolveDuplicate(ctx, st, conv, msgs, i, &res)
		} else {
			i, ok = resolveUncertain(ctx, st, conv, msgs, i, &res)
		}
		if !ok {
			break
		}
	}
	for ; i < len(msgs); i++ {
		res.outcomes[i] = outcome{code: CodeUnavailable}
	}
	res.elapsed = time.Since(start)
	return res
}

// resolveDuplicate handles a unique-index rejection of msgs[i]: either its
// clientMsgId is already stored (a retry: report the original), or its seq
// was taken by another activation (re-read the last seq).
func resolveDuplicate(ctx context.Context, st persistence.Messages, conv string, msgs []persistence.Message, i int, res *commitResult) (int, bool) {
	m := msgs[i]
	orig, err := st.MessageByClientID(ctx, conv, m.SenderID, m.ClientMsgID)
	switch {
	case err == nil:
		res.outcomes[i] = outcome{msg: orig, duplicate: true}
		return i + 1, true
	case !errors.Is(err, persistence.ErrNotFound):
		return i, false
	}
	res.conflicts++
	last, err := st.LastSeq(ctx, conv)
	if err != nil {
		return i, false
	}
	res.lastSeq = last
	return i, true
}

// resolveUncertain handles a failure that may have stored a prefix of
// msgs[i:] (a network error mid-write): it finds which of them are stored by
// their clientMsgId and reloads the last seq, so that nothing is written twice
// and nothing stored is reported as failed.
func resolveUncertain(ctx context.Context, st persistence.Messages, conv string, msgs []persistence.Message, i int, res *commitResult) (int, bool) {
	select {
	case <-ctx.Done():
		return i, false
	case <-time.After(50 * time.Millisecond):
	}
	for ; i < len(msgs); i++ {
		m := msgs[i]
		stored, err := st.MessageByClientID(ctx, conv, m.SenderID, m.ClientMsgID)
		if errors.Is(err, persistence.ErrNotFound) {
			break
		}
		if err != nil {
			return i, false
		}
		res.outcomes[i] = outcome{msg: stored, duplicate: stored.ID != m.ID}
	}
	last, err := st.LastSeq(ctx, conv)
	if err != nil {
		return i, false
	}
	res.lastSeq = last
	return i, true
}
