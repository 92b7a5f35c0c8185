// The live WebSocket (docs/protocol.md §WebSocket).
//
//   socket.ts       ChatSocket: connection lifecycle, reconnect, renewal, heartbeat, frames
//   socketTypes.ts  its events, options and the WebSocket it uses
//   requests.ts     request bookkeeping (answers and timeouts)
//   outbox.ts       send/ack bookkeeping and resends
//   pacing.ts       the outgoing frame budget and the typing throttle
import { Outbox } from './outbox';
import { FramePacer, TypingThrottle } from './pacing';
import {
  backoffDelay,
  ChatError,
  type Ack,
  type ErrorCode,
  type EventRequest,
  type HistoryPage,
  type Listener,
  type Message,
  type SyncResult,
} from './protocol';
import { PendingRequests } from './requests';
import type { ChatSocketOptions, SocketEvents, SocketStatus, WebSocketLike } from './socketTypes';

export type { ChatSocketOptions, SocketEvents, SocketStatus, WebSocketFactory, WebSocketLike } from './socketTypes';

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
  private readonly requests: PendingRequests;
  private readonly outbox: Outbox;
  private readonly pacer: FramePacer;
  private readonly typingThrottle: TypingThrottle;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private renewTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  private lastReceived = 0;
  private forceRefresh = false;
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
    this.pacer = new FramePacer(this.o, () => this.ws);
    this.requests = new PendingRequests(this.o.requestTimeoutMs);
    this.outbox = new Outbox(this.o, {
      nextId: () => `s${++this.nextReq}`,
      write: (frame) => this.pacer.write(frame),
      ready: () => this.ready,
    });
    this.typingThrottle = new TypingThrottle(
      () => this.o.now(),
      () => this.ready,
      (conversationId) => this.pacer.write({ type: 'typing', conversationId }),
    );
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
    this.outbox.failAll(new ChatError('disconnected', 'The connection was closed.'));
    this.pacer.drop();
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
  send(conversationId: string, body: string, clientMsgId: string, attachments?: string[]): Promise<Ack> {
    this.typingThrottle.cancel(conversationId); // the message ends the typing
    const frame: Record<string, unknown> = { type: 'send', body };
    if (attachments?.length) frame.attachments = attachments;
    return this.outbox.send(conversationId, clientMsgId, frame);
  }

  /**
   * Edits, deletes or reacts to a chat message: sequenced, acknowledged and
   * retried like a send (the same clientMsgId on every attempt).
   */
  event(conversationId: string, clientMsgId: string, ev: EventRequest): Promise<Ack> {
    return this.outbox.send(conversationId, clientMsgId, { ...ev });
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
    this.typingThrottle.typing(conversationId);
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
      this.pacer.refill();
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
    this.pacer.drop();
    this.clearTimers();
    this.failWaiters(new ChatError('disconnected', 'The connection was lost.'));
    this.outbox.detach(); // resent after the next ready
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
    this.outbox.transmitWaiting();
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
    for (const t of [this.reconnectTimer, this.renewTimer, this.heartbeatTimer]) if (t) clearTimeout(t);
    this.pacer.stopTimer();
    this.typingThrottle.clear();
    this.reconnectTimer = this.renewTimer = this.heartbeatTimer = null;
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
        this.outbox.onAck(id, f as unknown as Ack & { id: string });
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
      case 'presence':
        this.emit('presence', {
          userId: String(f.userId),
          status: f.status === 'online' ? 'online' : 'offline',
          ...(typeof f.lastSeen === 'string' ? { lastSeen: f.lastSeen } : {}),
        });
        break;
      case 'profile':
        if (typeof f.userId === 'string' && typeof f.avatarVersion === 'string' && f.avatarVersion) {
          this.emit('profile', { userId: f.userId, avatarVersion: f.avatarVersion });
        }
        break;
      case 'synced': {
        const r: SyncResult = {
          conversationId: String(f.conversationId),
          afterSeq: this.requests.extra(id) ?? 0,
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
        else if (this.outbox.has(id)) this.outbox.onError(id, err);
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
    return this.requests.wait<T>(id, extra, () => this.pacer.write({ ...frame, id }));
  }

  private settle(id: string, value: unknown, err: ChatError | null): void {
    this.requests.settle(id, value, err);
  }

  private failWaiters(err: ChatError): void {
    this.requests.failAll(err);
  }
}
