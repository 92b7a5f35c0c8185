// Pending-send reconciliation: a message typed here is kept by clientMsgId
// (status `sending`, then `failed` with a reason) until the ack or the echoed
// message frame, whichever comes first, turns it into a message. Retrying
// reuses the clientMsgId, so the server stores it at most once.
import type { StoreApi } from 'zustand/vanilla';
import { ChatError, type Message } from '../lib/client';
import { insertMessages, maxIso } from './timeline';
import type { ChatActions, ChatState, PendingMessage } from './types';

type SendActions = Pick<ChatActions, 'sendMessage' | 'retryMessage' | 'discardMessage' | 'ackSend' | 'failSend'>;

/** The send actions of the store; `set` and `get` are the store's. */
export function sendActions(
  set: StoreApi<ChatState>['setState'],
  get: StoreApi<ChatState>['getState'],
  newId: () => string,
  now: () => number,
): SendActions {
  const dispatch = (clientMsgId: string) => {
    const s = get();
    const p = s.pending[clientMsgId];
    if (!p) return;
    if (!s.transport) {
      s.failSend(clientMsgId, new ChatError('disconnected', 'Not connected.'));
      return;
    }
    const files = p.attachments?.map((a) => a.id);
    s.transport.send(p.conversationId, p.body, clientMsgId, files?.length ? files : undefined).then(
      (ack) => get().ackSend(clientMsgId, ack),
      (err) => get().failSend(clientMsgId, err),
    );
  };

  return {
    sendMessage: (conversationId, body, attachments = []) => {
      const clientMsgId = newId();
      const createdAt = new Date(now()).toISOString();
      set((s) => {
        const c = s.conversations[conversationId];
        const p: PendingMessage = { clientMsgId, conversationId, body, createdAt, status: 'sending' };
        if (attachments.length) p.attachments = attachments;
        return {
          pending: { ...s.pending, [clientMsgId]: p },
          uploads: attachments.length ? { ...s.uploads, ...Object.fromEntries(attachments.map((a) => [a.id, a])) } : s.uploads,
          conversations: c ? { ...s.conversations, [conversationId]: { ...c, activity: maxIso(c.activity, createdAt) } } : s.conversations,
        };
      });
      dispatch(clientMsgId);
      return clientMsgId;
    },

    retryMessage: (clientMsgId) => {
      const p = get().pending[clientMsgId];
      if (!p || p.status !== 'failed') return;
      set((s) => ({ pending: { ...s.pending, [clientMsgId]: { ...p, status: 'sending', error: undefined } } }));
      dispatch(clientMsgId); // the same clientMsgId: the server stores it at most once
    },

    discardMessage: (clientMsgId) =>
      set((s) => {
        if (!s.pending[clientMsgId]) return {};
        const { [clientMsgId]: _gone, ...pending } = s.pending;
        return { pending };
      }),

    ackSend: (clientMsgId, ack) =>
      set((s) => {
        const p = s.pending[clientMsgId];
        if (!p || !s.me) return {}; // the echoed message frame came first
        const m: Message = {
          conversationId: ack.conversationId,
          seq: ack.seq,
          messageId: ack.messageId,
          senderId: s.me.id,
          clientMsgId,
          body: p.body,
          createdAt: ack.createdAt,
          kind: 'message',
        };
        if (p.attachments?.length) m.attachments = p.attachments.map((a) => a.id);
        return insertMessages(s, ack.conversationId, [m]);
      }),

    failSend: (clientMsgId, err) =>
      set((s) => {
        const p = s.pending[clientMsgId];
        if (!p) return {}; // already reconciled: the failure is stale
        const error = err instanceof ChatError ? describeSendError(err) : 'Not sent.';
        return { pending: { ...s.pending, [clientMsgId]: { ...p, status: 'failed', error } } };
      }),
  };
}

function describeSendError(e: ChatError): string {
  switch (e.code) {
    case 'too_large':
      return 'Too long to send.';
    case 'forbidden':
      return 'You can no longer post here.';
    case 'not_found':
      return 'An attachment is gone. Remove it and send again.';
    case 'rate_limited':
      return 'Slow down, then retry.';
    case 'timeout':
    case 'disconnected':
    case 'network':
    case 'unavailable':
      return 'Not delivered yet.';
    default:
      return 'Not sent.';
  }
}
