import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatError, ChatSocket, type Ack, type Conversation, type EventRequest, type Member, type Message, type MessageKind } from '../lib/client';
import { flush, fixedTokens, msg, socketFactory } from '../test/fakes';
import { createChatStore, memberCountOf, noticeText, pendingOf, sortedConversations, type ChatStore, type Transport } from './store';

const ME = { id: 'u_me', username: 'me', displayName: 'Me' };

function conv(id: string, lastSeq = 0, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    kind: 'group',
    title: id,
    createdBy: ME.id,
    createdAt: '2026-01-01T00:00:00.000Z',
    lastSeq,
    lastReadSeq: lastSeq,
    unread: 0,
    role: 'owner',
    ...over,
  };
}

/** A transport whose sends the test settles by hand. */
function manualTransport() {
  type Settle = { resolve: (a: Ack) => void; reject: (e: unknown) => void };
  const sends: ({ conversationId: string; body: string; clientMsgId: string; attachments?: string[] } & Settle)[] = [];
  const events: ({ conversationId: string; clientMsgId: string; ev: EventRequest } & Settle)[] = [];
  const syncs: [string, number][] = [];
  const t: Transport = {
    send: (conversationId, body, clientMsgId, attachments) =>
      new Promise<Ack>((resolve, reject) => sends.push({ conversationId, body, clientMsgId, attachments, resolve, reject })),
    event: (conversationId, clientMsgId, ev) => new Promise<Ack>((resolve, reject) => events.push({ conversationId, clientMsgId, ev, resolve, reject })),
    requestSync: (c, after) => void syncs.push([c, after]),
  };
  return { t, sends, events, syncs };
}

function ackFor(s: { conversationId: string; clientMsgId: string }, seq: number, duplicate = false): Ack {
  return { conversationId: s.conversationId, seq, messageId: `m${seq}`, clientMsgId: s.clientMsgId, createdAt: '2026-01-01T12:01:00.000Z', duplicate };
}

let store: ChatStore;
let tr: ReturnType<typeof manualTransport>;
let ids = 0;

beforeEach(() => {
  ids = 0;
  store = createChatStore({ newId: () => `cmid-${++ids}` });
  store.getState().reset(ME);
  tr = manualTransport();
  store.getState().setTransport(tr.t);
  store.getState().setConversationList([conv('c1', 0)]);
});

const st = () => store.getState();
/** Starts over with a known conversation list (cursors come from each lastSeq). */
const fresh = (list: Conversation[]) => {
  st().reset(ME);
  st().setConversationList(list);
};
const bodies = (c = 'c1') => (st().seqs[c] ?? []).map((s) => st().messages[c][s].body);

describe('ordering', () => {
  it('orders messages by seq whatever the arrival order', () => {
    st().receiveMessage(msg('c1', 3));
    st().receiveMessage(msg('c1', 1));
    st().addMessages('c1', [msg('c1', 5), msg('c1', 2)]);
    st().receiveMessage(msg('c1', 4));
    expect(st().seqs.c1).toEqual([1, 2, 3, 4, 5]);
    expect(bodies()).toEqual(['message 1', 'message 2', 'message 3', 'message 4', 'message 5']);
  });

  it('merges an older history page below the live messages', () => {
    st().receiveMessage(msg('c1', 101));
    st().addMessages('c1', Array.from({ length: 50 }, (_, i) => msg('c1', 52 + i)));
    st().addMessages('c1', Array.from({ length: 50 }, (_, i) => msg('c1', 2 + i)));
    const seqs = st().seqs.c1;
    expect(seqs.length).toBe(100);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs[0]).toBe(2);
    expect(seqs[99]).toBe(101);
  });

  it('drops every trace of a conversation missing from a fresh list', () => {
    fresh([conv('a', 0), conv('b', 0)]);
    st().receiveMessage(msg('a', 1));
    st().setConversationList([conv('b', 0)]);
    expect(Object.keys(st().conversations)).toEqual(['b']);
    expect(st().messages.a).toBeUndefined();
    expect(st().cursors.a).toBeUndefined();
    expect(st().beginResume()).toEqual([['b', 0]]);
  });

  it('sorts conversations by latest activity', () => {
    fresh([conv('a', 0), conv('b', 0)]);
    st().receiveMessage(msg('a', 1, { createdAt: '2026-02-01T00:00:00.000Z' }));
    st().receiveMessage(msg('b', 1, { createdAt: '2026-03-01T00:00:00.000Z' }));
    expect(sortedConversations(st()).map((c) => c.id)).toEqual(['b', 'a']);
    st().receiveMessage(msg('a', 2, { createdAt: '2026-04-01T00:00:00.000Z' }));
    expect(sortedConversations(st()).map((c) => c.id)).toEqual(['a', 'b']);
  });
});

describe('dedupe', () => {
  it('keeps one copy of a message delivered live, replayed by sync and loaded by REST', () => {
    const m = msg('c1', 1);
    st().receiveMessage(m);
    st().receiveMessage({ ...m });
    st().addMessages('c1', [{ ...m }, msg('c1', 2)]);
    st().receiveMessage(msg('c1', 2));
    expect(st().seqs.c1).toEqual([1, 2]);
    expect(Object.keys(st().messages.c1)).toHaveLength(2);
  });

  it('counts a repeated delivery as unread once', () => {
    st().receiveMessage(msg('c1', 1));
    st().receiveMessage(msg('c1', 1));
    expect(st().conversations.c1.unread).toBe(1);
    expect(st().conversations.c1.lastMessage?.seq).toBe(1);
  });

  it('does not count messages of the conversation being viewed as unread', () => {
    st().setActive('c1');
    st().receiveMessage(msg('c1', 1));
    expect(st().conversations.c1.unread).toBe(0);
  });
});

describe('optimistic sends', () => {
  it('shows a pending message at once', () => {
    const id = st().sendMessage('c1', 'hello');
    expect(pendingOf(st(), 'c1')).toMatchObject([{ clientMsgId: id, body: 'hello', status: 'sending' }]);
    expect(tr.sends).toHaveLength(1);
    expect(tr.sends[0]).toMatchObject({ conversationId: 'c1', body: 'hello', clientMsgId: id });
  });

  it('reconciles ack first, then the echoed message: one copy', async () => {
    const id = st().sendMessage('c1', 'hello');
    tr.sends[0].resolve(ackFor(tr.sends[0], 1));
    await flush();
    expect(pendingOf(st(), 'c1')).toEqual([]);
    expect(st().messages.c1[1]).toMatchObject({ body: 'hello', senderId: ME.id, clientMsgId: id });
    st().receiveMessage(msg('c1', 1, { senderId: ME.id, clientMsgId: id, body: 'hello' }));
    expect(st().seqs.c1).toEqual([1]);
    expect(pendingOf(st(), 'c1')).toEqual([]);
  });

  it('reconciles the echoed message first, then the ack: one copy', async () => {
    const id = st().sendMessage('c1', 'hello');
    st().receiveMessage(msg('c1', 1, { senderId: ME.id, clientMsgId: id, body: 'hello' }));
    expect(pendingOf(st(), 'c1')).toEqual([]);
    expect(st().seqs.c1).toEqual([1]);
    tr.sends[0].resolve(ackFor(tr.sends[0], 1));
    await flush();
    expect(st().seqs.c1).toEqual([1]);
    expect(pendingOf(st(), 'c1')).toEqual([]);
  });

  it('does not count own messages as unread', () => {
    const id = st().sendMessage('c1', 'x');
    st().receiveMessage(msg('c1', 1, { senderId: ME.id, clientMsgId: id }));
    expect(st().conversations.c1.unread).toBe(0);
  });

  it('marks a send failed on timeout and retries with the same clientMsgId', async () => {
    const id = st().sendMessage('c1', 'hello');
    tr.sends[0].reject(new ChatError('timeout', 'no answer'));
    await flush();
    expect(st().pending[id]).toMatchObject({ status: 'failed' });
    expect(st().pending[id].error).toBeTruthy();

    st().retryMessage(id);
    expect(st().pending[id].status).toBe('sending');
    expect(tr.sends).toHaveLength(2);
    expect(tr.sends[1].clientMsgId).toBe(id);
    expect(tr.sends[1].body).toBe('hello');

    tr.sends[1].resolve(ackFor(tr.sends[1], 1, true));
    await flush();
    expect(st().pending[id]).toBeUndefined();
    expect(st().seqs.c1).toEqual([1]);
  });

  it('marks a send failed on a server error', async () => {
    const id = st().sendMessage('c1', 'x'.repeat(10));
    tr.sends[0].reject(new ChatError('too_large', 'body too large'));
    await flush();
    expect(st().pending[id]).toMatchObject({ status: 'failed', error: 'Too long to send.' });
  });

  it('ignores a late failure of a send the echo already confirmed', async () => {
    const id = st().sendMessage('c1', 'hello');
    st().receiveMessage(msg('c1', 1, { senderId: ME.id, clientMsgId: id, body: 'hello' }));
    tr.sends[0].reject(new ChatError('timeout', 'no answer'));
    await flush();
    expect(st().pending[id]).toBeUndefined();
    expect(st().seqs.c1).toEqual([1]);
  });

  it('does not reconcile with another user message that reuses the clientMsgId', () => {
    const id = st().sendMessage('c1', 'hello');
    st().receiveMessage(msg('c1', 1, { senderId: 'u_bob', clientMsgId: id }));
    expect(st().pending[id]).toBeDefined();
  });
});

describe('gap detection', () => {
  it('asks for a sync from the last contiguous seq when a seq jumps', () => {
    fresh([conv('c1', 2)]);
    st().receiveMessage(msg('c1', 3));
    expect(tr.syncs).toEqual([]);
    st().receiveMessage(msg('c1', 6));
    expect(tr.syncs).toEqual([['c1', 3]]);
    st().receiveMessage(msg('c1', 7)); // a sync is in flight: no second request
    expect(tr.syncs).toEqual([['c1', 3]]);
    expect(st().cursors.c1.seq).toBe(3);

    st().receiveMessage(msg('c1', 4));
    st().receiveMessage(msg('c1', 5));
    expect(st().cursors.c1).toEqual({ seq: 7, ahead: [] });
    st().applySynced({ conversationId: 'c1', afterSeq: 3, fromSeq: 3, lastSeq: 7, hasMore: false });
    expect(tr.syncs).toEqual([['c1', 3]]);
    expect(st().seqs.c1).toEqual([3, 4, 5, 6, 7]);
  });

  it('checks a batch as a whole: a hole filled within the batch needs no sync', () => {
    fresh([conv('c1', 2)]);
    st().receiveMessages([msg('c1', 5), msg('c1', 3), msg('c1', 4)]);
    expect(tr.syncs).toEqual([]);
    expect(st().cursors.c1).toEqual({ seq: 5, ahead: [] });
    st().receiveMessages([msg('c1', 6), msg('c1', 9), msg('c1', 7)]);
    expect(tr.syncs).toEqual([['c1', 7]]);
    expect(st().seqs.c1).toEqual([3, 4, 5, 6, 7, 9]);
  });

  it('syncs again while the server has more', () => {
    st().receiveMessage(msg('c1', 900));
    expect(tr.syncs).toEqual([['c1', 0]]);
    st().applySynced({ conversationId: 'c1', afterSeq: 0, fromSeq: 399, lastSeq: 900, hasMore: true });
    expect(tr.syncs).toEqual([['c1', 0], ['c1', 0]]);
  });

  it('steps over seqs a complete sync proved missing', () => {
    st().receiveMessage(msg('c1', 1));
    st().receiveMessage(msg('c1', 3));
    expect(tr.syncs).toEqual([['c1', 1]]);
    st().applySynced({ conversationId: 'c1', afterSeq: 1, fromSeq: 1, lastSeq: 3, hasMore: false });
    expect(st().cursors.c1).toEqual({ seq: 3, ahead: [] });
    expect(tr.syncs).toHaveLength(1);
  });

  it('resumes every conversation from its cursor', () => {
    fresh([conv('c1', 4), conv('c2', 9)]);
    st().receiveMessage(msg('c1', 5));
    expect(st().beginResume().sort()).toEqual([['c1', 5], ['c2', 9]]);
    // While the resume syncs are in flight a jump does not start another one.
    st().receiveMessage(msg('c2', 12));
    expect(tr.syncs).toEqual([]);
  });
});

/** A sequenced event (kind other than `message`). */
const ev = (c: string, seq: number, kind: MessageKind, over: Partial<Message> = {}) => msg(c, seq, { kind, body: '', ...over });

describe('sequenced events', () => {
  it('applies an edit, reactions and a delete to the message they target', () => {
    st().receiveMessages([msg('c1', 1), msg('c1', 2, { senderId: ME.id, body: 'mine' })]);
    st().receiveMessage(ev('c1', 3, 'edit', { targetSeq: 1, body: 'message 1, fixed', createdAt: '2026-01-01T12:05:00.000Z' }));
    st().receiveMessages([
      ev('c1', 4, 'react', { targetSeq: 1, body: '👍' }),
      ev('c1', 5, 'react', { targetSeq: 1, body: '👍', senderId: ME.id }),
      ev('c1', 6, 'react', { targetSeq: 1, body: '🎉', senderId: ME.id }),
      ev('c1', 7, 'unreact', { targetSeq: 1, body: '🎉', senderId: ME.id }),
    ]);
    expect(st().messages.c1[1]).toMatchObject({
      body: 'message 1, fixed',
      editedAt: '2026-01-01T12:05:00.000Z',
      updatedSeq: 7,
      reactions: { '👍': ['u_bob', ME.id] },
    });
    st().receiveMessage(ev('c1', 8, 'delete', { targetSeq: 2, senderId: ME.id }));
    expect(st().messages.c1[2]).toMatchObject({ deleted: true, body: '', updatedSeq: 8 });
    // No bubble for any event; the preview is the (now deleted) last chat message.
    expect(st().seqs.c1).toEqual([1, 2]);
    expect(st().conversations.c1.lastMessage).toMatchObject({ seq: 2, deleted: true });
    expect(st().conversations.c1).toMatchObject({ lastSeq: 8, unread: 1 });
  });

  it('ignores an event its target already reflects, whatever the replay order', () => {
    // A history page gives the current state (after seq 6), then an older edit is replayed.
    st().addMessages('c1', [msg('c1', 1, { body: 'v2', editedAt: 'x', updatedSeq: 6, reactions: { '👍': ['u_bob'] } })]);
    st().receiveMessages([ev('c1', 4, 'edit', { targetSeq: 1, body: 'v1' }), ev('c1', 5, 'react', { targetSeq: 1, body: '👍' })]);
    expect(st().messages.c1[1]).toMatchObject({ body: 'v2', updatedSeq: 6, reactions: { '👍': ['u_bob'] } });
    // A later stored state replaces the copy held; an older one does not.
    st().addMessages('c1', [msg('c1', 1, { body: 'v3', updatedSeq: 9 })]);
    st().addMessages('c1', [msg('c1', 1, { body: 'v2', updatedSeq: 6 })]);
    expect(st().messages.c1[1].body).toBe('v3');
  });

  it('drops events for messages not loaded, but keeps the preview current', () => {
    fresh([conv('c1', 4, { lastMessage: msg('c1', 4, { body: 'hi' }) })]);
    st().receiveMessages([ev('c1', 5, 'edit', { targetSeq: 4, body: 'hello' }), ev('c1', 6, 'edit', { targetSeq: 2, body: 'x' })]);
    expect(st().seqs.c1).toBeUndefined();
    expect(st().conversations.c1.lastMessage).toMatchObject({ seq: 4, body: 'hello', updatedSeq: 5 });
    expect(st().cursors.c1).toEqual({ seq: 6, ahead: [] });
  });

  it('keeps contiguity over every kind: no bubbles, no spurious sync, unread counts chat messages only', () => {
    fresh([conv('c1', 2)]);
    st().receiveMessages([
      msg('c1', 3),
      ev('c1', 4, 'react', { targetSeq: 3, body: '👍' }),
      ev('c1', 5, 'join', { subjectId: 'u_carol', body: 'member' }),
    ]);
    st().receiveMessage(ev('c1', 6, 'edit', { targetSeq: 3, body: 'edited' }));
    st().receiveMessage(ev('c1', 7, 'leave', { senderId: 'u_carol' }));
    st().receiveMessage(msg('c1', 8));
    expect(tr.syncs).toEqual([]);
    expect(st().cursors.c1).toEqual({ seq: 8, ahead: [] });
    // Chat messages and notices are in the timeline, edits and reactions are not.
    expect(st().seqs.c1).toEqual([3, 5, 7, 8]);
    expect(st().seqs.c1.map((q) => st().messages.c1[q].kind)).toEqual(['message', 'join', 'leave', 'message']);
    expect(st().conversations.c1).toMatchObject({ lastSeq: 8, unread: 2 });
    expect(st().conversations.c1.lastMessage?.seq).toBe(8);
    // Events alone move the resume point too.
    st().receiveMessages([ev('c1', 9, 'react', { targetSeq: 8, body: '🎉' }), ev('c1', 10, 'role', { subjectId: 'u_bob', body: 'admin' })]);
    expect(st().cursors.c1).toEqual({ seq: 10, ahead: [] });
    expect(st().conversations.c1).toMatchObject({ unread: 2, lastMessage: { seq: 8 } });
    expect(tr.syncs).toEqual([]);
    // A real hole is still found.
    st().receiveMessage(ev('c1', 12, 'react', { targetSeq: 8, body: '👍' }));
    expect(tr.syncs).toEqual([['c1', 10]]);
  });

  it('renames the conversation, but an older rename from history does not undo a newer one', () => {
    fresh([conv('c1', 3, { title: 'Old' })]);
    st().receiveMessage(ev('c1', 4, 'rename', { body: 'Team' }));
    expect(st().conversations.c1).toMatchObject({ title: 'Team', lastSeq: 4 });
    expect(st().seqs.c1).toEqual([4]);
    st().addMessages('c1', [ev('c1', 2, 'rename', { body: 'Old' })]);
    expect(st().conversations.c1.title).toBe('Team');
    // A list fetched before the rename does not bring the old title back; a later one wins.
    st().setConversationList([conv('c1', 3, { title: 'Old' })]);
    expect(st().conversations.c1.title).toBe('Team');
    st().setConversationList([conv('c1', 6, { title: 'Newer' })]);
    expect(st().conversations.c1.title).toBe('Newer');
  });

  it('words notices with the names it has', () => {
    const users = { u_bob: { id: 'u_bob', username: 'bob', displayName: 'Bob' }, u_al: { id: 'u_al', username: 'alice', displayName: 'Alice' } };
    const t = (m: Message) => noticeText(users, ME.id, m);
    expect(t(ev('c1', 1, 'join', { senderId: 'u_al', subjectId: 'u_bob', body: 'member' }))).toBe('Alice added Bob');
    expect(t(ev('c1', 2, 'join', { senderId: ME.id, subjectId: 'u_zed', body: 'admin' }))).toBe('You added someone as an admin');
    expect(t(ev('c1', 3, 'leave', { senderId: 'u_bob' }))).toBe('Bob left');
    expect(t(ev('c1', 4, 'remove', { senderId: 'u_al', subjectId: ME.id }))).toBe('Alice removed you');
    expect(t(ev('c1', 5, 'role', { senderId: 'u_al', subjectId: 'u_bob', body: 'admin' }))).toBe('Bob is now an admin');
    expect(t(ev('c1', 6, 'rename', { senderId: 'u_al', body: 'Team' }))).toBe('Alice renamed the group to “Team”');
  });
});

describe('members', () => {
  // Joined one second apart: the server's order (join time, then user id) is the order of i.
  const member = (i: number): Member => ({ userId: `u${i}`, username: `user${i}`, displayName: `User ${i}`, role: 'member', joinedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), lastReadSeq: 0 });
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => member(from + i));
  const detail = (over: Partial<Conversation> = {}) => conv('c1', 0, { members: range(0, 200), memberCount: 10_000, membersNext: 'p1', ...over });

  it('keeps the count of the detail through list refreshes and answers without one', () => {
    expect(memberCountOf(st(), 'c1')).toBeNull();
    st().upsertConversation(detail());
    expect(st().conversations.c1.memberCount).toBe(10_000);
    expect(memberCountOf(st(), 'c1')).toBe(10_000); // not the 200 loaded
    st().setConversationList([conv('c1', 3)]);
    st().upsertConversation(conv('c1', 3));
    expect(st().conversations.c1.memberCount).toBe(10_000);
    st().upsertConversation(detail({ members: range(0, 3), memberCount: 3, membersNext: undefined }));
    expect(memberCountOf(st(), 'c1')).toBe(3);
  });

  it('counts the members loaded when no count came', () => {
    st().upsertConversation(conv('c1', 0, { members: range(0, 4) }));
    expect(memberCountOf(st(), 'c1')).toBe(4);
  });

  it('appends pages after the cursor once each; a detail with nothing loaded past its page replaces the list and the cursor', () => {
    st().upsertConversation(detail());
    expect(st().membersNext.c1).toBe('p1');
    st().appendMembers('c1', [...range(150, 400)], 'p1', 'p2'); // overlapping the first page: no copies
    expect(st().members.c1.map((m) => m.userId)).toEqual(range(0, 400).map((m) => m.userId));
    expect(st().users.u399).toEqual({ id: 'u399', username: 'user399', displayName: 'User 399' });
    expect(st().membersNext.c1).toBe('p2');
    st().appendMembers('c1', range(200, 400), 'p1', 'p2'); // a late copy of a page already in
    expect(st().members.c1).toHaveLength(400);
    st().appendMembers('c1', range(400, 420), 'p2');
    expect(st().members.c1).toHaveLength(420);
    expect(st().membersNext.c1).toBeUndefined();

    // The first page and all of the members: what it leaves out has left.
    st().upsertConversation(detail({ members: range(0, 5), memberCount: 5, membersNext: undefined }));
    expect(st().members.c1).toHaveLength(5);
    expect(st().membersNext.c1).toBeUndefined();
    // Nothing loaded past the first page: the page and its cursor, as they come.
    st().upsertConversation(detail({ membersNext: 'q1' }));
    expect(st().members.c1).toHaveLength(200);
    expect(st().membersNext.c1).toBe('q1');
    st().upsertConversation(conv('c1')); // no members: the list and the cursor stay
    expect(st().membersNext.c1).toBe('q1');
    st().upsertConversation(detail({ members: range(2, 202), membersNext: 'q2' })); // u0, u1 left
    expect(st().members.c1.map((m) => m.userId)).toEqual(range(2, 202).map((m) => m.userId));
    expect(st().membersNext.c1).toBe('q2');
    st().removeConversation('c1');
    expect(st().members.c1).toBeUndefined();
    expect(st().membersNext.c1).toBeUndefined();
  });

  it('keeps the pages loaded past the first when a detail comes again, with the cursor past the furthest', () => {
    const ids = () => st().members.c1.map((m) => m.userId);
    st().upsertConversation(detail({ memberCount: 450 }));
    st().appendMembers('c1', range(200, 400), 'p1', 'p2');
    // Again (say after a member change): u3 is an admin now, u5 has left, so the page reaches u200;
    // u0 has a new display name.
    const page = [{ ...member(0), displayName: 'Zero' }, ...range(1, 201).filter((m) => m.userId !== 'u5').map((m) => (m.userId === 'u3' ? { ...m, role: 'admin' as const } : m))];
    st().upsertConversation(detail({ members: page, memberCount: 449, membersNext: 'p1b' }));
    expect(ids()).toEqual(range(0, 400).filter((m) => m.userId !== 'u5').map((m) => m.userId));
    expect(st().members.c1.find((m) => m.userId === 'u3')?.role).toBe('admin');
    expect(st().members.c1[0].displayName).toBe('Zero');
    expect(st().users.u0.displayName).toBe('Zero');
    expect(st().membersNext.c1).toBe('p2');
    // "Show more" goes on after the furthest page: nobody twice, nobody skipped.
    st().appendMembers('c1', range(400, 450), 'p2');
    expect(ids()).toEqual(range(0, 450).filter((m) => m.userId !== 'u5').map((m) => m.userId));
    expect(st().membersNext.c1).toBeUndefined();
    expect(memberCountOf(st(), 'c1')).toBe(449);
  });

  it('drops members past the first page when they leave or are removed, and applies role changes to them', () => {
    st().upsertConversation(detail({ memberCount: 450 }));
    st().appendMembers('c1', range(200, 400), 'p1', 'p2');
    st().receiveMessages([
      ev('c1', 1, 'remove', { senderId: 'u0', subjectId: 'u300' }),
      ev('c1', 2, 'leave', { senderId: 'u350' }),
      ev('c1', 3, 'role', { senderId: 'u0', subjectId: 'u250', body: 'admin' }),
    ]);
    st().dropMember('c1', 'u260'); // removed here: the answer came before its notice
    const ids = st().members.c1.map((m) => m.userId);
    expect(ids).toHaveLength(397);
    expect(ids).not.toContain('u300');
    expect(ids).not.toContain('u350');
    expect(ids).not.toContain('u260');
    expect(st().members.c1.find((m) => m.userId === 'u250')?.role).toBe('admin');
    // The detail that follows the notices does not bring them back, nor the old role.
    st().upsertConversation(detail({ memberCount: 447 }));
    expect(st().members.c1).toHaveLength(397);
    expect(st().members.c1.map((m) => m.userId)).not.toContain('u300');
    expect(st().members.c1.find((m) => m.userId === 'u250')?.role).toBe('admin');
    // A notice seen before (a repeated frame) is not applied again.
    st().appendMembers('c1', [member(300)], 'p2', 'p3');
    st().receiveMessages([ev('c1', 1, 'remove', { senderId: 'u0', subjectId: 'u300' })]);
    expect(st().members.c1.map((m) => m.userId)).toContain('u300');
  });

  it('asks again after the last page of a list loaded to its end when members joined since', () => {
    st().upsertConversation(detail({ memberCount: 420 }));
    st().appendMembers('c1', range(200, 400), 'p1', 'p2');
    st().appendMembers('c1', range(400, 420), 'p2');
    expect(st().membersNext.c1).toBeUndefined();
    // Nobody new: all are loaded still.
    st().upsertConversation(detail({ memberCount: 420 }));
    expect(st().members.c1).toHaveLength(420);
    expect(st().membersNext.c1).toBeUndefined();
    // u420 joined (past the first page, so not in the detail): the last page is asked again.
    st().upsertConversation(detail({ memberCount: 421 }));
    expect(st().members.c1).toHaveLength(420);
    expect(st().membersNext.c1).toBe('p2');
    st().appendMembers('c1', range(400, 421), 'p2');
    expect(st().members.c1.map((m) => m.userId)).toEqual(range(0, 421).map((m) => m.userId));
    expect(st().membersNext.c1).toBeUndefined();
  });
});

describe('receipts and typing', () => {
  it('clears unread when another tab of mine read the conversation', () => {
    fresh([conv('c1', 0)]);
    st().receiveMessages([msg('c1', 1), msg('c1', 2), msg('c1', 3)]);
    expect(st().conversations.c1.unread).toBe(3);
    st().applyReceipt({ conversationId: 'c1', userId: ME.id, seq: 2 });
    expect(st().conversations.c1).toMatchObject({ unread: 1, lastReadSeq: 2 });
    st().applyReceipt({ conversationId: 'c1', userId: ME.id, seq: 3 });
    expect(st().conversations.c1.unread).toBe(0);
  });

  it("moves another member's read marker forward only", () => {
    const members = [
      { userId: ME.id, username: 'me', displayName: 'Me', role: 'owner' as const, joinedAt: '', lastReadSeq: 0 },
      { userId: 'u_bob', username: 'bob', displayName: 'Bob', role: 'member' as const, joinedAt: '', lastReadSeq: 1 },
    ];
    st().upsertConversation({ ...conv('c1', 5), members });
    st().applyReceipt({ conversationId: 'c1', userId: 'u_bob', seq: 4 });
    st().applyReceipt({ conversationId: 'c1', userId: 'u_bob', seq: 2 });
    expect(st().members.c1.find((m) => m.userId === 'u_bob')?.lastReadSeq).toBe(4);
  });

  it('shows typing until it expires or a message from the typer arrives', () => {
    st().setTyping('c1', 'u_bob', 5_000);
    st().setTyping('c1', 'u_carol', 5_000);
    st().receiveMessage(msg('c1', 1, { senderId: 'u_bob' }));
    expect(Object.keys(st().typing.c1)).toEqual(['u_carol']);
    st().expireTyping(4_000);
    expect(Object.keys(st().typing.c1)).toEqual(['u_carol']);
    st().expireTyping(5_000);
    expect(st().typing.c1).toBeUndefined();
  });
});

describe('store + ChatSocket', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function wire() {
    const f = socketFactory();
    const sock = new ChatSocket({
      urls: ['ws://a/ws'],
      tokens: fixedTokens(),
      connect: f.connect,
      resumeCursors: () => st().beginResume(),
      random: () => 0.5,
    });
    st().setTransport({
      send: (c, b, id) => sock.send(c, b, id),
      event: (c, id, ev) => sock.event(c, id, ev),
      requestSync: (c, a) => void sock.sync(c, a).catch(() => st().syncFailed(c)),
    });
    sock.on('message', (m) => st().receiveMessage(m));
    sock.on('synced', (r) => st().applySynced(r));
    return { f, sock };
  }

  it('turns a seq jump on the wire into a sync frame and fills the gap', async () => {
    fresh([conv('c1', 1)]);
    const { f, sock } = wire();
    sock.start();
    await flush();
    const ws = f.latest();
    ws.open();
    ws.push({ type: 'ready', userId: ME.id, protocol: 1 });
    const resume = ws.last('sync');
    expect(resume).toMatchObject({ conversationId: 'c1', afterSeq: 1 });
    ws.push({ type: 'synced', id: resume.id, conversationId: 'c1', fromSeq: 1, lastSeq: 1, hasMore: false });

    ws.push({ type: 'message', ...msg('c1', 2) });
    ws.push({ type: 'message', ...msg('c1', 5) });
    const gap = ws.last('sync');
    expect(gap).toMatchObject({ conversationId: 'c1', afterSeq: 2 });
    expect(gap.id).not.toBe(resume.id);
    ws.push({ type: 'message', ...msg('c1', 3) });
    ws.push({ type: 'message', ...msg('c1', 4) });
    ws.push({ type: 'synced', id: gap.id, conversationId: 'c1', fromSeq: 2, lastSeq: 5, hasMore: false });
    expect(st().seqs.c1).toEqual([2, 3, 4, 5]);
    expect(st().cursors.c1.seq).toBe(5);
    sock.stop();
  });

  it('keeps a send pending across a reconnect and reconciles it once', async () => {
    const { f, sock } = wire();
    sock.start();
    await flush();
    f.latest().open();
    f.latest().push({ type: 'ready', userId: ME.id, protocol: 1 });
    const id = st().sendMessage('c1', 'through the restart');
    const first = f.latest().last('send');
    f.latest().serverClose(1001);
    expect(st().pending[id].status).toBe('sending');

    await vi.advanceTimersByTimeAsync(1000);
    const ws2 = f.latest();
    expect(f.made).toHaveLength(2);
    ws2.open();
    ws2.push({ type: 'ready', userId: ME.id, protocol: 1 });
    const again = ws2.last('send');
    expect(again.clientMsgId).toBe(first.clientMsgId);
    ws2.push({ type: 'message', ...msg('c1', 1, { senderId: ME.id, clientMsgId: id, body: 'through the restart' }) });
    ws2.push({ type: 'ack', id: again.id, conversationId: 'c1', seq: 1, messageId: 'm1', clientMsgId: id, createdAt: '2026-01-01T00:00:00.000Z', duplicate: true });
    await flush();
    expect(st().pending[id]).toBeUndefined();
    expect(st().seqs.c1).toEqual([1]);
    sock.stop();
  });
});
