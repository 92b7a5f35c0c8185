// The engine wires the REST Api and the ChatSocket to the store, and runs the
// asynchronous work the screens ask for (open a conversation, load older
// pages, mark read, manage members, upload files, set the avatar, presence),
// and holds the object URLs of avatars and attachments (lib/media.ts).
import {
  Api,
  ChatError,
  ChatSocket,
  sameOriginWsUrl,
  type Conversation,
  type Message,
  type MembershipEvent,
  type ProfileEvent,
  type UploadInfo,
  type UploadOptions,
  type WebSocketFactory,
} from '../lib/client';
import { BlobCache } from '../lib/media';
import { isNotice, type ChatStore } from './store';
import { errorText } from './errorText';
import { UserLookup } from './userLookup';

/** Events after which a conversation's member list has changed. */
const MEMBERSHIP_KINDS: ReadonlySet<string> = new Set(['join', 'leave', 'remove', 'role']);

export const PAGE_SIZE = 50;
/** Members asked per GET …/members page ("Show more members"; the server allows up to 500). */
export const MEMBERS_PAGE_SIZE = 200;
/** GET /api/presence takes at most this many ids. */
const PRESENCE_BATCH = 50;
/** How long "typing" shows without a renewal (docs/protocol.md: about 5 s). */
export const TYPING_SHOWN_MS = 5_000;

export interface EngineOptions {
  api: Api;
  store: ChatStore;
  /** WebSocket URLs, tried in order; default VITE_WS_URLS (comma-separated) or the page's own origin. */
  urls?: string[];
  connect?: WebSocketFactory;
  /** Called when the session cannot be renewed: show the sign-in screen. */
  onSignedOut?: () => void;
}

export class ChatEngine {
  readonly api: Api;
  readonly store: ChatStore;
  readonly socket: ChatSocket;
  /**
   * Avatars by user id, fetched at the version the store knows (`?v=`, from `profile` events) and
   * revalidated by ETag (a 304 when unchanged). A `profile` event loads the new one at once; users
   * heard of by no event (big rooms only) are asked again after 10 min, a missing one after 1.
   */
  readonly avatars: BlobCache;
  /** Attachment files by upload id (images shown inline). */
  readonly files: BlobCache;
  private readonly uploadInfos = new Map<string, Promise<UploadInfo>>();
  private readonly onSignedOut: () => void;
  private readyCount = 0;
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly fetchingMembers = new Map<string, Promise<void>>();
  /** Names of users the store does not know, from GET /api/users. */
  private readonly userLookup: UserLookup;
  private readTimer: ReturnType<typeof setTimeout> | null = null;
  private readInFlight = false;
  private readonly cleanups: (() => void)[] = [];
  private inbox: Message[] = [];
  /** Conversations created or fetched while a list request is in flight. */
  private readonly learnt = new Set<string>();
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private inboxTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(o: EngineOptions) {
    this.api = o.api;
    this.store = o.store;
    this.onSignedOut = o.onSignedOut ?? (() => {});
    this.userLookup = new UserLookup(o.api, o.store);
    this.socket = new ChatSocket({
      urls: o.urls ?? configuredUrls(),
      tokens: o.api,
      connect: o.connect,
      resumeCursors: () => this.store.getState().beginResume(),
    });
    this.avatars = new BlobCache({
      load: (userId) =>
        this.api.download(avatarPath(userId, this.store.getState().avatarVersions[userId]), true).then(
          (d) => d.blob,
          (e: unknown) => {
            if (e instanceof ChatError && e.code === 'not_found') return null;
            throw e;
          },
        ),
      ttlMs: { ready: 10 * 60_000, missing: 60_000, error: 30_000 },
      maxIdle: 200,
    });
    this.files = new BlobCache({
      load: (id) => this.api.download(`/api/uploads/${encodeURIComponent(id)}`).then((d) => d.blob),
      maxIdle: 30,
    });
    const st = () => this.store.getState();
    st().setStatus('connecting');
    st().setTransport({
      send: (c, body, id, attachments) => this.socket.send(c, body, id, attachments),
      event: (c, id, ev) => this.socket.event(c, id, ev),
      requestSync: (c, after) => {
        this.socket.sync(c, after).catch(() => this.store.getState().syncFailed(c));
      },
    });
    const s = this.socket;
    this.cleanups.push(
      s.on('status', (v) => st().setStatus(v)),
      s.on('message', (m) => this.onMessage(m)),
      s.on('synced', (r) => {
        this.flushInbox();
        st().applySynced(r);
      }),
      s.on('membership', (ev) => {
        this.flushInbox();
        this.onMembership(ev);
      }),
      s.on('receipt', (r) => {
        this.flushInbox();
        st().applyReceipt(r);
      }),
      s.on('typing', (t) => this.onTyping(t.conversationId, t.userId)),
      s.on('presence', (p) => st().applyPresence(p)),
      s.on('profile', (p) => this.onProfile(p)),
      s.on('ready', () => this.onReady()),
      s.on('unauthorized', () => this.signOutLocally()),
      this.store.subscribe(() => this.maybeMarkRead()),
    );
    if (typeof document !== 'undefined') {
      const onVis = () => {
        st().setVisible(document.visibilityState === 'visible');
        if (document.visibilityState === 'visible') this.socket.reconnectNow();
      };
      const onOnline = () => this.socket.reconnectNow();
      document.addEventListener('visibilitychange', onVis);
      window.addEventListener('online', onOnline);
      this.cleanups.push(
        () => document.removeEventListener('visibilitychange', onVis),
        () => window.removeEventListener('online', onOnline),
      );
      st().setVisible(document.visibilityState === 'visible');
    }
  }

  /** Loads the conversation list, then connects. */
  async start(): Promise<void> {
    try {
      await this.refreshList();
    } catch (e) {
      if (isUnauthorized(e)) {
        this.signOutLocally();
        return;
      }
      // Offline or the server is restarting: the socket retries and reloads the list on ready.
    }
    if (!this.stopped) this.socket.start();
  }

  stop(): void {
    this.stopped = true;
    this.userLookup.stop();
    this.flushInbox();
    this.socket.stop();
    for (const c of this.cleanups.splice(0)) c();
    if (this.readTimer) clearTimeout(this.readTimer);
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.store.getState().setTransport(null);
    this.avatars.clear();
    this.files.clear();
  }

  async refreshList(): Promise<void> {
    this.learnt.clear();
    const list = await this.api.conversations();
    this.store.getState().setConversationList(list, this.learnt);
    void this.namePreviews(list.map((c) => c.id));
  }

  // --- screens

  /** Shows a conversation: the newest page, its members, and read marking. */
  openConversation(id: string | null): void {
    this.store.getState().setActive(id);
    if (!id) return;
    const s = this.store.getState();
    if (s.history[id]?.oldestSeq == null && !s.history[id]?.loading) void this.loadLatest(id);
    if (!s.members[id]) void this.fetchConversation(id);
  }

  async loadLatest(id: string): Promise<void> {
    const st = () => this.store.getState();
    st().setHistory(id, { loading: true, error: null });
    try {
      const msgs = await this.api.messages(id, { limit: PAGE_SIZE });
      st().addMessages(id, msgs);
      void this.resolveUsers(id, msgs);
      st().setHistory(id, {
        loading: false,
        oldestSeq: msgs.length ? msgs[0].seq : 0,
        hasMore: msgs.length === PAGE_SIZE && msgs[0].seq > 1,
      });
    } catch (e) {
      st().setHistory(id, { loading: false, error: errorText(e) });
    }
  }

  /** Loads the page before the oldest loaded message (scrolling up). */
  async loadOlder(id: string): Promise<void> {
    const st = () => this.store.getState();
    const h = st().history[id];
    if (!h || h.loading || !h.hasMore || h.oldestSeq == null) return;
    if (h.oldestSeq === 0) return void this.loadLatest(id);
    st().setHistory(id, { loading: true, error: null });
    try {
      const msgs = await this.api.messages(id, { before: h.oldestSeq, limit: PAGE_SIZE });
      st().addMessages(id, msgs);
      void this.resolveUsers(id, msgs);
      st().setHistory(id, {
        loading: false,
        oldestSeq: msgs.length ? msgs[0].seq : h.oldestSeq,
        hasMore: msgs.length === PAGE_SIZE && msgs[0].seq > 1,
      });
    } catch (e) {
      st().setHistory(id, { loading: false, error: errorText(e) });
    }
  }

  send(conversationId: string, body: string, attachments?: UploadInfo[]): string {
    return this.store.getState().sendMessage(conversationId, body, attachments);
  }

  editMessage(conversationId: string, seq: number, body: string): Promise<void> {
    return this.store.getState().editMessage(conversationId, seq, body);
  }

  deleteMessage(conversationId: string, seq: number): Promise<void> {
    return this.store.getState().deleteMessage(conversationId, seq);
  }

  toggleReaction(conversationId: string, seq: number, emoji: string): Promise<void> {
    return this.store.getState().toggleReaction(conversationId, seq, emoji);
  }

  // --- files, avatars, presence

  /** Uploads a file for a message; the store learns what it is. */
  async upload(file: File, opts: UploadOptions = {}): Promise<UploadInfo> {
    const info = await this.api.upload(file, file.name, opts);
    this.store.getState().addUploads([info]);
    return info;
  }

  /** What an attachment is (HEAD, once per id), unless the store knows already. */
  uploadInfo(id: string): Promise<UploadInfo> {
    const known = this.store.getState().uploads[id];
    if (known) return Promise.resolve(known);
    let p = this.uploadInfos.get(id);
    if (!p) {
      p = this.api.uploadInfo(id).then((info) => {
        this.store.getState().addUploads([info]);
        return info;
      });
      p.catch(() => this.uploadInfos.delete(id)); // asked again next time
      this.uploadInfos.set(id, p);
    }
    return p;
  }

  /** Saves an attachment to disk: fetched with the token, handed to the browser as an object URL. */
  async downloadFile(id: string, name: string): Promise<void> {
    const d = await this.api.download(`/api/uploads/${encodeURIComponent(id)}`);
    const url = URL.createObjectURL(d.blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name || d.name || 'file';
    a.rel = 'noopener';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  /** Sets my avatar, then shows the stored one everywhere (my other devices learn it by a `profile` event). */
  async setAvatar(file: File, opts: UploadOptions = {}): Promise<void> {
    const info = await this.api.setAvatar(file, file.name, opts);
    const me = this.store.getState().me;
    if (me) await this.onProfile({ userId: me.id, avatarVersion: info.id });
  }

  /** A user's avatar changed: remember its version and load it for what shows it (the old image stays until then). */
  private onProfile(p: ProfileEvent): Promise<void> {
    const known = this.store.getState().avatarVersions[p.userId];
    if (known === p.avatarVersion) return Promise.resolve();
    this.store.getState().applyProfile(p);
    return this.avatars.refresh(p.userId);
  }

  /** Asks for the presence of users (the server answers for those sharing a conversation with me). */
  async loadPresence(ids: Iterable<string>): Promise<void> {
    const me = this.store.getState().me?.id;
    const list = [...new Set(ids)].filter((id) => id && id !== me);
    for (let i = 0; i < list.length; i += PRESENCE_BATCH) {
      const askedAt = Date.now();
      try {
        this.store.getState().setPresence(await this.api.presence(list.slice(i, i + PRESENCE_BATCH)), askedAt);
      } catch {
        // shown as unknown; asked again after the next reconnect
      }
    }
  }

  /** The peers of every DM (their dots in the conversation list). */
  private loadPeersPresence(): Promise<void> {
    const peers = Object.values(this.store.getState().conversations).flatMap((c) => (c.peerId ? [c.peerId] : []));
    return this.loadPresence(peers);
  }

  /** The user is typing in a conversation (throttled by the socket). */
  typing(conversationId: string): void {
    this.socket.typing(conversationId);
  }

  retry(clientMsgId: string): void {
    this.store.getState().retryMessage(clientMsgId);
  }

  async createGroup(title: string, usernames: string[]): Promise<string> {
    const c = await this.api.createGroup(title, usernames);
    this.learnt.add(c.id);
    this.store.getState().upsertConversation(c);
    return c.id;
  }

  async createDirect(username: string): Promise<string> {
    const c = await this.api.createDirect(username);
    this.learnt.add(c.id);
    this.store.getState().upsertConversation(c);
    if (c.peer) void this.loadPresence([c.peer.id]);
    return c.id;
  }

  /**
   * Loads the next page of a conversation's members (after the store's cursor) and appends it; the
   * store keeps the following cursor, none at the end. One request at a time per conversation.
   * A detail fetch of the conversation in flight (the members dialog re-fetches it on opening) is
   * waited for first: when nothing past the first page is loaded yet it brings a new cursor, and a
   * page asked after the old one would be dropped.
   */
  loadMoreMembers(id: string): Promise<void> {
    const inflight = this.fetchingMembers.get(id);
    if (inflight) return inflight;
    const detail = this.fetching.get(id);
    if (!detail && !this.store.getState().membersNext[id]) return Promise.resolve();
    const next = async (after: string | undefined) => {
      if (!after) return;
      const page = await this.api.membersPage(id, { after, limit: MEMBERS_PAGE_SIZE });
      this.store.getState().appendMembers(id, page.members, after, page.next);
    };
    const cursor = () => this.store.getState().membersNext[id];
    // The cursor as of now, or as the detail in flight leaves it (fetchConversation never rejects).
    const p = (detail ? detail.then(() => next(cursor())) : next(cursor())).finally(() => this.fetchingMembers.delete(id));
    this.fetchingMembers.set(id, p);
    return p;
  }

  async addMember(id: string, username: string, role?: 'member' | 'admin'): Promise<void> {
    this.store.getState().upsertConversation(await this.api.addMember(id, username, role));
  }

  async removeMember(id: string, userId: string): Promise<void> {
    const c = await this.api.removeMember(id, userId);
    // The answer holds the first page of members only: one removed past it is dropped here.
    this.store.getState().dropMember(id, userId);
    this.store.getState().upsertConversation(c);
  }

  async leave(id: string): Promise<void> {
    await this.api.leave(id);
    const s = this.store.getState();
    if (s.activeId === id) s.setActive(null);
    s.removeConversation(id);
  }

  async logout(): Promise<void> {
    this.stop();
    try {
      await this.api.logout();
    } catch {
      // the cookie is cleared or the server is gone: signed out either way
    }
  }

  // --- socket events

  private onReady(): void {
    this.readyCount++;
    // Presence is asked after ready, so the live events that follow are newer than the snapshot.
    // Avatars may have changed while we were away: `profile` events are not replayed.
    if (this.readyCount > 1) this.avatars.revalidate();
    if (this.readyCount > 1 || !this.store.getState().listLoaded) {
      // Memberships may have changed while we were away.
      this.refreshList().then(
        () => this.loadPeersPresence(),
        () => {},
      );
    } else {
      void this.loadPeersPresence();
    }
  }

  /**
   * Message frames are applied in small batches (one store update per ~frame),
   * so a burst of thousands of messages does not re-render once per message.
   */
  private onMessage(m: Message): void {
    this.inbox.push(m);
    if (this.inbox.length >= 500) this.flushInbox();
    else if (!this.inboxTimer) this.inboxTimer = setTimeout(() => this.flushInbox(), 16);
  }

  private flushInbox(): void {
    if (this.inboxTimer) clearTimeout(this.inboxTimer);
    this.inboxTimer = null;
    if (!this.inbox.length) return;
    const batch = this.inbox;
    this.inbox = [];
    const s = this.store.getState();
    const unknown = new Set<string>();
    /** Per conversation, the messages naming people to look up: notices, and senders without a name. */
    const naming = new Map<string, Message[]>();
    for (const m of batch) {
      const id = m.conversationId;
      if (!s.conversations[id]) unknown.add(id);
      // Membership changed: reload the member list (names, roles, count).
      else if (MEMBERSHIP_KINDS.has(m.kind) && s.members[id]) unknown.add(id);
      // A sender with no name (the timeline and the list's preview show it). In a big room they may be past
      // the detail's first page of members: ask GET /api/users, not the detail.
      if (!isNotice(m) && s.users[m.senderId]) continue;
      const list = naming.get(id);
      if (list) list.push(m);
      else naming.set(id, [m]);
    }
    s.receiveMessages(batch);
    for (const id of unknown) void this.fetchConversation(id);
    for (const [id, ms] of naming) void this.resolveUsers(id, ms);
  }

  /**
   * Fetches the profiles of the people messages name that are not known yet
   * (once the conversation's detail is in), such as members who have left or,
   * in a big room, members past the detail's first page.
   */
  private async resolveUsers(conversationId: string, msgs: Message[]): Promise<void> {
    await this.fetching.get(conversationId);
    await this.userLookup.lookUp(msgs.flatMap((m) => (m.subjectId ? [m.senderId, m.subjectId] : [m.senderId])));
  }

  /**
   * Names the last senders of group previews in the conversation list (a conversation not opened has no
   * members loaded, and a big room's detail may not hold its last sender either).
   */
  private namePreviews(conversationIds: string[]): Promise<void> {
    const s = this.store.getState();
    const senders = conversationIds.flatMap((id) => {
      const c = s.conversations[id];
      return c?.kind === 'group' && c.lastMessage ? [c.lastMessage.senderId] : [];
    });
    return this.userLookup.lookUp(senders);
  }

  private onTyping(conversationId: string, userId: string): void {
    const s = this.store.getState();
    if (userId === s.me?.id) return;
    s.setTyping(conversationId, userId, Date.now() + TYPING_SHOWN_MS);
    if (!this.typingTimer) this.scheduleTypingExpiry();
  }

  private scheduleTypingExpiry(): void {
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      const s = this.store.getState();
      s.expireTyping(Date.now());
      if (Object.keys(this.store.getState().typing).length) this.scheduleTypingExpiry();
    }, 1_000);
  }

  private onMembership(ev: MembershipEvent): void {
    const s = this.store.getState();
    if (ev.joined) {
      void this.fetchConversation(ev.conversationId, ev.lastSeq);
      return;
    }
    if (s.activeId === ev.conversationId) s.setActive(null);
    s.removeConversation(ev.conversationId);
  }

  /** Loads a conversation with its members (deduplicated while in flight). */
  fetchConversation(id: string, cursorSeq?: number): Promise<void> {
    const inflight = this.fetching.get(id);
    if (inflight) return inflight;
    const p = this.api
      .conversation(id)
      .then((c: Conversation) => {
        this.learnt.add(c.id);
        const known = this.store.getState().conversations[c.id];
        this.store.getState().upsertConversation(c, cursorSeq);
        if (!known && c.peer) void this.loadPresence([c.peer.id]); // a DM new to the list
        void this.namePreviews([c.id]);
      })
      .catch((e) => {
        if (e instanceof ChatError && (e.code === 'forbidden' || e.code === 'not_found')) {
          this.store.getState().removeConversation(id);
        }
      })
      .finally(() => this.fetching.delete(id));
    this.fetching.set(id, p);
    return p;
  }

  // --- read marker

  private maybeMarkRead(): void {
    const s = this.store.getState();
    const id = s.activeId;
    if (!id || !s.visible || this.readTimer || this.readInFlight) return;
    const c = s.conversations[id];
    if (!c || c.lastSeq <= c.lastReadSeq) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = null;
      void this.markRead();
    }, 300);
  }

  private async markRead(): Promise<void> {
    const s = this.store.getState();
    const id = s.activeId;
    const c = id ? s.conversations[id] : undefined;
    if (!id || !c || !s.visible || c.lastSeq <= c.lastReadSeq) return;
    this.readInFlight = true;
    let seq: number | null = null;
    try {
      seq = await this.api.markRead(id, c.lastSeq);
    } catch {
      // retried on the next change
    }
    this.readInFlight = false;
    if (seq !== null) this.store.getState().markedRead(id, seq);
  }

  private signOutLocally(): void {
    this.stop();
    this.onSignedOut();
  }
}

/** The build's VITE_WS_URLS (for several nodes behind no balancer), else the page's own origin. */
function configuredUrls(): string[] {
  const list = (import.meta.env?.VITE_WS_URLS ?? '')
    .split(',')
    .map((u: string) => u.trim())
    .filter(Boolean);
  return list.length ? list : [sameOriginWsUrl()];
}

function isUnauthorized(e: unknown): boolean {
  return e instanceof ChatError && e.code === 'unauthorized';
}

/** The URL of a user's avatar, at a version when one is known (the server marks that one immutable). */
export function avatarPath(userId: string, version?: string): string {
  const path = `/api/users/${encodeURIComponent(userId)}/avatar`;
  return version ? `${path}?v=${encodeURIComponent(version)}` : path;
}
