package chaos

import (
	"fmt"
	"time"
)

// handle processes one server frame.
func (c *client) handle(m inbound) {
	f := m.f
	switch f.Type {
	case "message":
		c.onMessage(f, m.at)
	case "ack":
		c.onAck(f, m.at)
	case "synced":
		c.onSynced(f, m.at)
	case "error":
		if ref, ok := c.attempts[f.ID]; ok {
			c.onSendError(ref, f, m.at)
		} else if rec, ok := c.syncByID[f.ID]; ok {
			c.onSyncError(rec, f, m.at)
		} else {
			c.hist.StrayErrors = append(c.hist.StrayErrors, fmt.Sprintf("error %q for request %q", f.Code, f.ID))
		}
	case "pong", "ready", "membership":
	default:
		c.hist.StrayErrors = append(c.hist.StrayErrors, "unexpected frame "+f.Type)
	}
}

// onMessage records a delivery and syncs when it reveals a seq jump.
func (c *client) onMessage(f *inFrame, at time.Time) {
	lc := c.conn
	conv := f.ConversationID
	inSync := lc.syncs[conv] != nil
	c.hist.Deliveries = append(c.hist.Deliveries, Delivery{
		Index: c.nextEvent(), Conn: lc.rec.ID, Conversation: conv, Seq: f.Seq, MessageID: f.MessageID,
		SenderID: f.SenderID, ClientMsgID: f.ClientMsgID, Body: f.Body, At: at, InSync: inSync,
	})
	setOf(lc.got, conv).add(f.Seq)
	all := setOf(c.recv, conv)
	all.add(f.Seq)
	// docs/protocol.md §4: on a seq jump, sync from the highest seq held
	// without gaps (at most once a second per conversation and connection).
	if !inSync && f.Seq > all.contig+1 && at.Sub(lc.gapSync[conv]) > time.Second {
		lc.gapSync[conv] = at
		c.requestSync(conv, all.contig)
	}
}

// requestSync sends a sync, or queues it behind the outstanding one of the
// same conversation (keeping the lowest afterSeq asked for).
func (c *client) requestSync(conv string, after int64) {
	lc := c.conn
	if lc == nil {
		return
	}
	if lc.syncs[conv] != nil || !lc.retryAt[conv].IsZero() {
		if q, ok := lc.queued[conv]; !ok || after < q {
			lc.queued[conv] = after
		}
		return
	}
	c.nReq++
	rec := &SyncRecord{ReqID: fmt.Sprintf("y%d", c.nReq), Conn: lc.rec.ID, Conversation: conv, AfterSeq: after, Start: time.Now()}
	c.hist.Syncs = append(c.hist.Syncs, rec)
	c.syncByID[rec.ReqID] = rec
	lc.syncs[conv] = rec
	if err := lc.write(outFrame{Type: "sync", ID: rec.ReqID, ConversationID: conv, AfterSeq: after}); err != nil {
		c.drop("write: " + err.Error())
	}
}

// onSynced closes a sync; with hasMore it syncs again from the same seq.
func (c *client) onSynced(f *inFrame, at time.Time) {
	rec, ok := c.syncByID[f.ID]
	if !ok {
		c.hist.StrayErrors = append(c.hist.StrayErrors, "synced for unknown request "+f.ID)
		return
	}
	rec.Result, rec.End, rec.EndIndex = SyncSynced, at, c.nextEvent()
	rec.FromSeq, rec.LastSeq, rec.HasMore = f.FromSeq, f.LastSeq, f.HasMore
	lc := c.conn
	if lc == nil || lc.syncs[rec.Conversation] != rec {
		return
	}
	delete(lc.syncs, rec.Conversation)
	if f.HasMore {
		c.requestSync(rec.Conversation, rec.AfterSeq)
		return
	}
	c.onSyncComplete(rec)
	c.sendQueuedSync(rec.Conversation)
}

func (c *client) sendQueuedSync(conv string) {
	lc := c.conn
	if lc == nil {
		return
	}
	if q, ok := lc.queued[conv]; ok && lc.syncs[conv] == nil && lc.retryAt[conv].IsZero() {
		delete(lc.queued, conv)
		c.requestSync(conv, q)
	}
}

// onSyncError records a failed sync and retries it half a second later.
func (c *client) onSyncError(rec *SyncRecord, f *inFrame, at time.Time) {
	rec.Result, rec.Code, rec.End, rec.EndIndex = SyncError, f.Code, at, c.nextEvent()
	lc := c.conn
	if lc == nil || lc.syncs[rec.Conversation] != rec {
		return
	}
	delete(lc.syncs, rec.Conversation)
	if q, ok := lc.queued[rec.Conversation]; !ok || rec.AfterSeq < q {
		lc.queued[rec.Conversation] = rec.AfterSeq
	}
	lc.retryAt[rec.Conversation] = at.Add(500 * time.Millisecond)
}

// progressSyncs retries failed syncs and drops a connection whose sync
// went unanswered too long.
func (c *client) progressSyncs(now time.Time) {
	lc := c.conn
	if lc == nil {
		return
	}
	for conv, at := range lc.retryAt {
		if !now.Before(at) {
			delete(lc.retryAt, conv)
			c.sendQueuedSync(conv)
			if c.conn == nil {
				return
			}
		}
	}
	for _, rec := range lc.syncs {
		if now.Sub(rec.Start) > c.cfg.SyncTimeout {
			rec.Result, rec.End, rec.EndIndex = SyncTimeout, now, c.nextEvent()
			c.drop("sync timeout")
			return
		}
	}
}
