// The store's edits, deletes, reactions, attachments in pending sends and presence.
import { beforeEach, describe, expect, it } from 'vitest';
import { ChatError, type Ack, type Conversation, type EventRequest, type UploadInfo } from '../lib/client';
import { flush, msg } from '../test/fakes';
import { fileProblem } from '../app/files';
import { createChatStore, reactionChips, reactionKey, type ChatStore, type Transport } from './store';

const ME = { id: 'u_me', username: 'me', displayName: 'Me' };

function conv(id: string, lastSeq = 0, over: Partial<Conversation> = {}): Conversation {
  return { id, kind: 'group', title: id, createdBy: ME.id, createdAt: '2026-01-01T00:00:00.000Z', lastSeq, lastReadSeq: lastSeq, unread: 0, role: 'owner', ...over };
}

type Settle = { resolve: (a: Ack) => void; reject: (e: unknown) => void };

function manualTransport() {
  const sends: ({ conversationId: string; body: string; clientMsgId: string; attachments?: string[] } & Settle)[] = [];
  const events: ({ conversationId: string; clientMsgId: string; ev: EventRequest } & Settle)[] = [];
  const t: Transport = {
    send: (conversationId, body, clientMsgId, attachments) =>
      new Promise<Ack>((resolve, reject) => sends.push({ conversationId, body, clientMsgId, attachments, resolve, reject })),
    event: (conversationId, clientMsgId, ev) => new Promise<Ack>((resolve, reject) => events.push({ conversationId, clientMsgId, ev, resolve, reject })),
    requestSync: () => {},
  };
  return { t, sends, events };
}

const ack = (conversationId: string, clientMsgId: string, seq: number, duplicate = false): Ack => ({
  conversationId,
  seq,
  messageId: `m${seq}`,
  clientMsgId,
  createdAt: `2026-01-01T13:00:${String(seq).padStart(2, '0')}.000Z`,
  duplicate,
});

let store: ChatStore;
let tr: ReturnType<typeof manualTransport>;
let ids = 0;
let now = 1_000;
const st = () => store.getState();
const m1 = () => st().messages.c1[1];

beforeEach(() => {
  ids = 0;
  now = 1_000;
  store = createChatStore({ newId: () => `cmid-${++ids}`, now: () => now });
  st().reset(ME);
  tr = manualTransport();
  st().setTransport(tr.t);
  st().setConversationList([conv('c1', 1)]);
  st().addMessages('c1', [msg('c1', 1, { senderId: ME.id, body: 'first draft' })]);
});

describe('reactions', () => {
  it('shows my reaction at once, keeps it on the ack, and removes it with a second toggle', async () => {
    const done = st().toggleReaction('c1', 1, '👍');
    expect(tr.events).toHaveLength(1);
    expect(tr.events[0].ev).toEqual({ type: 'react', targetSeq: 1, emoji: '👍' });
    // Optimistic: the chip shows before the ack, marked pending; the stored message is unchanged.
    expect(reactionChips(m1(), st().reacting, ME.id)).toEqual([{ emoji: '👍', users: [ME.id], mine: true, pending: true }]);
    expect(m1().reactions).toBeUndefined();

    tr.events[0].resolve(ack('c1', tr.events[0].clientMsgId, 2));
    await done;
    expect(st().reacting).toEqual({});
    expect(m1().reactions).toEqual({ '👍': [ME.id] });
    expect(m1().updatedSeq).toBe(2);
    expect(reactionChips(m1(), st().reacting, ME.id)).toEqual([{ emoji: '👍', users: [ME.id], mine: true, pending: false }]);

    // The echoed event frame changes nothing (its seq is covered by updatedSeq).
    st().receiveMessage(msg('c1', 2, { kind: 'react', targetSeq: 1, body: '👍', senderId: ME.id }));
    expect(m1().reactions).toEqual({ '👍': [ME.id] });

    const undo = st().toggleReaction('c1', 1, '👍');
    expect(tr.events[1].ev).toEqual({ type: 'unreact', targetSeq: 1, emoji: '👍' });
    expect(reactionChips(m1(), st().reacting, ME.id)).toEqual([]);
    tr.events[1].resolve(ack('c1', tr.events[1].clientMsgId, 3));
    await undo;
    expect(m1().reactions).toEqual({});
  });

  it('adds me after the others who reacted, and counts them all', () => {
    st().addMessages('c1', [msg('c1', 1, { senderId: ME.id, body: 'first draft', reactions: { '🎉': ['u_bob', 'u_ann'] }, updatedSeq: 1 })]);
    void st().toggleReaction('c1', 1, '🎉');
    expect(reactionChips(m1(), st().reacting, ME.id)).toEqual([{ emoji: '🎉', users: ['u_bob', 'u_ann', ME.id], mine: true, pending: true }]);
  });

  it('ignores a second toggle of the same emoji while the first is in flight', () => {
    void st().toggleReaction('c1', 1, '❤️');
    void st().toggleReaction('c1', 1, '❤️');
    expect(tr.events).toHaveLength(1);
    void st().toggleReaction('c1', 1, '😂'); // another emoji is independent
    expect(tr.events).toHaveLength(2);
    expect(Object.keys(st().reacting).sort()).toEqual([reactionKey('c1', 1, '❤️'), reactionKey('c1', 1, '😂')].sort());
  });

  it('drops the optimistic chip and reports the refusal', async () => {
    const p = st().toggleReaction('c1', 1, '😮');
    tr.events[0].reject(new ChatError('not_found', 'no such message'));
    await expect(p).rejects.toMatchObject({ code: 'not_found' });
    expect(st().reacting).toEqual({});
    expect(reactionChips(m1(), st().reacting, ME.id)).toEqual([]);
  });

  it('applies others’ reactions from live events by updatedSeq, whatever the order', () => {
    st().receiveMessage(msg('c1', 3, { kind: 'unreact', targetSeq: 1, body: '👍', senderId: 'u_bob' }));
    st().receiveMessage(msg('c1', 2, { kind: 'react', targetSeq: 1, body: '👍', senderId: 'u_bob' }));
    // seq 2 is older than the state after seq 3: dropped.
    expect(reactionChips(m1(), st().reacting, ME.id)).toEqual([]);
  });
});

describe('edits and deletes', () => {
  it('sends an edit and applies it on the ack (edited, new body), the preview too', async () => {
    const p = st().editMessage('c1', 1, 'final text');
    expect(tr.events[0].ev).toEqual({ type: 'edit', targetSeq: 1, body: 'final text' });
    expect(m1().body).toBe('first draft');
    tr.events[0].resolve(ack('c1', tr.events[0].clientMsgId, 2));
    await p;
    expect(m1()).toMatchObject({ body: 'final text', editedAt: '2026-01-01T13:00:02.000Z', updatedSeq: 2 });
    expect(st().conversations.c1.lastMessage?.body).toBe('final text');
    expect(st().conversations.c1.lastSeq).toBe(2);
  });

  it('does not send an edit that changes nothing', async () => {
    await st().editMessage('c1', 1, 'first draft');
    expect(tr.events).toHaveLength(0);
  });

  it('rejects with the server refusal and leaves the message as it was', async () => {
    const p = st().editMessage('c1', 1, 'nope');
    tr.events[0].reject(new ChatError('forbidden', 'not yours'));
    await expect(p).rejects.toBeInstanceOf(ChatError);
    expect(m1().body).toBe('first draft');
    expect(m1().editedAt).toBeUndefined();
  });

  it('deletes: body and attachments gone, shown as deleted, also in the preview', async () => {
    st().addMessages('c1', [msg('c1', 1, { senderId: ME.id, body: 'with a file', attachments: ['f_1'], updatedSeq: 1 })]);
    const p = st().deleteMessage('c1', 1);
    expect(tr.events[0].ev).toEqual({ type: 'delete', targetSeq: 1 });
    tr.events[0].resolve(ack('c1', tr.events[0].clientMsgId, 4));
    await p;
    expect(m1()).toMatchObject({ deleted: true, body: '', updatedSeq: 4 });
    expect(m1().attachments).toBeUndefined();
    expect(st().conversations.c1.lastMessage?.deleted).toBe(true);
  });

  it('fails without a transport instead of hanging', async () => {
    st().setTransport(null);
    await expect(st().deleteMessage('c1', 1)).rejects.toMatchObject({ code: 'disconnected' });
  });
});

describe('attachments in pending sends', () => {
  const photo: UploadInfo = { id: 'f_photo', contentType: 'image/png', name: 'photo.png', size: 2048, createdAt: '2026-01-01T12:00:00.000Z' };
  const doc: UploadInfo = { id: 'f_doc', contentType: 'application/pdf', name: 'spec.pdf', size: 99_000, createdAt: '2026-01-01T12:00:00.000Z' };

  it('sends the upload ids, keeps the files on the pending message, and carries them into the stored one', async () => {
    const id = st().sendMessage('c1', 'look', [photo, doc]);
    expect(tr.sends[0]).toMatchObject({ body: 'look', clientMsgId: id, attachments: ['f_photo', 'f_doc'] });
    expect(st().pending[id].attachments).toEqual([photo, doc]);
    expect(st().uploads.f_photo).toEqual(photo); // known, so no HEAD is needed to render it
    tr.sends[0].resolve(ack('c1', id, 2));
    await flush();
    expect(st().pending[id]).toBeUndefined();
    expect(st().messages.c1[2]).toMatchObject({ body: 'look', attachments: ['f_photo', 'f_doc'], senderId: ME.id });
  });

  it('sends a message of files only (empty body), with no attachments field when there are none', () => {
    st().sendMessage('c1', '', [photo]);
    st().sendMessage('c1', 'just text');
    expect(tr.sends.map((s) => [s.body, s.attachments])).toEqual([
      ['', ['f_photo']],
      ['just text', undefined],
    ]);
  });

  it('retries a failed send with the same clientMsgId and the same files', async () => {
    const id = st().sendMessage('c1', '', [doc]);
    tr.sends[0].reject(new ChatError('timeout', 'no answer'));
    await flush();
    expect(st().pending[id]).toMatchObject({ status: 'failed', error: 'Not delivered yet.' });
    st().retryMessage(id);
    expect(tr.sends[1]).toMatchObject({ clientMsgId: id, attachments: ['f_doc'] });
  });

  it('says why a send with someone else’s or a vanished file failed', async () => {
    const id = st().sendMessage('c1', 'x', [doc]);
    tr.sends[0].reject(new ChatError('not_found', 'no such file'));
    await flush();
    expect(st().pending[id].error).toMatch(/attachment/i);
  });

  it('checks files before uploading: size, emptiness and type', () => {
    expect(fileProblem({ size: 10, type: 'image/png' })).toBeNull();
    expect(fileProblem({ size: 10, type: '' })).toBeNull(); // unknown: the server sniffs it
    expect(fileProblem({ size: 10, type: 'text/plain;charset=utf-8' })).toBeNull();
    expect(fileProblem({ size: 0, type: 'image/png' })).toBe('Empty file');
    expect(fileProblem({ size: 10 * 1024 * 1024, type: 'image/png' })).toBeNull(); // the limit itself is allowed
    expect(fileProblem({ size: 10 * 1024 * 1024 + 1, type: 'image/png' })).toBe('Over 10.0 MB');
    expect(fileProblem({ size: 10, type: 'text/html' })).toBe('Type not allowed');
  });
});

describe('presence', () => {
  it('takes a snapshot, then live events', () => {
    st().setPresence([{ userId: 'u_bob', status: 'offline', lastSeen: '2026-01-01T10:00:00.000Z' }], now);
    expect(st().presence.u_bob).toMatchObject({ status: 'offline', lastSeen: '2026-01-01T10:00:00.000Z' });
    now += 10;
    st().applyPresence({ userId: 'u_bob', status: 'online' });
    // An online event without lastSeen keeps the one known.
    expect(st().presence.u_bob).toMatchObject({ status: 'online', lastSeen: '2026-01-01T10:00:00.000Z' });
    now += 10;
    st().applyPresence({ userId: 'u_bob', status: 'offline', lastSeen: '2026-01-01T11:00:00.000Z' });
    expect(st().presence.u_bob).toMatchObject({ status: 'offline', lastSeen: '2026-01-01T11:00:00.000Z' });
  });

  it('does not let a snapshot asked before a live event undo it', () => {
    const askedAt = now;
    now += 50;
    st().applyPresence({ userId: 'u_bob', status: 'online' });
    st().setPresence([{ userId: 'u_bob', status: 'offline' }, { userId: 'u_ann', status: 'online' }], askedAt);
    expect(st().presence.u_bob.status).toBe('online');
    expect(st().presence.u_ann.status).toBe('online');
    // A snapshot asked after the event wins.
    now += 50;
    st().setPresence([{ userId: 'u_bob', status: 'offline' }], now);
    expect(st().presence.u_bob.status).toBe('offline');
  });

  it('starts empty for every session', () => {
    st().applyPresence({ userId: 'u_bob', status: 'online' });
    st().reset(ME);
    expect(st().presence).toEqual({});
  });
});
