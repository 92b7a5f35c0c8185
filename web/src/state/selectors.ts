// Selectors: derived views of the store's data for the UI.
import type { Message, User } from '../lib/client';
import type { ChatData, ConversationMeta, PendingMessage } from './types';

/** Conversations by latest activity, newest first. */
export function sortedConversations(s: ChatData): ConversationMeta[] {
  return Object.values(s.conversations).sort((a, b) => (a.activity < b.activity ? 1 : a.activity > b.activity ? -1 : a.id.localeCompare(b.id)));
}

/** Pending sends of one conversation, oldest first. */
export function pendingOf(s: ChatData, conversationId: string): PendingMessage[] {
  return Object.values(s.pending)
    .filter((p) => p.conversationId === conversationId)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

/**
 * How many members a conversation has: the server's count (a detail's; lists carry none), else the
 * members loaded. Null while neither is known.
 */
export function memberCountOf(s: ChatData, conversationId: string): number | null {
  const loaded = s.members[conversationId]?.length;
  const count = s.conversations[conversationId]?.memberCount;
  if (count == null) return loaded ?? null;
  return Math.max(count, loaded ?? 0);
}

/** The name to show for a user id. */
export function userName(s: ChatData, id: string): string {
  const u = s.users[id];
  return u ? u.displayName || u.username : 'Unknown user';
}

/** The line shown for a notice (join, leave, remove, role, rename). */
export function noticeText(users: Record<string, User>, meId: string | undefined, m: Message): string {
  const who = (id: string | undefined, start = false) => {
    if (id && id === meId) return start ? 'You' : 'you';
    const u = id ? users[id] : undefined;
    return u ? u.displayName || u.username : start ? 'Someone' : 'someone';
  };
  const self = !!m.subjectId && m.subjectId === meId;
  switch (m.kind) {
    case 'join':
      if (m.subjectId === m.senderId) return `${who(m.subjectId, true)} joined`;
      return `${who(m.senderId, true)} added ${who(m.subjectId)}${m.body === 'admin' ? ' as an admin' : ''}`;
    case 'leave':
      return `${who(m.senderId, true)} left`;
    case 'remove':
      return `${who(m.senderId, true)} removed ${who(m.subjectId)}`;
    case 'role': {
      const role = m.body === 'owner' ? 'the owner' : m.body === 'admin' ? 'an admin' : 'a member';
      return `${who(m.subjectId, true)} ${self ? 'are' : 'is'} now ${role}`;
    }
    case 'rename':
      return `${who(m.senderId, true)} renamed the group to “${m.body}”`;
    default:
      return '';
  }
}

/** The title of a conversation: its title, or a DM's peer name. */
export function conversationTitle(s: ChatData, c: ConversationMeta): string {
  if (c.kind === 'direct') return c.peerId ? userName(s, c.peerId) : 'Direct message';
  return c.title || 'Untitled group';
}
