// Display helpers for times and names.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const shortDayFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

function date(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function timeOf(iso: string): string {
  const d = date(iso);
  return d ? timeFmt.format(d) : '';
}

export function fullTime(iso: string): string {
  const d = date(iso);
  return d ? fullFmt.format(d) : '';
}

/** A local calendar day key, for day separators. */
export function dayKey(iso: string): string {
  const d = date(iso);
  return d ? `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}` : '';
}

export function dayLabel(iso: string, now = new Date()): string {
  const d = date(iso);
  if (!d) return '';
  const today = dayKey(now.toISOString());
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  const k = dayKey(iso);
  if (k === today) return 'Today';
  if (k === dayKey(y.toISOString())) return 'Yesterday';
  return dayFmt.format(d);
}

/** Time for today's items, a short date otherwise (the conversation list). */
export function listTime(iso: string, now = new Date()): string {
  const d = date(iso);
  if (!d) return '';
  return dayKey(iso) === dayKey(now.toISOString()) ? timeFmt.format(d) : shortDayFmt.format(d);
}

export function initials(name: string): string {
  const parts = name.trim().split(/[\s._-]+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] ?? '?').slice(0, 2);
  return s.toUpperCase();
}

/** A stable palette class (tone-0 … tone-7) for an id, for avatars. */
export function tone(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return `tone-${Math.abs(h) % 8}`;
}

const encoder = new TextEncoder();
export function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

/** A file size for people: 512 B, 12.3 KB, 4.1 MB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** When someone was last seen: a time today, else a short date and time. */
export function lastSeenTime(iso: string, now = new Date()): string {
  const d = date(iso);
  if (!d) return '';
  if (dayKey(iso) === dayKey(now.toISOString())) return `today at ${timeFmt.format(d)}`;
  return `${shortDayFmt.format(d)}, ${timeFmt.format(d)}`;
}
