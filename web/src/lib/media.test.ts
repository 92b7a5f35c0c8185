import { describe, expect, it } from 'vitest';
import { flush } from '../test/fakes';
import { BlobCache, type BlobCacheOptions } from './media';
import { ChatError } from './protocol';

/** A cache whose loads the test settles by hand, with countable object URLs. */
function harness(over: Partial<BlobCacheOptions> = {}) {
  const loads: { key: string; resolve: (b: Blob | null) => void; reject: (e: unknown) => void }[] = [];
  const live = new Set<string>();
  const revoked: string[] = [];
  let n = 0;
  let now = 0;
  const cache = new BlobCache({
    load: (key) => new Promise((resolve, reject) => loads.push({ key, resolve, reject })),
    createUrl: () => {
      const u = `blob:test/${++n}`;
      live.add(u);
      return u;
    },
    revokeUrl: (u) => {
      live.delete(u);
      revoked.push(u);
    },
    now: () => now,
    ...over,
  });
  const png = (size = 3) => new Blob([new Uint8Array(size)], { type: 'image/png' });
  return { cache, loads, live, revoked, png, tick: (ms: number) => (now += ms) };
}

describe('BlobCache', () => {
  it('loads a key once for every component showing it', async () => {
    const { cache, loads, png } = harness();
    const notified: number[] = [];
    cache.subscribe('u1', () => notified.push(1));
    const r1 = cache.acquire('u1');
    const r2 = cache.acquire('u1');
    expect(loads).toHaveLength(1);
    expect(cache.get('u1')).toEqual({ status: 'loading' });
    loads[0].resolve(png(5));
    await flush();
    expect(cache.get('u1')).toEqual({ status: 'ready', url: 'blob:test/1', contentType: 'image/png', size: 5 });
    expect(notified.length).toBeGreaterThan(0);
    r1();
    r2();
  });

  it('remembers that there is none (404) without an object URL', async () => {
    const { cache, loads, live } = harness();
    cache.acquire('u1');
    loads[0].resolve(null);
    await flush();
    expect(cache.get('u1')).toEqual({ status: 'missing' });
    expect(live.size).toBe(0);
    cache.acquire('u1');
    expect(loads).toHaveLength(1); // fresh: not asked again
  });

  it('revokes the URLs of entries nothing shows once more than maxIdle are idle, least recent first', async () => {
    const { cache, loads, live, revoked, png } = harness({ maxIdle: 1 });
    const release = ['a', 'b', 'c'].map((k) => cache.acquire(k));
    for (const l of loads) l.resolve(png());
    await flush();
    expect(live.size).toBe(3);
    release[0](); // a idle
    expect(revoked).toEqual([]);
    release[1](); // a, b idle: a goes
    expect(revoked).toEqual(['blob:test/1']);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.status).toBe('ready');
    release[1](); // a second release changes nothing
    expect(cache.get('b')?.status).toBe('ready');
    // Showing b again takes it off the idle list; c's release then keeps both.
    const again = cache.acquire('b');
    release[2]();
    expect(cache.get('b')?.status).toBe('ready');
    expect(cache.get('c')?.status).toBe('ready');
    again();
    expect(cache.get('c')).toBeUndefined(); // c was idle longer
    expect(live).toEqual(new Set(['blob:test/2']));
  });

  it('never revokes a URL still shown', async () => {
    const { cache, loads, live, png } = harness({ maxIdle: 0 });
    const keep = cache.acquire('a');
    loads[0].resolve(png());
    await flush();
    cache.acquire('b')();
    expect(cache.get('a')?.status).toBe('ready');
    expect(live.size).toBe(1);
    keep();
    expect(live.size).toBe(0);
  });

  it('refresh loads again, swaps the URL and revokes the old one', async () => {
    const { cache, loads, live, revoked, png } = harness();
    cache.acquire('me');
    loads[0].resolve(null);
    await flush();
    const p = cache.refresh('me');
    loads[1].resolve(png());
    await p;
    expect(cache.get('me')).toMatchObject({ status: 'ready', url: 'blob:test/1' });
    const q = cache.refresh('me');
    loads[2].resolve(png(9));
    await q;
    expect(cache.get('me')).toMatchObject({ status: 'ready', url: 'blob:test/2', size: 9 });
    expect(revoked).toEqual(['blob:test/1']);
    expect(live).toEqual(new Set(['blob:test/2']));
  });

  it('refresh during a load loads once more after it (that load may fetch what was current before)', async () => {
    const { cache, loads, png } = harness();
    cache.acquire('u1');
    const p = cache.refresh('u1');
    const q = cache.refresh('u1');
    expect(loads).toHaveLength(1);
    loads[0].resolve(png(1));
    await flush();
    expect(loads).toHaveLength(2); // one more, shared by both refreshes
    expect(cache.get('u1')).toMatchObject({ status: 'ready', size: 1 }); // the old image shows meanwhile
    loads[1].resolve(png(7));
    await Promise.all([p, q]);
    expect(loads).toHaveLength(2);
    expect(cache.get('u1')).toMatchObject({ status: 'ready', size: 7 });
  });

  it('asks again for a stale state when shown, keeping the image on a failed revalidation', async () => {
    const { cache, loads, png, tick } = harness({ ttlMs: { ready: 1000, missing: 100 } });
    const r = cache.acquire('u1');
    loads[0].resolve(png());
    await flush();
    r();
    tick(500);
    cache.acquire('u1')();
    expect(loads).toHaveLength(1); // still fresh
    tick(600);
    cache.acquire('u1');
    expect(loads).toHaveLength(2);
    loads[1].reject(new ChatError('unavailable', 'later'));
    await flush();
    expect(cache.get('u1')).toMatchObject({ status: 'ready', url: 'blob:test/1' });
  });

  it('records an error code and retries after its TTL', async () => {
    const { cache, loads, tick } = harness({ ttlMs: { error: 100 } });
    cache.acquire('f1');
    loads[0].reject(new ChatError('forbidden', 'no'));
    await flush();
    expect(cache.get('f1')).toEqual({ status: 'error', code: 'forbidden' });
    tick(50);
    cache.acquire('f1');
    expect(loads).toHaveLength(1);
    tick(100);
    cache.acquire('f1');
    expect(loads).toHaveLength(2);
  });

  it('clear revokes everything and ignores loads still in flight', async () => {
    const { cache, loads, live, png } = harness();
    cache.acquire('a');
    cache.acquire('b');
    loads[0].resolve(png());
    await flush();
    cache.clear();
    expect(live.size).toBe(0);
    loads[1].resolve(png());
    await flush();
    expect(cache.get('b')).toBeUndefined();
    expect(live.size).toBe(0);
  });
  it('revalidate: what is shown loads again now, keeping its image meanwhile; the rest when next shown', async () => {
    const { cache, loads, png } = harness(); // no TTL: nothing would ever load again by age
    const shown = cache.acquire('u1');
    cache.acquire('u2')(); // loaded, then no longer shown
    loads[0].resolve(png(1));
    loads[1].resolve(png(2));
    await flush();
    cache.acquire('u1')();
    expect(loads).toHaveLength(2); // fresh

    cache.revalidate();
    expect(loads.map((l) => l.key)).toEqual(['u1', 'u2', 'u1']);
    expect(cache.get('u1')).toMatchObject({ status: 'ready', size: 1 }); // the old image meanwhile
    loads[2].resolve(png(7));
    await flush();
    expect(cache.get('u1')).toMatchObject({ status: 'ready', size: 7 });

    const again = cache.acquire('u2');
    expect(loads.map((l) => l.key)).toEqual(['u1', 'u2', 'u1', 'u2']);
    loads[3].resolve(png(8));
    await flush();
    expect(cache.get('u2')).toMatchObject({ status: 'ready', size: 8 });
    cache.acquire('u2')();
    expect(loads).toHaveLength(4); // fresh again
    again();
    shown();
  });
});
