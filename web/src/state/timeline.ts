// Message/timeline reducers for sequenced events: inserting a batch of
// entries of one conversation (deduplicated by seq), applying edits, deletes
// and reactions to their loaded target, and keeping the conversation's
// preview, activity and unread count current.
import { isChatMessage, type Message } from '../lib/client';
import type { ChatData, ChatState, ConversationMeta } from './types';

/**
 * Inserts the timeline entries of a batch (deduplicated by seq, a newer state
 * of a chat message replacing an older one), applies its edits, deletes,
 * reactions and renames, reconciles pending sends it confirms, and updates
 * the conversation's preview, activity and unread count (chat messages only).
 */
export function insertMessages(s: ChatState, conversationId: string, msgs: Message[]): Partial<ChatData> {
  const list = msgs.filter((m) => m.conversationId === conversationId).sort((a, b) => a.seq - b.seq);
  const out: Partial<ChatData> = {};

  // Reconcile first: a pending send is confirmed even when its seq is already stored.
  const meId = s.me?.id;
  let pending = s.pending;
  for (const m of list) {
    const p = pending[m.clientMsgId];
    if (p && isChatMessage(m) && m.senderId === meId && p.conversationId === conversationId) {
      if (pending === s.pending) pending = { ...pending };
      delete pending[m.clientMsgId];
    }
  }
  if (pending !== s.pending) out.pending = pending;

  const existing = s.messages[conversationId] ?? {};
  let byseq = existing;
  const write = (m: Message) => {
    if (byseq === existing) byseq = { ...existing };
    byseq[m.seq] = m;
  };
  const added: number[] = [];
  const chats: Message[] = []; // chat messages new to the timeline
  const c0 = s.conversations[conversationId];
  let c = c0;
  const edit = (patch: Partial<ConversationMeta>) => {
    if (c) c = { ...c, ...patch };
  };

  for (const m of list) {
    if (c && m.seq > c.lastSeq) {
      // Others' new chat messages are unread, unless the conversation is on screen.
      const viewing = s.activeId === conversationId && s.visible;
      const counts = isChatMessage(m) && !m.deleted && !viewing && m.senderId !== meId && m.seq > c.lastReadSeq && existing[m.seq] === undefined;
      edit({ lastSeq: m.seq, unread: c.unread + (counts ? 1 : 0) });
    }
    if (isChatMessage(m) || isNotice(m)) {
      const old = byseq[m.seq];
      if (old === undefined) {
        added.push(m.seq);
        if (isChatMessage(m)) chats.push(m);
      } else if (!(isChatMessage(m) && newerState(m, old))) continue;
      write(m);
      if (isChatMessage(m)) {
        if (c && (!c.lastMessage || m.seq > c.lastMessage.seq || (m.seq === c.lastMessage.seq && newerState(m, c.lastMessage)))) edit({ lastMessage: m });
        if (c && old === undefined) edit({ activity: maxIso(c.activity, m.createdAt) });
      }
      if (m.kind === 'rename' && c && m.seq > c.titleSeq) edit({ title: m.body, titleSeq: m.seq });
    } else if (m.targetSeq) {
      const t = byseq[m.targetSeq];
      const next = t && applyEvent(t, m);
      if (next) write(next);
      // The preview follows: from the timeline when it holds the message, else on its own.
      const lm = c?.lastMessage;
      if (lm && lm.seq === m.targetSeq) {
        const cur = byseq[m.targetSeq];
        const nextLm = cur && isChatMessage(cur) ? (newerState(cur, lm) ? cur : null) : applyEvent(lm, m);
        if (nextLm) edit({ lastMessage: nextLm });
      }
    }
  }

  if (byseq !== existing) out.messages = { ...s.messages, [conversationId]: byseq };
  if (added.length) out.seqs = { ...s.seqs, [conversationId]: mergeSorted(s.seqs[conversationId] ?? [], added) };
  if (c && c !== c0) out.conversations = { ...s.conversations, [conversationId]: c };

  // A message from someone ends their "typing".
  const typers = s.typing[conversationId];
  if (typers && chats.some((m) => typers[m.senderId] !== undefined)) {
    const left = { ...typers };
    for (const m of chats) delete left[m.senderId];
    out.typing = { ...s.typing, [conversationId]: left };
  }
  return out;
}

/** Kinds shown in the timeline as a centered line of text. */
export const NOTICE_KINDS: ReadonlySet<string> = new Set(['join', 'leave', 'remove', 'role', 'rename']);

export function isNotice(m: Message): boolean {
  return NOTICE_KINDS.has(m.kind);
}

/**
 * A chat message with an edit, delete or reaction event applied, or null if
 * it does not apply (not a chat message, or already reflected: `updatedSeq`).
 */
export function applyEvent(t: Message, ev: Message): Message | null {
  if (!isChatMessage(t) || ev.targetSeq !== t.seq || ev.seq <= (t.updatedSeq ?? 0)) return null;
  switch (ev.kind) {
    case 'edit':
      // An edit after a delete carries an empty body: the message stays deleted.
      return t.deleted ? { ...t, updatedSeq: ev.seq } : { ...t, body: ev.body, editedAt: ev.createdAt, updatedSeq: ev.seq };
    case 'delete':
      return { ...t, body: '', deleted: true, attachments: undefined, updatedSeq: ev.seq };
    case 'react':
    case 'unreact': {
      const users = t.reactions?.[ev.body] ?? [];
      const has = users.includes(ev.senderId);
      // A repeated reaction (or removing one not there) changes nothing but is still the latest event.
      if (has === (ev.kind === 'react')) return { ...t, updatedSeq: ev.seq };
      const reactions = { ...t.reactions };
      const next = ev.kind === 'react' ? [...users, ev.senderId] : users.filter((u) => u !== ev.senderId);
      if (next.length) reactions[ev.body] = next;
      else delete reactions[ev.body];
      return { ...t, reactions, updatedSeq: ev.seq };
    }
    default:
      return null;
  }
}

/** Whether `m` is a later state of the same chat message than `old`. */
export function newerState(m: Message, old: Message): boolean {
  return (m.updatedSeq ?? 0) > (old.updatedSeq ?? 0);
}

export function maxIso(a: string, b: string): string {
  return a > b ? a : b;
}

function mergeSorted(a: number[], b: number[]): number[] {
  if (!a.length) return b;
  if (!b.length) return a;
  if (b[0] > a[a.length - 1]) return a.concat(b);
  const out: number[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}
