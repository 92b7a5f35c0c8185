// The one normalized store of the app. Messages are keyed by
// (conversationId, seq), so a repeated delivery cannot create a copy and
// order is by seq; optimistic sends are keyed by clientMsgId until the ack or
// the echoed message frame (whichever comes first) turns them into messages.
//
// Every entry of a conversation's sequence moves its resume cursor (seqs are
// gap-free across kinds), but only chat messages (kind `message`) and notices
// (join, leave, remove, role, rename) are kept in the timeline. Edits,
// deletes and reactions are applied to the message they target when it is
// loaded (docs/protocol.md: by `updatedSeq`), and dropped otherwise: loading
// the message later gives its current state.
import { createStore, type StoreApi } from 'zustand/vanilla';
import {
  applySynced,
  ChatError,
  isChatMessage,
  newId as makeId,
  trackSeq,
  type Ack,
  type Conversation,
  type Member,
  type Message,
  type ReceiptEvent,
  type Role,
  type SeqCursor,
  type SocketStatus,
  type SyncResult,
  type User,
} from '../lib/client';

export type PendingStatus = 'sending' | 'failed';

/** A message typed here that the server has not acknowledged yet. */
export interface PendingMessage {
  clientMsgId: string;
  conversationId: string;
  body: string;
  createdAt: string;
  status: PendingStatus;
  error?: string;
}

export interface ConversationMeta {
  id: string;
  kind: 'group' | 'direct';
  title: string;
  /** The seq the title is current at (a rename older than it is history). */
  titleSeq: number;
  createdBy: string;
  createdAt: string;
  role: Role | '';
  peerId: string | null;
  lastSeq: number;
  lastReadSeq: number;
  unread: number;
  lastMessage: Message | null;
  /** ISO time of the latest activity, for sorting the list. */
  activity: string;
}

export interface HistoryState {
  /** The lowest seq loaded from the newest page down; null before the first page. */
  oldestSeq: number | null;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
}

/** How the store reaches the server; the engine wires it to a ChatSocket. */
export interface Transport {
  send(conversationId: string, body: string, clientMsgId: string): Promise<Ack>;
  requestSync(conversationId: string, afterSeq: number): void;
}

export interface ChatData {
  me: User | null;
  status: SocketStatus;
  users: Record<string, User>;
  conversations: Record<string, ConversationMeta>;
  members: Record<string, Member[]>;
  /** conversationId -> seq -> message */
  messages: Record<string, Record<number, Message>>;
  /** conversationId -> ascending seqs of `messages` */
  seqs: Record<string, number[]>;
  /** clientMsgId -> pending message */
  pending: Record<string, PendingMessage>;
  /** conversationId -> the live stream's resume point */
  cursors: Record<string, SeqCursor>;
  syncing: Record<string, boolean>;
  history: Record<string, HistoryState>;
  /** conversationId -> userId -> until when (ms) to show "typing" */
  typing: Record<string, Record<string, number>>;
  activeId: string | null;
  /** Whether the page is visible, so an active conversation counts as read. */
  visible: boolean;
  listLoaded: boolean;
}

export interface ChatActions {
  reset(me?: User | null): void;
  setStatus(s: SocketStatus): void;
  setVisible(v: boolean): void;
  setActive(id: string | null): void;
  /** Replaces the list; conversations in `keep` (learnt of while the list was in flight) stay. */
  setConversationList(list: Conversation[], keep?: Iterable<string>): void;
  upsertConversation(c: Conversation, cursorSeq?: number): void;
  removeConversation(id: string): void;
  /** Profiles learnt outside a member list (e.g. members who have left, named in history). */
  addUsers(users: User[]): void;
  /** Messages from REST or a history page. */
  addMessages(conversationId: string, msgs: Message[]): void;
  /** A live or replayed `message` frame. */
  receiveMessage(m: Message): void;
  /** Message frames in arrival order, applied in one update. */
  receiveMessages(ms: Message[]): void;
  applySynced(r: SyncResult): void;
  syncFailed(conversationId: string): void;
  /** Marks every conversation as syncing and returns the (id, afterSeq) pairs to resume from. */
  beginResume(): [string, number][];
  setHistory(conversationId: string, h: Partial<HistoryState>): void;
  markedRead(conversationId: string, seq: number): void;
  /** A read receipt: ours (another tab read it) clears unread; others' move their marker. */
  applyReceipt(r: ReceiptEvent): void;
  setTyping(conversationId: string, userId: string, untilMs: number): void;
  expireTyping(nowMs: number): void;
  sendMessage(conversationId: string, body: string): string;
  retryMessage(clientMsgId: string): void;
  discardMessage(clientMsgId: string): void;
  ackSend(clientMsgId: string, ack: Ack): void;
  failSend(clientMsgId: string, err: unknown): void;
  setTransport(t: Transport | null): void;
}

export type ChatState = ChatData & ChatActions & { transport: Transport | null };
export type ChatStore = StoreApi<ChatState>;

export interface StoreOptions {
  newId?: () => string;
  now?: () => number;
}

function emptyData(me: User | null = null): ChatData {
  return {
    me,
    status: 'idle',
    users: me ? { [me.id]: me } : {},
    conversations: {},
    members: {},
    messages: {},
    seqs: {},
    pending: {},
    cursors: {},
    syncing: {},
    history: {},
    typing: {},
    activeId: null,
    visible: true,
    listLoaded: false,
  };
}

const EMPTY_HISTORY: HistoryState = { oldestSeq: null, hasMore: true, loading: false, error: null };

/** Creates the store. Options are for tests (deterministic ids and clock). */
export function createChatStore(opts: StoreOptions = {}): ChatStore {
  const newId = opts.newId ?? makeId;
  const now = opts.now ?? Date.now;

  return createStore<ChatState>()((set, get) => {
    /** Starts a sync unless one is in flight for the conversation. */
    const requestSync = (conversationId: string, afterSeq: number) => {
      const s = get();
      if (s.syncing[conversationId] || !s.transport) return;
      set({ syncing: { ...s.syncing, [conversationId]: true } });
      s.transport.requestSync(conversationId, afterSeq);
    };

    const dispatch = (clientMsgId: string) => {
      const s = get();
      const p = s.pending[clientMsgId];
      if (!p) return;
      if (!s.transport) {
        s.failSend(clientMsgId, new ChatError('disconnected', 'Not connected.'));
        return;
      }
      s.transport.send(p.conversationId, p.body, clientMsgId).then(
        (ack) => get().ackSend(clientMsgId, ack),
        (err) => get().failSend(clientMsgId, err),
      );
    };

    return {
      ...emptyData(),
      transport: null,

      reset: (me = null) => set({ ...emptyData(me) }),
      setStatus: (status) => set({ status }),
      setTransport: (transport) => set({ transport }),

      setVisible: (visible) =>
        set((s) => (visible && s.activeId ? { visible, ...readLocally(s, s.activeId) } : { visible })),

      setActive: (activeId) =>
        set((s) => (activeId && s.visible ? { activeId, ...readLocally(s, activeId) } : { activeId })),

      setConversationList: (list, keep = []) => {
        // Conversations missing from the list were left while we were away: drop all their state.
        const listed = new Set([...list.map((c) => c.id), ...keep]);
        for (const id of Object.keys(get().conversations)) if (!listed.has(id)) get().removeConversation(id);
        set((s) => {
          const conversations: Record<string, ConversationMeta> = {};
          for (const id of keep) if (s.conversations[id]) conversations[id] = s.conversations[id];
          const cursors = { ...s.cursors };
          const users = { ...s.users };
          for (const c of list) {
            const old = s.conversations[c.id];
            conversations[c.id] = mergeMeta(old, c, s.activeId === c.id && s.visible);
            if (!cursors[c.id]) cursors[c.id] = { seq: c.lastSeq, ahead: [] };
            if (c.peer) users[c.peer.id] = c.peer;
          }
          return { conversations, cursors, users, listLoaded: true };
        });
      },

      upsertConversation: (c, cursorSeq) =>
        set((s) => {
          const old = s.conversations[c.id];
          const users = { ...s.users };
          if (c.peer) users[c.peer.id] = c.peer;
          const out: Partial<ChatData> = {
            conversations: { ...s.conversations, [c.id]: mergeMeta(old, c, s.activeId === c.id && s.visible) },
            users,
          };
          if (c.members) {
            for (const m of c.members) users[m.userId] = { id: m.userId, username: m.username, displayName: m.displayName };
            out.members = { ...s.members, [c.id]: c.members };
          }
          if (!s.cursors[c.id]) out.cursors = { ...s.cursors, [c.id]: { seq: cursorSeq ?? c.lastSeq, ahead: [] } };
          return out;
        }),

      addUsers: (list) => {
        if (list.length) set((s) => ({ users: { ...s.users, ...Object.fromEntries(list.map((u) => [u.id, u])) } }));
      },

      removeConversation: (id) =>
        set((s) => {
          const omit = <T,>(r: Record<string, T>) => {
            const { [id]: _gone, ...rest } = r;
            return rest;
          };
          const pending = Object.fromEntries(Object.entries(s.pending).filter(([, p]) => p.conversationId !== id));
          return {
            conversations: omit(s.conversations),
            members: omit(s.members),
            messages: omit(s.messages),
            seqs: omit(s.seqs),
            cursors: omit(s.cursors),
            syncing: omit(s.syncing),
            history: omit(s.history),
            pending,
          };
        }),

      addMessages: (conversationId, msgs) => {
        if (!msgs.length) return;
        set((s) => {
          const out = insertMessages(s, conversationId, msgs);
          // Stored messages that continue the live stream move its resume point.
          const c = s.cursors[conversationId];
          if (c) {
            let cur = c;
            for (const m of [...msgs].sort((a, b) => a.seq - b.seq)) if (m.seq === cur.seq + 1) cur = trackSeq(cur, m.seq).cursor;
            if (cur !== c) out.cursors = { ...s.cursors, [conversationId]: cur };
          }
          return out;
        });
      },

      receiveMessage: (m) => get().receiveMessages([m]),

      receiveMessages: (ms) => {
        if (!ms.length) return;
        const gaps: [string, number][] = [];
        set((s) => {
          const byConv = new Map<string, Message[]>();
          for (const m of ms) {
            const list = byConv.get(m.conversationId);
            if (list) list.push(m);
            else byConv.set(m.conversationId, [m]);
          }
          let view: ChatState = s;
          let cursors = s.cursors;
          for (const [id, list] of byConv) {
            view = { ...view, ...insertMessages(view, id, list) };
            let c = cursors[id];
            if (!c) continue;
            for (const m of list) c = trackSeq(c, m.seq).cursor;
            if (c !== cursors[id]) cursors = { ...cursors, [id]: c };
            // Seqs beyond a hole: ask for what is missing (once while a sync is in flight).
            if (c.ahead.length) gaps.push([id, c.seq]);
          }
          return {
            messages: view.messages,
            seqs: view.seqs,
            pending: view.pending,
            conversations: view.conversations,
            typing: view.typing,
            cursors,
          };
        });
        for (const [id, after] of gaps) requestSync(id, after);
      },

      applySynced: (r) => {
        let gapAfter: number | null = null;
        set((s) => {
          const c = s.cursors[r.conversationId];
          const syncing = { ...s.syncing, [r.conversationId]: false };
          if (!c) return { syncing };
          let res = applySynced(c, r);
          if (res.gapAfter !== null && !r.hasMore && res.cursor.seq === c.seq && r.afterSeq === c.seq) {
            // A complete sync that filled nothing: those seqs do not exist. Step over the hole.
            const ahead = res.cursor.ahead;
            res = applySynced({ seq: ahead[0] - 1, ahead }, { afterSeq: ahead[0] - 1, lastSeq: ahead[0] - 1, hasMore: false });
          }
          gapAfter = res.gapAfter;
          return { syncing, cursors: { ...s.cursors, [r.conversationId]: res.cursor } };
        });
        if (gapAfter !== null) requestSync(r.conversationId, gapAfter);
      },

      syncFailed: (id) => set((s) => ({ syncing: { ...s.syncing, [id]: false } })),

      beginResume: () => {
        const s = get();
        const pairs: [string, number][] = Object.keys(s.conversations).map((id) => [id, s.cursors[id]?.seq ?? 0]);
        set({ syncing: Object.fromEntries(pairs.map(([id]) => [id, true])) });
        return pairs;
      },

      setHistory: (id, h) =>
        set((s) => ({ history: { ...s.history, [id]: { ...(s.history[id] ?? EMPTY_HISTORY), ...h } } })),

      markedRead: (id, seq) =>
        set((s) => {
          const c = s.conversations[id];
          if (!c || seq <= c.lastReadSeq) return {};
          const unread = s.activeId === id && s.visible ? 0 : unreadAfter(s, c, seq);
          return { conversations: { ...s.conversations, [id]: { ...c, lastReadSeq: seq, unread } } };
        }),

      applyReceipt: (r) => {
        const s = get();
        if (r.userId === s.me?.id) {
          s.markedRead(r.conversationId, r.seq);
          return;
        }
        const ms = s.members[r.conversationId];
        const i = ms?.findIndex((m) => m.userId === r.userId) ?? -1;
        if (!ms || i < 0 || ms[i].lastReadSeq >= r.seq) return;
        const next = ms.slice();
        next[i] = { ...ms[i], lastReadSeq: r.seq };
        set({ members: { ...s.members, [r.conversationId]: next } });
      },

      setTyping: (id, userId, until) =>
        set((s) => ({ typing: { ...s.typing, [id]: { ...s.typing[id], [userId]: until } } })),

      expireTyping: (now) =>
        set((s) => {
          let changed = false;
          const typing: ChatData['typing'] = {};
          for (const [id, users] of Object.entries(s.typing)) {
            const left = Object.fromEntries(Object.entries(users).filter(([, until]) => until > now));
            if (Object.keys(left).length !== Object.keys(users).length) changed = true;
            if (Object.keys(left).length) typing[id] = left;
          }
          return changed ? { typing } : {};
        }),

      sendMessage: (conversationId, body) => {
        const clientMsgId = newId();
        const createdAt = new Date(now()).toISOString();
        set((s) => {
          const c = s.conversations[conversationId];
          return {
            pending: { ...s.pending, [clientMsgId]: { clientMsgId, conversationId, body, createdAt, status: 'sending' } },
            conversations: c ? { ...s.conversations, [conversationId]: { ...c, activity: maxIso(c.activity, createdAt) } } : s.conversations,
          };
        });
        dispatch(clientMsgId);
        return clientMsgId;
      },

      retryMessage: (clientMsgId) => {
        const p = get().pending[clientMsgId];
        if (!p || p.status !== 'failed') return;
        set((s) => ({ pending: { ...s.pending, [clientMsgId]: { ...p, status: 'sending', error: undefined } } }));
        dispatch(clientMsgId); // the same clientMsgId: the server stores it at most once
      },

      discardMessage: (clientMsgId) =>
        set((s) => {
          if (!s.pending[clientMsgId]) return {};
          const { [clientMsgId]: _gone, ...pending } = s.pending;
          return { pending };
        }),

      ackSend: (clientMsgId, ack) =>
        set((s) => {
          const p = s.pending[clientMsgId];
          if (!p || !s.me) return {}; // the echoed message frame came first
          const m: Message = {
            conversationId: ack.conversationId,
            seq: ack.seq,
            messageId: ack.messageId,
            senderId: s.me.id,
            clientMsgId,
            body: p.body,
            createdAt: ack.createdAt,
            kind: 'message',
          };
          return insertMessages(s, ack.conversationId, [m]);
        }),

      failSend: (clientMsgId, err) =>
        set((s) => {
          const p = s.pending[clientMsgId];
          if (!p) return {}; // already reconciled: the failure is stale
          const error = err instanceof ChatError ? describeSendError(err) : 'Not sent.';
          return { pending: { ...s.pending, [clientMsgId]: { ...p, status: 'failed', error } } };
        }),
    };
  });
}

function describeSendError(e: ChatError): string {
  switch (e.code) {
    case 'too_large':
      return 'Too long to send.';
    case 'forbidden':
      return 'You can no longer post here.';
    case 'rate_limited':
      return 'Slow down, then retry.';
    case 'timeout':
    case 'disconnected':
    case 'network':
    case 'unavailable':
      return 'Not delivered yet.';
    default:
      return 'Not sent.';
  }
}

function maxIso(a: string, b: string): string {
  return a > b ? a : b;
}

function mergeMeta(old: ConversationMeta | undefined, c: Conversation, viewing: boolean): ConversationMeta {
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
  };
}

function pickLast(a: Message | null, b: Message | null): Message | null {
  if (!a) return b;
  if (!b) return a;
  if (b.seq !== a.seq) return b.seq > a.seq ? b : a;
  return newerState(b, a) ? b : a;
}

/** Whether `m` is a later state of the same chat message than `old`. */
function newerState(m: Message, old: Message): boolean {
  return (m.updatedSeq ?? 0) > (old.updatedSeq ?? 0);
}

function readLocally(s: ChatData, id: string): Partial<ChatData> {
  const c = s.conversations[id];
  if (!c || c.unread === 0) return {};
  return { conversations: { ...s.conversations, [id]: { ...c, unread: 0 } } };
}

/**
 * Inserts the timeline entries of a batch (deduplicated by seq, a newer state
 * of a chat message replacing an older one), applies its edits, deletes,
 * reactions and renames, reconciles pending sends it confirms, and updates
 * the conversation's preview, activity and unread count (chat messages only).
 */
function insertMessages(s: ChatState, conversationId: string, msgs: Message[]): Partial<ChatData> {
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

/** Others' messages after seq: counted when the store holds them all, else bounded by the old count. */
function unreadAfter(s: ChatData, c: ConversationMeta, seq: number): number {
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

// ---------------------------------------------------------------------------
// Selectors

/** Conversations by latest activity, newest first. */
export function sortedConversations(s: ChatData): ConversationMeta[] {
  return Object.values(s.conversations).sort((a, b) => (a.activity < b.activity ? 1 : a.activity > b.activity ? -1 : a.id.localeCompare(b.id)));
}

/** Pending sends of one conversation, oldest first. */
export function pendingOf(s: ChatData, conversationId: string): PendingMessage[] {
  return Object.values(s.pending)
    .filter((p) => p.conversationId === conversationId)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

/** The name to show for a user id. */
export function userName(s: ChatData, id: string): string {
  const u = s.users[id];
  return u ? u.displayName || u.username : 'Unknown user';
}

/** The line shown for a notice (join, leave, remove, role, rename). */
export function noticeText(users: Record<string, User>, meId: string | undefined, m: Message): string {
  const who = (id: string | undefined, start = false) => {
    if (id && id === meId) return start ? 'You' : 'you';
    const u = id ? users[id] : undefined;
    return u ? u.displayName || u.username : start ? 'Someone' : 'someone';
  };
  const self = !!m.subjectId && m.subjectId === meId;
  switch (m.kind) {
    case 'join':
      if (m.subjectId === m.senderId) return `${who(m.subjectId, true)} joined`;
      return `${who(m.senderId, true)} added ${who(m.subjectId)}${m.body === 'admin' ? ' as an admin' : ''}`;
    case 'leave':
      return `${who(m.senderId, true)} left`;
    case 'remove':
      return `${who(m.senderId, true)} removed ${who(m.subjectId)}`;
    case 'role': {
      const role = m.body === 'owner' ? 'the owner' : m.body === 'admin' ? 'an admin' : 'a member';
      return `${who(m.subjectId, true)} ${self ? 'are' : 'is'} now ${role}`;
    }
    case 'rename':
      return `${who(m.senderId, true)} renamed the group to “${m.body}”`;
    default:
      return '';
  }
}

/** The title of a conversation: its title, or a DM's peer name. */
export function conversationTitle(s: ChatData, c: ConversationMeta): string {
  if (c.kind === 'direct') return c.peerId ? userName(s, c.peerId) : 'Direct message';
  return c.title || 'Untitled group';
}
