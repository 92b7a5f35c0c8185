import { useEffect, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from 'react';
import { ChatError, MAX_ATTACHMENTS, UPLOAD_TYPES, type UploadInfo } from '../lib/client';
import { ALLOWED_FILES_TEXT, fileProblem } from './files';
import { PaperclipIcon } from './icons';
import { useChat, useEngine } from './chat';
import { formatBytes, utf8Length } from './format';

/** The server's default body limit (chatd --max-body-bytes). */
export const MAX_BODY_BYTES = 8192;

/** A file picked for the next message: uploading, uploaded (it has its info), or refused. */
export interface Draft {
  key: string;
  file: File;
  status: 'uploading' | 'ready' | 'failed';
  /** 0..1 while uploading. */
  progress: number;
  info?: UploadInfo;
  error?: string;
  /** A failed upload that may work when tried again (not a refused type or size). */
  retryable?: boolean;
  abort: AbortController;
}

function uploadErrorText(e: unknown): string {
  if (!(e instanceof ChatError)) return 'Upload failed';
  switch (e.code) {
    case 'too_large':
      return 'Too large';
    case 'invalid':
      return e.message === 'file type not allowed' ? 'Type not allowed' : e.message === 'the file is empty' ? 'Empty file' : 'Refused';
    case 'rate_limited':
      return 'Too many uploads: retry soon';
    default:
      return 'Upload failed';
  }
}

let draftSeq = 0;

export function Composer({ conversationId }: { conversationId: string }) {
  const engine = useEngine();
  const [text, setText] = useState('');
  const [drafts, setDrafts] = useState<Draft[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const draftsRef = useRef(drafts);
  draftsRef.current = drafts;
  const bytes = utf8Length(text);
  const tooLong = bytes > MAX_BODY_BYTES;
  const ready = drafts.filter((d) => d.status === 'ready');
  const uploading = drafts.some((d) => d.status === 'uploading');
  const failed = drafts.some((d) => d.status === 'failed');
  const empty = text.trim() === '' && ready.length === 0;
  const blocked = empty || tooLong || uploading || failed;

  // Leaving the conversation cancels its uploads.
  useEffect(() => () => draftsRef.current.forEach((d) => d.abort.abort()), []);

  const patch = (key: string, p: Partial<Draft>) => setDrafts((ds) => ds.map((d) => (d.key === key ? { ...d, ...p } : d)));

  const startUpload = (d: Draft) => {
    engine.upload(d.file, { signal: d.abort.signal, onProgress: (progress) => patch(d.key, { progress }) }).then(
      (info) => patch(d.key, { status: 'ready', progress: 1, info }),
      (e) => {
        if (d.abort.signal.aborted) return;
        const refused = e instanceof ChatError && (e.code === 'too_large' || e.code === 'invalid');
        patch(d.key, { status: 'failed', error: uploadErrorText(e), retryable: !refused });
      },
    );
  };

  const addFiles = (files: Iterable<File>) => {
    const list = [...files];
    if (!list.length) return;
    const room = MAX_ATTACHMENTS - draftsRef.current.length;
    setNotice(list.length > room ? `At most ${MAX_ATTACHMENTS} files per message.` : null);
    const added: Draft[] = list.slice(0, Math.max(0, room)).map((file) => {
      const problem = fileProblem(file);
      return { key: `d${++draftSeq}`, file, status: problem ? 'failed' : 'uploading', progress: 0, error: problem ?? undefined, abort: new AbortController() };
    });
    setDrafts((ds) => [...ds, ...added]);
    for (const d of added) if (d.status === 'uploading') startUpload(d);
    ref.current?.focus();
  };

  const remove = (key: string) => {
    draftsRef.current.find((d) => d.key === key)?.abort.abort();
    setDrafts((ds) => ds.filter((d) => d.key !== key));
    setNotice(null);
  };

  const retry = (d: Draft) => {
    const again: Draft = { ...d, status: 'uploading', progress: 0, error: undefined, abort: new AbortController() };
    setDrafts((ds) => ds.map((x) => (x.key === d.key ? again : x)));
    startUpload(again);
  };

  const send = () => {
    if (blocked) return;
    engine.send(
      conversationId,
      text.replace(/\s+$/, ''),
      ready.map((d) => d.info!),
    );
    setText('');
    setDrafts([]);
    setNotice(null);
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

  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    const files = [...e.clipboardData.files];
    if (!files.length) return;
    e.preventDefault();
    addFiles(files);
  };

  const hasFiles = (e: DragEvent) => [...e.dataTransfer.types].includes('Files');
  const onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    setDragging(true);
  };
  const onDrop = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    setDragging(false);
    addFiles(e.dataTransfer.files);
  };

  let hint: string | null = null;
  if (uploading) hint = 'Uploading…';
  else if (failed) hint = `Remove the files marked in red to send. ${ALLOWED_FILES_TEXT}.`;

  return (
    <form
      className={`composer${dragging ? ' dragging' : ''}`}
      onSubmit={onSubmit}
      onDragOver={onDragOver}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <TypingIndicator conversationId={conversationId} />
      {(drafts.length > 0 || notice) && (
        <div className="drafts">
          {drafts.length > 0 && (
            <ul aria-label="Files to send">
              {drafts.map((d) => (
                <DraftChip key={d.key} d={d} onRemove={() => remove(d.key)} onRetry={() => retry(d)} />
              ))}
            </ul>
          )}
          {(notice || hint) && (
            <p className="drafts-note" role="status">
              {notice ?? hint}
            </p>
          )}
        </div>
      )}
      <div className="composer-row">
        <input
          ref={fileRef}
          id="composer-file"
          className="visually-hidden"
          type="file"
          multiple
          accept={UPLOAD_TYPES.join(',')}
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            addFiles(e.target.files ?? []);
            e.target.value = ''; // the same file can be picked again
          }}
        />
        <button
          type="button"
          className="icon attach"
          aria-label="Attach files"
          title={`Attach files: ${ALLOWED_FILES_TEXT}`}
          onClick={() => fileRef.current?.click()}
          disabled={drafts.length >= MAX_ATTACHMENTS}
        >
          <PaperclipIcon />
        </button>
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
          onPaste={onPaste}
          aria-invalid={tooLong || undefined}
          aria-describedby={tooLong ? 'composer-limit' : undefined}
          autoFocus
        />
        {bytes > MAX_BODY_BYTES * 0.9 && (
          <span id="composer-limit" className={tooLong ? 'limit over' : 'limit'} aria-live="polite">
            {tooLong ? `Too long by ${bytes - MAX_BODY_BYTES} bytes` : `${MAX_BODY_BYTES - bytes} bytes left`}
          </span>
        )}
        <button type="submit" className="primary send" disabled={blocked} aria-label="Send message">
          Send
        </button>
      </div>
    </form>
  );
}

function DraftChip({ d, onRemove, onRetry }: { d: Draft; onRemove: () => void; onRetry: () => void }) {
  const name = d.file.name || 'file';
  return (
    <li className={`draft ${d.status}`} data-status={d.status} title={d.error ?? name}>
      <span className="draft-name">{name}</span>
      <span className="draft-size">
        {d.status === 'uploading' ? `${Math.round(d.progress * 100)}%` : d.status === 'failed' ? d.error : formatBytes(d.file.size)}
      </span>
      {d.status === 'uploading' && <progress max={1} value={d.progress} aria-label={`Uploading ${name}`} />}
      {d.status === 'failed' && d.retryable && (
        <button type="button" className="link" onClick={onRetry} aria-label={`Retry ${name}`}>
          Retry
        </button>
      )}
      <button type="button" className="chip-remove" onClick={onRemove} aria-label={`Remove ${name}`}>
        ×
      </button>
    </li>
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
