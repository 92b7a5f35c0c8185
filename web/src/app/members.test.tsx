// The members dialog and the conversation header of a big room, rendered to markup (the unit tests run
// without a DOM): the count the server gave, and "Show more members" while pages are left.
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, type Conversation, type Member } from '../lib/client';
import { ChatEngine } from '../state/engine';
import { createChatStore, type ChatState, type ChatStore } from '../state/store';
import { socketFactory } from '../test/fakes';
import { ConversationView } from './ConversationView';
import { MembersDialog } from './dialogs';

const h = vi.hoisted(() => ({ store: null as unknown as ChatStore, engine: null as unknown as ChatEngine }));

// Server rendering reads a zustand store's initial state: read the test's store as it is now.
vi.mock('./chat', () => ({
  useChat: <T,>(select: (s: ChatState) => T): T => select(h.store.getState()),
  useEngine: () => h.engine,
}));
vi.mock('./Avatar', () => ({ Avatar: () => null, GroupAvatar: () => null, PresenceDot: () => null }));
vi.mock('./MessageList', () => ({ MessageList: () => null }));
vi.mock('./Composer', () => ({ Composer: () => null }));

const ME = { id: 'u0', username: 'user0', displayName: 'User 0' };

function member(i: number): Member {
  return { userId: `u${i}`, username: `user${i}`, displayName: `User ${i}`, role: i === 0 ? 'owner' : i === 5 ? 'admin' : 'member', joinedAt: '2026-01-01T00:00:00.000Z', lastReadSeq: 0 };
}
const ALL = Array.from({ length: 450 }, (_, i) => member(i));

function conv(over: Partial<Conversation> = {}): Conversation {
  return { id: 'c1', kind: 'group', title: 'Town square', createdBy: 'u0', createdAt: '2026-01-01T00:00:00.000Z', lastSeq: 0, lastReadSeq: 0, unread: 0, role: 'owner', ...over };
}
const detail = () => conv({ members: ALL.slice(0, 200), memberCount: ALL.length, membersNext: 'cur u199' });

/** Serves GET …/members pages of ALL after a cursor "cur <userId>". */
const pages: string[] = [];
const fetchFn = (async (url: string) => {
  const u = new URL(url, 'http://chat.test');
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
  if (u.pathname === '/api/refresh') return json({ user: ME, accessToken: 'tok', accessExpiresAt: '2030-01-01T00:00:00Z', refreshToken: '' });
  if (u.pathname === '/api/conversations/c1/members') {
    pages.push(u.search);
    const after = u.searchParams.get('after');
    const limit = Number(u.searchParams.get('limit') ?? 100);
    const from = ALL.findIndex((m) => `cur ${m.userId}` === after) + 1;
    const page = ALL.slice(from, from + limit);
    return json(from + limit < ALL.length ? { members: page, next: `cur ${page[page.length - 1].userId}` } : { members: page });
  }
  return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no route' } }), { status: 404 });
}) as unknown as typeof fetch;

const dialog = () => renderToStaticMarkup(<MembersDialog conversationId="c1" onClose={() => {}} />);
const header = () => renderToStaticMarkup(<ConversationView id="c1" />);
const rows = (html: string) => html.match(/<li class="member">/g)?.length ?? 0;
/** The member names listed, in order. */
const names = (html: string) => [...html.matchAll(/<span class="member-name">([^<]*)/g)].map((m) => m[1]);

beforeEach(() => {
  pages.length = 0;
  h.store = createChatStore();
  h.store.getState().reset(ME);
  h.engine = new ChatEngine({ api: new Api({ fetch: fetchFn }), store: h.store, urls: ['ws://chat.test/ws'], connect: socketFactory().connect });
});
afterEach(() => h.engine.stop());

describe('the members of a big room', () => {
  it('shows the count the server gave in the header, not the members loaded, through list refreshes', () => {
    h.store.getState().setConversationList([conv()]);
    expect(header()).toContain('>Group<'); // no count known yet
    h.store.getState().upsertConversation(detail());
    expect(header()).toContain(`>${(450).toLocaleString()} members<`);
    h.store.getState().setConversationList([conv({ lastSeq: 5 })]); // lists carry no count
    expect(header()).toContain(`>${(450).toLocaleString()} members<`);
    expect(header()).not.toContain('200 members');
  });

  it('offers "Show more members" while pages are left, appends each page, and hides it at the end', async () => {
    h.store.getState().upsertConversation(detail());
    let html = dialog();
    expect(rows(html)).toBe(200);
    expect(html).toContain('Show more members');
    expect(html).toContain('200 of 450 shown');

    await h.engine.loadMoreMembers('c1'); // what the button does
    html = dialog();
    expect(pages).toEqual(['?after=cur+u199&limit=200']);
    expect(rows(html)).toBe(400);
    expect(html).toContain('User 399');
    expect(html).toContain('Show more members');

    await h.engine.loadMoreMembers('c1');
    html = dialog();
    expect(pages).toHaveLength(2);
    expect(rows(html)).toBe(450);
    expect(html).toContain('User 449');
    expect(html).not.toContain('Show more members');
    expect(html).not.toContain('shown');
  });

  it('lists owners and admins first and the rest as loaded while pages are left, so a page goes at the bottom', async () => {
    h.store.getState().upsertConversation(detail());
    const joined = (from: number, to: number) => ALL.slice(from, to).filter((m) => m.role === 'member').map((m) => m.displayName);
    expect(names(dialog())).toEqual(['User 0', 'User 5', ...joined(0, 200)]);

    await h.engine.loadMoreMembers('c1');
    expect(names(dialog())).toEqual(['User 0', 'User 5', ...joined(0, 400)]);

    // All loaded: by role, then by name.
    await h.engine.loadMoreMembers('c1');
    const all = names(dialog());
    expect(all.slice(0, 4)).toEqual(['User 0', 'User 5', 'User 1', 'User 10']);
    expect(all.slice(2)).toEqual(joined(0, 450).sort((a, b) => a.localeCompare(b)));
  });

  it('sorts by name a room whose members all came with the detail', () => {
    h.store.getState().upsertConversation(conv({ members: [member(0), member(12), member(3), member(5)], memberCount: 4 }));
    expect(names(dialog())).toEqual(['User 0', 'User 5', 'User 12', 'User 3']);
  });

  it('offers no more in a room whose members all came with the detail', () => {
    h.store.getState().upsertConversation(conv({ members: ALL.slice(0, 3), memberCount: 3 }));
    const html = dialog();
    expect(rows(html)).toBe(3);
    expect(html).not.toContain('Show more members');
  });
});
