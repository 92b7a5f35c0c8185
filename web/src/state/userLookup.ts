// Names of users the store does not know yet (senders of messages in big
// rooms, last senders in the conversation list) come from GET /api/users,
// batched so that a list of many conversations costs a request or two.
import type { Api } from '../lib/client';
import type { ChatStore } from './store';

/** The most ids one GET /api/users asks for. */
export const USERS_BATCH = 100;

/**
 * Asks GET /api/users for the profiles of the ids the store does not know, batched: ids wanted in the
 * same turn go in one request (up to USERS_BATCH), one request at a time, and ids wanted while one is in
 * flight wait for the next. Each id is asked once (ids not found are not asked again); the ids of a
 * failed request may be asked again by a later lookup.
 */
export class UserLookup {
  private readonly asked = new Set<string>();
  /** User ids waiting for the next request. */
  private readonly wanted: string[] = [];
  /** The requests in progress; null when none runs. */
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly api: Pick<Api, 'users'>,
    private readonly store: ChatStore,
  ) {}

  /** Looks up the ids not known; resolves when no id is waiting. */
  lookUp(ids: Iterable<string>): Promise<void> {
    const known = this.store.getState().users;
    for (const id of ids) {
      if (!id || known[id] || this.asked.has(id)) continue;
      this.asked.add(id);
      this.wanted.push(id);
    }
    if (!this.running && this.wanted.length) this.running = this.run();
    return this.running ?? Promise.resolve();
  }

  /** Ends the lookups: a request in flight is the last. */
  stop(): void {
    this.stopped = true;
  }

  /** Sends the waiting ids, USERS_BATCH a request, until none is left (started by lookUp only). */
  private async run(): Promise<void> {
    try {
      await Promise.resolve(); // ids wanted later in this turn join the first request
      while (this.wanted.length && !this.stopped) {
        const known = this.store.getState().users; // some may have come with a detail meanwhile
        const chunk = this.wanted.splice(0, USERS_BATCH).filter((id) => !known[id]);
        if (!chunk.length) continue;
        try {
          this.store.getState().addUsers(await this.api.users(chunk));
        } catch {
          for (const id of chunk) this.asked.delete(id);
        }
      }
    } finally {
      this.running = null; // in the same step as the check above: no id is left waiting
    }
  }
}
