// Send/ack bookkeeping of the live WebSocket: every sequenced request (send,
// edit, delete, react, unreact) waits here until it is acknowledged, refused
// or times out. While the connection is down it waits; a request whose
// outcome a disconnect made unknown (or the server could not take yet) is sent
// again with the same clientMsgId.
import { backoffDelay, ChatError, type Ack } from './protocol';

interface OutboxEntry {
  key: string;
  conversationId: string;
  clientMsgId: string;
  /** The request's own fields: type and payload (id, conversationId and clientMsgId are added). */
  frame: Record<string, unknown>;
  promise: Promise<Ack>;
  resolve: (a: Ack) => void;
  reject: (e: ChatError) => void;
  deadline: ReturnType<typeof setTimeout>;
  requestId: string | null; // the request in flight on the current socket
  retries: number;
}

export interface OutboxOptions {
  sendTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  random: () => number;
}

/** What the outbox needs of the socket. */
export interface OutboxLink {
  /** A fresh request id. */
  nextId(): string;
  write(frame: Record<string, unknown>): void;
  /** Whether the socket is authenticated and open. */
  ready(): boolean;
}

export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly byRequest = new Map<string, OutboxEntry>();

  constructor(
    private readonly o: OutboxOptions,
    private readonly link: OutboxLink,
  ) {}

  /** Queues a sequenced request; a second call with the same (conversationId, clientMsgId) shares the first. */
  send(conversationId: string, clientMsgId: string, frame: Record<string, unknown>): Promise<Ack> {
    const key = `${conversationId}\u0000${clientMsgId}`;
    const existing = this.entries.get(key);
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
      clientMsgId,
      frame,
      promise,
      resolve,
      reject,
      requestId: null,
      retries: 0,
      deadline: setTimeout(() => {
        this.finish(entry, null, new ChatError('timeout', 'No answer from the server in time.'));
      }, this.o.sendTimeoutMs),
    };
    this.entries.set(key, entry);
    if (this.link.ready()) this.transmit(entry);
    return promise;
  }

  /** Whether request `id` is a send in flight. */
  has(id: string): boolean {
    return this.byRequest.has(id);
  }

  /** Sends every entry not in flight (after `ready`). */
  transmitWaiting(): void {
    for (const e of this.entries.values()) if (!e.requestId) this.transmit(e);
  }

  /** The connection is gone: nothing is in flight; everything is resent after the next ready. */
  detach(): void {
    this.byRequest.clear();
    for (const e of this.entries.values()) e.requestId = null;
  }

  failAll(err: ChatError): void {
    for (const e of [...this.entries.values()]) this.finish(e, null, err);
  }

  onAck(id: string, a: Ack & { id: string }): void {
    const e = this.byRequest.get(id);
    if (!e) return;
    const { id: _id, type: _type, ...ack } = a as Ack & { id: string; type?: string };
    this.finish(e, ack as Ack, null);
  }

  onError(id: string, err: ChatError): void {
    const e = this.byRequest.get(id);
    if (!e) return;
    this.byRequest.delete(id);
    e.requestId = null;
    if (err.code === 'unavailable' || err.code === 'rate_limited') {
      // Outcome unknown or refused for now: the same clientMsgId again, later.
      const delay = backoffDelay(e.retries++, this.o.backoffBaseMs, this.o.backoffMaxMs, this.o.random);
      setTimeout(() => {
        if (this.entries.get(e.key) === e && !e.requestId && this.link.ready()) this.transmit(e);
      }, delay);
      return;
    }
    this.finish(e, null, err);
  }

  private transmit(e: OutboxEntry): void {
    const id = this.link.nextId();
    e.requestId = id;
    this.byRequest.set(id, e);
    this.link.write({ ...e.frame, id, conversationId: e.conversationId, clientMsgId: e.clientMsgId });
  }

  private finish(e: OutboxEntry, ack: Ack | null, err: ChatError | null): void {
    if (this.entries.get(e.key) !== e) return;
    this.entries.delete(e.key);
    if (e.requestId) this.byRequest.delete(e.requestId);
    clearTimeout(e.deadline);
    if (ack) e.resolve(ack);
    else e.reject(err!);
  }
}
