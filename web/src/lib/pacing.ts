// Outgoing pacing of the live WebSocket: a token bucket below the server's
// frame limit, and the typing throttle that matches the server's window.
import type { WebSocketLike } from './socketTypes';

const OPEN = 1;
/** The server forwards at most one typing event per user and conversation in this window. */
const TYPING_WINDOW_MS = 2_000;

export interface PacerOptions {
  framesPerSecond: number;
  frameBurst: number;
  now: () => number;
}

/** Queues frames and writes them to the current socket within the frame budget. */
export class FramePacer {
  private queue: string[] = [];
  private tokens: number;
  private tokensAt = 0;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly o: PacerOptions,
    private readonly socket: () => WebSocketLike | null,
  ) {
    this.tokens = o.frameBurst;
  }

  /** A new connection starts with a full bucket. */
  refill(): void {
    this.tokens = this.o.frameBurst;
    this.tokensAt = this.o.now();
  }

  write(frame: Record<string, unknown>): void {
    this.queue.push(JSON.stringify(frame));
    this.flush();
  }

  /** Drops the frames not written yet. */
  drop(): void {
    this.queue = [];
  }

  stopTimer(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  private flush(): void {
    if (this.flushTimer) return;
    const now = this.o.now();
    this.tokens = Math.min(this.o.frameBurst, this.tokens + ((now - this.tokensAt) / 1000) * this.o.framesPerSecond);
    this.tokensAt = now;
    while (this.queue.length && this.tokens >= 1) {
      const ws = this.socket();
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

/**
 * Typing notices: at once, then at most every 2 s per conversation (the
 * server's window); typing during the window is sent when it ends.
 */
export class TypingThrottle {
  private readonly state = new Map<string, { last: number; timer: ReturnType<typeof setTimeout> | null }>();

  constructor(
    private readonly now: () => number,
    /** Whether a notice can go out now (false: it is dropped). */
    private readonly canSend: () => boolean,
    private readonly sendNotice: (conversationId: string) => void,
  ) {}

  typing(conversationId: string): void {
    if (!this.canSend()) return;
    const t = this.state.get(conversationId) ?? { last: 0, timer: null };
    this.state.set(conversationId, t);
    const wait = t.last + TYPING_WINDOW_MS - this.now();
    if (wait <= 0) {
      t.last = this.now();
      this.sendNotice(conversationId);
    } else if (!t.timer) {
      t.timer = setTimeout(() => {
        t.timer = null;
        this.typing(conversationId);
      }, wait + 100); // a little after the server's window closes
    }
  }

  /** Drops a notice waiting for the window of one conversation. */
  cancel(conversationId: string): void {
    const t = this.state.get(conversationId);
    if (t?.timer) {
      clearTimeout(t.timer);
      t.timer = null;
    }
  }

  /** Forgets every conversation (the connection is gone). */
  clear(): void {
    for (const t of this.state.values()) if (t.timer) clearTimeout(t.timer);
    this.state.clear();
  }
}
