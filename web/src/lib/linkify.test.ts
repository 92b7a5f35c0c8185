import { describe, expect, it } from 'vitest';
import { linkify, safeHref } from './linkify';

describe('linkify', () => {
  it('keeps plain text and HTML as text', () => {
    expect(linkify('<img src=x onerror=alert(1)>')).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)>' }]);
  });

  it('splits http and https links out of text', () => {
    expect(linkify('see https://example.com/a?b=1, and http://x.org.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: ', and ' },
      { kind: 'link', text: 'http://x.org', href: 'http://x.org/' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('never links other schemes', () => {
    for (const t of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:x', 'file:///etc/passwd', 'jAvAsCrIpT:alert(1)//http://x']) {
      expect(linkify(t).every((s) => s.kind === 'text' || s.href.startsWith('http'))).toBe(true);
    }
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('https://')).toBeNull();
  });

  it('keeps a closing parenthesis that belongs to the URL', () => {
    const segs = linkify('(https://en.wikipedia.org/wiki/Foo_(bar))');
    expect(segs[1]).toMatchObject({ kind: 'link', text: 'https://en.wikipedia.org/wiki/Foo_(bar)' });
    expect(segs[2]).toEqual({ kind: 'text', text: ')' });
  });

  it('does not let quotes end up inside href', () => {
    const segs = linkify('"https://a.example/x" onclick="y"');
    expect(segs[1]).toMatchObject({ kind: 'link', href: 'https://a.example/x' });
  });
});
