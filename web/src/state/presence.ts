// Presence: who is online. Snapshots come from GET /api/presence, changes from
// live `presence` events; each state remembers when it was known, so a
// snapshot asked for before an event cannot undo it.
import type { Presence } from '../lib/client';
import type { ChatData, PresenceState } from './types';

/** The presence map with list applied as known at `at` (local ms); older news is dropped. */
export function mergePresence(s: Pick<ChatData, 'presence'>, list: Presence[], at: number): Partial<ChatData> {
  let presence = s.presence;
  for (const p of list) {
    const old = presence[p.userId];
    if (old && old.at > at) continue;
    // An `online` event may come without lastSeen: keep the one we had.
    const lastSeen = p.lastSeen ?? old?.lastSeen;
    const next: PresenceState = { userId: p.userId, status: p.status, at, ...(lastSeen ? { lastSeen } : {}) };
    if (presence === s.presence) presence = { ...presence };
    presence[p.userId] = next;
  }
  return presence === s.presence ? {} : { presence };
}

/** "Online", "Last seen …" or "Offline", for a title or a subtitle. */
export function presenceText(p: Presence | undefined, formatTime: (iso: string) => string): string {
  if (!p) return '';
  if (p.status === 'online') return 'Online';
  return p.lastSeen ? `Last seen ${formatTime(p.lastSeen)}` : 'Offline';
}
