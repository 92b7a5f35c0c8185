package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"
)

type cmdKind int

const (
	cmdAuto       cmdKind = iota // start or stop automatic sends
	cmdDrain                     // wait until the op in progress is decided
	cmdReconnect                 // close the connection and open a fresh one
	cmdSyncZero                  // sync every conversation from 0 until hasMore is false
	cmdSyncContig                // sync every conversation from its contiguous seq
	cmdSend                      // send one message and wait for its outcome
	cmdWaitSeq                   // wait until this connection delivered conv's seq
	cmdConnected                 // wait until a connection is open
	cmdClose                     // close and end the loop
)

// command is a request to the client loop; done receives one error (nil: ok).
type command struct {
	kind     cmdKind
	on       bool
	phase    string
	conv     string
	seq      int64
	final    bool
	deadline time.Time
	started  time.Time
	pending  map[string]bool // sync commands: conversations not done yet
	send     *Send           // cmdSend: the send, once decided
	done     chan error
}

var (
	errDeadline = errors.New("deadline passed")
	errStopped  = errors.New("client stopped")
)

// do hands cmd to the loop and waits for its reply.
func (c *client) do(ctx context.Context, cmd *command) error {
	cmd.done = make(chan error, 1)
	select {
	case c.cmds <- cmd:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.exited:
		return errStopped
	}
	select {
	case err := <-cmd.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reply answers the active command.
func (c *client) reply(err error) {
	cmd := c.cmd
	c.cmd = nil
	cmd.done <- err
}

// begin starts a command (called from the loop).
func (c *client) begin(cmd *command) {
	now := time.Now()
	cmd.started = now
	c.cmd = cmd
	switch cmd.kind {
	case cmdAuto:
		c.auto = cmd.on
		c.nextSend = now.Add(c.sendGap())
		c.reply(nil)
	case cmdReconnect:
		c.phase = cmd.phase
		c.drop("reconnect for " + cmd.phase)
	case cmdSyncZero, cmdSyncContig:
		cmd.pending = map[string]bool{}
		for _, conv := range c.hist.Conversations {
			cmd.pending[conv] = true
		}
		c.issueSyncs()
	case cmdSend:
		if c.op != nil {
			c.reply(errors.New("a send is in progress"))
			return
		}
		op := c.startOp(now, cmd.conv, fmt.Sprintf("%s final", c.acct.Username), cmd.final, cmd.deadline)
		if !cmd.final {
			op.send.Body = fmt.Sprintf("%s probe %d", c.acct.Username, c.nMsg)
		}
		op.cmd = cmd
	case cmdClose:
		c.drop("closed")
		c.closed = true
		c.reply(nil)
	}
}

// issueSyncs sends the active sync command's syncs on the current connection.
func (c *client) issueSyncs() {
	cmd := c.cmd
	if cmd == nil || c.conn == nil || (cmd.kind != cmdSyncZero && cmd.kind != cmdSyncContig) {
		return
	}
	cmd.started = time.Now()
	for conv := range cmd.pending {
		after := int64(0)
		if cmd.kind == cmdSyncContig {
			after = c.contig(conv)
		}
		c.requestSync(conv, after)
	}
}

// onConnected restarts a sync command on a fresh connection.
func (c *client) onConnected() {
	c.issueSyncs()
}

// onSyncComplete is called when a sync of conv ended with hasMore false.
func (c *client) onSyncComplete(rec *SyncRecord) {
	cmd := c.cmd
	if cmd == nil || rec.Start.Before(cmd.started) {
		return
	}
	if cmd.kind == cmdSyncZero && rec.AfterSeq != 0 {
		return
	}
	if cmd.kind == cmdSyncZero || cmd.kind == cmdSyncContig {
		delete(cmd.pending, rec.Conversation)
	}
}

// progress runs after every event and tick.
func (c *client) progress(now time.Time) {
	c.progressOp(now)
	c.progressSyncs(now)
	cmd := c.cmd
	if cmd == nil {
		return
	}
	switch cmd.kind {
	case cmdDrain:
		if c.op == nil {
			c.reply(nil)
		} else if now.After(cmd.deadline) {
			c.decide(c.op.send, OutcomeUnknown, now)
			c.op.cmd = nil
			c.finishOp()
			c.reply(nil)
		}
		return
	case cmdReconnect, cmdConnected:
		if c.conn != nil {
			c.reply(nil)
			return
		}
	case cmdSyncZero, cmdSyncContig:
		if len(cmd.pending) == 0 {
			c.reply(nil)
			return
		}
	case cmdWaitSeq:
		if c.conn != nil && c.conn.got[cmd.conv] != nil && c.conn.got[cmd.conv].has[cmd.seq] {
			c.reply(nil)
			return
		}
	case cmdSend:
		return // answered by finishOp
	}
	if !cmd.deadline.IsZero() && now.After(cmd.deadline) {
		c.reply(errDeadline)
	}
}

// Commands, for the orchestrator (any goroutine).

func (c *client) setAuto(ctx context.Context, on bool) error {
	return c.do(ctx, &command{kind: cmdAuto, on: on})
}

func (c *client) drain(ctx context.Context, limit time.Duration) error {
	return c.do(ctx, &command{kind: cmdDrain, deadline: time.Now().Add(limit)})
}

func (c *client) reconnect(ctx context.Context, phase string, limit time.Duration) error {
	return c.do(ctx, &command{kind: cmdReconnect, phase: phase, deadline: time.Now().Add(limit)})
}

func (c *client) syncAll(ctx context.Context, fromZero bool, limit time.Duration) error {
	kind := cmdSyncContig
	if fromZero {
		kind = cmdSyncZero
	}
	return c.do(ctx, &command{kind: kind, deadline: time.Now().Add(limit)})
}

// sendOne sends one message and returns it once decided (acked, failed, or
// unknown at the deadline).
func (c *client) sendOne(ctx context.Context, conv string, final bool, limit time.Duration) (*Send, error) {
	cmd := &command{kind: cmdSend, conv: conv, final: final, deadline: time.Now().Add(limit)}
	if err := c.do(ctx, cmd); err != nil {
		return nil, err
	}
	return cmd.send, nil
}

func (c *client) waitSeq(ctx context.Context, conv string, seq int64, limit time.Duration) error {
	return c.do(ctx, &command{kind: cmdWaitSeq, conv: conv, seq: seq, deadline: time.Now().Add(limit)})
}

func (c *client) connected(ctx context.Context, limit time.Duration) error {
	return c.do(ctx, &command{kind: cmdConnected, deadline: time.Now().Add(limit)})
}

func (c *client) close(ctx context.Context) error {
	return c.do(ctx, &command{kind: cmdClose})
}
