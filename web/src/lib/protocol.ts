// The wire protocol's types and small helpers (docs/protocol.md, version 1).

/** A user as the server shows it to others. */
export interface User {
  id: string;
  username: string;
  displayName: string;
}

/** The answer of register, login and refresh. */
export interface Session {
  user: User;
  accessToken: string;
  accessExpiresAt: string;
  refreshToken: string;
}

/** The kinds of a conversation's sequence entries: chat messages and events (docs/protocol.md). */
export type MessageKind = 'message' | 'edit' | 'delete' | 'react' | 'unreact' | 'join' | 'leave' | 'remove' | 'role' | 'rename';

/**
 * One entry of a conversation's sequence; (conversationId, seq) is its
 * identity. Only kind `message` is a chat message, the rest are events.
 */
export interface Message {
  conversationId: string;
  seq: number;
  messageId: string;
  senderId: string;
  clientMsgId: string;
  body: string;
  createdAt: string;
  kind: MessageKind;
  /** edit, delete, react, unreact: the chat message they apply to. */
  targetSeq?: number;
  /** join, remove, role: the member concerned. */
  subjectId?: string;
  /** A chat message's current state. */
  editedAt?: string;
  deleted?: boolean;
  /** The seq of the last event applied to this chat message. */
  updatedSeq?: number;
  /** emoji -> user ids, in the order they reacted. */
  reactions?: Record<string, string[]>;
  attachments?: string[];
}

/** Whether an entry is a chat message (a missing kind counts as one). */
export function isChatMessage(m: Pick<Message, 'kind'>): boolean {
  return (m.kind ?? 'message') === 'message';
}

export type Role = 'owner' | 'admin' | 'member';

export interface Member {
  userId: string;
  username: string;
  displayName: string;
  role: Role;
  joinedAt: string;
  lastReadSeq: number;
}

export interface Conversation {
  id: string;
  kind: 'group' | 'direct';
  title: string;
  createdBy: string;
  createdAt: string;
  lastSeq: number;
  lastReadSeq: number;
  unread: number;
  lastMessage?: Message;
  role?: Role | '';
  peer?: User;
  /** Details and member-change answers only: the first 200 members in join order. */
  members?: Member[];
  /** Details and member-change answers only: how many members there are in all. */
  memberCount?: number;
  /** When `members` is not all of them: the cursor of the next page (GET …/members?after=). */
  membersNext?: string;
}

/** A page of GET /api/conversations/{id}/members: members in join order, `next` absent on the last page. */
export interface MembersPage {
  members: Member[];
  next?: string;
}

/** The server's acknowledgement of a send: the message is stored. */
export interface Ack {
  conversationId: string;
  seq: number;
  messageId: string;
  clientMsgId: string;
  createdAt: string;
  duplicate: boolean;
}

/** The end of a sync replay, with the afterSeq the client asked for. */
export interface SyncResult {
  conversationId: string;
  afterSeq: number;
  fromSeq: number;
  lastSeq: number;
  hasMore: boolean;
}

export interface HistoryPage {
  conversationId: string;
  messages: Message[];
  hasMore: boolean;
}

/** Member userId has read up to seq (your own receipts come from your other tabs and devices too). */
export interface ReceiptEvent {
  conversationId: string;
  userId: string;
  seq: number;
}

/** Another member is typing (show it for about 5 s). */
export interface TypingEvent {
  conversationId: string;
  userId: string;
}

export interface MembershipEvent {
  conversationId: string;
  joined: boolean;
  lastSeq: number;
}

/** A user's presence: online while one of their sockets is open on any node. */
export interface Presence {
  userId: string;
  status: 'online' | 'offline';
  /** When the user last went offline (absent if never seen). */
  lastSeen?: string;
}

/** A user you share a conversation with (or you, on another device) set a new avatar. */
export interface ProfileEvent {
  userId: string;
  /** Identifies the avatar now set (opaque; GET /api/users/{id}/avatar?v=… serves it). */
  avatarVersion: string;
}

/** A stored file (POST /api/uploads, PUT /api/me/avatar). */
export interface UploadInfo {
  id: string;
  contentType: string;
  name: string;
  size: number;
  createdAt: string;
}

/** The content types the server accepts for uploads (it sniffs them; avatars: the images only). */
export const IMAGE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
export const UPLOAD_TYPES: readonly string[] = [...IMAGE_TYPES, 'application/pdf', 'text/plain'];
/** The server's default upload limit (chatd --max-upload-bytes). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** At most this many attachments per message. */
export const MAX_ATTACHMENTS = 10;

export function isImageType(contentType: string): boolean {
  return IMAGE_TYPES.includes(contentType.split(';')[0].trim().toLowerCase());
}

/** A sequenced change to a chat message: edit, delete, react or unreact (acknowledged like a send). */
export type EventRequest =
  | { type: 'edit'; targetSeq: number; body: string }
  | { type: 'delete'; targetSeq: number }
  | { type: 'react' | 'unreact'; targetSeq: number; emoji: string };

/** The closed set of protocol error codes, plus client-side ones. */
export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'invalid'
  | 'too_large'
  | 'rate_limited'
  | 'conflict'
  | 'unavailable'
  | 'internal'
  // client side:
  | 'timeout'
  | 'disconnected'
  | 'network';

/** An error with a protocol code; REST errors also carry the HTTP status. */
export class ChatError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string, status = 0) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
    this.status = status;
  }
  /** Whether retrying the same request later may succeed. */
  get retryable(): boolean {
    return ['unavailable', 'rate_limited', 'internal', 'timeout', 'disconnected', 'network'].includes(this.code);
  }
}

// ---------------------------------------------------------------------------
// Small helpers

/** A random UUID v4; works outside secure contexts too. */
export function newId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Exponential backoff with jitter: a delay in [cap/2, cap], cap = min(max, base·2^attempt). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** The WebSocket URL of the page's own origin. */
export function sameOriginWsUrl(loc: { protocol: string; host: string } = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/** A callback for values of type T. */
export type Listener<T> = (value: T) => void;
