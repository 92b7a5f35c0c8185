import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { Message } from '../lib/client';
import { actionErrorText } from '../state/errorText';
import { reactionChips } from '../state/store';
import { useChat, useEngine } from './chat';
import { MAX_BODY_BYTES } from './Composer';
import { Modal } from './dialogs';
import { utf8Length } from './format';

// A message's actions: the reaction picker and chips, inline editing and
// the delete confirmation.

export const REACTION_PALETTE = ['👍', '❤️', '😂', '🎉', '😮', '😢'] as const;

export function ReactionPicker({ reactions, onPick, onClose }: { reactions: Message['reactions']; onPick: (emoji: string) => void; onClose: () => void }) {
  const meId = useChat((s) => s.me?.id ?? '');
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div
      className="picker"
      role="toolbar"
      aria-label="Pick a reaction"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
      onBlur={(e) => {
        // Focus left the message (a click elsewhere, Tab away): close. Its own toolbar toggles it instead.
        const to = e.relatedTarget as Node | null;
        if (!to || !e.currentTarget.closest('.msg')?.contains(to)) onClose();
      }}
    >
      {REACTION_PALETTE.map((emoji, i) => {
        const on = !!reactions?.[emoji]?.includes(meId);
        return (
          <button
            key={emoji}
            ref={i === 0 ? first : undefined}
            type="button"
            className={on ? 'on' : undefined}
            aria-pressed={on}
            aria-label={`React with ${emoji}`}
            onClick={() => onPick(emoji)}
          >
            {emoji}
          </button>
        );
      })}
    </div>
  );
}

export function Reactions({ m, onToggle }: { m: Message; onToggle: (emoji: string) => void }) {
  const meId = useChat((s) => s.me?.id ?? '');
  const reacting = useChat((s) => s.reacting);
  const users = useChat((s) => s.users);
  const chips = useMemo(() => reactionChips(m, reacting, meId), [m, reacting, meId]);
  if (!chips.length) return null;
  const names = (ids: string[]) => ids.map((id) => (id === meId ? 'You' : users[id]?.displayName || users[id]?.username || 'Someone')).join(', ');
  return (
    <ul className="reactions" aria-label="Reactions">
      {chips.map((c) => (
        <li key={c.emoji}>
          <button
            type="button"
            className={`reaction${c.mine ? ' mine' : ''}${c.pending ? ' pending' : ''}`}
            aria-pressed={c.mine}
            aria-label={`${c.emoji} ${c.users.length}${c.mine ? ', including you' : ''}`}
            title={names(c.users)}
            data-emoji={c.emoji}
            data-count={c.users.length}
            onClick={() => onToggle(c.emoji)}
          >
            {c.emoji} <span className="count">{c.users.length}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

/** Inline editing of my message: Enter saves, Shift+Enter is a new line, Escape cancels. */
export function EditBox({ initial, onSave, onCancel }: { initial: string; onSave: (body: string) => Promise<void>; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const body = text.replace(/\s+$/, '');
  const bytes = utf8Length(body);
  const invalid = body.trim() === '' ? 'A message cannot be empty: delete it instead.' : bytes > MAX_BODY_BYTES ? `Too long by ${bytes - MAX_BODY_BYTES} bytes.` : null;
  const save = () => {
    if (busy || invalid) return;
    setBusy(true);
    setError(null);
    onSave(body).catch((e) => {
      setBusy(false);
      setError(actionErrorText(e));
    });
  };
  return (
    <div className="edit-box">
      <label className="visually-hidden" htmlFor={id}>
        Edit message
      </label>
      <textarea
        id={id}
        className="edit-input"
        ref={ref}
        value={text}
        rows={1}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onCancel();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            save();
          }
        }}
        aria-invalid={!!invalid || undefined}
        disabled={busy}
      />
      {(error || invalid) && (
        <p className="edit-error" role="alert">
          {error ?? invalid}
        </p>
      )}
      <div className="edit-actions">
        <span className="hint">Enter to save · Esc to cancel</span>
        <button type="button" className="ghost small" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary small" disabled={busy || !!invalid} onClick={save}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </div>
  );
}

export function DeleteDialog({ m, own, onClose }: { m: Message; own: boolean; onClose: () => void }) {
  const engine = useEngine();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = () => {
    setBusy(true);
    setError(null);
    engine.deleteMessage(m.conversationId, m.seq).then(onClose, (e) => {
      setBusy(false);
      setError(actionErrorText(e));
    });
  };
  const preview = m.body.length > 140 ? `${m.body.slice(0, 140)}…` : m.body;
  return (
    <Modal title="Delete message?" onClose={onClose}>
      <p className="muted">{own ? 'It will be removed for everyone in this conversation.' : 'You are removing someone else’s message for everyone.'}</p>
      {preview && <blockquote className="quote">{preview}</blockquote>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="modal-actions">
        <button type="button" className="ghost" onClick={onClose} autoFocus>
          Cancel
        </button>
        <button type="button" className="danger" disabled={busy} onClick={remove}>
          {busy ? 'Deleting…' : 'Delete'}
        </button>
      </div>
    </Modal>
  );
}

/** A message's file: an image inline (opens larger), anything else a download with its name and size. */
