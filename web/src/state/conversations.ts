// Conversation-list state: merging a server snapshot of a conversation into
// what the store knows, and the unread count as the read marker moves.
import { isChatMessage, type Conversation, type Message } from '../lib/client';
import { maxIso, newerState } from './timeline';
import type { ChatData, ConversationMeta } from './types';

export function mergeMeta(old: ConversationMeta | undefined, c: Conversation, viewing: boolean): ConversationMeta {
  const lm = pickLast(old?.lastMessage ?? null, c.lastMessage ?? null);
  const lastSeq = Math.max(old?.lastSeq ?? 0, c.lastSeq);
  const lastReadSeq = Math.max(old?.lastReadSeq ?? 0, c.lastReadSeq);
  // Server counts are authoritative up to its lastSeq; add what arrived since.
  // The server's count is authoritative unless live messages arrived after its snapshot.
  const unread = viewing ? 0 : old && old.lastSeq > c.lastSeq ? old.unread : c.unread;
  // A rename applied live after the server's snapshot wins over its title.
  const keepTitle = !!old && old.titleSeq > c.lastSeq;
  return {
    id: c.id,
    kind: c.kind,
    title: keepTitle ? old.title : c.title,
    titleSeq: keepTitle ? old.titleSeq : c.lastSeq,
    createdBy: c.createdBy,
    createdAt: c.createdAt,
    role: c.role ?? old?.role ?? '',
    peerId: c.peer?.id ?? old?.peerId ?? null,
    lastSeq,
    lastReadSeq,
    unread: Math.min(unread, Math.max(0, lastSeq - lastReadSeq)),
    lastMessage: lm,
    activity: maxIso(old?.activity ?? '', lm?.createdAt ?? c.createdAt),
    // Lists carry no count: keep the one a detail gave.
    memberCount: c.memberCount ?? old?.memberCount ?? null,
  };
}

function pickLast(a: Message | null, b: Message | null): Message | null {
  if (!a) return b;
  if (!b) return a;
  if (b.seq !== a.seq) return b.seq > a.seq ? b : a;
  return newerState(b, a) ? b : a;
}

export function readLocally(s: ChatData, id: string): Partial<ChatData> {
  const c = s.conversations[id];
  if (!c || c.unread === 0) return {};
  return { conversations: { ...s.conversations, [id]: { ...c, unread: 0 } } };
}

/** Others' messages after seq: counted when the store holds them all, else bounded by the old count. */
export function unreadAfter(s: ChatData, c: ConversationMeta, seq: number): number {
  const byseq = s.messages[c.id];
  const seqs = s.seqs[c.id] ?? [];
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seqs[mid] <= seq) lo = mid + 1;
    else hi = mid;
  }
  const after = seqs.slice(lo);
  // Edits and reactions are not kept, so "holds them all" is rare; then it is a bound.
  if (byseq && after.length === c.lastSeq - seq) {
    return after.filter((q) => isChatMessage(byseq[q]) && !byseq[q].deleted && byseq[q].senderId !== s.me?.id).length;
  }
  return Math.max(0, Math.min(c.unread, c.lastSeq - seq));
}
