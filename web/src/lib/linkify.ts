// Splits message text into plain text and http(s) links, so links render as
// <a> elements and everything else as text nodes: no HTML is ever parsed.

export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?'")\]}>]+$/;

/** The segments of text; links are only absolute http: or https: URLs. */
export function linkify(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    // Leave closing punctuation to the sentence, unless it balances the URL ("(see https://x/a_(b))").
    const trail = raw.match(TRAILING)?.[0] ?? '';
    if (trail) {
      let keep = 0;
      if (trail.startsWith(')') && (raw.match(/\(/g)?.length ?? 0) > (raw.slice(0, -trail.length).match(/\)/g)?.length ?? 0)) keep = 1;
      raw = raw.slice(0, raw.length - trail.length + keep);
    }
    const href = safeHref(raw);
    if (!href) continue;
    const start = m.index ?? 0;
    if (start > last) out.push({ kind: 'text', text: text.slice(last, start) });
    out.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return mergeText(out);
}

/** The normalized URL if it is an absolute http(s) URL with a host, else null. */
export function safeHref(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) return null;
  return u.href;
}

function mergeText(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const prev = out[out.length - 1];
    if (s.kind === 'text' && prev?.kind === 'text') out[out.length - 1] = { kind: 'text', text: prev.text + s.text };
    else out.push(s);
  }
  return out;
}
