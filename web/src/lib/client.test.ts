import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, applySynced, backoffDelay, ChatError, ChatSocket, dispositionName, trackSeq, type Presence, type SocketStatus, type TokenSource, type Transfer } from './client';
import { flush, fixedTokens, msg, socketFactory } from '../test/fakes';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

async function connected(opts: Partial<ConstructorParameters<typeof ChatSocket>[0]> = {}) {
  const f = socketFactory();
  const sock = new ChatSocket({ urls: ['ws://a/ws'], tokens: fixedTokens(), connect: f.connect, random: () => 0.5, ...opts });
  sock.start();
  await flush();
  f.latest().open();
  f.latest().push({ type: 'ready', userId: 'u1', protocol: 1 });
  return { f, sock, ws: f.latest() };
}

describe('ChatSocket', () => {
  it('authenticates with the first frame and reports online after ready', async () => {
    const f = socketFactory();
    const statuses: SocketStatus[] = [];
    const sock = new ChatSocket({ urls: ['ws://a/ws'], tokens: fixedTokens('secret'), connect: f.connect });
    sock.on('status', (s) => statuses.push(s));
    sock.start();
    await flush();
    const ws = f.latest();
    expect(ws.url).toBe('ws://a/ws');
    ws.open();
    expect(ws.sent).toEqual([{ type: 'auth', token: 'secret' }]);
    expect(sock.isReady).toBe(false);
    ws.push({ type: 'ready', userId: 'u1', protocol: 1 });
    expect(sock.isReady).toBe(true);
    expect(statuses).toEqual(['connecting', 'online']);
    sock.stop();
  });

  it('keeps defaults for options passed as undefined', async () => {
    const { sock } = await connected({ requestTimeoutMs: undefined });
    const p = sock.ping().then(
      () => 'pong',
      (e: ChatError) => e.code,
    );
    await vi.advanceTimersByTimeAsync(14_000);
    let settled = false;
    void p.then(() => (settled = true));
    await flush();
    expect(settled).toBe(false); // the 15 s default, not an immediate timeout
    await vi.advanceTimersByTimeAsync(1_001);
    await expect(p).resolves.toBe('timeout');
    sock.stop();
  });

  it('resolves send with the ack', async () => {
    const { sock, ws } = await connected();
    const p = sock.send('c1', 'hi', 'k1');
    const f = ws.last('send');
    expect(f).toMatchObject({ conversationId: 'c1', body: 'hi', clientMsgId: 'k1' });
    ws.push({ type: 'ack', id: f.id, conversationId: 'c1', seq: 7, messageId: 'm7', clientMsgId: 'k1', createdAt: 't', duplicate: false });
    await expect(p).resolves.toMatchObject({ seq: 7, clientMsgId: 'k1', duplicate: false });
    sock.stop();
  });

  it('rejects send with the error code', async () => {
    const { sock, ws } = await connected();
    const p = sock.send('c1', 'hi', 'k1');
    ws.push({ type: 'error', id: ws.last('send').id, code: 'forbidden', message: 'not a member' });
    await expect(p).rejects.toMatchObject({ code: 'forbidden' });
    sock.stop();
  });

  it('rejects send after the timeout', async () => {
    const { sock } = await connected({ sendTimeoutMs: 5000 });
    const p = sock.send('c1', 'hi', 'k1');
    const check = expect(p).rejects.toMatchObject({ code: 'timeout' });
    await vi.advanceTimersByTimeAsync(5001);
    await check;
    sock.stop();
  });

  it('retries an unavailable send with the same clientMsgId', async () => {
    const { sock, ws } = await connected();
    const p = sock.send('c1', 'hi', 'k1');
    ws.push({ type: 'error', id: ws.last('send').id, code: 'unavailable', message: 'retry' });
    await vi.advanceTimersByTimeAsync(1000);
    const again = ws.frames('send');
    expect(again).toHaveLength(2);
    expect(again[1].clientMsgId).toBe('k1');
    ws.push({ type: 'ack', id: again[1].id, conversationId: 'c1', seq: 1, messageId: 'm', clientMsgId: 'k1', createdAt: 't', duplicate: true });
    await expect(p).resolves.toMatchObject({ duplicate: true });
    sock.stop();
  });

  it('sends attachments with a message, and none when there are none', async () => {
    const { sock, ws } = await connected();
    sock.send('c1', '', 'k1', ['f_1', 'f_2']).catch(() => {}); // rejected by stop()
    sock.send('c1', 'plain', 'k2').catch(() => {});
    const [a, b] = ws.frames('send');
    expect(a).toMatchObject({ body: '', clientMsgId: 'k1', attachments: ['f_1', 'f_2'] });
    expect(b).not.toHaveProperty('attachments');
    sock.stop();
  });

  it('edits, deletes and reacts through the outbox: acked, and retried with the same clientMsgId', async () => {
    const { sock, ws } = await connected();
    const edit = sock.event('c1', 'e1', { type: 'edit', targetSeq: 4, body: 'fixed' });
    const react = sock.event('c1', 'e2', { type: 'react', targetSeq: 4, emoji: '🎉' });
    const del = sock.event('c1', 'e3', { type: 'delete', targetSeq: 5 });
    expect(ws.last('edit')).toMatchObject({ conversationId: 'c1', clientMsgId: 'e1', targetSeq: 4, body: 'fixed' });
    expect(ws.last('react')).toMatchObject({ conversationId: 'c1', clientMsgId: 'e2', targetSeq: 4, emoji: '🎉' });
    expect(ws.last('delete')).toMatchObject({ conversationId: 'c1', clientMsgId: 'e3', targetSeq: 5 });
    expect(ws.last('delete')).not.toHaveProperty('body');

    ws.push({ type: 'ack', id: ws.last('edit').id, conversationId: 'c1', seq: 6, messageId: 'm6', clientMsgId: 'e1', createdAt: 't', duplicate: false });
    await expect(edit).resolves.toMatchObject({ seq: 6 });
    ws.push({ type: 'error', id: ws.last('react').id, code: 'rate_limited', message: 'slow down' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.frames('react').map((f) => f.clientMsgId)).toEqual(['e2', 'e2']);
    ws.push({ type: 'ack', id: ws.last('react').id, conversationId: 'c1', seq: 7, messageId: 'm7', clientMsgId: 'e2', createdAt: 't', duplicate: false });
    await expect(react).resolves.toMatchObject({ seq: 7 });
    ws.push({ type: 'error', id: ws.last('delete').id, code: 'forbidden', message: 'not yours' });
    await expect(del).rejects.toMatchObject({ code: 'forbidden' });
    sock.stop();
  });

  it('reports presence events', async () => {
    const { sock, ws } = await connected();
    const seen: Presence[] = [];
    sock.on('presence', (p) => seen.push(p));
    ws.push({ type: 'presence', userId: 'u2', status: 'online' });
    ws.push({ type: 'presence', userId: 'u2', status: 'offline', lastSeen: '2026-01-01T10:00:00.000Z' });
    expect(seen).toEqual([
      { userId: 'u2', status: 'online' },
      { userId: 'u2', status: 'offline', lastSeen: '2026-01-01T10:00:00.000Z' },
    ]);
    sock.stop();
  });

  it('holds sends made while offline until ready', async () => {
    const f = socketFactory();
    const sock = new ChatSocket({ urls: ['ws://a/ws'], tokens: fixedTokens(), connect: f.connect });
    sock.start();
    const p = sock.send('c1', 'early', 'k1');
    await flush();
    f.latest().open();
    expect(f.latest().frames('send')).toHaveLength(0);
    f.latest().push({ type: 'ready', userId: 'u1', protocol: 1 });
    const s = f.latest().last('send');
    f.latest().push({ type: 'ack', id: s.id, conversationId: 'c1', seq: 1, messageId: 'm', clientMsgId: 'k1', createdAt: 't', duplicate: false });
    await expect(p).resolves.toMatchObject({ seq: 1 });
    sock.stop();
  });

  it('fails over to the next URL and backs off with jitter', async () => {
    const f = socketFactory();
    const sock = new ChatSocket({ urls: ['ws://a/ws', 'ws://b/ws'], tokens: fixedTokens(), connect: f.connect, random: () => 0 });
    sock.start();
    await flush();
    f.latest().serverClose(1006); // a is down
    await vi.advanceTimersByTimeAsync(0);
    expect(f.made.map((s) => s.url)).toEqual(['ws://a/ws', 'ws://b/ws']);
    f.latest().serverClose(1006); // b is down too: now wait
    await vi.advanceTimersByTimeAsync(100);
    expect(f.made).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(f.made.map((s) => s.url)).toEqual(['ws://a/ws', 'ws://b/ws', 'ws://a/ws']);
    sock.stop();
  });

  it('reconnects after the server goes away and resumes with sync', async () => {
    const cursors: [string, number][] = [['c1', 4], ['c2', 0]];
    const statuses: SocketStatus[] = [];
    const { f, sock, ws } = await connected({ resumeCursors: () => cursors });
    sock.on('status', (s) => statuses.push(s));
    expect(ws.frames('sync').map((s) => [s.conversationId, s.afterSeq])).toEqual(cursors);
    ws.serverClose(1001);
    expect(statuses).toEqual(['reconnecting']);
    await vi.advanceTimersByTimeAsync(600);
    const ws2 = f.latest();
    expect(ws2).not.toBe(ws);
    ws2.open();
    cursors[0] = ['c1', 9];
    ws2.push({ type: 'ready', userId: 'u1', protocol: 1 });
    expect(ws2.frames('sync').map((s) => [s.conversationId, s.afterSeq])).toEqual([['c1', 9], ['c2', 0]]);
    expect(statuses).toEqual(['reconnecting', 'online']);
    sock.stop();
  });

  it('emits synced with the afterSeq it asked for', async () => {
    const { sock, ws } = await connected();
    const got: unknown[] = [];
    sock.on('synced', (r) => got.push(r));
    const p = sock.sync('c1', 3);
    const f = ws.last('sync');
    ws.push({ type: 'message', ...msg('c1', 4) });
    ws.push({ type: 'synced', id: f.id, conversationId: 'c1', fromSeq: 3, lastSeq: 4, hasMore: false });
    await expect(p).resolves.toEqual({ conversationId: 'c1', afterSeq: 3, fromSeq: 3, lastSeq: 4, hasMore: false });
    expect(got).toHaveLength(1);
    sock.stop();
  });

  it('reads with read/marked and reports receipts and typing', async () => {
    const { sock, ws } = await connected();
    const events: unknown[] = [];
    sock.on('receipt', (r) => events.push(r));
    sock.on('typing', (t) => events.push(t));
    const p = sock.read('c1', 7);
    const f = ws.last('read');
    expect(f).toMatchObject({ conversationId: 'c1', seq: 7 });
    ws.push({ type: 'marked', id: f.id, conversationId: 'c1', lastReadSeq: 9 });
    await expect(p).resolves.toBe(9);
    ws.push({ type: 'receipt', conversationId: 'c1', userId: 'u2', seq: 9 });
    ws.push({ type: 'typing', conversationId: 'c1', userId: 'u2' });
    expect(events).toEqual([
      { conversationId: 'c1', userId: 'u2', seq: 9 },
      { conversationId: 'c1', userId: 'u2' },
    ]);
    sock.stop();
  });

  it('sends typing at most every 2 seconds per conversation, the last burst when the window ends', async () => {
    const { sock, ws } = await connected();
    sock.typing('c1');
    sock.typing('c1');
    sock.typing('c2');
    expect(ws.frames('typing')).toEqual([
      { type: 'typing', conversationId: 'c1' },
      { type: 'typing', conversationId: 'c2' },
    ]);
    sock.typing('c1'); // still typing inside the window: one more when it ends
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ws.frames('typing')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_200);
    expect(ws.frames('typing')).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ws.frames('typing')).toHaveLength(3); // nothing while idle
    sock.stop();
  });

  it('does not send a deferred typing after the message went out', async () => {
    const { sock, ws } = await connected();
    sock.typing('c1');
    sock.typing('c1');
    sock.send('c1', 'done', 'k1').catch(() => {});
    await vi.advanceTimersByTimeAsync(3_000);
    expect(ws.frames('typing')).toHaveLength(1);
    sock.stop();
  });

  it('renews the token on the open socket before it expires', async () => {
    let n = 0;
    const tokens: TokenSource = {
      accessToken: () => Promise.resolve(`t${++n}`),
      renewAt: () => Date.now() + 10_000,
      invalidate: () => {},
    };
    const { sock, ws } = await connected({ tokens });
    expect(ws.sent[0]).toEqual({ type: 'auth', token: 't1' });
    await vi.advanceTimersByTimeAsync(10_001);
    const re = ws.frames('auth');
    expect(re).toHaveLength(2);
    expect(re[1]).toMatchObject({ token: 't2' });
    expect(re[1].id).toBeTruthy();
    ws.push({ type: 'pong', id: re[1].id });
    await flush();
    expect(ws.closedByClient).toBeNull();
    sock.stop();
  });

  it('gets a new token after a 4001 close, and signs out when that fails', async () => {
    const tokens = fixedTokens();
    const { f, sock, ws } = await connected({ tokens });
    ws.serverClose(4001);
    await vi.advanceTimersByTimeAsync(600);
    expect(tokens.invalidated).toBe(1);
    expect(f.made).toHaveLength(2);
    sock.stop();

    const refusing: TokenSource = {
      accessToken: () => Promise.reject(new ChatError('unauthorized', 'expired', 401)),
      renewAt: () => null,
      invalidate: () => {},
    };
    const f2 = socketFactory();
    const s2 = new ChatSocket({ urls: ['ws://a/ws'], tokens: refusing, connect: f2.connect });
    const out: string[] = [];
    s2.on('unauthorized', (e) => out.push(e.code));
    s2.start();
    await flush();
    expect(out).toEqual(['unauthorized']);
    expect(s2.status).toBe('closed');
    expect(f2.made).toHaveLength(0);
  });

  it('paces frames below the server rate limit', async () => {
    const { sock, ws } = await connected({ framesPerSecond: 10, frameBurst: 5 });
    const before = ws.sent.length;
    for (let i = 0; i < 12; i++) sock.send('c1', `m${i}`, `k${i}`).catch(() => {});
    expect(ws.sent.length - before).toBeLessThanOrEqual(5);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.sent.length - before).toBe(12);
    sock.stop();
  });

  it('pings an idle connection and reconnects when no pong comes', async () => {
    const { f, sock, ws } = await connected({ heartbeatMs: 1000, requestTimeoutMs: 500 });
    await vi.advanceTimersByTimeAsync(1001);
    expect(ws.frames('ping')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(501);
    expect(ws.closedByClient).toBe(4000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(f.made).toHaveLength(2);
    sock.stop();
  });
});

describe('seq cursor', () => {
  it('advances over contiguous seqs and reports jumps', () => {
    let c = { seq: 0, ahead: [] as number[] };
    c = trackSeq(c, 1).cursor;
    const j = trackSeq(c, 4);
    expect(j.gapAfter).toBe(1);
    c = trackSeq(trackSeq(j.cursor, 2).cursor, 3).cursor;
    expect(c).toEqual({ seq: 4, ahead: [] });
    expect(trackSeq(c, 2)).toEqual({ cursor: c, gapAfter: null });
  });

  it('moves to lastSeq after a complete sync', () => {
    const r = applySynced({ seq: 2, ahead: [9] }, { afterSeq: 2, lastSeq: 8, hasMore: false });
    expect(r).toEqual({ cursor: { seq: 9, ahead: [] }, gapAfter: null });
    expect(applySynced({ seq: 2, ahead: [] }, { afterSeq: 2, lastSeq: 800, hasMore: true }).gapAfter).toBe(2);
  });

  it('backs off exponentially up to the cap, with jitter', () => {
    expect(backoffDelay(0, 500, 15000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 15000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 15000, () => 1)).toBe(4000);
    expect(backoffDelay(30, 500, 15000, () => 1)).toBe(15000);
  });
});

describe('Api', () => {
  function fakeFetch(routes: Record<string, (init: RequestInit) => [number, unknown]>) {
    const calls: { url: string; init: RequestInit }[] = [];
    const fn = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      const h = routes[`${init.method} ${url}`];
      const [status, body] = h ? h(init) : [404, { error: { code: 'not_found', message: 'no route' } }];
      return new Response(body === undefined ? null : JSON.stringify(body), { status });
    }) as unknown as typeof fetch;
    return { fn, calls };
  }
  const jwt = (iat: number, exp: number) => `h.${btoa(JSON.stringify({ iat, exp })).replace(/=+$/, '')}.s`;
  const session = (token: string) => ({ user: { id: 'u1', username: 'ann', displayName: 'Ann' }, accessToken: token, accessExpiresAt: '2030-01-01T00:00:00Z', refreshToken: 'r' });

  it('refreshes once on unauthorized and retries with the new token', async () => {
    let refreshes = 0;
    const { fn, calls } = fakeFetch({
      'POST /api/login': () => [200, session(jwt(0, 900))],
      'POST /api/refresh': () => [200, session(`fresh${++refreshes}`)],
      'GET /api/conversations': (init) =>
        (init.headers as Record<string, string>).Authorization === 'Bearer fresh1' ? [200, { conversations: [] }] : [401, { error: { code: 'unauthorized', message: 'expired' } }],
    });
    const api = new Api({ fetch: fn });
    await api.login('ann', 'password1');
    await expect(api.conversations()).resolves.toEqual([]);
    expect(refreshes).toBe(1);
    const refresh = calls.find((c) => c.url === '/api/refresh')!;
    expect(refresh.init.body).toBe('{}'); // the cookie carries the refresh token
    expect((refresh.init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });

  it('shares one refresh between concurrent callers', async () => {
    let refreshes = 0;
    const { fn } = fakeFetch({ 'POST /api/refresh': () => [200, session(`t${++refreshes}`)] });
    const api = new Api({ fetch: fn });
    const [a, b] = await Promise.all([api.refresh(), api.refresh()]);
    expect(refreshes).toBe(1);
    expect(a.accessToken).toBe(b.accessToken);
    expect(a.refreshToken).toBe(''); // never kept in script
  });

  it('renews a token when a quarter of its lifetime is left', async () => {
    let now = 1_000_000;
    const { fn } = fakeFetch({ 'POST /api/login': () => [200, session(jwt(100, 100 + 20))] });
    const api = new Api({ fetch: fn, now: () => now });
    await api.login('ann', 'password1');
    expect(api.renewAt()).toBe(now + 15_000);
    now += 14_000;
    await expect(api.accessToken()).resolves.toBe(jwt(100, 120));
  });

  it('uploads a file as the multipart part "file" with the token, refreshing once on 401', async () => {
    const { fn } = fakeFetch({
      'POST /api/login': () => [200, session('old')],
      'POST /api/refresh': () => [200, session('new')],
    });
    const sent: { url: string; auth: string; file: FormDataEntryValue | null }[] = [];
    const transfer: Transfer = async (url, init) => {
      sent.push({ url, auth: init.headers.Authorization, file: init.body.get('file') });
      init.onProgress?.(0.5);
      if (init.headers.Authorization === 'Bearer old') return new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'expired' } }), { status: 401 });
      return new Response(JSON.stringify({ upload: { id: 'f_1', contentType: 'image/png', name: 'a.png', size: 3, createdAt: 't' } }), { status: 201 });
    };
    const api = new Api({ fetch: fn, transfer });
    await api.login('ann', 'password1');
    const progress: number[] = [];
    const info = await api.upload(new Blob([new Uint8Array(3)], { type: 'image/png' }), 'a.png', { onProgress: (p) => progress.push(p) });
    expect(info).toEqual({ id: 'f_1', contentType: 'image/png', name: 'a.png', size: 3, createdAt: 't' });
    expect(sent.map((s) => [s.url, s.auth])).toEqual([
      ['/api/uploads', 'Bearer old'],
      ['/api/uploads', 'Bearer new'],
    ]);
    expect((sent[1].file as File).name).toBe('a.png');
    expect(progress).toEqual([0.5, 0.5]);
  });

  it('reports a refused upload with its code', async () => {
    const { fn } = fakeFetch({ 'POST /api/login': () => [200, session('t')] });
    const transfer: Transfer = async () => new Response(JSON.stringify({ error: { code: 'too_large', message: 'file too large' } }), { status: 413 });
    const api = new Api({ fetch: fn, transfer });
    await api.login('ann', 'password1');
    await expect(api.setAvatar(new Blob(['x']), 'x.png')).rejects.toMatchObject({ code: 'too_large', status: 413 });
  });

  it('downloads with the bearer token (never in the URL), and HEAD tells what a file is', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fn = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      if (url === '/api/login') return new Response(JSON.stringify(session('tok')), { status: 200 });
      if (url === '/api/uploads/f_9' && init.method === 'HEAD') {
        return new Response(null, { status: 200, headers: { 'Content-Type': 'application/pdf', 'Content-Length': '1234', 'Content-Disposition': 'attachment; filename="q3 plan.pdf"' } });
      }
      if (url === '/api/users/u2/avatar') return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no avatar' } }), { status: 404 });
      return new Response('%PDF-1.4', { status: 200, headers: { 'Content-Type': 'application/pdf', 'Content-Disposition': "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf" } });
    }) as unknown as typeof fetch;
    const api = new Api({ fetch: fn });
    await api.login('ann', 'password1');
    await expect(api.uploadInfo('f_9')).resolves.toEqual({ id: 'f_9', contentType: 'application/pdf', name: 'q3 plan.pdf', size: 1234, createdAt: '' });
    const d = await api.download('/api/uploads/f_8');
    expect(d.name).toBe('résumé.pdf');
    expect(await d.blob.text()).toBe('%PDF-1.4');
    await expect(api.download('/api/users/u2/avatar', true)).rejects.toMatchObject({ code: 'not_found' });
    for (const c of calls.slice(1)) {
      expect((c.init.headers as Record<string, string>).Authorization).toBe('Bearer tok');
      expect(c.url).not.toContain('tok');
    }
    expect(calls[calls.length - 1].init.cache).toBe('no-cache'); // avatars change under one URL
  });

  it('asks for presence by ids', async () => {
    const { fn, calls } = fakeFetch({
      'POST /api/login': () => [200, session('t')],
      'GET /api/presence?ids=u2,u%203': () => [200, { presence: [{ userId: 'u2', status: 'online' }] }],
    });
    const api = new Api({ fetch: fn });
    await api.login('ann', 'password1');
    await expect(api.presence(['u2', 'u 3'])).resolves.toEqual([{ userId: 'u2', status: 'online' }]);
    await expect(api.presence([])).resolves.toEqual([]);
    expect(calls).toHaveLength(2);
  });

  it('asks for a page of members after a cursor, encoding it, and tells the last page by its missing next', async () => {
    const member = (id: string) => ({ userId: id, username: id, displayName: id, role: 'member', joinedAt: 't', lastReadSeq: 0 });
    const { fn, calls } = fakeFetch({
      'POST /api/login': () => [200, session('t')],
      'GET /api/conversations/c%2F1/members?after=1767225600000.u+1%26x%3D%2F&limit=200': () => [200, { members: [member('u2')], next: '1767225600001.u2' }],
      'GET /api/conversations/c%2F1/members?after=1767225600001.u2': () => [200, { members: [member('u3')] }],
    });
    const api = new Api({ fetch: fn });
    await api.login('ann', 'password1');
    await expect(api.membersPage('c/1', { after: '1767225600000.u 1&x=/', limit: 200 })).resolves.toEqual({ members: [member('u2')], next: '1767225600001.u2' });
    const last = await api.membersPage('c/1', { after: '1767225600001.u2' });
    expect(last).toEqual({ members: [member('u3')] });
    expect('next' in last).toBe(false);
    expect(calls.map((c) => c.init.method)).toEqual(['POST', 'GET', 'GET']);
  });

  it('reads file names from Content-Disposition', () => {
    expect(dispositionName('inline; filename="a \\"b\\".png"')).toBe('a "b".png');
    expect(dispositionName('attachment; filename=plain.txt')).toBe('plain.txt');
    expect(dispositionName("attachment; filename*=utf-8''%E2%9C%93.txt; filename=\"x.txt\"")).toBe('✓.txt');
    expect(dispositionName('inline')).toBe('');
    expect(dispositionName(null)).toBe('');
  });

  it('reports REST errors with their code', async () => {
    const { fn } = fakeFetch({ 'POST /api/register': () => [409, { error: { code: 'conflict', message: 'username is already taken' } }] });
    const api = new Api({ fetch: fn });
    await expect(api.register('ann', 'password1')).rejects.toMatchObject({ code: 'conflict', status: 409 });
  });
});
