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
//
// The store is assembled here from its parts:
//   types.ts          the state, actions and transport types
//   timeline.ts       message/timeline reducers for sequenced events
//   conversations.ts  conversation-list state (merging snapshots, unread)
//   members.ts        member lists (a detail merged into the pages loaded, membership notices)
//   pending.ts        pending-send reconciliation (send, retry, ack, fail), attachments included
//   events.ts         edits, deletes and reactions made here (applied on their ack)
//   presence.ts       who is online (REST snapshots and live events, newest wins)
//   selectors.ts      derived views for the UI
import { createStore } from 'zustand/vanilla';
import { applySynced, newId as makeId, trackSeq, type Message, type User } from '../lib/client';
import { mergeMeta, readLocally, unreadAfter } from './conversations';
import { eventActions } from './events';
import { appendPage, applyMemberNotices, mergeFirstPage, withoutMember } from './members';
import { sendActions } from './pending';
import { mergePresence } from './presence';
import { insertMessages } from './timeline';
import type { ChatData, ChatState, ChatStore, ConversationMeta, HistoryState, StoreOptions } from './types';

export type {
  ChatActions,
  ChatData,
  ChatState,
  ChatStore,
  ConversationMeta,
  HistoryState,
  PendingMessage,
  PendingStatus,
  PresenceState,
  StoreOptions,
  Transport,
} from './types';
export { reactionChips, reactionKey, type ReactionChip } from './events';
export { presenceText } from './presence';
export { applyEvent, isNotice, NOTICE_KINDS } from './timeline';
export { conversationTitle, memberCountOf, noticeText, pendingOf, sortedConversations, userName } from './selectors';

function emptyData(me: User | null = null): ChatData {
  return {
    me,
    status: 'idle',
    users: me ? { [me.id]: me } : {},
    conversations: {},
    members: {},
    membersNext: {},
    membersTail: {},
    messages: {},
    seqs: {},
    pending: {},
    cursors: {},
    syncing: {},
    history: {},
    typing: {},
    presence: {},
    avatarVersions: {},
    uploads: {},
    reacting: {},
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
            Object.assign(out, mergeFirstPage(s, c.id, c.members, c));
          }
          if (!s.cursors[c.id]) out.cursors = { ...s.cursors, [c.id]: { seq: cursorSeq ?? c.lastSeq, ahead: [] } };
          return out;
        }),

      appendMembers: (conversationId, list, after, next) =>
        set((s) => {
          const lists = appendPage(s, conversationId, list, after, next);
          if (!lists) return {};
          const users = { ...s.users };
          for (const m of list) users[m.userId] = { id: m.userId, username: m.username, displayName: m.displayName };
          return { users, ...lists };
        }),

      dropMember: (conversationId, userId) =>
        set((s) => {
          const have = s.members[conversationId];
          const left = have && withoutMember(have, userId);
          return left !== have ? { members: { ...s.members, [conversationId]: left } } : {};
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
            membersNext: omit(s.membersNext),
            membersTail: omit(s.membersTail),
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
          let members = s.members;
          for (const [id, list] of byConv) {
            view = { ...view, ...insertMessages(view, id, list) };
            let c = cursors[id];
            if (!c) continue;
            // Membership notices new to the stream (not repeats) update the members loaded.
            const had = members[id];
            if (had) {
              const c0 = c;
              const fresh = list.filter((m) => m.seq > c0.seq && !c0.ahead.includes(m.seq));
              const now = applyMemberNotices(had, fresh.sort((a, b) => a.seq - b.seq));
              if (now !== had) members = { ...members, [id]: now };
            }
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
            members,
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

      setPresence: (list, askedAt) => set((s) => mergePresence(s, list, askedAt)),
      applyPresence: (p) => set((s) => mergePresence(s, [p], now())),
      applyProfile: (p) => {
        if (get().avatarVersions[p.userId] !== p.avatarVersion) set((s) => ({ avatarVersions: { ...s.avatarVersions, [p.userId]: p.avatarVersion } }));
      },

      addUploads: (list) => {
        if (list.length) set((s) => ({ uploads: { ...s.uploads, ...Object.fromEntries(list.map((u) => [u.id, u])) } }));
      },

      ...sendActions(set, get, newId, now),
      ...eventActions(set, get, newId),
    };
  });
}
