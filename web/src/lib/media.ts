// Object URLs for files the server serves only with the bearer token (avatars,
// attachments): no cookie carries credentials and tokens never go in URLs, so
// an <img> cannot load them itself. Each is fetched once as a Blob and shared
// by every component that shows it; a URL is revoked when nothing shows it and
// it falls out of a small idle list, and all of them at sign-out.
import { ChatError, type ErrorCode } from './protocol';

export type BlobState =
  | { status: 'loading' }
  | { status: 'ready'; url: string; contentType: string; size: number }
  /** The server has none (an avatar never set). */
  | { status: 'missing' }
  | { status: 'error'; code: ErrorCode };

export interface BlobCacheOptions {
  /** Fetches a key's Blob; null when the server has none. */
  load: (key: string) => Promise<Blob | null>;
  /** Entries nothing shows that are kept (and their URLs alive) for when they are shown again. Default 100. */
  maxIdle?: number;
  /** How long a state stays fresh; showing a stale one loads it again (the old URL shows meanwhile). */
  ttlMs?: Partial<Record<'ready' | 'missing' | 'error', number>>;
  createUrl?: (b: Blob) => string;
  revokeUrl?: (url: string) => void;
  now?: () => number;
}

interface Entry {
  state: BlobState;
  refs: number;
  loadedAt: number;
  loading: Promise<void> | null;
  /** Marked stale by revalidate(): loads again when next shown, whatever its age. */
  expired: boolean;
}

const LOADING: BlobState = { status: 'loading' };

export class BlobCache {
  private readonly entries = new Map<string, Entry>();
  /** Keys nothing shows, least recently released first. */
  private readonly idle = new Set<string>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly o: Required<Omit<BlobCacheOptions, 'ttlMs'>> & { ttlMs: Record<'ready' | 'missing' | 'error', number> };
  private generation = 0;

  constructor(opts: BlobCacheOptions) {
    this.o = {
      maxIdle: 100,
      createUrl: (b) => URL.createObjectURL(b),
      revokeUrl: (u) => URL.revokeObjectURL(u),
      now: Date.now,
      ...opts,
      ttlMs: { ready: Infinity, missing: Infinity, error: 30_000, ...opts.ttlMs },
    };
  }

  /** The key's state; undefined when it was never asked for (or was dropped). */
  get(key: string): BlobState | undefined {
    return this.entries.get(key)?.state;
  }

  /** Calls fn whenever the key's state changes. */
  subscribe(key: string, fn: () => void): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (!set.size) this.listeners.delete(key);
    };
  }

  /**
   * The key is shown: it loads when unknown or stale, and its URL stays valid
   * until the returned release is called (and some time after).
   */
  acquire(key: string): () => void {
    let e = this.entries.get(key);
    if (!e) {
      e = { state: LOADING, refs: 0, loadedAt: 0, loading: null, expired: false };
      this.entries.set(key, e);
    }
    e.refs++;
    this.idle.delete(key);
    if (!e.loading && (e.state === LOADING || this.stale(e))) void this.load(key, e);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(key);
    };
  }

  /**
   * Loads the key again now (e.g. after a new avatar was set); what shows stays until the new one is in.
   * During a load, once more after it: that one may have asked for what was current before.
   */
  refresh(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return Promise.resolve();
    if (!e.loading) return this.load(key, e);
    return e.loading.then(() => {
      const now = this.entries.get(key);
      return now ? (now.loading ?? this.load(key, now)) : undefined;
    });
  }

  /**
   * What the cache holds may be out of date (after a reconnect, when live change events were
   * missed): what is shown loads again now (its image stays until the new one is in), and the
   * rest loads again when next shown.
   */
  revalidate(): void {
    for (const [key, e] of this.entries) {
      if (e.refs > 0) void this.refresh(key);
      else e.expired = true;
    }
  }

  /** Revokes every URL and forgets everything (sign-out). */
  clear(): void {
    this.generation++;
    for (const e of this.entries.values()) if (e.state.status === 'ready') this.o.revokeUrl(e.state.url);
    const keys = [...this.entries.keys()];
    this.entries.clear();
    this.idle.clear();
    for (const k of keys) this.notify(k);
  }

  /** How many entries hold a live object URL (for tests). */
  get liveUrls(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state.status === 'ready') n++;
    return n;
  }

  private stale(e: Entry): boolean {
    if (e.state.status === 'loading') return false;
    return e.expired || this.o.now() - e.loadedAt > this.o.ttlMs[e.state.status];
  }

  private load(key: string, e: Entry): Promise<void> {
    const gen = this.generation;
    const p = this.o.load(key).then(
      (blob) => {
        if (gen !== this.generation || this.entries.get(key) !== e) return;
        const old = e.state;
        e.state = blob ? { status: 'ready', url: this.o.createUrl(blob), contentType: blob.type, size: blob.size } : { status: 'missing' };
        if (old.status === 'ready') this.o.revokeUrl(old.url);
      },
      (err: unknown) => {
        if (gen !== this.generation || this.entries.get(key) !== e) return;
        // A failed revalidation keeps the image it had.
        if (e.state.status !== 'ready') e.state = { status: 'error', code: err instanceof ChatError ? err.code : 'internal' };
      },
    );
    e.loading = p.finally(() => {
      if (this.entries.get(key) !== e) return;
      e.loading = null;
      e.loadedAt = this.o.now();
      e.expired = false;
      this.notify(key);
      if (e.refs === 0) this.trim();
    });
    return e.loading;
  }

  private release(key: string): void {
    const e = this.entries.get(key);
    if (!e || e.refs === 0) return;
    e.refs--;
    if (e.refs > 0) return;
    this.idle.add(key);
    this.trim();
  }

  /** Drops the least recently shown idle entries beyond maxIdle (not those still loading). */
  private trim(): void {
    if (this.idle.size <= this.o.maxIdle) return;
    for (const key of this.idle) {
      if (this.idle.size <= this.o.maxIdle) break;
      const e = this.entries.get(key);
      if (e?.loading) continue;
      this.idle.delete(key);
      this.entries.delete(key);
      if (e?.state.status === 'ready') this.o.revokeUrl(e.state.url);
      this.notify(key);
    }
  }

  private notify(key: string): void {
    const set = this.listeners.get(key);
    if (set) for (const fn of [...set]) fn();
  }
}
