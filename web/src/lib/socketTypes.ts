// The types of the live WebSocket client (socket.ts): its events, options
// and the part of the DOM WebSocket it uses.
import type { TokenSource } from './api';
import type { ChatError, MembershipEvent, Message, Presence, ProfileEvent, ReceiptEvent, SyncResult, TypingEvent } from './protocol';

export type SocketStatus = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

export interface SocketEvents {
  status: SocketStatus;
  ready: { userId: string };
  message: Message;
  membership: MembershipEvent;
  receipt: ReceiptEvent;
  typing: TypingEvent;
  /** A user you share a conversation with came online or went offline. */
  presence: Presence;
  /** A user you share a conversation with (or you, elsewhere) set a new avatar. */
  profile: ProfileEvent;
  synced: SyncResult;
  /** An error frame without a request id (the server could not parse a frame). */
  error: ChatError;
  /** The server refused our credentials and a refresh failed: sign in again. */
  unauthorized: ChatError;
}

/** The part of the DOM WebSocket the client uses (tests pass a fake). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface ChatSocketOptions {
  /** WebSocket URLs to try in order; a failure moves on to the next. */
  urls: string[];
  tokens: TokenSource;
  /** Called after every `ready`: the (conversationId, afterSeq) pairs to sync. */
  resumeCursors?: () => Iterable<readonly [string, number]>;
  /** Opens a socket; default the global WebSocket. */
  connect?: WebSocketFactory;
  /** How long a sync, history, ping or re-auth may take. Default 15 s. */
  requestTimeoutMs?: number;
  /** How long send() keeps trying (across reconnects) before it rejects. Default 15 s. */
  sendTimeoutMs?: number;
  /** Reconnect backoff. Defaults 500 ms, 15 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Idle time after which the client pings to detect a dead connection. Default 30 s. */
  heartbeatMs?: number;
  /** Outgoing frame budget (the server allows 50/s, burst 100). Defaults 40/s, 80. */
  framesPerSecond?: number;
  frameBurst?: number;
  random?: () => number;
  now?: () => number;
}
