// Member lists of big rooms: the members loaded of a conversation are the first page of its detail and
// the pages appended after its cursor, in the server's order (docs/protocol.md: join order, ties by
// user id). A fresh detail (or member-change answer) is merged into them rather than replacing them,
// and the live membership notices keep the members past its first page current.
import type { Conversation, Member, Message, Role } from '../lib/client';
import type { ChatData } from './types';

type MemberLists = Pick<ChatData, 'members' | 'membersNext' | 'membersTail'>;

/**
 * The member lists once a conversation's first page of members comes again. Its members replace their
 * loaded copies (roles, names, read markers) and join if new; loaded members it leaves out within its
 * range have left. Members loaded past its range (pages asked with "Show more") stay after it, and the
 * cursor stays past the furthest of them; a list loaded to its end gets the cursor of its last page
 * back when the count says more members have joined since (they join at the end). The page and its
 * cursor replace the list when nothing past the page was loaded, or when the page is all the members.
 */
export function mergeFirstPage(s: ChatData, id: string, page: Member[], c: Pick<Conversation, 'membersNext' | 'memberCount'>): MemberLists {
  const have = s.members[id];
  const last = page[page.length - 1];
  const inPage = new Set(page.map((m) => m.userId));
  const beyond = have && c.membersNext && last ? have.filter((m) => !inPage.has(m.userId) && memberOrder(m, last) > 0) : [];
  if (!beyond.length) {
    return {
      members: { ...s.members, [id]: page },
      membersNext: withEntry(s.membersNext, id, c.membersNext),
      membersTail: withEntry(s.membersTail, id, undefined),
    };
  }
  const members = [...page, ...beyond];
  const joinedSince = (c.memberCount ?? 0) > members.length;
  const next = s.membersNext[id] ?? (joinedSince ? s.membersTail[id] : undefined);
  return { members: { ...s.members, [id]: members }, membersNext: withEntry(s.membersNext, id, next), membersTail: s.membersTail };
}

/**
 * The member lists with a page asked after the cursor `after` appended (deduplicated by userId): `next`
 * becomes the cursor, and `after` is kept as the last page's, to ask again for those who join later.
 * Null when `after` is no longer the conversation's cursor (a detail replaced it).
 */
export function appendPage(s: ChatData, id: string, list: Member[], after: string, next: string | undefined): MemberLists | null {
  const have = s.members[id];
  if (!have || s.membersNext[id] !== after) return null;
  const seen = new Set(have.map((m) => m.userId));
  const added: Member[] = [];
  for (const m of list) {
    if (seen.has(m.userId)) continue;
    seen.add(m.userId);
    added.push(m);
  }
  return {
    members: added.length ? { ...s.members, [id]: [...have, ...added] } : s.members,
    membersNext: withEntry(s.membersNext, id, next),
    membersTail: { ...s.membersTail, [id]: after },
  };
}

const ROLES: ReadonlySet<string> = new Set<Role>(['owner', 'admin', 'member']);

/**
 * Loaded members after membership notices new to the live stream, in seq order: who left or was removed
 * goes (past the first page no detail would tell), a role change applies. The same array when nothing
 * changed.
 */
export function applyMemberNotices(members: Member[], notices: Message[]): Member[] {
  let out = members;
  for (const m of notices) {
    if (m.kind === 'leave') out = withoutMember(out, m.senderId);
    else if (m.kind === 'remove' && m.subjectId) out = withoutMember(out, m.subjectId);
    else if (m.kind === 'role' && m.subjectId && ROLES.has(m.body)) {
      const i = out.findIndex((x) => x.userId === m.subjectId);
      if (i < 0 || out[i].role === m.body) continue;
      out = out.slice();
      out[i] = { ...out[i], role: m.body as Role };
    }
  }
  return out;
}

/** Members without userId: the same array when it is not among them. */
export function withoutMember(members: Member[], userId: string): Member[] {
  return members.some((m) => m.userId === userId) ? members.filter((m) => m.userId !== userId) : members;
}

/** The server's order of members: join time, then user id. */
function memberOrder(a: Member, b: Member): number {
  const ta = Date.parse(a.joinedAt);
  const tb = Date.parse(b.joinedAt);
  const byTime = Number.isNaN(ta) || Number.isNaN(tb) ? compare(a.joinedAt, b.joinedAt) : ta - tb;
  return byTime || compare(a.userId, b.userId);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** r with id set to v, or without id when v is undefined. */
function withEntry(r: Record<string, string>, id: string, v: string | undefined): Record<string, string> {
  if (v !== undefined) return r[id] === v ? r : { ...r, [id]: v };
  if (!(id in r)) return r;
  const { [id]: _gone, ...rest } = r;
  return rest;
}
