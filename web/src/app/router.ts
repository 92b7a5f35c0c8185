// A tiny router over the History API: "/" is the list, "/c/<id>" a conversation.
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  window.addEventListener('popstate', fn);
  return () => {
    listeners.delete(fn);
    window.removeEventListener('popstate', fn);
  };
}

export function navigate(path: string, replace = false): void {
  if (location.pathname === path) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const fn of listeners) fn();
}

export function conversationPath(id: string): string {
  return `/c/${encodeURIComponent(id)}`;
}

/** The conversation id in the URL, or null. */
export function useRouteConversation(): string | null {
  const path = useSyncExternalStore(subscribe, () => location.pathname);
  const m = path.match(/^\/c\/([^/]+)\/?$/);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}
