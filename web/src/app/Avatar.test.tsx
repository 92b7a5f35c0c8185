// Live avatars: a `profile` event (or my own new avatar) records the version in the store, the avatar
// cache loads that version (`?v=`) while the old image keeps showing, and <Avatar> shows the new one.
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api } from '../lib/client';
import { ChatEngine, avatarPath } from '../state/engine';
import { createChatStore, type ChatState, type ChatStore } from '../state/store';
import { flush, socketFactory, type FakeSocket } from '../test/fakes';
import { Avatar } from './Avatar';

const h = vi.hoisted(() => ({ store: null as unknown as ChatStore, engine: null as unknown as ChatEngine }));

vi.mock('./chat', () => ({
  useChat: <T,>(select: (s: ChatState) => T): T => select(h.store.getState()),
  useEngine: () => h.engine,
}));

const ME = { id: 'u_me', username: 'me', displayName: 'Me' };

/** GET and PUT calls with their cache mode; avatars answer a body naming the version asked for. */
const calls: string[] = [];
const fetchFn = (async (url: string, init: RequestInit) => {
  const u = new URL(url, 'http://chat.test');
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
  if (u.pathname === '/api/refresh') return json(200, { user: ME, accessToken: 'tok', accessExpiresAt: new Date(Date.now() + 3_600_000).toISOString(), refreshToken: '' });
  if (u.pathname === '/api/conversations') return json(200, { conversations: [] });
  calls.push(`${init.method} ${u.pathname}${u.search}${init.cache ? ` (${init.cache})` : ''}`);
  if (u.pathname === '/api/me/avatar') {
    const avatar = { id: 'f_mine', contentType: 'image/png', name: 'me.png', size: 3, createdAt: '2026-01-01T00:00:00.000Z' };
    return json(200, { avatar, avatarVersion: avatar.id });
  }
  if (u.pathname.endsWith('/avatar')) return new Response(new Blob([`img ${u.searchParams.get('v') ?? 'unversioned'}`], { type: 'image/png' }), { status: 200, headers: { 'Content-Type': 'image/png' } });
  return json(404, { error: { code: 'not_found', message: 'no route' } });
}) as unknown as typeof fetch;

let ws: FakeSocket;
let f: ReturnType<typeof socketFactory>;
const st = () => h.store.getState();
const html = (userId: string) => renderToStaticMarkup(<Avatar userId={userId} name="Bob" />);
const src = (markup: string) => /<img src="([^"]+)"/.exec(markup)?.[1];
/** Lets the engine's fetches and the cache's loads settle. */
const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await flush();
    await new Promise((r) => setTimeout(r, 0));
  }
};

beforeEach(async () => {
  calls.length = 0;
  h.store = createChatStore();
  st().reset(ME);
  f = socketFactory();
  // No XMLHttpRequest in Node: the upload goes through fetch.
  h.engine = new ChatEngine({ api: new Api({ fetch: fetchFn }), store: h.store, urls: ['ws://chat.test/ws'], connect: f.connect });
  await h.engine.start();
  await settle();
  ws = f.latest();
  ws.open();
  await flush();
  ws.push({ type: 'ready', userId: ME.id, protocol: 1 });
  await settle();
});
afterEach(() => h.engine.stop());

describe('live avatars', () => {
  it('builds the avatar URL with the version when one is known', () => {
    expect(avatarPath('u/1')).toBe('/api/users/u%2F1/avatar');
    expect(avatarPath('u/1', 'f_2')).toBe('/api/users/u%2F1/avatar?v=f_2');
  });

  it('a profile event records the version and the shown avatar loads it, replacing the old image', async () => {
    const release = h.engine.avatars.acquire('u_bob'); // <Avatar> is mounted
    await settle();
    expect(calls).toEqual(['GET /api/users/u_bob/avatar (no-cache)']);
    const before = html('u_bob');
    const first = src(before);
    expect(first).toMatch(/^blob:/);
    expect(before).toContain('data-avatar="image"');
    expect(before).not.toContain('data-avatar-version');

    ws.push({ type: 'profile', userId: 'u_bob', avatarVersion: 'f_2' });
    expect(st().avatarVersions).toEqual({ u_bob: 'f_2' });
    expect(src(html('u_bob'))).toBe(first); // the old image shows until the new one is in
    await settle();
    expect(calls).toEqual(['GET /api/users/u_bob/avatar (no-cache)', 'GET /api/users/u_bob/avatar?v=f_2 (no-cache)']);
    const after = html('u_bob');
    expect(src(after)).toMatch(/^blob:/);
    expect(src(after)).not.toBe(first);
    expect(after).toContain('data-avatar-version="f_2"');
    expect(await (await fetch(src(after)!)).text()).toBe('img f_2');

    // The same version again, or a malformed event: nothing more is asked.
    ws.push({ type: 'profile', userId: 'u_bob', avatarVersion: 'f_2' });
    ws.push({ type: 'profile', userId: 'u_bob' });
    await settle();
    expect(calls).toHaveLength(2);
    expect(st().avatarVersions).toEqual({ u_bob: 'f_2' });
    release();
  });

  it('an avatar not shown is only recorded, and loads at that version when shown', async () => {
    ws.push({ type: 'profile', userId: 'u_ann', avatarVersion: 'f_9' });
    await settle();
    expect(calls).toEqual([]);
    const release = h.engine.avatars.acquire('u_ann');
    await settle();
    expect(calls).toEqual(['GET /api/users/u_ann/avatar?v=f_9 (no-cache)']);
    expect(html('u_ann')).toContain('data-avatar-version="f_9"');
    release();
  });

  it('after a reconnect the avatars shown are asked again, the others when next shown (profile events are not replayed)', async () => {
    const release = h.engine.avatars.acquire('u_bob');
    await settle();
    ws.push({ type: 'profile', userId: 'u_ann', avatarVersion: 'f_9' });
    const releaseAnn = h.engine.avatars.acquire('u_ann');
    await settle();
    releaseAnn(); // loaded, no longer shown
    expect(calls).toEqual(['GET /api/users/u_bob/avatar (no-cache)', 'GET /api/users/u_ann/avatar?v=f_9 (no-cache)']);

    // The connection drops; the next one is ready: a reconnect.
    ws.serverClose(1001);
    await new Promise((r) => setTimeout(r, 600)); // the socket's first backoff is 250-500 ms
    const ws2 = f.latest();
    expect(ws2).not.toBe(ws);
    ws2.open();
    await flush();
    ws2.push({ type: 'ready', userId: ME.id, protocol: 1 });
    await settle();
    expect(calls.slice(2)).toEqual(['GET /api/users/u_bob/avatar (no-cache)']); // revalidated (a 304 when unchanged)
    h.engine.avatars.acquire('u_ann')();
    await settle();
    expect(calls.slice(3)).toEqual(['GET /api/users/u_ann/avatar?v=f_9 (no-cache)']);
    release();
  });

  it('my own new avatar: its version from the PUT answer, loaded at once', async () => {
    const release = h.engine.avatars.acquire(ME.id);
    await settle();
    await h.engine.setAvatar(new File([new Uint8Array([1, 2, 3])], 'me.png', { type: 'image/png' }));
    expect(st().avatarVersions[ME.id]).toBe('f_mine');
    expect(calls.slice(-2)).toEqual(['PUT /api/me/avatar', `GET /api/users/${ME.id}/avatar?v=f_mine (no-cache)`]);
    // The event of my own change, as my other sessions get it, changes nothing more here.
    ws.push({ type: 'profile', userId: ME.id, avatarVersion: 'f_mine' });
    await settle();
    expect(calls.filter((c) => c.includes('?v=f_mine'))).toHaveLength(1);
    release();
  });
});
