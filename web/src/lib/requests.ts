// Request bookkeeping of the live WebSocket: requests waiting for their
// answer frame (sync, history, read, ping, auth), each with a timeout.
import { ChatError } from './protocol';

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: ChatError) => void;
  timer: ReturnType<typeof setTimeout>;
  extra?: number; // sync: the afterSeq asked for
}

export class PendingRequests {
  private readonly waiters = new Map<string, Waiter<unknown>>();

  constructor(private readonly timeoutMs: number) {}

  /**
   * Waits for the answer to request `id`, which `start` sends once it is
   * registered; it times out after the request timeout.
   */
  wait<T>(id: string, extra: number | undefined, start: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, undefined, new ChatError('timeout', 'No answer from the server in time.')), this.timeoutMs);
      this.waiters.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, extra });
      start();
    });
  }

  /** The extra value given with a waiting request (sync: its afterSeq). */
  extra(id: string): number | undefined {
    return this.waiters.get(id)?.extra;
  }

  settle(id: string, value: unknown, err: ChatError | null): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    clearTimeout(w.timer);
    if (err) w.reject(err);
    else w.resolve(value);
  }

  failAll(err: ChatError): void {
    for (const [id] of this.waiters) this.settle(id, undefined, err);
  }
}
