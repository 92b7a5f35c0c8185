// REST: accounts, conversations, messages, and the access token (docs/protocol.md).
import { ChatError, type Conversation, type ErrorCode, type Listener, type MembersPage, type Message, type Presence, type Session, type UploadInfo, type User } from './protocol';

/** Where the socket gets its access token from; Api implements it. */
export interface TokenSource {
  /** A token that is not due for renewal yet, refreshing it when needed. */
  accessToken(): Promise<string>;
  /** Local time (ms) at which the token should be renewed; null when signed out. */
  renewAt(): number | null;
  /** Forget the current token (the server refused it). */
  invalidate(): void;
}

export interface ApiOptions {
  /** Prefix of every REST path; '' for the page's own origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Sends a multipart body reporting progress; default XMLHttpRequest where there is one, else fetch. */
  transfer?: Transfer;
  now?: () => number;
}

/** A request with a body whose upload progress is reported (fetch cannot). */
export type Transfer = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: FormData; onProgress?: (fraction: number) => void; signal?: AbortSignal },
) => Promise<Response>;

/** A file fetched with the bearer token (downloads need it: no cookie, no token in URLs). */
export interface Download {
  blob: Blob;
  contentType: string;
  /** The file name from Content-Disposition ('' when none). */
  name: string;
}

export interface UploadOptions {
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

interface HeldToken {
  token: string;
  /** Local clock times, immune to server clock skew. */
  expiresAt: number;
  renewAt: number;
}

/**
 * The REST API. It keeps the access token in memory only; the refresh token
 * lives in the HttpOnly cookie, so `refresh()` restores a session after a
 * page load. Authenticated calls refresh once on `unauthorized` and retry.
 */
export class Api implements TokenSource {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly transfer: Transfer;
  private readonly now: () => number;
  private held: HeldToken | null = null;
  private refreshing: Promise<Session> | null = null;
  private readonly sessionListeners = new Set<Listener<Session | null>>();
  user: User | null = null;

  constructor(opts: ApiOptions = {}) {
    this.base = opts.baseUrl ?? '';
    this.fetchFn = opts.fetch ?? ((...a) => globalThis.fetch(...a));
    this.transfer = opts.transfer ?? (typeof XMLHttpRequest === 'function' && !opts.fetch ? xhrTransfer : fetchTransfer(this.fetchFn));
    this.now = opts.now ?? Date.now;
  }

  /** Calls fn with the new session after login/refresh, null after sign-out. */
  onSession(fn: Listener<Session | null>): () => void {
    this.sessionListeners.add(fn);
    return () => this.sessionListeners.delete(fn);
  }

  // --- accounts

  register(username: string, password: string, displayName?: string): Promise<Session> {
    const body: Record<string, string> = { username, password };
    if (displayName) body.displayName = displayName;
    return this.startSession(this.request<Session>('POST', '/api/register', body, false));
  }

  login(username: string, password: string): Promise<Session> {
    return this.startSession(this.request<Session>('POST', '/api/login', { username, password }, false));
  }

  /**
   * Rotates the refresh cookie for a new session. Concurrent calls share one
   * request, and tabs take turns (Web Locks): presenting a refresh token twice
   * revokes every session of the user.
   */
  refresh(): Promise<Session> {
    if (!this.refreshing) {
      const run = () => this.startSession(this.request<Session>('POST', '/api/refresh', {}, false));
      const locks = (globalThis.navigator as Navigator | undefined)?.locks;
      const p: Promise<Session> = locks ? locks.request('actorchat-refresh', run).then((s) => s) : run();
      this.refreshing = p.finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** Ends this session (revokes the cookie's refresh token). */
  async logout(): Promise<void> {
    try {
      await this.request<void>('POST', '/api/logout', {}, false);
    } finally {
      this.signedOut();
    }
  }

  me(): Promise<{ user: User }> {
    return this.request('GET', '/api/me');
  }

  /** Public profiles of up to 100 users (unknown ids are left out), e.g. members who have left. */
  async users(ids: string[]): Promise<User[]> {
    const r = await this.request<{ users: User[] }>('GET', `/api/users?ids=${ids.map(encodeURIComponent).join(',')}`);
    return r.users ?? [];
  }

  // --- conversations

  async conversations(): Promise<Conversation[]> {
    const r = await this.request<{ conversations: Conversation[] }>('GET', '/api/conversations');
    return r.conversations ?? [];
  }

  conversation(id: string): Promise<Conversation> {
    return this.request('GET', `/api/conversations/${encodeURIComponent(id)}`);
  }

  createGroup(title: string, members: string[]): Promise<Conversation> {
    return this.request('POST', '/api/conversations', { kind: 'group', title, members });
  }

  createDirect(username: string): Promise<Conversation> {
    return this.request('POST', '/api/conversations', { kind: 'direct', with: username });
  }

  /** A page of members in join order after a cursor (a detail's `membersNext`, or a page's `next`). */
  async membersPage(id: string, q: { after?: string; limit?: number } = {}): Promise<MembersPage> {
    const p = new URLSearchParams();
    if (q.after) p.set('after', q.after);
    if (q.limit) p.set('limit', String(q.limit));
    const qs = p.toString();
    const r = await this.request<MembersPage>('GET', `/api/conversations/${encodeURIComponent(id)}/members${qs ? `?${qs}` : ''}`);
    return r.next ? { members: r.members ?? [], next: r.next } : { members: r.members ?? [] };
  }

  addMember(id: string, username: string, role?: 'member' | 'admin'): Promise<Conversation> {
    const body: Record<string, string> = { username };
    if (role) body.role = role;
    return this.request('POST', `/api/conversations/${encodeURIComponent(id)}/members`, body);
  }

  removeMember(id: string, userId: string): Promise<Conversation> {
    return this.request('DELETE', `/api/conversations/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`);
  }

  leave(id: string): Promise<void> {
    return this.request('POST', `/api/conversations/${encodeURIComponent(id)}/leave`, {});
  }

  /** A page of messages, ascending by seq: the newest, or before/after a seq. */
  async messages(id: string, q: { before?: number; after?: number; limit?: number } = {}): Promise<Message[]> {
    const p = new URLSearchParams();
    if (q.before) p.set('before', String(q.before));
    if (q.after) p.set('after', String(q.after));
    if (q.limit) p.set('limit', String(q.limit));
    const qs = p.toString();
    const r = await this.request<{ messages: Message[] }>(
      'GET',
      `/api/conversations/${encodeURIComponent(id)}/messages${qs ? `?${qs}` : ''}`,
    );
    return r.messages ?? [];
  }

  async markRead(id: string, seq: number): Promise<number> {
    const r = await this.request<{ lastReadSeq: number }>('POST', `/api/conversations/${encodeURIComponent(id)}/read`, { seq });
    return r.lastReadSeq;
  }

  // --- presence

  /** Presence of up to 50 users you share a conversation with (others are left out). */
  async presence(ids: string[]): Promise<Presence[]> {
    if (!ids.length) return [];
    const r = await this.request<{ presence: Presence[] }>('GET', `/api/presence?ids=${ids.map(encodeURIComponent).join(',')}`);
    return r.presence ?? [];
  }

  // --- files and avatars

  /** Stores a file for a message (multipart part `file`); the server checks its type and size. */
  async upload(file: Blob, name: string, opts: UploadOptions = {}): Promise<UploadInfo> {
    const r = await this.multipart<{ upload: UploadInfo }>('POST', '/api/uploads', file, name, opts);
    return r.upload;
  }

  /** Sets the signed-in user's avatar (an image). */
  async setAvatar(file: Blob, name: string, opts: UploadOptions = {}): Promise<UploadInfo> {
    const r = await this.multipart<{ avatar: UploadInfo }>('PUT', '/api/me/avatar', file, name, opts);
    return r.avatar;
  }

  /** GET of a file (an upload or an avatar) with the bearer token, as a Blob. */
  async download(path: string, revalidate = false): Promise<Download> {
    const res = await this.authorized((token) =>
      this.fetchOrFail(this.base + path, {
        method: 'GET',
        headers: { Authorization: `Bearer ${token}` },
        credentials: 'same-origin',
        // Avatars change under the same URL: ask the server again rather than the HTTP cache.
        cache: revalidate ? 'no-cache' : 'default',
      }),
    );
    if (!res.ok) return this.parse<never>(res);
    const blob = await res.blob();
    return { blob, contentType: res.headers.get('Content-Type') ?? blob.type, name: dispositionName(res.headers.get('Content-Disposition')) };
  }

  /** What a message's attachment is (HEAD: type, size and name), without downloading it. */
  async uploadInfo(id: string): Promise<UploadInfo> {
    const res = await this.authorized((token) =>
      this.fetchOrFail(`${this.base}/api/uploads/${encodeURIComponent(id)}`, {
        method: 'HEAD',
        headers: { Authorization: `Bearer ${token}` },
        credentials: 'same-origin',
      }),
    );
    if (!res.ok) return this.parse<never>(res);
    return {
      id,
      contentType: res.headers.get('Content-Type') ?? 'application/octet-stream',
      name: dispositionName(res.headers.get('Content-Disposition')),
      size: Number(res.headers.get('Content-Length') ?? 0),
      createdAt: '',
    };
  }

  // --- TokenSource

  async accessToken(): Promise<string> {
    const h = this.held;
    if (h && this.now() < h.renewAt) return h.token;
    const s = await this.refresh();
    return s.accessToken;
  }

  renewAt(): number | null {
    return this.held?.renewAt ?? null;
  }

  invalidate(): void {
    this.held = null;
  }

  get signedIn(): boolean {
    return this.held !== null;
  }

  // --- internals

  private async startSession(p: Promise<Session>): Promise<Session> {
    let s: Session;
    try {
      s = await p;
    } catch (e) {
      if (e instanceof ChatError && e.code === 'unauthorized') this.signedOut();
      throw e;
    }
    const now = this.now();
    let lifetime = decodeJwtLifetimeMs(s.accessToken);
    if (lifetime === null) {
      const left = Date.parse(s.accessExpiresAt) - now;
      lifetime = Number.isFinite(left) && left > 0 ? left : 5 * 60_000;
    }
    // Renew when a quarter of the lifetime (at most a minute) is left.
    const lead = Math.min(60_000, lifetime / 4);
    this.held = { token: s.accessToken, expiresAt: now + lifetime, renewAt: now + lifetime - lead };
    this.user = s.user;
    // The refresh token stays in the HttpOnly cookie; never keep it in script.
    const session: Session = { ...s, refreshToken: '' };
    for (const fn of this.sessionListeners) fn(session);
    return session;
  }

  private signedOut(): void {
    const was = this.held !== null || this.user !== null;
    this.held = null;
    this.user = null;
    if (was) for (const fn of this.sessionListeners) fn(null);
  }

  private async request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    if (!auth) return this.parse<T>(await this.send(method, path, body, null));
    return this.parse<T>(await this.authorized((token) => this.send(method, path, body, token)));
  }

  /** Calls send with the access token; on 401 (expired in flight, or revoked) refreshes once and calls it again. */
  private async authorized(send: (token: string) => Promise<Response>): Promise<Response> {
    const res = await send(await this.accessToken());
    if (res.status !== 401) return res;
    this.held = null;
    return send(await this.accessToken());
  }

  private async multipart<T>(method: string, path: string, file: Blob, name: string, opts: UploadOptions): Promise<T> {
    const res = await this.authorized((token) => {
      const body = new FormData();
      body.append('file', file, name);
      return this.transfer(this.base + path, {
        method,
        headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
        body,
        onProgress: opts.onProgress,
        signal: opts.signal,
      });
    });
    return this.parse<T>(res);
  }

  private async fetchOrFail(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchFn(url, init);
    } catch {
      throw new ChatError('network', 'The server cannot be reached.');
    }
  }

  private async send(method: string, path: string, body: unknown, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await this.fetchFn(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      throw new ChatError('network', 'The server cannot be reached.');
    }
  }

  private async parse<T>(res: Response): Promise<T> {
    if (res.status === 204) return undefined as T;
    let data: unknown = null;
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const err = (data as { error?: { code?: ErrorCode; message?: string } } | null)?.error;
      throw new ChatError(err?.code ?? httpCode(res.status), err?.message ?? `HTTP ${res.status}`, res.status);
    }
    return data as T;
  }
}

/** Multipart through fetch: no progress events, only the end. */
function fetchTransfer(fetchFn: typeof fetch): Transfer {
  return async (url, init) => {
    try {
      const res = await fetchFn(url, { method: init.method, headers: init.headers, body: init.body, credentials: 'same-origin', signal: init.signal });
      init.onProgress?.(1);
      return res;
    } catch {
      throw new ChatError('network', init.signal?.aborted ? 'Cancelled.' : 'The server cannot be reached.');
    }
  };
}

/** Multipart through XMLHttpRequest, for upload progress. */
const xhrTransfer: Transfer = (url, init) =>
  new Promise<Response>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(init.method, url);
    for (const [k, v] of Object.entries(init.headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) init.onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      const noBody = xhr.status === 204 || xhr.status === 205 || xhr.status === 304;
      resolve(new Response(noBody ? null : xhr.responseText, { status: xhr.status, headers: { 'Content-Type': xhr.getResponseHeader('Content-Type') ?? '' } }));
    };
    xhr.onerror = () => reject(new ChatError('network', 'The server cannot be reached.'));
    xhr.onabort = () => reject(new ChatError('network', 'Cancelled.'));
    if (init.signal) {
      if (init.signal.aborted) return reject(new ChatError('network', 'Cancelled.'));
      init.signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    xhr.send(init.body);
  });

/** The file name of a Content-Disposition header (RFC 6266: filename* wins over filename), or ''. */
export function dispositionName(header: string | null): string {
  if (!header) return '';
  const ext = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (ext) {
    try {
      return decodeURIComponent(ext[2].trim());
    } catch {
      // fall through to the plain name
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  if (quoted) return quoted[1].replace(/\\(.)/g, '$1');
  const bare = /filename\s*=\s*([^;\s]+)/i.exec(header);
  return bare ? bare[1] : '';
}

function httpCode(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'invalid';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'too_large';
    case 429:
      return 'rate_limited';
    case 503:
    case 502:
    case 504:
      return 'unavailable';
    default:
      return 'internal';
  }
}

function decodeJwtLifetimeMs(token: string): number | null {
  try {
    const part = token.split('.')[1];
    if (!part) return null;
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(json) as { iat?: number; exp?: number };
    if (typeof claims.iat === 'number' && typeof claims.exp === 'number' && claims.exp > claims.iat) {
      return (claims.exp - claims.iat) * 1000;
    }
  } catch {
    // not a JWT we can read: fall back to accessExpiresAt
  }
  return null;
}
