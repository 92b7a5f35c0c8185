// The engine against a scripted REST server and a fake WebSocket: member pages of big rooms,
// and names of senders the store does not know.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, type Conversation, type Member } from '../lib/client';
import { flush, msg, socketFactory, type FakeSocket } from '../test/fakes';
import { ChatEngine } from './engine';
import { createChatStore, memberCountOf, type ChatStore } from './store';

const ME = { id: 'u_me', username: 'me', displayName: 'Me' };

/** Members joined one second apart: the server's order (join time, then user id) is the order of i. */
function member(i: number): Member {
  const joinedAt = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return { userId: `u${i}`, username: `user${i}`, displayName: `User ${i}`, role: i === 0 ? 'owner' : 'member', joinedAt, lastReadSeq: 0 };
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => member(from + i));

function conv(id: string, over: Partial<Conversation> = {}): Conversation {
  return { id, kind: 'group', title: id, createdBy: 'u0', createdAt: '2026-01-01T00:00:00.000Z', lastSeq: 0, lastReadSeq: 0, unread: 0, role: 'member', ...over };
}

/**
 * A REST server of one group, c1, whose member list is `all` (the detail carries the first 200; adding
 * and removing members changes it). `list` is what GET /api/conversations answers; `usersHold`, when
 * set, holds the next GET /api/users until it resolves.
 */
function server(all: Member[]) {
  const calls: string[] = [];
  const users: Record<string, { id: string; username: string; displayName: string }> = {};
  for (const m of all) users[m.userId] = { id: m.userId, username: m.username, displayName: m.displayName };
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
  const detail = (): Conversation => ({
    ...(out.list.find((c) => c.id === 'c1') ?? conv('c1')),
    members: all.slice(0, 200),
    memberCount: all.length,
    ...(all.length > 200 ? { membersNext: `cur ${all[199].userId}` } : {}),
  });
  const fetchFn = (async (url: string, init: RequestInit) => {
    const u = new URL(url, 'http://chat.test');
    calls.push(`${init.method} ${u.pathname}${u.search}`);
    if (u.pathname === '/api/refresh') return json(200, { user: ME, accessToken: 'tok', accessExpiresAt: '2030-01-01T00:00:00Z', refreshToken: '' });
    if (u.pathname === '/api/conversations') return json(200, { conversations: out.list });
    if (u.pathname === '/api/conversations/c1') {
      const hold = out.hold;
      out.hold = null;
      if (hold) await hold;
      return json(200, detail());
    }
    if (u.pathname === '/api/conversations/c1/members' && init.method === 'POST') {
      const { username } = JSON.parse(String(init.body)) as { username: string };
      const m = { ...member(all.length + 1_000_000), userId: `u_${username}`, username, displayName: username.toUpperCase() };
      all.push(m);
      users[m.userId] = { id: m.userId, username, displayName: m.displayName };
      return json(200, detail());
    }
    if (u.pathname.startsWith('/api/conversations/c1/members/') && init.method === 'DELETE') {
      const id = decodeURIComponent(u.pathname.split('/').pop()!);
      all.splice(all.findIndex((m) => m.userId === id), 1);
      return json(200, detail());
    }
    if (u.pathname === '/api/conversations/c1/members') {
      const after = u.searchParams.get('after') ?? '';
      const limit = Number(u.searchParams.get('limit') ?? 100);
      const from = after ? all.findIndex((m) => `cur ${m.userId}` === after) + 1 : 0;
      const page = all.slice(from, from + limit);
      const next = from + limit < all.length ? `cur ${page[page.length - 1].userId}` : undefined;
      return json(200, next ? { members: page, next } : { members: page });
    }
    if (u.pathname === '/api/users') {
      const hold = out.usersHold;
      out.usersHold = null;
      if (hold) await hold;
      const ids = (u.searchParams.get('ids') ?? '').split(',');
      return json(200, { users: ids.flatMap((id) => (users[id] ? [users[id]] : [])) });
    }
    return json(404, { error: { code: 'not_found', message: 'no route' } });
  }) as unknown as typeof fetch;
  const out = { fetchFn, calls, all, list: [conv('c1')], users, hold: null as Promise<void> | null, usersHold: null as Promise<void> | null };
  return out;
}

let store: ChatStore;
let engine: ChatEngine;
let ws: FakeSocket;
let srv: ReturnType<typeof server>;
const st = () => store.getState();
/** REST calls after the start (the refresh, the list). */
let calls: () => string[];

async function start(all: Member[], o: { list?: Conversation[]; usersHold?: Promise<void> } = {}) {
  srv = server(all);
  if (o.list) srv.list = o.list;
  srv.usersHold = o.usersHold ?? null;
  store = createChatStore();
  st().reset(ME);
  const f = socketFactory();
  engine = new ChatEngine({ api: new Api({ fetch: srv.fetchFn }), store, urls: ['ws://chat.test/ws'], connect: f.connect });
  await engine.start();
  await vi.advanceTimersByTimeAsync(0);
  ws = f.latest();
  ws.open();
  await flush();
  ws.push({ type: 'ready', userId: ME.id, protocol: 1 });
  await vi.advanceTimersByTimeAsync(0);
  const skip = srv.calls.length;
  calls = () => srv.calls.slice(skip);
}

/** Live message frames, then the engine's batching delay and the requests they cause. */
async function live(...frames: ReturnType<typeof msg>[]) {
  for (const m of frames) ws.push({ type: 'message', ...m });
  await vi.advanceTimersByTimeAsync(50);
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  engine.stop();
  vi.useRealTimers();
});

describe('members of a big room', () => {
  it('keeps the member count of the detail, and a list refresh does not erase it', async () => {
    await start(range(0, 10_000));
    await engine.fetchConversation('c1');
    expect(st().members.c1).toHaveLength(200);
    expect(st().conversations.c1.memberCount).toBe(10_000);
    expect(memberCountOf(st(), 'c1')).toBe(10_000);
    await engine.refreshList(); // lists carry no memberCount
    expect(calls()).toContain('GET /api/conversations');
    expect(st().conversations.c1.memberCount).toBe(10_000);
  });

  it('loads the next pages after the cursor, appends them once each, and stops at the end', async () => {
    await start(range(0, 450));
    await engine.fetchConversation('c1');
    expect(st().membersNext.c1).toBe('cur u199');

    // Two clicks while the first page is in flight: one request.
    await Promise.all([engine.loadMoreMembers('c1'), engine.loadMoreMembers('c1')]);
    expect(calls().filter((c) => c.includes('/members'))).toEqual(['GET /api/conversations/c1/members?after=cur+u199&limit=200']);
    expect(st().members.c1.map((m) => m.userId)).toEqual(range(0, 400).map((m) => m.userId));
    expect(st().users.u399.displayName).toBe('User 399');
    expect(st().membersNext.c1).toBe('cur u399');

    await engine.loadMoreMembers('c1');
    expect(st().members.c1).toHaveLength(450);
    expect(new Set(st().members.c1.map((m) => m.userId)).size).toBe(450);
    expect(st().membersNext.c1).toBeUndefined();

    // At the end there is nothing to ask.
    const asked = calls().length;
    await engine.loadMoreMembers('c1');
    expect(calls()).toHaveLength(asked);

    // A detail re-fetch (the dialog opening again) keeps what is loaded: all of them.
    await engine.fetchConversation('c1');
    expect(st().members.c1.map((m) => m.userId)).toEqual(range(0, 450).map((m) => m.userId));
    expect(st().membersNext.c1).toBeUndefined();
  });

  it('keeps the pages loaded when a member is added or removed, and pages on without copies or gaps', async () => {
    await start(range(0, 650));
    await engine.fetchConversation('c1');
    await engine.loadMoreMembers('c1');
    expect(st().members.c1).toHaveLength(400);

    await engine.addMember('c1', 'newbie'); // the answer carries the first 200 only
    expect(st().members.c1).toHaveLength(400);
    expect(st().membersNext.c1).toBe('cur u399');
    expect(st().conversations.c1.memberCount).toBe(651);

    await engine.removeMember('c1', 'u3'); // in the first page
    await engine.removeMember('c1', 'u300'); // past it: the answer does not show it gone
    expect(st().members.c1.map((m) => m.userId)).toEqual(range(0, 400).filter((m) => m.userId !== 'u3' && m.userId !== 'u300').map((m) => m.userId));

    // A member-change event re-fetches the detail: still all loaded pages.
    srv.all.splice(srv.all.findIndex((m) => m.userId === 'u350'), 1);
    await live(msg('c1', 1, { kind: 'remove', senderId: 'u0', subjectId: 'u350' }));
    expect(calls().filter((c) => c === 'GET /api/conversations/c1').length).toBe(2);
    expect(st().members.c1).toHaveLength(397);

    await engine.loadMoreMembers('c1');
    await engine.loadMoreMembers('c1');
    expect(st().membersNext.c1).toBeUndefined();
    expect(st().members.c1.map((m) => m.userId)).toEqual(srv.all.map((m) => m.userId));
    expect(st().members.c1.at(-1)?.displayName).toBe('NEWBIE');
  });

  it('shows who joined a room whose members were all loaded: the last page is asked again', async () => {
    await start(range(0, 300));
    await engine.fetchConversation('c1');
    await engine.loadMoreMembers('c1');
    expect(st().members.c1).toHaveLength(300);
    expect(st().membersNext.c1).toBeUndefined();

    await engine.addMember('c1', 'newbie');
    expect(st().members.c1).toHaveLength(300);
    expect(st().membersNext.c1).toBe('cur u199'); // "Show more members" is offered again
    await engine.loadMoreMembers('c1');
    expect(st().members.c1.map((m) => m.userId)).toEqual(srv.all.map((m) => m.userId));
    expect(st().membersNext.c1).toBeUndefined();
  });

  it('pages after a detail fetch in flight (the dialog opening), so the page is not reset away', async () => {
    await start(range(0, 450));
    await engine.fetchConversation('c1');
    let release = () => {};
    srv.hold = new Promise<void>((r) => (release = r)); // the next detail answers when released
    const detail = engine.fetchConversation('c1');
    const page = engine.loadMoreMembers('c1'); // "Show more members" before the detail is back
    await vi.advanceTimersByTimeAsync(0);
    expect(calls().filter((c) => c.includes('/members'))).toEqual([]);
    release();
    await Promise.all([detail, page]);
    expect(calls().filter((c) => c.includes('/members'))).toEqual(['GET /api/conversations/c1/members?after=cur+u199&limit=200']);
    expect(st().members.c1.map((m) => m.userId)).toEqual(range(0, 400).map((m) => m.userId));
    expect(st().membersNext.c1).toBe('cur u399');
  });

  it('drops a page loaded after a cursor that a detail re-fetch has replaced', async () => {
    await start(range(0, 450));
    await engine.fetchConversation('c1');
    const page = engine.loadMoreMembers('c1');
    st().upsertConversation({ ...conv('c1'), members: range(0, 200), memberCount: 451, membersNext: 'cur other' });
    await page;
    expect(st().members.c1).toHaveLength(200);
    expect(st().membersNext.c1).toBe('cur other');
    expect(st().conversations.c1.memberCount).toBe(451);
  });
});

describe('senders the store does not know', () => {
  it('looks up an unknown sender once with GET /api/users and never re-fetches the conversation for it', async () => {
    await start(range(0, 1_000));
    await engine.fetchConversation('c1');
    const before = calls().length;

    // u500 and u700 are past the detail's first 200 members; u_ghost is no one the server knows.
    await live(msg('c1', 1, { senderId: 'u500' }), msg('c1', 2, { senderId: 'u700' }), msg('c1', 3, { senderId: 'u500' }), msg('c1', 4, { senderId: 'u_ghost' }));
    const after = calls().slice(before);
    expect(after).toEqual(['GET /api/users?ids=u500,u700,u_ghost']);
    expect(st().users.u500.displayName).toBe('User 500');
    expect(st().users.u700.displayName).toBe('User 700');

    // More from the same people: nothing is asked again, not even the one not found.
    await live(msg('c1', 5, { senderId: 'u500' }), msg('c1', 6, { senderId: 'u_ghost' }));
    expect(calls()).toHaveLength(before + 1);
    expect(calls().filter((c) => c === 'GET /api/conversations/c1')).toHaveLength(1); // the one fetchConversation above
  });

  it('still reloads the member list after a membership event', async () => {
    await start(range(0, 1_000));
    await engine.fetchConversation('c1');
    const before = calls().length;
    await live(msg('c1', 1, { kind: 'join', senderId: 'u0', subjectId: 'u999', body: 'member' }));
    const after = calls().slice(before);
    expect(after).toContain('GET /api/conversations/c1');
    // The one who joined is past the first page: their name comes from the users endpoint.
    expect(after).toContain('GET /api/users?ids=u999');
    expect(st().users.u999.displayName).toBe('User 999');
  });
});

describe('names in the conversation list', () => {
  /** Groups other than c1 whose last message is from `senderId`. */
  const group = (id: string, senderId: string, seq = 3): Conversation => conv(id, { lastSeq: seq, lastReadSeq: seq, lastMessage: msg(id, seq, { senderId }) });
  const usersCalls = () => srv.calls.filter((c) => c.startsWith('GET /api/users'));

  it('looks up the unknown senders of the previews once, in one request, without fetching any detail', async () => {
    const list = [conv('c1'), ...Array.from({ length: 30 }, (_, i) => group(`g${i}`, `u${500 + (i % 10)}`)), group('g_mine', ME.id)];
    await start(range(0, 1_000), { list });
    expect(usersCalls()).toEqual([`GET /api/users?ids=${range(500, 510).map((m) => m.userId).join(',')}`]);
    expect(st().users.u503.displayName).toBe('User 503');
    expect(srv.calls.filter((c) => c.startsWith('GET /api/conversations/'))).toEqual([]);

    // The list again (a reconnect): the names are known, nothing is asked.
    await engine.refreshList();
    await vi.advanceTimersByTimeAsync(0);
    expect(usersCalls()).toHaveLength(1);
  });

  it('asks 100 ids at a time, one request at a time, and never an id already being asked', async () => {
    let release = () => {};
    const usersHold = new Promise<void>((r) => (release = r));
    const list = Array.from({ length: 150 }, (_, i) => group(`g${i}`, `u${500 + i}`));
    await start(range(0, 1_000), { list, usersHold });
    expect(usersCalls()).toEqual([`GET /api/users?ids=${range(500, 600).map((m) => m.userId).join(',')}`]);

    // While it is in flight: a sender it asks for, one waiting for the next request, and a new one.
    await live(msg('g0', 4, { senderId: 'u500' }), msg('g1', 4, { senderId: 'u620' }), msg('g2', 4, { senderId: 'u900' }));
    expect(usersCalls()).toHaveLength(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(usersCalls()).toEqual([
      `GET /api/users?ids=${range(500, 600).map((m) => m.userId).join(',')}`,
      `GET /api/users?ids=${[...range(600, 650), member(900)].map((m) => m.userId).join(',')}`,
    ]);
    expect(st().users.u649.displayName).toBe('User 649');
    expect(st().users.u900.displayName).toBe('User 900');
  });

  it('names the sender of a new message in a conversation not opened', async () => {
    await start(range(0, 1_000), { list: [conv('c1'), group('g1', ME.id)] });
    await live(msg('g1', 4, { senderId: 'u777' }));
    expect(usersCalls()).toEqual(['GET /api/users?ids=u777']);
    expect(st().users.u777.displayName).toBe('User 777');
    expect(srv.calls.filter((c) => c.startsWith('GET /api/conversations/'))).toEqual([]);
  });

  it('names the sender of the preview of a conversation I am added to', async () => {
    await start(range(0, 1_000));
    srv.list = [conv('c1', { lastSeq: 9, lastMessage: msg('c1', 9, { senderId: 'u800' }) })];
    st().removeConversation('c1');
    ws.push({ type: 'membership', conversationId: 'c1', joined: true, lastSeq: 9 });
    await vi.advanceTimersByTimeAsync(0);
    expect(st().conversations.c1).toBeDefined();
    expect(usersCalls()).toEqual(['GET /api/users?ids=u800']);
  });
});
