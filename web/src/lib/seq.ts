// Seq tracking (docs/protocol.md §4): the highest seq held without gaps.
import type { SyncResult } from './protocol';

/**
 * What a client holds of one conversation's live stream: every seq up to
 * `seq` (the resume point), plus seqs received beyond a gap.
 */
export interface SeqCursor {
  seq: number;
  ahead: number[]; // ascending, all > seq + 1
}

/**
 * Records a received seq. Returns the new cursor and, when the seq jumps
 * past `seq + 1`, the afterSeq to sync from.
 */
export function trackSeq(c: SeqCursor, seq: number): { cursor: SeqCursor; gapAfter: number | null } {
  if (seq <= c.seq || c.ahead.includes(seq)) return { cursor: c, gapAfter: null };
  if (seq === c.seq + 1) return { cursor: absorb({ seq, ahead: c.ahead }), gapAfter: null };
  const ahead = [...c.ahead, seq].sort((a, b) => a - b);
  return { cursor: { seq: c.seq, ahead }, gapAfter: c.seq };
}

/**
 * Applies a `synced` reply: without hasMore, every message in (afterSeq,
 * lastSeq] has been sent, so the cursor moves to lastSeq even over seqs that
 * do not exist. Returns the cursor and whether a gap remains.
 */
export function applySynced(c: SeqCursor, r: Pick<SyncResult, 'afterSeq' | 'lastSeq' | 'hasMore'>): { cursor: SeqCursor; gapAfter: number | null } {
  if (r.hasMore) return { cursor: c, gapAfter: c.seq };
  if (r.afterSeq > c.seq) return { cursor: c, gapAfter: c.ahead.length ? c.seq : null };
  const next = absorb({ seq: Math.max(c.seq, r.lastSeq), ahead: c.ahead });
  return { cursor: next, gapAfter: next.ahead.length ? next.seq : null };
}

function absorb(c: SeqCursor): SeqCursor {
  let seq = c.seq;
  const ahead = c.ahead.filter((s) => s > seq);
  while (ahead.length && ahead[0] <= seq + 1) seq = Math.max(seq, ahead.shift()!);
  return ahead.length === c.ahead.length && seq === c.seq ? c : { seq, ahead };
}
