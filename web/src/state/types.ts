// The store's shape: normalized chat data, the actions on it, and the
// transport it reaches the server through (see store.ts).
import type { StoreApi } from 'zustand/vanilla';
import type { Ack, Conversation, EventRequest, Member, Message, Presence, ProfileEvent, ReceiptEvent, Role, SeqCursor, SocketStatus, SyncResult, UploadInfo, User } from '../lib/client';

export type PendingStatus = 'sending' | 'failed';

/** A message typed here that the server has not acknowledged yet. */
export interface PendingMessage {
  clientMsgId: string;
  conversationId: string;
  body: string;
  createdAt: string;
  status: PendingStatus;
  error?: string;
  /** Files uploaded for it (sent as their ids; the same ids on every retry). */
  attachments?: UploadInfo[];
}

/** A user's presence as last heard. */
export interface PresenceState extends Presence {
  /** When (local ms) it was true: a live event's arrival, or when a REST snapshot was asked for. */
  at: number;
}

export interface ConversationMeta {
  id: string;
  kind: 'group' | 'direct';
  title: string;
  /** The seq the title is current at (a rename older than it is history). */
  titleSeq: number;
  createdBy: string;
  createdAt: string;
  role: Role | '';
  peerId: string | null;
  lastSeq: number;
  lastReadSeq: number;
  unread: number;
  lastMessage: Message | null;
  /** ISO time of the latest activity, for sorting the list. */
  activity: string;
  /** All members (from the detail or a member-change answer; lists carry none); null until known. */
  memberCount: number | null;
}

export interface HistoryState {
  /** The lowest seq loaded from the newest page down; null before the first page. */
  oldestSeq: number | null;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
}

/** How the store reaches the server; the engine wires it to a ChatSocket. */
export interface Transport {
  send(conversationId: string, body: string, clientMsgId: string, attachments?: string[]): Promise<Ack>;
  /** An edit, delete or reaction: sequenced and acknowledged like a send. */
  event(conversationId: string, clientMsgId: string, ev: EventRequest): Promise<Ack>;
  requestSync(conversationId: string, afterSeq: number): void;
}

export interface ChatData {
  me: User | null;
  status: SocketStatus;
  users: Record<string, User>;
  conversations: Record<string, ConversationMeta>;
  /**
   * conversationId -> the members loaded, in join order: the detail's first page, then pages appended
   * (a detail again updates its page and keeps the pages past it: members.ts)
   */
  members: Record<string, Member[]>;
  /** conversationId -> the cursor of the next page of members (absent when all of them are loaded) */
  membersNext: Record<string, string>;
  /** conversationId -> the cursor the last appended page was asked after (to ask again for members who join later) */
  membersTail: Record<string, string>;
  /** conversationId -> seq -> message */
  messages: Record<string, Record<number, Message>>;
  /** conversationId -> ascending seqs of `messages` */
  seqs: Record<string, number[]>;
  /** clientMsgId -> pending message */
  pending: Record<string, PendingMessage>;
  /** conversationId -> the live stream's resume point */
  cursors: Record<string, SeqCursor>;
  syncing: Record<string, boolean>;
  history: Record<string, HistoryState>;
  /** conversationId -> userId -> until when (ms) to show "typing" */
  typing: Record<string, Record<string, number>>;
  /** userId -> presence (DM peers and members, from GET /api/presence and `presence` events) */
  presence: Record<string, PresenceState>;
  /** userId -> the version of their avatar last heard of (`profile` events, my own PUT /api/me/avatar) */
  avatarVersions: Record<string, string>;
  /** upload id -> what the file is (own uploads, and attachments looked up with HEAD) */
  uploads: Record<string, UploadInfo>;
  /** reactionKey(conversationId, seq, emoji) -> the toggle in flight ('react' adds mine, 'unreact' removes it) */
  reacting: Record<string, 'react' | 'unreact'>;
  activeId: string | null;
  /** Whether the page is visible, so an active conversation counts as read. */
  visible: boolean;
  listLoaded: boolean;
}

export interface ChatActions {
  reset(me?: User | null): void;
  setStatus(s: SocketStatus): void;
  setVisible(v: boolean): void;
  setActive(id: string | null): void;
  /** Replaces the list; conversations in `keep` (learnt of while the list was in flight) stay. */
  setConversationList(list: Conversation[], keep?: Iterable<string>): void;
  /** A conversation from the server; one with members (a detail, a member-change answer) merges them into those loaded. */
  upsertConversation(c: Conversation, cursorSeq?: number): void;
  removeConversation(id: string): void;
  /**
   * A page of members loaded after the cursor `after`: appended (deduplicated by userId), `next` becomes the
   * cursor. Dropped when `after` is no longer the conversation's cursor (a detail re-fetch replaced it).
   */
  appendMembers(conversationId: string, members: Member[], after: string, next?: string): void;
  /** A member removed here: dropped from the members loaded at once (past the first page, no answer shows it). */
  dropMember(conversationId: string, userId: string): void;
  /** Profiles learnt outside a member list (e.g. members who have left, named in history). */
  addUsers(users: User[]): void;
  /** Messages from REST or a history page. */
  addMessages(conversationId: string, msgs: Message[]): void;
  /** A live or replayed `message` frame. */
  receiveMessage(m: Message): void;
  /** Message frames in arrival order, applied in one update. */
  receiveMessages(ms: Message[]): void;
  applySynced(r: SyncResult): void;
  syncFailed(conversationId: string): void;
  /** Marks every conversation as syncing and returns the (id, afterSeq) pairs to resume from. */
  beginResume(): [string, number][];
  setHistory(conversationId: string, h: Partial<HistoryState>): void;
  markedRead(conversationId: string, seq: number): void;
  /** A read receipt: ours (another tab read it) clears unread; others' move their marker. */
  applyReceipt(r: ReceiptEvent): void;
  setTyping(conversationId: string, userId: string, untilMs: number): void;
  expireTyping(nowMs: number): void;
  /** Sends a chat message (text and/or uploaded files); returns its clientMsgId. */
  sendMessage(conversationId: string, body: string, attachments?: UploadInfo[]): string;
  retryMessage(clientMsgId: string): void;
  discardMessage(clientMsgId: string): void;
  ackSend(clientMsgId: string, ack: Ack): void;
  failSend(clientMsgId: string, err: unknown): void;
  setTransport(t: Transport | null): void;
  /** Edits my chat message at seq; resolves once stored (and applied here), rejects with the server's refusal. */
  editMessage(conversationId: string, seq: number, body: string): Promise<void>;
  /** Deletes the chat message at seq (mine, or any as a group's owner or admin). */
  deleteMessage(conversationId: string, seq: number): Promise<void>;
  /** Adds my reaction emoji to the message at seq, or removes it if I have it; ignored while one for it is in flight. */
  toggleReaction(conversationId: string, seq: number, emoji: string): Promise<void>;
  /** A REST presence snapshot asked at askedAt (local ms): users with a newer live event keep theirs. */
  setPresence(list: Presence[], askedAt: number): void;
  /** A live `presence` event. */
  applyPresence(p: Presence): void;
  /** A live `profile` event (or my own new avatar): the user's avatar is now at avatarVersion. */
  applyProfile(p: ProfileEvent): void;
  addUploads(list: UploadInfo[]): void;
}

export type ChatState = ChatData & ChatActions & { transport: Transport | null };
export type ChatStore = StoreApi<ChatState>;

export interface StoreOptions {
  newId?: () => string;
  now?: () => number;
}
