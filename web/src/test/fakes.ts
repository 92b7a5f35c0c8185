// Test doubles: a scriptable WebSocket and a fixed token source.
import type { Message, TokenSource, WebSocketLike } from '../lib/client';

/** A WebSocket the test drives: it records frames and plays the server's part. */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  closedByClient: number | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code = 1000): void {
    this.closedByClient = code;
    this.serverClose(code);
  }

  // --- the server's side

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** Fails the connection attempt (or drops an open one). */
  serverClose(code = 1006): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }

  push(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** Frames of one type the client sent. */
  frames(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === type);
  }

  last(type: string): Record<string, unknown> {
    const f = this.frames(type);
    if (!f.length) throw new Error(`no ${type} frame sent; sent: ${JSON.stringify(this.sent)}`);
    return f[f.length - 1];
  }
}

/** A factory that remembers every socket it made. */
export function socketFactory() {
  const made: FakeSocket[] = [];
  const connect = (url: string) => {
    const s = new FakeSocket(url);
    made.push(s);
    return s;
  };
  return { made, connect, latest: () => made[made.length - 1] };
}

export function fixedTokens(token = 'tok', renewAt: number | null = null): TokenSource & { invalidated: number } {
  return {
    invalidated: 0,
    accessToken: () => Promise.resolve(token),
    renewAt: () => renewAt,
    invalidate() {
      this.invalidated++;
    },
  };
}

export function msg(conversationId: string, seq: number, over: Partial<Message> = {}): Message {
  return {
    conversationId,
    seq,
    messageId: `m${seq}`,
    senderId: 'u_bob',
    clientMsgId: `cm-${conversationId}-${seq}`,
    body: `message ${seq}`,
    createdAt: new Date(Date.UTC(2026, 0, 1, 12, 0, seq)).toISOString(),
    kind: 'message',
    ...over,
  };
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
