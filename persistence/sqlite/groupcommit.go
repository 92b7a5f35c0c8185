package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actorchat/engine/persistence"
)

// maxGroup bounds how many AppendMessages calls share one transaction.
const maxGroup = 64

// ErrClosed is returned by AppendMessages after Close.
var ErrClosed = errors.New("sqlite: store closed")

// appendReq is one AppendMessages call waiting for the committer.
type appendReq struct {
	ctx  context.Context
	msgs []persistence.Message
	done chan appendRes // capacity 1: the committer never blocks on a caller
}

type appendRes struct {
	n        int
	dup, err error
}

// committer is the store's group commit: AppendMessages calls from many
// conversations that arrive while a transaction is being written are
// written together in the next one. Every conversation grain already
// batches its own sends; this batches across grains, because SQLite has one
// writer and a commit costs about the same for one row as for a hundred.
// Each call keeps its own ordered-prefix semantics: a unique violation ends
// that call's inserts (SQLite undoes just the failed statement) and the
// other calls go on.
type committer struct {
	reqs     chan *appendReq
	stop     chan struct{}
	commits  atomic.Int64 // transactions committed (tests)
	stopOnce sync.Once
	wg       sync.WaitGroup
}

func (s *Store) startCommitter(linger time.Duration) {
	s.commit = &committer{reqs: make(chan *appendReq), stop: make(chan struct{})}
	s.commit.wg.Add(1)
	go s.runCommitter(linger)
}

// stopCommitter ends the committer goroutine after its current transaction.
func (s *Store) stopCommitter() {
	if s.commit == nil {
		return
	}
	s.commit.stopOnce.Do(func() { close(s.commit.stop) })
	s.commit.wg.Wait()
}

// sustainedCommits is how many commits in a row must each have found its
// first request waiting within the linger of the previous commit's end
// before the committer lingers: sustained load, not two sends that happened
// to come close together.
const sustainedCommits = 8

// runCommitter is the committer goroutine: the only caller of commitGroup.
//
// It commits what is waiting at once, except with Config.CommitLinger under
// sustained load: when the last sustainedCommits commits each began less
// than the linger after the previous one ended, it waits up to the linger
// for more requests to share the transaction. Each commit has a fixed cost
// (locks, WAL frames of the same pages), and at 2,500 sends/s almost every
// message is its own commit. At a few hundred sends/s two commits follow
// each other that closely now and then, but rarely eight in a row, so a
// store that is not busy never lingers (with the rule of one commit, a 1 ms
// linger added 1-3 ms to the p99 at 200 sends/s). Once lingering, commits
// stay linger-spaced only while requests keep coming: one that finds the
// store idle for longer ends the streak.
func (s *Store) runCommitter(linger time.Duration) {
	defer s.commit.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var lastEnd time.Time
	streak := 0
	for {
		select {
		case <-s.commit.stop:
			return
		case first := <-s.commit.reqs:
			if linger > 0 && time.Since(lastEnd) < linger {
				streak++
			} else {
				streak = 0
			}
			group := s.gather([]*appendReq{first}, nil)
			if linger > 0 && len(group) < maxGroup && streak >= sustainedCommits {
				timer.Reset(linger)
				group = s.gather(group, timer.C)
				timer.Stop()
			}
			s.commitGroup(group)
			lastEnd = time.Now()
		}
	}
}

// gather adds waiting requests to group up to maxGroup: those already
// waiting (until is nil), or those that come before until fires.
func (s *Store) gather(group []*appendReq, until <-chan time.Time) []*appendReq {
	for len(group) < maxGroup {
		if until == nil {
			select {
			case r := <-s.commit.reqs:
				group = append(group, r)
				continue
			default:
				return group
			}
		}
		select {
		case r := <-s.commit.reqs:
			group = append(group, r)
		case <-until:
			return group
		}
	}
	return group
}

// commitGroup writes every request of the group in one transaction and
// answers each. An error other than a unique violation, or a failed
// commit, fails the whole group with nothing stored.
func (s *Store) commitGroup(group []*appendReq) {
	results := make([]appendRes, len(group))
	err := s.writeGroup(group, results)
	s.commit.commits.Add(1) // before the answers, so that a caller sees its own commit counted
	for i, r := range group {
		if err != nil {
			results[i] = appendRes{err: err}
		}
		r.done <- results[i]
	}
}

func (s *Store) writeGroup(group []*appendReq, results []appendRes) error {
	ctx := context.Background() // each request's context is checked before its rows
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	insert := tx.StmtContext(ctx, s.stmts.insertMessage)
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			results[i] = appendRes{err: err}
			continue
		}
		for _, m := range r.msgs {
			_, err := insert.ExecContext(ctx, m.ConversationID, m.Seq, m.ID, string(m.Kind),
				m.SenderID, m.ClientMsgID, m.Body, millis(m.CreatedAt),
				m.TargetSeq, m.SubjectID, nullMillis(m.EditedAt), m.Deleted, m.UpdatedSeq, encodeIDs(m.Attachments))
			if err != nil {
				if err = translate(err); !errors.Is(err, persistence.ErrDuplicate) {
					return err
				}
				results[i].dup = err // the failed statement changed nothing; keep the prefix
				break
			}
			results[i].n++
		}
	}
	return tx.Commit()
}

// appendGrouped hands msgs to the committer and waits for its answer. When
// ctx ends first the outcome is unknown (the group may still commit): the
// error wraps ErrUnavailable, as the port documents for uncertain writes.
func (s *Store) appendGrouped(ctx context.Context, msgs []persistence.Message) (n int, dup, err error) {
	req := &appendReq{ctx: ctx, msgs: msgs, done: make(chan appendRes, 1)}
	select {
	case s.commit.reqs <- req:
	case <-s.commit.stop:
		return 0, nil, ErrClosed
	case <-ctx.Done():
		return 0, nil, fmt.Errorf("%w: %w", persistence.ErrUnavailable, ctx.Err())
	}
	select {
	case res := <-req.done:
		return res.n, res.dup, res.err
	case <-ctx.Done():
		return 0, nil, fmt.Errorf("%w: outcome unknown: %w", persistence.ErrUnavailable, ctx.Err())
	}
}
