import { useEffect, useState } from 'react';
import { conversationTitle, memberCountOf, presenceText } from '../state/store';
import { Avatar, GroupAvatar } from './Avatar';
import { useChat, useEngine } from './chat';
import { Composer } from './Composer';
import { MembersDialog } from './dialogs';
import { lastSeenTime } from './format';
import { MessageList } from './MessageList';
import { navigate } from './router';

export function EmptyConversation() {
  return (
    <div className="empty">
      <span className="brand-mark big" aria-hidden="true">◆</span>
      <h2>Pick a conversation</h2>
      <p className="muted">Or start a new group or direct message from the left.</p>
    </div>
  );
}

export function ConversationView({ id }: { id: string }) {
  const engine = useEngine();
  const conv = useChat((s) => s.conversations[id]);
  const title = useChat((s) => (s.conversations[id] ? conversationTitle(s, s.conversations[id]) : ''));
  const peer = useChat((s) => (s.conversations[id]?.peerId ? s.users[s.conversations[id].peerId!] : undefined));
  // The server's count: in a big room only the first page of members is loaded.
  const memberCount = useChat((s) => memberCountOf(s, id));
  const peerPresence = useChat((s) => (s.conversations[id]?.peerId ? s.presence[s.conversations[id].peerId!] : undefined));
  const status = useChat((s) => s.status);
  const [showMembers, setShowMembers] = useState(false);

  useEffect(() => {
    engine.openConversation(id);
    return () => engine.openConversation(null);
  }, [engine, id]);

  if (!conv) {
    return (
      <div className="empty" role="status">
        <div className="spinner" aria-hidden="true" />
      </div>
    );
  }

  let subtitle = conv.kind === 'direct' ? (peer ? `@${peer.username}` : 'Direct message') : memberCount ? `${memberCount.toLocaleString()} member${memberCount === 1 ? '' : 's'}` : 'Group';
  const seen = presenceText(peerPresence, lastSeenTime);
  if (conv.kind === 'direct' && seen) subtitle += ` · ${seen}`;

  return (
    <section className="conversation" aria-labelledby="conv-title">
      <header className="conv-head">
        <button type="button" className="icon back" aria-label="Back to conversations" onClick={() => navigate('/')}>
          ‹
        </button>
        {conv.kind === 'direct' && conv.peerId ? <Avatar userId={conv.peerId} name={title} presence /> : <GroupAvatar id={conv.id} title={title} />}
        <div className="conv-head-text">
          <h2 id="conv-title">{title}</h2>
          <span className="muted small-text">{subtitle}</span>
        </div>
        <button type="button" className="secondary small" onClick={() => setShowMembers(true)}>
          {conv.kind === 'group' ? 'Members' : 'Details'}
        </button>
      </header>
      {status !== 'online' && (
        <div className={`banner banner-${status}`} role="status">
          {status === 'reconnecting' ? 'Connection lost. Reconnecting… Messages you send will go out when it is back.' : 'Connecting…'}
        </div>
      )}
      <MessageList conversationId={id} />
      <Composer conversationId={id} />
      {showMembers && <MembersDialog conversationId={id} onClose={() => setShowMembers(false)} />}
    </section>
  );
}
