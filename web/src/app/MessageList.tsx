import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { isChatMessage, type Message } from '../lib/client';
import { linkify } from '../lib/linkify';
import { actionErrorText } from '../state/errorText';
import { isNotice, memberCountOf, noticeText, type HistoryState, type PendingMessage } from '../state/store';
import { Attachment } from './Attachments';
import { Avatar } from './Avatar';
import { useChat, useEngine } from './chat';
import { PencilIcon, SmileIcon, TrashIcon } from './icons';
import { DeleteDialog, EditBox, ReactionPicker, Reactions } from './MessageActions';
import { dayKey, dayLabel, fullTime, timeOf } from './format';
type Row =
  | { kind: 'top'; key: string }
  | { kind: 'notice'; key: string; m: Message; day: string | null }
  | {
      kind: 'msg';
      key: string;
      m: Message | null;
      p: PendingMessage | null;
      senderId: string;
      body: string;
      createdAt: string;
      own: boolean;
      day: string | null; // a day separator above this row
      showSender: boolean;
      /** The first of a run of someone else's messages: their avatar beside it. */
      showAvatar: boolean;
    };

const EMPTY: number[] = [];
const RUN_MS = 5 * 60_000;

function buildRows(
  seqs: number[],
  byseq: Record<number, Message> | undefined,
  pending: PendingMessage[],
  meId: string,
  isGroup: boolean,
): Row[] {
  const rows: Row[] = [{ kind: 'top', key: 'top' }];
  let prevDay = '';
  let prevSender = '';
  let prevTime = 0;
  const push = (m: Message | null, p: PendingMessage | null, senderId: string, body: string, createdAt: string, key: string) => {
    const dk = dayKey(createdAt);
    const t = Date.parse(createdAt);
    const newDay = dk !== prevDay;
    const own = senderId === meId;
    const runStart = newDay || senderId !== prevSender || t - prevTime > RUN_MS;
    rows.push({
      kind: 'msg',
      key,
      m,
      p,
      senderId,
      body,
      createdAt,
      own,
      day: newDay ? createdAt : null,
      showSender: isGroup && !own && runStart,
      showAvatar: !own && runStart,
    });
    prevDay = dk;
    prevSender = senderId;
    prevTime = t;
  };
  if (byseq) {
    for (const seq of seqs) {
      const m = byseq[seq];
      if (!m) continue;
      if (isChatMessage(m)) {
        push(m, null, m.senderId, m.body, m.createdAt, `m${seq}`);
      } else if (isNotice(m)) {
        const dk = dayKey(m.createdAt);
        rows.push({ kind: 'notice', key: `m${seq}`, m, day: dk !== prevDay ? m.createdAt : null });
        prevDay = dk;
        prevSender = ''; // the next message names its sender again
      }
    }
  }
  for (const p of pending) push(null, p, meId, p.body, p.createdAt, `p${p.clientMsgId}`);
  return rows;
}

export function MessageList({ conversationId }: { conversationId: string }) {
  const engine = useEngine();
  const seqs = useChat((s) => s.seqs[conversationId]) ?? EMPTY;
  const byseq = useChat((s) => s.messages[conversationId]);
  const allPending = useChat((s) => s.pending);
  const users = useChat((s) => s.users);
  const meId = useChat((s) => s.me?.id ?? '');
  const isGroup = useChat((s) => s.conversations[conversationId]?.kind === 'group');
  // Owners and admins of a group may delete anyone's message.
  const moderator = useChat((s) => {
    const c = s.conversations[conversationId];
    return c?.kind === 'group' && (c.role === 'owner' || c.role === 'admin');
  });
  const history = useChat((s) => s.history[conversationId]);
  const members = useChat((s) => s.members[conversationId]);
  // In a big room only some members are loaded: "everyone" is checked against the count.
  const memberCount = useChat((s) => memberCountOf(s, conversationId));

  const pending = useMemo(
    () =>
      Object.values(allPending)
        .filter((p) => p.conversationId === conversationId)
        .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0)),
    [allPending, conversationId],
  );
  const rows = useMemo(() => buildRows(seqs, byseq, pending, meId, isGroup), [seqs, byseq, pending, meId, isGroup]);
  const indexOfKey = useMemo(() => new Map(rows.map((r, i) => [r.key, i])), [rows]);

  // "Seen" under my newest stored message, from the members' read markers (kept live by receipts).
  const seen = useMemo(() => {
    let own: Message | null = null;
    for (let i = rows.length - 1; i > 0 && !own; i--) {
      const r = rows[i];
      if (r.kind === 'msg' && r.m && r.own) own = r.m;
    }
    if (!own || !members) return null;
    const readers = members.filter((m) => m.userId !== meId && m.lastReadSeq >= own!.seq);
    if (!readers.length) return null;
    const others = Math.max(members.filter((m) => m.userId !== meId).length, (memberCount ?? 0) - 1);
    const text = !isGroup ? 'Seen' : readers.length === others && others > 1 ? 'Seen by everyone' : `Seen by ${readers.map((m) => m.displayName || m.username).join(', ')}`;
    return { seq: own.seq, text };
  }, [rows, members, memberCount, meId, isGroup]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const innerRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true); // follow the newest message
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const lastKey = useRef<string | null>(null);

  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 60,
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 12,
    paddingStart: 8,
    paddingEnd: 12,
  });

  const loadOlder = useCallback(() => void engine.loadOlder(conversationId), [engine, conversationId]);

  /** Remembers the first message in view and its offset, from the full measurement list (not the rendered window, which lags). */
  const rememberAnchor = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    const top = el.scrollTop;
    const ms = v.measurementsCache;
    let lo = 0;
    let hi = ms.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ms[mid].end > top) hi = mid;
      else lo = mid + 1;
    }
    // Never the loading row above the messages: it is always at the top.
    const first = ms[lo]?.key === 'top' ? ms[lo + 1] : ms[lo];
    anchor.current = first ? { key: String(first.key), delta: top - first.start } : null;
  }, [v]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    rememberAnchor();
    if (el.scrollTop < 600) loadOlder();
  };

  // After rows change: follow the bottom, or keep the first visible message where it was
  // (older pages and sync replays insert above it).
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const last = rows[rows.length - 1];
    if (last.key !== lastKey.current && last.kind === 'msg' && last.p) stick.current = true; // my own new message
    lastKey.current = last.key;
    if (stick.current) {
      el.scrollTop = el.scrollHeight;
      return;
    }
    const a = anchor.current;
    const idx = a ? indexOfKey.get(a.key) : undefined;
    if (a && idx !== undefined) {
      const start = v.measurementsCache[idx]?.start;
      if (start !== undefined && Math.abs(el.scrollTop - (start + a.delta)) > 1) el.scrollTop = start + a.delta;
    }
  }, [rows, indexOfKey, v]);

  // Measured sizes and a resized viewport change the height: stay at the bottom when following.
  useEffect(() => {
    const el = scrollRef.current;
    const inner = innerRef.current;
    if (!el || !inner || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (stick.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(inner);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Too few messages to scroll: load older ones until the view is full.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && history?.hasMore && !history.loading && history.oldestSeq !== null && el.scrollHeight <= el.clientHeight + 200) loadOlder();
  }, [rows, history, loadOlder]);

  const items = v.getVirtualItems();

  return (
    <div
      className="messages"
      ref={scrollRef}
      onScroll={onScroll}
      role="log"
      aria-label="Messages"
      aria-live="polite"
      aria-relevant="additions"
      tabIndex={0}
      data-count={rows.length - 1}
    >
      <div className="messages-inner" ref={innerRef} style={{ height: v.getTotalSize() }}>
        {items.map((vi) => {
          const row = rows[vi.index];
          return (
            <div key={vi.key} data-index={vi.index} ref={v.measureElement} className="vrow" style={{ transform: `translateY(${vi.start}px)` }}>
              {row.kind === 'top' ? (
                <TopRow history={history} empty={rows.length === 1} onRetry={loadOlder} />
              ) : row.kind === 'notice' ? (
                <NoticeRow row={row} text={noticeText(users, meId, row.m)} />
              ) : (
                <MessageRow
                  row={row}
                  senderName={users[row.senderId]?.displayName || users[row.senderId]?.username || 'Unknown user'}
                  seen={row.m && seen?.seq === row.m.seq ? seen.text : null}
                  canDelete={row.own || moderator}
                />
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}

function TopRow({ history, empty, onRetry }: { history: HistoryState | undefined; empty: boolean; onRetry: () => void }) {
  if (!history || history.loading) {
    return (
      <div className="top-row" role="status">
        <span className="spinner small" aria-hidden="true" /> Loading messages…
      </div>
    );
  }
  if (history.error) {
    return (
      <div className="top-row error" role="alert">
        {history.error}{' '}
        <button type="button" className="link" onClick={onRetry}>
          Retry
        </button>
      </div>
    );
  }
  if (history.hasMore) return <div className="top-row" aria-hidden="true" />;
  return <div className="top-row muted">{empty ? 'No messages yet. Say hello!' : 'This is the beginning of the conversation.'}</div>;
}

const NoticeRow = memo(function NoticeRow({ row, text }: { row: Extract<Row, { kind: 'notice' }>; text: string }) {
  return (
    <div className="sysline" data-seq={row.m.seq} data-kind={row.m.kind}>
      {row.day && (
        <div className="day" role="separator">
          <span>{dayLabel(row.day)}</span>
        </div>
      )}
      <p title={fullTime(row.m.createdAt)}>{text}</p>
    </div>
  );
});

const MessageRow = memo(function MessageRow({
  row,
  senderName,
  seen,
  canDelete,
}: {
  row: Extract<Row, { kind: 'msg' }>;
  senderName: string;
  seen: string | null;
  canDelete: boolean;
}) {
  const engine = useEngine();
  const status = row.p?.status;
  const m = row.m;
  const [mode, setMode] = useState<'idle' | 'edit' | 'react' | 'delete'>('idle');
  const [error, setError] = useState<string | null>(null);
  // Touch screens have no hover: a tap on the bubble shows its actions.
  const [selected, setSelected] = useState(false);
  const live = !!m && !m.deleted; // stored and not deleted: it can be changed
  // Deleted meanwhile (by me elsewhere, or a moderator): nothing left to edit or react to.
  useEffect(() => {
    if (m?.deleted) setMode((cur) => (cur === 'delete' ? cur : 'idle'));
  }, [m?.deleted]);
  const attachments = m ? (m.deleted ? [] : (m.attachments ?? [])) : (row.p?.attachments?.map((a) => a.id) ?? []);

  const react = (emoji: string) => {
    setMode('idle');
    setError(null);
    if (m) engine.toggleReaction(m.conversationId, m.seq, emoji).catch((e) => setError(actionErrorText(e)));
  };

  return (
    <div
      className={`msg ${row.own ? 'own' : 'other'}${row.showSender || row.showAvatar ? ' first' : ''}${status ? ` ${status}` : ''}${mode === 'edit' ? ' editing' : ''}${selected ? ' selected' : ''}`}
      data-seq={m?.seq}
      data-client-msg-id={m?.clientMsgId ?? row.p?.clientMsgId}
      data-status={status ?? 'sent'}
      data-sender-id={row.senderId}
    >
      {row.day && (
        <div className="day" role="separator">
          <span>{dayLabel(row.day)}</span>
        </div>
      )}
      <div className="msg-row">
        {!row.own && <div className="gutter">{row.showAvatar && <Avatar userId={row.senderId} name={senderName} size="small" />}</div>}
        <div className="msg-main">
          {row.showSender && <div className="sender">{senderName}</div>}
          <div className="bubble-line">
            <div
              className={attachments.length && mode !== 'edit' ? 'bubble has-files' : 'bubble'}
              onClick={(e) => {
                if (live && !(e.target as Element).closest('a, button, textarea')) setSelected((v) => !v);
              }}
            >
              {m?.deleted ? (
                <p className="body deleted">Message deleted</p>
              ) : mode === 'edit' && m ? (
                <EditBox
                  initial={m.body}
                  onCancel={() => setMode('idle')}
                  onSave={(body) => engine.editMessage(m.conversationId, m.seq, body).then(() => setMode('idle'))}
                />
              ) : (
                <>
                  {(row.body || !attachments.length) && (
                    <p className="body">
                      <MessageText text={row.body} />
                    </p>
                  )}
                  {attachments.length > 0 && (
                    <ul className="files" aria-label="Attachments">
                      {attachments.map((id) => (
                        <li key={id}>
                          <Attachment id={id} />
                        </li>
                      ))}
                    </ul>
                  )}
                </>
              )}
              <span className="meta">
                {m?.editedAt && !m.deleted && (
                  <span className="edited" title={`Edited ${fullTime(m.editedAt)}`}>
                    (edited){' '}
                  </span>
                )}
                <time dateTime={row.createdAt} title={fullTime(row.createdAt)}>
                  {timeOf(row.createdAt)}
                </time>
                {status === 'sending' && <span className="state"> · Sending…</span>}
              </span>
            </div>
            {live && mode !== 'edit' && (
              <div className={`msg-actions${mode === 'react' ? ' open' : ''}`} role="toolbar" aria-label="Message actions">
                <button
                  type="button"
                  className="icon-btn"
                  aria-label="Add reaction"
                  aria-expanded={mode === 'react'}
                  title="React"
                  onClick={() => setMode(mode === 'react' ? 'idle' : 'react')}
                >
                  <SmileIcon />
                </button>
                {row.own && (
                  <button
                    type="button"
                    className="icon-btn"
                    aria-label="Edit message"
                    title="Edit"
                    onClick={() => {
                      setError(null);
                      setMode('edit');
                    }}
                  >
                    <PencilIcon />
                  </button>
                )}
                {canDelete && (
                  <button type="button" className="icon-btn destructive" aria-label="Delete message" title="Delete" onClick={() => setMode('delete')}>
                    <TrashIcon />
                  </button>
                )}
              </div>
            )}
          </div>
          {mode === 'react' && live && <ReactionPicker reactions={m!.reactions} onPick={react} onClose={() => setMode('idle')} />}
          {live && <Reactions m={m!} onToggle={react} />}
          {seen && <div className="seen">{seen}</div>}
          {error && (
            <div className="action-error" role="alert">
              {error}{' '}
              <button type="button" className="link muted" onClick={() => setError(null)}>
                Dismiss
              </button>
            </div>
          )}
          {status === 'failed' && row.p && (
            <div className="failed-note" role="alert">
              <span>{row.p.error ?? 'Not sent.'}</span>
              <button type="button" className="link" onClick={() => engine.retry(row.p!.clientMsgId)}>
                Retry
              </button>
              <button type="button" className="link muted" onClick={() => engine.store.getState().discardMessage(row.p!.clientMsgId)}>
                Delete
              </button>
            </div>
          )}
        </div>
      </div>
      {mode === 'delete' && m && <DeleteDialog m={m} own={row.own} onClose={() => setMode('idle')} />}
    </div>
  );
});

/** The reactions offered by the picker. */

export function MessageText({ text }: { text: string }) {
  const segs = useMemo(() => linkify(text), [text]);
  return (
    <>
      {segs.map((s, i) =>
        s.kind === 'link' ? (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer">
            {s.text}
          </a>
        ) : (
          s.text
        ),
      )}
    </>
  );
}
