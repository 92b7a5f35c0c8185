// The conversation list rendered to markup (the unit tests run without a DOM): the preview of a group
// not opened yet names its last sender, even one the app had never heard of.
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, type Conversation } from '../lib/client';
import { ChatEngine } from '../state/engine';
import { createChatStore, type ChatState, type ChatStore } from '../state/store';
import { msg, socketFactory } from '../test/fakes';
import { Sidebar } from './Sidebar';

const h = vi.hoisted(() => ({ store: null as unknown as ChatStore, engine: null as unknown as ChatEngine }));

// Server rendering reads a zustand store's initial state: read the test's store as it is now.
vi.mock('./chat', () => ({
  useChat: <T,>(select: (s: ChatState) => T): T => select(h.store.getState()),
  useEngine: () => h.engine,
}));
vi.mock('./Avatar', () => ({ Avatar: () => null, GroupAvatar: () => null, PresenceDot: () => null }));

const ME = { id: 'u0', username: 'user0', displayName: 'User 0' };

function group(id: string, senderId: string, body: string): Conversation {
  const lastMessage = msg(id, 3, { senderId, body });
  return { id, kind: 'group', title: `Room ${id}`, createdBy: 'u0', createdAt: '2026-01-01T00:00:00.000Z', lastSeq: 3, lastReadSeq: 3, unread: 0, role: 'member', lastMessage };
}

/** The server: a list of groups whose last senders only GET /api/users knows. */
const usersAsked: string[] = [];
const fetchFn = (async (url: string) => {
  const u = new URL(url, 'http://chat.test');
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
  if (u.pathname === '/api/refresh') return json({ user: ME, accessToken: 'tok', accessExpiresAt: '2030-01-01T00:00:00Z', refreshToken: '' });
  if (u.pathname === '/api/conversations') return json({ conversations: [group('g1', 'u_ann', 'hello there'), group('g2', 'u_bo', 'see you'), group('g3', 'u0', 'mine')] });
  if (u.pathname === '/api/users') {
    usersAsked.push(u.search);
    const names: Record<string, string> = { u_ann: 'Ann Lee', u_bo: 'Bo' };
    const ids = (u.searchParams.get('ids') ?? '').split(',');
    return json({ users: ids.filter((id) => names[id]).map((id) => ({ id, username: id, displayName: names[id] })) });
  }
  return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no route' } }), { status: 404 });
}) as unknown as typeof fetch;

const sidebar = () => renderToStaticMarkup(<Sidebar activeId={null} onLogout={() => {}} />);
/** The previews listed, in order. */
const previews = (html: string) => [...html.matchAll(/<span class="conv-preview">([^<]*)/g)].map((m) => m[1]);

beforeEach(() => {
  usersAsked.length = 0;
  h.store = createChatStore();
  h.store.getState().reset(ME);
  h.engine = new ChatEngine({ api: new Api({ fetch: fetchFn }), store: h.store, urls: ['ws://chat.test/ws'], connect: socketFactory().connect });
});
afterEach(() => h.engine.stop());

describe('the conversation list', () => {
  it('names the last sender of groups not opened yet, looked up once for all of them', async () => {
    await h.engine.refreshList();
    await vi.waitFor(() => expect(previews(sidebar()).sort()).toEqual(['Ann Lee: hello there', 'Bo: see you', 'You: mine']));
    expect(usersAsked).toEqual(['?ids=u_ann,u_bo']);
  });
});
