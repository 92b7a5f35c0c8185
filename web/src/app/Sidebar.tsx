import { memo, useMemo, useState } from 'react';
import type { SocketStatus } from '../lib/client';
import { conversationTitle, sortedConversations, userName, type ChatState, type ConversationMeta } from '../state/store';
import { useChat } from './chat';
import { Avatar, GroupAvatar } from './Avatar';
import { NewDirectDialog, NewGroupDialog, ProfileDialog } from './dialogs';
import { listTime } from './format';
import { conversationPath, navigate } from './router';

const STATUS_TEXT: Record<SocketStatus, string> = {
  idle: 'Offline',
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Reconnecting…',
  closed: 'Offline',
};

export function ConnectionStatus() {
  const status = useChat((s) => s.status);
  return (
    <span className={`status status-${status}`} data-status={status} role="status" aria-live="polite">
      <span className="dot" aria-hidden="true" />
      {STATUS_TEXT[status]}
    </span>
  );
}

export function Sidebar({ activeId, onLogout }: { activeId: string | null; onLogout: () => void }) {
  const me = useChat((s) => s.me);
  const conversations = useChat((s) => s.conversations);
  const users = useChat((s) => s.users);
  const listLoaded = useChat((s) => s.listLoaded);
  const [dialog, setDialog] = useState<'group' | 'direct' | 'profile' | null>(null);
  const [filter, setFilter] = useState('');

  const list = useMemo(() => {
    const view = { conversations, users } as ChatState;
    const all = sortedConversations(view).map((c) => ({ c, title: conversationTitle(view, c) }));
    const f = filter.trim().toLowerCase();
    return f ? all.filter((x) => x.title.toLowerCase().includes(f)) : all;
  }, [conversations, users, filter]);

  const open = (id: string) => navigate(conversationPath(id));

  return (
    <aside className="sidebar" aria-label="Conversations">
      <header className="sidebar-head">
        <div className="me">
          <button type="button" className="me-avatar" aria-label="Profile and avatar" title="Profile and avatar" onClick={() => setDialog('profile')}>
            <Avatar userId={me?.id ?? ''} name={me?.displayName || me?.username || '?'} />
          </button>
          <div className="me-text">
            <strong className="me-name">{me?.displayName || me?.username}</strong>
            <ConnectionStatus />
          </div>
        </div>
        <button type="button" className="ghost small" onClick={onLogout}>
          Sign out
        </button>
      </header>
      <div className="sidebar-actions">
        <button type="button" className="primary small" onClick={() => setDialog('group')}>
          New group
        </button>
        <button type="button" className="secondary small" onClick={() => setDialog('direct')}>
          New message
        </button>
      </div>
      <div className="search">
        <label htmlFor="conv-filter" className="visually-hidden">
          Filter conversations
        </label>
        <input id="conv-filter" type="search" placeholder="Search conversations" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      <nav className="conv-list" aria-label="Conversation list">
        {!listLoaded && <p className="muted pad">Loading conversations…</p>}
        {listLoaded && list.length === 0 && (
          <p className="muted pad">{filter ? 'No conversation matches.' : 'No conversations yet. Start one with “New group” or “New message”.'}</p>
        )}
        <ul>
          {list.map(({ c, title }) => (
            <li key={c.id}>
              <ConversationItem c={c} title={title} active={c.id === activeId} meId={me?.id ?? ''} users={users} onOpen={open} />
            </li>
          ))}
        </ul>
      </nav>
      {dialog === 'group' && <NewGroupDialog onClose={() => setDialog(null)} onCreated={open} />}
      {dialog === 'direct' && <NewDirectDialog onClose={() => setDialog(null)} onCreated={open} />}
      {dialog === 'profile' && <ProfileDialog onClose={() => setDialog(null)} />}
    </aside>
  );
}

const ConversationItem = memo(function ConversationItem(props: {
  c: ConversationMeta;
  title: string;
  active: boolean;
  meId: string;
  users: ChatState['users'];
  onOpen: (id: string) => void;
}) {
  const { c, title, active, meId, users, onOpen } = props;
  const lm = c.lastMessage;
  let preview = c.kind === 'group' ? 'Group created' : 'Say hello';
  if (lm) {
    const who = lm.senderId === meId ? 'You' : c.kind === 'group' && users[lm.senderId] ? userName({ users } as ChatState, lm.senderId) : '';
    const text = lm.deleted ? 'Message deleted' : lm.body.replace(/\s+/g, ' ') || (lm.attachments?.length ? '📎 Attachment' : '');
    preview = (who ? `${who}: ` : '') + text;
  }
  return (
    <button
      type="button"
      className={`conv-item${active ? ' active' : ''}${c.unread ? ' unread' : ''}`}
      aria-current={active ? 'page' : undefined}
      onClick={() => onOpen(c.id)}
      data-conversation-id={c.id}
    >
      {c.kind === 'direct' && c.peerId ? <Avatar userId={c.peerId} name={title} presence /> : <GroupAvatar id={c.id} title={title} />}
      <span className="conv-text">
        <span className="conv-top">
          <span className="conv-title">{title}</span>
          <time className="conv-time" dateTime={lm?.createdAt ?? c.activity}>
            {listTime(lm?.createdAt ?? c.activity)}
          </time>
        </span>
        <span className="conv-bottom">
          <span className="conv-preview">{preview}</span>
          {c.unread > 0 && (
            <span className="badge" aria-label={`${c.unread} unread`}>
              {c.unread > 99 ? '99+' : c.unread}
            </span>
          )}
        </span>
      </span>
    </button>
  );
});
