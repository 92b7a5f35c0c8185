import { useCallback, useEffect, useSyncExternalStore } from 'react';
import type { BlobCache, BlobState } from '../lib/media';
import { presenceText } from '../state/store';
import { useChat, useEngine } from './chat';
import { initials, lastSeenTime, tone } from './format';

const NO_SUBSCRIPTION = () => () => {};

/** The object URL state of a key of a BlobCache, kept alive while the component is mounted. */
export function useBlob(cache: BlobCache, key: string | null): BlobState | undefined {
  useEffect(() => (key ? cache.acquire(key) : undefined), [cache, key]);
  const subscribe = useCallback((fn: () => void) => (key ? cache.subscribe(key, fn) : () => {}), [cache, key]);
  const snapshot = () => (key ? cache.get(key) : undefined);
  return useSyncExternalStore(key ? subscribe : NO_SUBSCRIPTION, snapshot, snapshot);
}

type Size = 'small' | 'medium' | 'large';

/**
 * A user's avatar: their image when they set one (fetched with the token, at
 * the version the last `profile` event named: a new one shows without a
 * reload), else their initials on a stable color. With `presence`, a dot shows whether
 * they are online (its title: "Online" or when they were last seen).
 */
export function Avatar({ userId, name, size = 'medium', presence = false }: { userId: string; name: string; size?: Size; presence?: boolean }) {
  const engine = useEngine();
  const state = useBlob(engine.avatars, userId || null);
  const url = state?.status === 'ready' ? state.url : null;
  const version = useChat((s) => s.avatarVersions[userId]);
  const face = (
    <span
      className={`avatar ${tone(userId)}${size === 'medium' ? '' : ` ${size}`}`}
      aria-hidden="true"
      data-avatar={url ? 'image' : 'initials'}
      data-avatar-version={version}
    >
      {url ? <img src={url} alt="" draggable={false} /> : initials(name)}
    </span>
  );
  if (!presence) return face;
  return (
    <span className="avatar-wrap">
      {face}
      <PresenceDot userId={userId} />
    </span>
  );
}

/** The avatar of a group: its initials, rounded square. */
export function GroupAvatar({ id, title, size = 'medium' }: { id: string; title: string; size?: Size }) {
  return (
    <span className={`avatar group ${tone(id)}${size === 'medium' ? '' : ` ${size}`}`} aria-hidden="true">
      {initials(title)}
    </span>
  );
}

/** Green when online, grey with "Last seen …" when offline, nothing while unknown. */
export function PresenceDot({ userId }: { userId: string }) {
  const p = useChat((s) => s.presence[userId]);
  if (!p) return null;
  const text = presenceText(p, lastSeenTime);
  return <span className={`presence ${p.status}`} data-presence={p.status} role="img" aria-label={text} title={text} />;
}
