// Changes to chat messages made here: edit, delete, react and unreact. Each is
// a sequenced request acknowledged like a send (docs/protocol.md §2); its ack
// is applied at once as the event it stored, so the change shows without
// waiting for the echoed `message` frame, which then changes nothing (the
// message's `updatedSeq` already covers it). Reactions show optimistically
// while their request is in flight.
import type { StoreApi } from 'zustand/vanilla';
import { ChatError, isChatMessage, type Ack, type EventRequest, type Message } from '../lib/client';
import { insertMessages } from './timeline';
import type { ChatActions, ChatState } from './types';

type EventActions = Pick<ChatActions, 'editMessage' | 'deleteMessage' | 'toggleReaction'>;

/** The key of a reaction toggle in flight: one per (conversation, message, emoji). */
export function reactionKey(conversationId: string, seq: number, emoji: string): string {
  return `${conversationId}\u0000${seq}\u0000${emoji}`;
}

/** The event entry an ack stands for, as the server stored it. */
export function eventFromAck(ack: Ack, senderId: string, ev: EventRequest): Message {
  return {
    conversationId: ack.conversationId,
    seq: ack.seq,
    messageId: ack.messageId,
    senderId,
    clientMsgId: ack.clientMsgId,
    body: ev.type === 'edit' ? ev.body : ev.type === 'delete' ? '' : ev.emoji,
    createdAt: ack.createdAt,
    kind: ev.type,
    targetSeq: ev.targetSeq,
  };
}

/** The event actions of the store; `set` and `get` are the store's. */
export function eventActions(
  set: StoreApi<ChatState>['setState'],
  get: StoreApi<ChatState>['getState'],
  newId: () => string,
): EventActions {
  /** Sends ev and applies its ack; rejects with the server's refusal (or a lost connection). */
  const run = async (conversationId: string, ev: EventRequest): Promise<void> => {
    const s = get();
    if (!s.transport || !s.me) throw new ChatError('disconnected', 'Not connected.');
    const me = s.me.id;
    const ack = await s.transport.event(conversationId, newId(), ev);
    set((cur) => (cur.conversations[conversationId] ? insertMessages(cur, conversationId, [eventFromAck(ack, me, ev)]) : {}));
  };

  const target = (conversationId: string, seq: number): Message | undefined => {
    const m = get().messages[conversationId]?.[seq];
    return m && isChatMessage(m) ? m : undefined;
  };

  return {
    editMessage: async (conversationId, seq, body) => {
      const m = target(conversationId, seq);
      if (m && !m.deleted && m.body === body) return; // nothing changed
      await run(conversationId, { type: 'edit', targetSeq: seq, body });
    },

    deleteMessage: (conversationId, seq) => run(conversationId, { type: 'delete', targetSeq: seq }),

    toggleReaction: async (conversationId, seq, emoji) => {
      const key = reactionKey(conversationId, seq, emoji);
      const s = get();
      if (s.reacting[key] || !s.me) return; // one toggle at a time, so they cannot cross
      const mine = target(conversationId, seq)?.reactions?.[emoji]?.includes(s.me.id) ?? false;
      const type = mine ? 'unreact' : 'react';
      set((cur) => ({ reacting: { ...cur.reacting, [key]: type } }));
      try {
        await run(conversationId, { type, targetSeq: seq, emoji });
      } finally {
        set((cur) => {
          const { [key]: _done, ...reacting } = cur.reacting;
          return { reacting };
        });
      }
    },
  };
}

export interface ReactionChip {
  emoji: string;
  /** Who reacted, in order (mine included while my reaction is on its way). */
  users: string[];
  mine: boolean;
  /** My toggle of it is in flight. */
  pending: boolean;
}

/** The reaction chips of a message: stored reactions with my toggles in flight applied. */
export function reactionChips(
  m: Pick<Message, 'conversationId' | 'seq' | 'reactions'>,
  reacting: Record<string, 'react' | 'unreact'>,
  meId: string,
): ReactionChip[] {
  const chips = new Map<string, ReactionChip>();
  for (const [emoji, users] of Object.entries(m.reactions ?? {})) {
    if (users.length) chips.set(emoji, { emoji, users, mine: users.includes(meId), pending: false });
  }
  const prefix = reactionKey(m.conversationId, m.seq, '');
  for (const [key, type] of Object.entries(reacting)) {
    if (!key.startsWith(prefix)) continue;
    const emoji = key.slice(prefix.length);
    const chip = chips.get(emoji) ?? { emoji, users: [], mine: false, pending: false };
    const users = type === 'react' ? (chip.users.includes(meId) ? chip.users : [...chip.users, meId]) : chip.users.filter((u) => u !== meId);
    if (users.length) chips.set(emoji, { emoji, users, mine: type === 'react', pending: true });
    else chips.delete(emoji);
  }
  return [...chips.values()];
}
