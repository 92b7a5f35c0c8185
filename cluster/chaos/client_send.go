package chaos

import (
	"fmt"
	"time"
)

// attemptRef finds an attempt and its send from a request id, so that late
// answers (after a timeout, after a retry went out) are recorded too.
type attemptRef struct {
	send *Send
	att  *Attempt
}

// opState is the logical send in progress (one at a time per client).
type opState struct {
	send     *Send
	cur      *Attempt  // in flight; nil while waiting to retry
	deadline time.Time // when cur times out
	retryAt  time.Time // when the next attempt goes out (cur == nil)
	until    time.Time // final sends retry until then instead of MaxAttempts
	cmd      *command  // told when the send is decided
}

// startOp begins a new logical send.
func (c *client) startOp(now time.Time, conv, body string, final bool, until time.Time) *opState {
	c.nMsg++
	s := &Send{Conversation: conv, ClientMsgID: fmt.Sprintf("%s-c%d-m%d", c.acct.Username, c.hist.Client, c.nMsg),
		Body: body, Final: final, Start: now}
	c.hist.Sends = append(c.hist.Sends, s)
	c.op = &opState{send: s, retryAt: now, until: until}
	return c.op
}

// transmit sends the next attempt of the current op on the current connection.
func (c *client) transmit(now time.Time) {
	op, lc := c.op, c.conn
	c.nReq++
	a := &Attempt{ReqID: fmt.Sprintf("s%d", c.nReq), Conn: lc.rec.ID, Node: lc.node, Start: now}
	op.send.Attempts = append(op.send.Attempts, a)
	c.attempts[a.ReqID] = attemptRef{send: op.send, att: a}
	op.cur, op.deadline = a, now.Add(c.cfg.AttemptTimeout)
	err := lc.write(outFrame{Type: "send", ID: a.ReqID, ConversationID: op.send.Conversation,
		ClientMsgID: op.send.ClientMsgID, Body: op.send.Body})
	if err != nil {
		c.drop("write: " + err.Error())
	}
}

// scheduleRetry plans the next attempt, or gives up (unknown).
func (c *client) scheduleRetry(now time.Time) {
	op := c.op
	tries := len(op.send.Attempts)
	giveUp := tries >= c.cfg.MaxAttempts
	if !op.until.IsZero() {
		giveUp = now.After(op.until)
	}
	if giveUp {
		c.decide(op.send, OutcomeUnknown, now)
		c.finishOp()
		return
	}
	op.retryAt = now.Add(backoff(c.rng, tries, 100*time.Millisecond, 2*time.Second))
}

// decide sets a send's outcome (an ack always wins, even a late one).
func (c *client) decide(s *Send, o Outcome, now time.Time) {
	if s.Outcome == OutcomeAck || (s.Outcome != OutcomePending && o != OutcomeAck) {
		return
	}
	s.Outcome, s.DecidedAt = o, now
}

// finishOp ends the current op and plans the next automatic send.
func (c *client) finishOp() {
	op := c.op
	c.op = nil
	if op.cmd != nil && op.cmd == c.cmd {
		c.cmd.send = op.send
		c.reply(nil)
	}
	c.nextSend = time.Now().Add(c.sendGap())
}

func (c *client) sendGap() time.Duration {
	lo, hi := c.cfg.SendMin, c.cfg.SendMax
	return lo + time.Duration(c.rng.Int64N(int64(hi-lo)+1))
}

// onAck records an ack of any attempt, current or not.
func (c *client) onAck(f *inFrame, at time.Time) {
	ref, ok := c.attempts[f.ID]
	if !ok {
		c.hist.StrayErrors = append(c.hist.StrayErrors, "ack for unknown request "+f.ID)
		return
	}
	a, s := ref.att, ref.send
	a.Result, a.End, a.Seq, a.MessageID, a.Duplicate = ResultAck, at, f.Seq, f.MessageID, f.Duplicate
	if c.conn != nil {
		c.conn.timeouts = 0
	}
	if s.Outcome != OutcomeAck {
		s.Seq, s.MessageID, s.AckedAt = f.Seq, f.MessageID, at
		c.decide(s, OutcomeAck, at)
	}
	if c.op != nil && c.op.send == s {
		c.finishOp()
	}
}

// onSendError records an error answer to a send attempt.
func (c *client) onSendError(ref attemptRef, f *inFrame, at time.Time) {
	a, s := ref.att, ref.send
	a.Result, a.Code, a.End = ResultError, f.Code, at
	if c.conn != nil {
		c.conn.timeouts = 0
	}
	op := c.op
	if op == nil || op.send != s || op.cur != a {
		return // a late answer to an attempt already retried or given up
	}
	op.cur = nil
	if f.Code == "unavailable" {
		c.scheduleRetry(at)
		return
	}
	s.Code = f.Code
	c.decide(s, OutcomeError, at)
	c.finishOp()
}

// progressOp drives the current op: timeouts, retries, new sends.
func (c *client) progressOp(now time.Time) {
	if c.op == nil && c.auto && !now.Before(c.nextSend) && len(c.hist.Conversations) > 0 {
		conv := c.hist.Conversations[c.rng.IntN(len(c.hist.Conversations))]
		c.startOp(now, conv, fmt.Sprintf("%s says %d", c.acct.Username, c.nMsg+1), false, time.Time{})
	}
	op := c.op
	if op == nil {
		return
	}
	if op.cur != nil && now.After(op.deadline) {
		op.cur.Result, op.cur.End, op.cur.TimedOut = ResultTimeout, now, true
		op.cur = nil
		c.scheduleRetry(now)
		if c.conn != nil {
			c.conn.timeouts++
			if c.conn.timeouts >= c.cfg.DropAfterTimeouts {
				c.drop("send timeouts")
			}
		}
		if c.op != op {
			return
		}
	}
	if !op.until.IsZero() && op.cur == nil && now.After(op.until) {
		c.decide(op.send, OutcomeUnknown, now)
		c.finishOp()
		return
	}
	if op.cur == nil && c.conn != nil && !now.Before(op.retryAt) {
		c.transmit(now)
	}
}
