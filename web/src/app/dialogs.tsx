import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ChatError, IMAGE_TYPES, type Member } from '../lib/client';
import { errorText } from '../state/errorText';
import { memberCountOf } from '../state/store';
import { Avatar } from './Avatar';
import { useChat, useEngine } from './chat';
import { avatarProblem } from './files';

/** A modal on the native <dialog>: focus trapping, Escape and the backdrop for free. */
export function Modal({ title, onClose, children, wide = false }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={wide ? 'modal wide' : 'modal'}
      aria-labelledby={titleId}
      onClose={onClose}
      onClick={(e) => {
        if (e.target === ref.current) onClose(); // a click on the backdrop
      }}
    >
      <div className="modal-body">
        <header className="modal-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        {children}
      </div>
    </dialog>
  );
}

/** Usernames from free text: commas, spaces or new lines, with or without "@". */
export function parseUsernames(text: string): string[] {
  const seen = new Set<string>();
  for (const raw of text.split(/[\s,;]+/)) {
    const u = raw.replace(/^@/, '').trim().toLowerCase();
    if (u) seen.add(u);
  }
  return [...seen];
}

function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}

export function NewGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (id: string) => void }) {
  const engine = useEngine();
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const { busy, error, run } = useSubmit();
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const cid = await engine.createGroup(title.trim(), parseUsernames(members));
      onClose();
      onCreated(cid);
    });
  };
  return (
    <Modal title="New group" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label htmlFor={`${id}-title`}>Group name</label>
        <input id={`${id}-title`} name="title" required maxLength={100} value={title} onChange={(e) => setTitle(e.target.value)} autoFocus />
        <label htmlFor={`${id}-members`}>Members</label>
        <input
          id={`${id}-members`}
          name="members"
          placeholder="alice, bob"
          autoCapitalize="none"
          spellCheck={false}
          value={members}
          onChange={(e) => setMembers(e.target.value)}
          aria-describedby={`${id}-hint`}
        />
        <p className="hint" id={`${id}-hint`}>
          Usernames, separated by commas or spaces. You can add more later.
        </p>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="modal-actions">
          <button type="button" className="ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !title.trim()}>
            {busy ? 'Creating…' : 'Create group'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function NewDirectDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (id: string) => void }) {
  const engine = useEngine();
  const [username, setUsername] = useState('');
  const { busy, error, run } = useSubmit();
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const cid = await engine.createDirect(username.trim().replace(/^@/, '').toLowerCase());
      onClose();
      onCreated(cid);
    });
  };
  return (
    <Modal title="New message" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label htmlFor={`${id}-user`}>Username</label>
        <input id={`${id}-user`} name="username" required autoCapitalize="none" spellCheck={false} value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
        {error && <p className="error" role="alert">{error}</p>}
        <div className="modal-actions">
          <button type="button" className="ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !username.trim()}>
            {busy ? 'Opening…' : 'Start chat'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

const ROLE_RANK: Record<string, number> = { owner: 0, admin: 1, member: 2 };
const byRole = (a: Member, b: Member) => (ROLE_RANK[a.role] ?? 3) - (ROLE_RANK[b.role] ?? 3);
const byRoleThenName = (a: Member, b: Member) =>
  byRole(a, b) || (a.displayName || a.username).localeCompare(b.displayName || b.username);
/**
 * The members in the dialog's order: all loaded, by role then name; while pages are left, owners and
 * admins first and the rest as loaded (the server's join order), so each new page goes at the bottom.
 */
function listed(members: Member[], partial: boolean): Member[] {
  return [...members].sort(partial ? byRole : byRoleThenName);
}
/** Members whose presence the dialog shows (the first ones listed). */
const PRESENCE_SHOWN = 100;
/** The server's default --presence-max-members: bigger conversations get no live presence events. */
const PRESENCE_PUSHED_MAX = 100;

export function MembersDialog({ conversationId, onClose }: { conversationId: string; onClose: () => void }) {
  const engine = useEngine();
  const me = useChat((s) => s.me);
  const conv = useChat((s) => s.conversations[conversationId]);
  const members = useChat((s) => s.members[conversationId]);
  // Only the first page of a big room's members comes with the detail: the rest on demand, page by page.
  const count = useChat((s) => memberCountOf(s, conversationId));
  const hasMore = useChat((s) => !!s.membersNext[conversationId]);
  const [username, setUsername] = useState('');
  const [confirmLeave, setConfirmLeave] = useState(false);
  const { busy, error, run } = useSubmit();
  const more = useSubmit();
  const id = useId();

  useEffect(() => {
    void engine.fetchConversation(conversationId);
  }, [engine, conversationId]);

  // Who of them is online: the first PRESENCE_SHOWN members (two requests at most). Live events keep
  // it current in conversations the server pushes presence for (up to --presence-max-members, 100 by
  // default); in bigger ones it is asked again every minute while the dialog is open.
  const sorted = listed(members ?? [], hasMore || (count ?? 0) > (members?.length ?? 0));
  const presenceIds = sorted
    .slice(0, PRESENCE_SHOWN)
    .map((m) => m.userId)
    .join(',');
  const bigRoom = (count ?? 0) > PRESENCE_PUSHED_MAX;
  useEffect(() => {
    if (!presenceIds) return;
    const ask = () => void engine.loadPresence(presenceIds.split(','));
    ask();
    if (!bigRoom) return;
    const t = setInterval(ask, 60_000);
    return () => clearInterval(t);
  }, [engine, presenceIds, bigRoom]);

  if (!conv) return null;
  const role = conv.role || 'member';
  const isGroup = conv.kind === 'group';
  const canAdd = isGroup && (role === 'owner' || role === 'admin');
  const canRemove = (m: Member) =>
    isGroup && m.userId !== me?.id && (role === 'owner' || (role === 'admin' && m.role === 'member'));
  const shown = new Set(presenceIds.split(','));

  const add = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      for (const u of parseUsernames(username)) await engine.addMember(conversationId, u);
      setUsername('');
    });
  };

  return (
    <Modal title={isGroup ? 'Members' : 'Conversation'} onClose={onClose}>
      {!members && <p className="muted">Loading members…</p>}
      <ul className="member-list" aria-label="Members">
        {sorted.map((m) => (
          <li key={m.userId} className="member">
            <Avatar userId={m.userId} name={m.displayName || m.username} size="small" presence={m.userId !== me?.id && shown.has(m.userId)} />
            <span className="member-text">
              <span className="member-name">
                {m.displayName || m.username}
                {m.userId === me?.id && <span className="muted"> (you)</span>}
              </span>
              <span className="member-sub">@{m.username}</span>
            </span>
            {isGroup && m.role !== 'member' && <span className="role">{m.role}</span>}
            {canRemove(m) && (
              <button
                type="button"
                className="ghost small danger"
                disabled={busy}
                aria-label={`Remove ${m.displayName || m.username}`}
                onClick={() => void run(() => engine.removeMember(conversationId, m.userId))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {members && hasMore && (
        <div className="member-more">
          <span className="muted small-text">
            {members.length.toLocaleString()} of {(count ?? members.length).toLocaleString()} shown
          </span>
          <button type="button" className="secondary small" disabled={more.busy} onClick={() => void more.run(() => engine.loadMoreMembers(conversationId))}>
            {more.busy ? 'Loading…' : 'Show more members'}
          </button>
        </div>
      )}
      {more.error && <p className="error" role="alert">{more.error}</p>}
      {canAdd && (
        <form className="form inline" onSubmit={add}>
          <label htmlFor={`${id}-add`} className="visually-hidden">
            Add member by username
          </label>
          <input
            id={`${id}-add`}
            name="username"
            placeholder="Add by username"
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
          <button type="submit" className="primary" disabled={busy || !username.trim()}>
            Add
          </button>
        </form>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {isGroup && (
        <div className="modal-actions split">
          {confirmLeave ? (
            <>
              <span>Leave “{conv.title}”?</span>
              <span>
                <button type="button" className="ghost" onClick={() => setConfirmLeave(false)}>
                  Stay
                </button>
                <button type="button" className="danger" disabled={busy} onClick={() => void run(() => engine.leave(conversationId))}>
                  Leave group
                </button>
              </span>
            </>
          ) : (
            <button type="button" className="ghost danger" onClick={() => setConfirmLeave(true)}>
              Leave group…
            </button>
          )}
        </div>
      )}
    </Modal>
  );
}

/** The signed-in user's profile: name, username, and the avatar others see. */
export function ProfileDialog({ onClose }: { onClose: () => void }) {
  const engine = useEngine();
  const me = useChat((s) => s.me);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const id = useId();
  if (!me) return null;

  const choose = (file: File | undefined) => {
    if (!file) return;
    setDone(false);
    const problem = avatarProblem(file);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    setProgress(0);
    engine.setAvatar(file, { onProgress: setProgress }).then(
      () => {
        setBusy(false);
        setDone(true);
      },
      (e) => {
        setBusy(false);
        setError(e instanceof ChatError && e.code === 'invalid' ? 'The server refused this image (PNG, JPEG, GIF or WebP only).' : errorText(e));
      },
    );
  };

  return (
    <Modal title="Profile" onClose={onClose}>
      <div className="profile">
        <Avatar userId={me.id} name={me.displayName || me.username} size="large" />
        <div className="profile-text">
          <strong>{me.displayName || me.username}</strong>
          <span className="muted">@{me.username}</span>
        </div>
      </div>
      <input
        ref={fileRef}
        id={`${id}-file`}
        className="visually-hidden"
        type="file"
        accept={IMAGE_TYPES.join(',')}
        tabIndex={-1}
        aria-label="Avatar image"
        onChange={(e) => {
          choose(e.target.files?.[0]);
          e.target.value = '';
        }}
      />
      {busy && <progress className="wide-progress" max={1} value={progress} aria-label="Uploading the avatar" />}
      {done && (
        <p className="notice" role="status">
          Your avatar is updated.
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="modal-actions">
        <button type="button" className="ghost" onClick={onClose}>
          Close
        </button>
        <button type="button" className="primary" disabled={busy} onClick={() => fileRef.current?.click()}>
          {busy ? 'Uploading…' : 'Change avatar…'}
        </button>
      </div>
    </Modal>
  );
}
