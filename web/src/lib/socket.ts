// The live WebSocket (docs/protocol.md §WebSocket).
import type { TokenSource } from './api';
import {
  backoffDelay,
  ChatError,
  type Ack,
  type ErrorCode,
  type HistoryPage,
  type Listener,
  type MembershipEvent,
  type Message,
  type ReceiptEvent,
  type SyncResult,
  type TypingEvent,
} from './protocol';

export type SocketStatus = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

export interface SocketEvents {
  status: SocketStatus;
  ready: { userId: string };
  message: Message;
  membership: MembershipEvent;
  receipt: ReceiptEvent;
  typing: TypingEvent;
  synced: SyncResult;
  /** An error frame without a request id (the server could not parse a frame). */
  error: ChatError;
  /** The server refused our credentials and a refresh failed: sign in again. */
  unauthorized: ChatError;
}

/** The part of the DOM WebSocket the client uses (tests pass a fake). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface ChatSocketOptions {
  /** WebSocket URLs to try in order; a failure moves on to the next. */
  urls: string[];
  tokens: TokenSource;
  /** Called after every `ready`: the (conversationId, afterSeq) pairs to sync. */
  resumeCursors?: () => Iterable<readonly [string, number]>;
  /** Opens a socket; default the global WebSocket. */
  connect?: WebSocketFactory;
  /** How long a sync, history, ping or re-auth may take. Default 15 s. */
  requestTimeoutMs?: number;
  /** How long send() keeps trying (across reconnects) before it rejects. Default 15 s. */
  sendTimeoutMs?: number;
  /** Reconnect backoff. Defaults 500 ms, 15 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Idle time after which the client pings to detect a dead connection. Default 30 s. */
  heartbeatMs?: number;
  /** Outgoing frame budget (the server allows 50/s, burst 100). Defaults 40/s, 80. */
  framesPerSecond?: number;
  frameBurst?: number;
  random?: () => number;
  now?: () => number;
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: ChatError) => void;
  timer: ReturnType<typeof setTimeout>;
  extra?: number; // sync: the afterSeq asked for
}

interface OutboxEntry {
  key: string;
  conversationId: string;
  body: string;
  clientMsgId: string;
  promise: Promise<Ack>;
  resolve: (a: Ack) => void;
  reject: (e: ChatError) => void;
  deadline: ReturnType<typeof setTimeout>;
  requestId: string | null; // the request in flight on the current socket
  retries: number;
}

const OPEN = 1;
/** The server forwards at most one typing event per user and conversation in this window. */
const TYPING_WINDOW_MS = 2_000;

/**
 * One live connection to chatd that survives restarts: it authenticates,
 * reconnects with backoff and jitter (trying every URL in turn), renews the
 * access token on the open socket, resumes every conversation with `sync`
 * after each `ready`, and retries sends with the same clientMsgId until they
 * are acknowledged or time out.
 */
export class ChatSocket {
  private readonly o: Required<Omit<ChatSocketOptions, 'resumeCursors'>> & Pick<ChatSocketOptions, 'resumeCursors'>;
  private ws: WebSocketLike | null = null;
  private urlIndex = 0;
  private attempt = 0;
  private started = false;
  private ready = false;
  private everReady = false;
  private nextReq = 0;
  private readonly listeners: { [K in keyof SocketEvents]?: Set<Listener<SocketEvents[K]>> } = {};
  private readonly waiters = new Map<string, Waiter<unknown>>();
  private readonly outbox = new Map<string, OutboxEntry>();
  private readonly byRequest = new Map<string, OutboxEntry>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private renewTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  private lastReceived = 0;
  private queue: string[] = [];
  private tokens = 0;
  private tokensAt = 0;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private forceRefresh = false;
  private readonly typingState = new Map<string, { last: number; timer: ReturnType<typeof setTimeout> | null }>();
  status: SocketStatus = 'idle';
  userId: string | null = null;

  constructor(opts: ChatSocketOptions) {
    if (!opts.urls.length) throw new Error('ChatSocket: at least one URL is required');
    this.o = {
      connect: (url) => new WebSocket(url) as unknown as WebSocketLike,
      requestTimeoutMs: 15_000,
      sendTimeoutMs: 15_000,
      backoffBaseMs: 500,
      backoffMaxMs: 15_000,
      heartbeatMs: 30_000,
      framesPerSecond: 40,
      frameBurst: 80,
      random: Math.random,
      now: Date.now,
      // Options given as undefined keep their defaults.
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as ChatSocketOptions),
    };
    this.tokens = this.o.frameBurst;
  }

  on<K extends keyof SocketEvents>(event: K, fn: Listener<SocketEvents[K]>): () => void {
    let set = this.listeners[event] as Set<Listener<SocketEvents[K]>> | undefined;
    if (!set) {
      set = new Set();
      (this.listeners as Record<string, unknown>)[event] = set;
    }
    set.add(fn);
    return () => set!.delete(fn);
  }

  /** Connects (once); the socket then keeps itself connected until stop(). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.setStatus('connecting');
    void this.open();
  }

  /** Closes for good; pending requests and sends are rejected. */
  stop(): void {
    this.started = false;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) {
      ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
      try {
        ws.close(1000, 'bye');
      } catch {
        // already closed
      }
    }
    this.failWaiters(new ChatError('disconnected', 'The connection was closed.'));
    for (const e of [...this.outbox.values()]) this.finishSend(e, null, new ChatError('disconnected', 'The connection was closed.'));
    this.queue = [];
    this.setStatus('closed');
  }

  /** Reconnects now if a reconnect is waiting (e.g. the browser came back online). */
  reconnectNow(): void {
    if (!this.started || this.ws || !this.reconnectTimer) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.open();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /**
   * Sends a message. Resolves with the ack; rejects with the server's error,
   * or with `timeout` when no ack came within sendTimeoutMs. While the
   * connection is down the send waits, and a send whose outcome a disconnect
   * made unknown is sent again with the same clientMsgId.
   */
  send(conversationId: string, body: string, clientMsgId: string): Promise<Ack> {
    this.cancelTyping(conversationId); // the message ends the typing
    const key = `${conversationId}\u0000${clientMsgId}`;
    const existing = this.outbox.get(key);
    if (existing) return existing.promise;
    let resolve!: (a: Ack) => void;
    let reject!: (e: ChatError) => void;
    const promise = new Promise<Ack>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: OutboxEntry = {
      key,
      conversationId,
      body,
      clientMsgId,
      promise,
      resolve,
      reject,
      requestId: null,
      retries: 0,
      deadline: setTimeout(() => {
        this.finishSend(entry, null, new ChatError('timeout', 'No answer from the server in time.'));
      }, this.o.sendTimeoutMs),
    };
    this.outbox.set(key, entry);
    if (this.ready) this.transmit(entry);
    return promise;
  }

  /** Asks for every message after afterSeq; resolves on `synced` (also emitted as an event). */
  sync(conversationId: string, afterSeq: number): Promise<SyncResult> {
    return this.request<SyncResult>({ type: 'sync', conversationId, afterSeq }, afterSeq);
  }

  /** A page of messages with seq < beforeSeq (0: the latest). */
  history(conversationId: string, beforeSeq = 0, limit = 50): Promise<HistoryPage> {
    return this.request<HistoryPage>({ type: 'history', conversationId, beforeSeq, limit });
  }

  ping(): Promise<void> {
    return this.request<void>({ type: 'ping' });
  }

  /** Moves the read marker forward; resolves with the marker as stored. */
  read(conversationId: string, seq: number): Promise<number> {
    return this.request<number>({ type: 'read', conversationId, seq });
  }

  /**
   * Tells the other members the user is typing: at once, then at most every
   * 2 s (the server's window); typing during the window is sent when it ends,
   * so a short burst right after a message still shows. Dropped while offline.
   */
  typing(conversationId: string): void {
    if (!this.ready) return;
    const t = this.typingState.get(conversationId) ?? { last: 0, timer: null };
    this.typingState.set(conversationId, t);
    const wait = t.last + TYPING_WINDOW_MS - this.o.now();
    if (wait <= 0) {
      t.last = this.o.now();
      this.write({ type: 'typing', conversationId });
    } else if (!t.timer) {
      t.timer = setTimeout(() => {
        t.timer = null;
        this.typing(conversationId);
      }, wait + 100); // a little after the server's window closes
    }
  }

  private cancelTyping(conversationId: string): void {
    const t = this.typingState.get(conversationId);
    if (t?.timer) {
      clearTimeout(t.timer);
      t.timer = null;
    }
  }

  /** Sends a fresh access token on the open socket (before the old one expires). */
  async reauth(): Promise<void> {
    const token = await this.o.tokens.accessToken();
    await this.request<void>({ type: 'auth', token });
  }

  // --- connection lifecycle

  private async open(): Promise<void> {
    if (!this.started) return;
    let token: string;
    try {
      if (this.forceRefresh) this.o.tokens.invalidate();
      token = await this.o.tokens.accessToken();
      this.forceRefresh = false;
    } catch (e) {
      const err = e instanceof ChatError ? e : new ChatError('network', String(e));
      if (err.code === 'unauthorized') {
        this.emit('unauthorized', err);
        this.stop();
        return;
      }
      this.scheduleReconnect(); // the server is unreachable: try again later
      return;
    }
    if (!this.started) return;
    const url = this.o.urls[this.urlIndex % this.o.urls.length];
    let ws: WebSocketLike;
    try {
      ws = this.o.connect(url);
    } catch {
      this.onSocketGone(null, 1006);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.tokens = this.o.frameBurst;
      this.tokensAt = this.o.now();
      ws.send(JSON.stringify({ type: 'auth', token }));
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastReceived = this.o.now();
      if (typeof ev.data === 'string') this.onFrame(ev.data);
    };
    ws.onerror = () => {
      // onclose follows and does the work
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.onSocketGone(ws, ev.code);
    };
  }

  private onSocketGone(ws: WebSocketLike | null, code: number): void {
    if (ws) ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
    this.ws = null;
    const wasReady = this.ready;
    this.ready = false;
    this.queue = [];
    this.clearTimers();
    this.failWaiters(new ChatError('disconnected', 'The connection was lost.'));
    this.byRequest.clear();
    for (const e of this.outbox.values()) e.requestId = null; // resent after the next ready
    if (!this.started) return;
    if (code === 4001) this.forceRefresh = true; // a new token first
    // The node failed us or is going away: try the next one.
    if (!wasReady || code === 1001 || code === 1013) this.urlIndex++;
    this.scheduleReconnect(!wasReady && this.attempt < this.o.urls.length - 1);
  }

  private scheduleReconnect(immediately = false): void {
    if (!this.started || this.reconnectTimer) return;
    this.setStatus(this.everReady ? 'reconnecting' : 'connecting');
    const delay = immediately ? 0 : backoffDelay(this.attempt, this.o.backoffBaseMs, this.o.backoffMaxMs, this.o.random);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.open();
    }, delay);
  }

  private onReady(userId: string): void {
    this.ready = true;
    this.everReady = true;
    this.attempt = 0;
    this.userId = userId;
    this.setStatus('online');
    this.emit('ready', { userId });
    for (const [conversationId, afterSeq] of this.o.resumeCursors?.() ?? []) {
      this.sync(conversationId, afterSeq).catch(() => {
        // a lost connection resumes again after the next ready
      });
    }
    for (const e of this.outbox.values()) if (!e.requestId) this.transmit(e);
    this.scheduleRenew();
    this.scheduleHeartbeat();
  }

  private scheduleRenew(): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    const at = this.o.tokens.renewAt();
    if (at === null) return;
    const delay = Math.max(1_000, at - this.o.now());
    this.renewTimer = setTimeout(() => {
      this.renewTimer = null;
      this.reauth().then(
        () => this.scheduleRenew(),
        (e: ChatError) => {
          if (e.code === 'unauthorized') {
            this.emit('unauthorized', e);
            this.stop();
          } else if (this.ws && this.ready) {
            this.ws.close(4000, 'token renewal failed'); // reconnect with a fresh token
          }
        },
      );
    }, delay);
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      if (!this.ready) return;
      if (this.o.now() - this.lastReceived < this.o.heartbeatMs) {
        this.scheduleHeartbeat();
        return;
      }
      this.ping().then(
        () => this.scheduleHeartbeat(),
        () => this.ws?.close(4000, 'no pong'),
      );
    }, this.o.heartbeatMs);
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.renewTimer, this.heartbeatTimer, this.flushTimer]) if (t) clearTimeout(t);
    for (const t of this.typingState.values()) if (t.timer) clearTimeout(t.timer);
    this.typingState.clear();
    this.reconnectTimer = this.renewTimer = this.heartbeatTimer = this.flushTimer = null;
  }

  private setStatus(s: SocketStatus): void {
    if (this.status === s) return;
    this.status = s;
    this.emit('status', s);
  }

  private emit<K extends keyof SocketEvents>(event: K, value: SocketEvents[K]): void {
    const set = this.listeners[event] as Set<Listener<SocketEvents[K]>> | undefined;
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(value);
      } catch (e) {
        console.error(`chat socket ${event} listener failed`, e);
      }
    }
  }

  // --- frames

  private onFrame(data: string): void {
    let f: Record<string, unknown>;
    try {
      f = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    const id = typeof f.id === 'string' ? f.id : '';
    switch (f.type) {
      case 'ready':
        this.onReady(String(f.userId ?? ''));
        break;
      case 'message': {
        const { type: _t, ...m } = f;
        this.emit('message', m as unknown as Message);
        break;
      }
      case 'membership':
        this.emit('membership', {
          conversationId: String(f.conversationId),
          joined: f.joined === true,
          lastSeq: Number(f.lastSeq ?? 0),
        });
        break;
      case 'ack':
        this.onAck(id, f as unknown as Ack & { id: string });
        break;
      case 'marked':
        this.settle(id, Number(f.lastReadSeq ?? 0), null);
        break;
      case 'receipt':
        this.emit('receipt', { conversationId: String(f.conversationId), userId: String(f.userId), seq: Number(f.seq ?? 0) });
        break;
      case 'typing':
        this.emit('typing', { conversationId: String(f.conversationId), userId: String(f.userId) });
        break;
      case 'synced': {
        const w = this.waiters.get(id);
        const r: SyncResult = {
          conversationId: String(f.conversationId),
          afterSeq: w?.extra ?? 0,
          fromSeq: Number(f.fromSeq ?? 0),
          lastSeq: Number(f.lastSeq ?? 0),
          hasMore: f.hasMore === true,
        };
        this.emit('synced', r);
        this.settle(id, r, null);
        break;
      }
      case 'history':
        this.settle(id, {
          conversationId: String(f.conversationId),
          messages: (f.messages as Message[]) ?? [],
          hasMore: f.hasMore === true,
        }, null);
        break;
      case 'pong':
        this.settle(id, undefined, null);
        break;
      case 'error': {
        const err = new ChatError((f.code as ErrorCode) ?? 'internal', String(f.message ?? 'error'));
        if (!id) this.emit('error', err);
        else if (this.byRequest.has(id)) this.onSendError(id, err);
        else this.settle(id, undefined, err);
        break;
      }
      default:
        break; // a newer server's frame: ignore
    }
  }

  private request<T>(frame: Record<string, unknown>, extra?: number): Promise<T> {
    if (!this.ready) return Promise.reject(new ChatError('disconnected', 'Not connected.'));
    const id = `r${++this.nextReq}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, undefined, new ChatError('timeout', 'No answer from the server in time.')), this.o.requestTimeoutMs);
      this.waiters.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, extra });
      this.write({ ...frame, id });
    });
  }

  private settle(id: string, value: unknown, err: ChatError | null): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    clearTimeout(w.timer);
    if (err) w.reject(err);
    else w.resolve(value);
  }

  private failWaiters(err: ChatError): void {
    for (const [id] of this.waiters) this.settle(id, undefined, err);
  }

  private transmit(e: OutboxEntry): void {
    const id = `s${++this.nextReq}`;
    e.requestId = id;
    this.byRequest.set(id, e);
    this.write({ type: 'send', id, conversationId: e.conversationId, clientMsgId: e.clientMsgId, body: e.body });
  }

  private onAck(id: string, a: Ack & { id: string }): void {
    const e = this.byRequest.get(id);
    if (!e) return;
    const { id: _id, type: _type, ...ack } = a as Ack & { id: string; type?: string };
    this.finishSend(e, ack as Ack, null);
  }

  private onSendError(id: string, err: ChatError): void {
    const e = this.byRequest.get(id);
    if (!e) return;
    this.byRequest.delete(id);
    e.requestId = null;
    if (err.code === 'unavailable' || err.code === 'rate_limited') {
      // Outcome unknown or refused for now: the same clientMsgId again, later.
      const delay = backoffDelay(e.retries++, this.o.backoffBaseMs, this.o.backoffMaxMs, this.o.random);
      setTimeout(() => {
        if (this.outbox.get(e.key) === e && !e.requestId && this.ready) this.transmit(e);
      }, delay);
      return;
    }
    this.finishSend(e, null, err);
  }

  private finishSend(e: OutboxEntry, ack: Ack | null, err: ChatError | null): void {
    if (this.outbox.get(e.key) !== e) return;
    this.outbox.delete(e.key);
    if (e.requestId) this.byRequest.delete(e.requestId);
    clearTimeout(e.deadline);
    if (ack) e.resolve(ack);
    else e.reject(err!);
  }

  // --- outgoing rate limit: a token bucket below the server's limit

  private write(frame: Record<string, unknown>): void {
    this.queue.push(JSON.stringify(frame));
    this.flush();
  }

  private flush(): void {
    if (this.flushTimer) return;
    const now = this.o.now();
    this.tokens = Math.min(this.o.frameBurst, this.tokens + ((now - this.tokensAt) / 1000) * this.o.framesPerSecond);
    this.tokensAt = now;
    while (this.queue.length && this.tokens >= 1) {
      const ws = this.ws;
      if (!ws || ws.readyState !== OPEN) {
        this.queue = [];
        return;
      }
      ws.send(this.queue.shift()!);
      this.tokens -= 1;
    }
    if (this.queue.length) {
      const wait = Math.ceil(((1 - this.tokens) / this.o.framesPerSecond) * 1000);
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, wait);
    }
  }
}
