import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useChat, useEngine } from './chat';
import { utf8Length } from './format';

/** The server's default body limit (chatd --max-body-bytes). */
export const MAX_BODY_BYTES = 8192;

export function Composer({ conversationId }: { conversationId: string }) {
  const engine = useEngine();
  const [text, setText] = useState('');
  const ref = useRef<HTMLTextAreaElement>(null);
  const bytes = utf8Length(text);
  const tooLong = bytes > MAX_BODY_BYTES;
  const empty = text.trim() === '';

  const send = () => {
    if (empty || tooLong) return;
    engine.send(conversationId, text.replace(/\s+$/, ''));
    setText('');
    ref.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter sends, Shift+Enter is a new line; never during IME composition.
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    send();
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <TypingIndicator conversationId={conversationId} />
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={ref}
        rows={1}
        placeholder="Write a message…"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim()) engine.typing(conversationId);
        }}
        onKeyDown={onKeyDown}
        aria-invalid={tooLong || undefined}
        aria-describedby={tooLong ? 'composer-limit' : undefined}
        autoFocus
      />
      {bytes > MAX_BODY_BYTES * 0.9 && (
        <span id="composer-limit" className={tooLong ? 'limit over' : 'limit'} aria-live="polite">
          {tooLong ? `Too long by ${bytes - MAX_BODY_BYTES} bytes` : `${MAX_BODY_BYTES - bytes} bytes left`}
        </span>
      )}
      <button type="submit" className="primary send" disabled={empty || tooLong} aria-label="Send message">
        Send
      </button>
    </form>
  );
}

/** "Bob is typing…" for the members typing in this conversation. */
function TypingIndicator({ conversationId }: { conversationId: string }) {
  const typers = useChat((s) => s.typing[conversationId]);
  const users = useChat((s) => s.users);
  const names = Object.keys(typers ?? {}).map((id) => users[id]?.displayName || users[id]?.username || 'Someone');
  let text = '';
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = 'Several people are typing…';
  return (
    <div className="typing" role="status" aria-live="polite">
      {text}
    </div>
  );
}
