#!/usr/bin/env node
// End-to-end test of the SPA against a real chatd, in Debian's Chromium.
//
//   npm run build && npm run test:e2e
//
// It builds chatd (with web/dist embedded) unless CHATD_BIN names a binary,
// starts it on a free port with a fresh data dir, drives two browser
// contexts through registration, a group chat both ways, a server restart in
// the middle of the conversation, XSS and link rendering, edits, deletes,
// reactions, attachments, avatars, presence and a big room whose members come
// in pages, and saves screenshots to
// docs/screenshots/. Exits non-zero when any step fails.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, '..');
const repoDir = resolve(webDir, '..');
const shotsDir = join(repoDir, 'docs', 'screenshots');
const outDir = join(webDir, 'e2e', 'out');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const STEP_TIMEOUT = 240_000;
const BULK = Number(process.env.E2E_BULK ?? 10_000);
// Short-lived access tokens, so every tab renews its token on the open socket several times.
const ACCESS_TTL = process.env.E2E_ACCESS_TTL ?? '30s';

// ---------------------------------------------------------------------------
// Tiny sequential runner: a failed step fails every later step (they depend on it).

const results = [];
let broken = null;
const pages = []; // every page opened, for failure artifacts

async function saveArtifacts(stepName) {
  const slug = stepName.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
  for (const { page, info } of pages) {
    if (page.isClosed()) continue;
    await page.screenshot({ path: join(outDir, `fail-${slug}-${info.name}.png`) }).catch(() => {});
    console.log(`      [${info.name}] url ${page.url()}\n      [${info.name}] console (last 15):\n        ${info.console.slice(-15).join('\n        ')}`);
  }
}

async function step(name, fn) {
  if (broken) {
    results.push({ name, ok: false, skipped: true });
    console.log(`  - ${name} (skipped: "${broken}" failed)`);
    return;
  }
  const t0 = Date.now();
  try {
    await withTimeout(fn(), STEP_TIMEOUT, name);
    results.push({ name, ok: true });
    console.log(`  ✓ ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false, error: e });
    broken = name;
    console.log(`  ✗ ${name}\n      ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n      ')}`);
    await saveArtifacts(name);
  }
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(t),
  );
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

function assertEqual(actual, expected, msg) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${msg}\n        expected ${e}\n        actual   ${a}`);
}

/** A real PNG (RGB, 8 bits) of width x height, colored by pixel(x, y) -> [r, g, b]. */
function png(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0; // filter: none
    for (let x = 0; x < width; x++) for (const c of pixel(x, y)) raw[o++] = c;
  }
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolor
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The color at the center of a rendered <img> (drawn on a canvas: blob: URLs of the page's origin do not taint it). */
function centerColor(locator) {
  return locator.evaluate(async (img) => {
    if (!img.complete || !img.naturalWidth) await new Promise((res, rej) => ((img.onload = res), (img.onerror = rej)));
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
    return [d[0], d[1], d[2]];
  });
}

function near(actual, expected, tolerance = 12) {
  return actual.every((v, i) => Math.abs(v - expected[i]) <= tolerance);
}

/** Polls fn until it returns a truthy value (checkFor-style, no fixed sleeps). */
async function waitFor(fn, what, timeout = 20_000, every = 100) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

// ---------------------------------------------------------------------------
// chatd

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function buildChatd() {
  if (process.env.CHATD_BIN) return process.env.CHATD_BIN;
  if (!existsSync(join(webDir, 'dist', 'index.html'))) throw new Error('web/dist is empty: run `npm run build` first, so chatd embeds the SPA');
  const bin = join(tmpdir(), 'chatd-e2e');
  console.log(`building chatd -> ${bin}`);
  const r = spawnSync('go', ['build', '-o', bin, './cmd/chatd'], { cwd: repoDir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('go build ./cmd/chatd failed');
  return bin;
}

class Chatd {
  constructor(bin, port, dataDir, logPath) {
    Object.assign(this, { bin, port, dataDir, proc: null, starts: 0 });
    this.log = createWriteStream(logPath, { flags: 'a' });
    this.base = `http://127.0.0.1:${port}`;
  }

  async start() {
    this.starts++;
    this.log.write(`\n==== start #${this.starts} ====\n`);
    const args = ['--listen', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir, '--log-level', 'info', '--access-ttl', ACCESS_TTL];
    // The bulk step seeds as one user on 10 sockets at 40 sends/s each: above chatd's default send limits
    // (20/s per connection, 50/s per user), which would turn it into a rate-limit test.
    args.push('--send-rate', '100', '--send-burst', '100', '--user-send-rate', '1000', '--user-send-burst', '1000');
    // The big-room step registers a few hundred users from one IP: cheap hashes, and no login limit in the way.
    args.push('--bcrypt-cost', '4', '--auth-rate', '1000');
    const p = spawn(this.bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    p.stdout.pipe(this.log, { end: false });
    p.stderr.pipe(this.log, { end: false });
    this.exited = new Promise((res) => p.on('exit', (code, signal) => res({ code, signal })));
    this.proc = p;
    await waitFor(
      async () => {
        if (p.exitCode !== null) throw new Error(`chatd exited with ${p.exitCode}`);
        const r = await fetch(`${this.base}/readyz`).catch(() => null);
        return r?.ok;
      },
      'chatd /readyz',
      30_000,
    );
  }

  /** SIGTERM and wait for the graceful drain to end. */
  async stop() {
    const p = this.proc;
    if (!p || p.exitCode !== null) return null;
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 25_000);
    const r = await this.exited;
    clearTimeout(t);
    this.proc = null;
    return r;
  }
}

/**
 * A REST session for the test itself: logs in once, then rotates the refresh
 * token (from the body, one request at a time) whenever the access token is
 * older than half its life.
 */
class NodeSession {
  constructor(base, username, password) {
    Object.assign(this, { base, username, password, access: '', refresh: '', at: 0, inflight: null });
  }
  async start() {
    await this.take(await this.post('/api/login', { username: this.username, password: this.password }));
  }
  async post(path, body) {
    const r = await fetch(`${this.base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  }
  async take(s) {
    this.access = s.accessToken;
    this.refresh = s.refreshToken;
    this.at = Date.now();
    this.life = Date.parse(s.accessExpiresAt) - this.at;
  }
  token() {
    if (Date.now() - this.at < this.life / 2) return Promise.resolve(this.access);
    this.inflight ??= this.post('/api/refresh', { refreshToken: this.refresh })
      .then((s) => this.take(s))
      .finally(() => (this.inflight = null));
    return this.inflight.then(() => this.access);
  }
  async fetch(path, init = {}) {
    const headers = { Authorization: `Bearer ${await this.token()}`, ...(init.body ? { 'Content-Type': 'application/json' } : {}) };
    return fetch(`${this.base}${path}`, { ...init, headers });
  }
}

// ---------------------------------------------------------------------------
// Page helpers

async function newUserPage(browser, base, name, viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ baseURL: base, viewport, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  const info = { name, dialogs: [], pageErrors: [], csp: [], console: [], sockets: 0, reauths: 0 };
  page.on('websocket', (ws) => {
    info.sockets++;
    const reauthIds = new Set();
    const parse = (p) => {
      try {
        return typeof p === 'string' ? JSON.parse(p) : null;
      } catch {
        return null;
      }
    };
    const note = (dir, p) => {
      if (typeof p === 'string' && /^\{"type":"(typing|error|membership)"/.test(p)) info.console.push(`[ws ${dir}] ${p.slice(0, 200)}`);
    };
    ws.on('framesent', (f) => {
      note('>', f.payload);
      const j = parse(f.payload);
      if (j?.type === 'auth' && j.id) reauthIds.add(j.id);
    });
    ws.on('framereceived', (f) => {
      note('<', f.payload);
      if (!f.payload.startsWith?.('{"type":"pong"')) return;
      const j = parse(f.payload);
      if (j && reauthIds.has(j.id)) info.reauths++;
    });
  });
  pages.push({ page, info });
  page.on('dialog', (d) => {
    info.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => info.pageErrors.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400) info.console.push(`[http ${r.status()}] ${r.request().method()} ${r.url()}`);
  });
  page.on('console', (m) => {
    info.console.push(`[${m.type()}] ${m.text()}`);
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) info.csp.push(m.text());
  });
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { context, page, info };
}

async function register(page, username, password, displayName) {
  await page.goto('/');
  await page.getByRole('tab', { name: 'Create account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).last().click();
  await page.locator('.status[data-status="online"]').waitFor({ timeout: 15_000 });
}

/** The rendered message rows of the open conversation. */
function rows(page) {
  return page.$$eval('.messages .msg', (els) =>
    els.map((e) => ({
      seq: e.dataset.seq ? Number(e.dataset.seq) : null,
      status: e.dataset.status,
      own: e.classList.contains('own'),
      body: e.querySelector('.body')?.textContent ?? '',
    })),
  );
}

async function send(page, text) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/** Waits until the open conversation shows exactly `bodies`, all stored, each once, in seq order. */
async function expectConversation(page, bodies, who) {
  let last = [];
  try {
    await waitFor(async () => {
      last = await rows(page);
      return JSON.stringify(last.map((r) => r.body)) === JSON.stringify(bodies) && last.every((r) => r.status === 'sent');
    }, `${who} to show ${bodies.length} messages`);
  } catch (e) {
    throw new Error(`${e.message}\n        rows: ${JSON.stringify(last)}`);
  }
  const seqs = last.map((r) => r.seq);
  assertEqual(seqs, [...seqs].sort((a, b) => a - b), `${who}: messages in seq order`);
  assertEqual(new Set(seqs).size, seqs.length, `${who}: every seq once`);
  // Messages and notices (member changes) share the seqs: together they run 1..N without gaps.
  const all = await page.$$eval('.messages [data-seq]', (els) => els.map((e) => Number(e.dataset.seq)));
  assertEqual(all, all.map((_, i) => i + 1), `${who}: seqs 1..N without gaps`);
}

const status = (page) => page.locator('.status').first().getAttribute('data-status');

/** The conversation list's entry of the DM with `name` (other entries may name them in their preview). */
const dmItem = (page, name) => page.locator('.conv-item').filter({ has: page.locator('.conv-title', { hasText: name }) });

async function shot(page, name) {
  await page.screenshot({ path: join(shotsDir, name) });
}

// ---------------------------------------------------------------------------

async function main() {
  mkdirSync(shotsDir, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
  const bin = buildChatd();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'chatd-e2e-data-'));
  const logPath = join(outDir, 'chatd.log');
  rmSync(logPath, { force: true });
  const server = new Chatd(bin, port, dataDir, logPath);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  console.log(`chatd on ${server.base}, data ${dataDir}, Chromium ${browser.version()}`);

  const sfx = Math.random().toString(36).slice(2, 7);
  const A = { username: `alice_${sfx}`, display: 'Alice Martin', password: 'correct horse 1' };
  const B = { username: `bob_${sfx}`, display: 'Bob Chen', password: 'battery staple 2' };
  const C = { username: `carol_${sfx}`, display: 'Carol Diaz', password: 'tr0ub4dor&3' };
  const expected = [];
  let a;
  let b;
  const groupTitle = 'Launch plan';
  let nodeA = null;

  try {
    await step('chatd starts and serves the SPA with a strict CSP', async () => {
      await server.start();
      const r = await fetch(`${server.base}/`);
      assert(r.ok, `GET / answered ${r.status}`);
      const csp = r.headers.get('content-security-policy') ?? '';
      assert(csp.includes("script-src 'self'") && csp.includes("style-src 'self'"), `CSP header: ${csp}`);
      const html = await r.text();
      assert(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline <script> in index.html');
      assert(!/<style/i.test(html), 'no inline <style> in index.html');
      const deep = await fetch(`${server.base}/c/some-id`);
      assert(deep.ok && (await deep.text()).includes('id="root"'), 'client routes serve index.html');
    });

    await step('login screen renders', async () => {
      a = await newUserPage(browser, server.base, 'A');
      b = await newUserPage(browser, server.base, 'B');
      await a.page.goto('/');
      await a.page.getByRole('button', { name: 'Sign in' }).last().waitFor();
      await a.page.getByLabel('Username').waitFor();
      await shot(a.page, 'login.png');
    });

    await step('two users register in two browser contexts', async () => {
      await register(a.page, A.username, A.password, A.display);
      await register(b.page, B.username, B.password, B.display);
      assert((await a.page.locator('.me-name').textContent()) === A.display, 'A sees own name');
      assert((await b.page.locator('.me-name').textContent()) === B.display, 'B sees own name');
    });

    await step('A creates a group with B; B sees it appear live', async () => {
      await a.page.getByRole('button', { name: 'New group' }).click();
      await a.page.getByLabel('Group name').fill(groupTitle);
      await a.page.getByLabel('Members').fill(B.username);
      await a.page.getByRole('button', { name: 'Create group' }).click();
      await a.page.locator('#conv-title', { hasText: groupTitle }).waitFor();
      assert(a.page.url().includes('/c/'), `A's URL names the conversation: ${a.page.url()}`);
      await b.page.locator('.conv-item', { hasText: groupTitle }).waitFor({ timeout: 15_000 });
    });

    await step('both chat both ways (Enter sends, Shift+Enter is a new line)', async () => {
      for (const t of ['Hi Bob, welcome to the launch channel.', 'Agenda for today: https://example.com/agenda?day=1.']) {
        await send(a.page, t);
        expected.push(t);
      }
      await waitFor(async () => (await b.page.locator('.conv-item', { hasText: groupTitle }).locator('.badge').textContent()) === '2', 'B unread badge 2');
      await b.page.locator('.conv-item', { hasText: groupTitle }).click();
      await expectConversation(b.page, expected, 'B');
      await waitFor(async () => (await b.page.locator('.conv-item', { hasText: groupTitle }).locator('.badge').count()) === 0, 'B badge cleared on view');

      const box = b.page.getByLabel('Message', { exact: true });
      await box.fill('Thanks!');
      await box.press('Shift+Enter');
      await box.pressSequentially('Two lines.');
      await box.press('Enter');
      expected.push('Thanks!\nTwo lines.');
      await send(b.page, 'What is first?');
      expected.push('What is first?');
      await send(a.page, 'The API freeze.');
      expected.push('The API freeze.');
      await expectConversation(a.page, expected, 'A');
      await expectConversation(b.page, expected, 'B');
      const names = await b.page.$$eval('.messages .msg.other .sender', (els) => els.map((e) => e.textContent));
      assert(names.includes(A.display), `B sees A's name on her messages: ${JSON.stringify(names)}`);
      // B has the conversation open, so it is read: A sees the receipt under her last message.
      await a.page.locator('.messages .msg.own .seen', { hasText: `Seen by ${B.display}` }).waitFor();
    });

    await step('B sees when A is typing, until her message arrives', async () => {
      const box = a.page.getByLabel('Message', { exact: true });
      await box.pressSequentially('Typing a longer ');
      await b.page.locator('.typing', { hasText: `${A.display} is typing…` }).waitFor();
      await box.pressSequentially('answer.');
      await box.press('Enter');
      expected.push('Typing a longer answer.');
      await expectConversation(b.page, expected, 'B');
      assertEqual(await b.page.locator('.typing').textContent(), '', 'the indicator ends with her message');
    });

    await step('an XSS payload renders as text', async () => {
      const payloads = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script><b>bold?</b>'];
      for (const p of payloads) {
        await send(a.page, p);
        expected.push(p);
      }
      await expectConversation(b.page, expected, 'B');
      await expectConversation(a.page, expected, 'A');
      for (const { page, info } of [a, b]) {
        await page.locator('.messages .body', { hasText: '<img src=x onerror=alert(1)>' }).waitFor();
        assertEqual(await page.locator('.messages .body img').count(), 0, `${info.name}: no <img> element in message text`);
        // Images in the timeline are only avatars and attachments, from object URLs the app made.
        assertEqual(await page.locator('.messages img:not([src^="blob:"])').count(), 0, `${info.name}: no <img> but the app's own`);
        assertEqual(await page.locator('.messages script, .messages b').count(), 0, `${info.name}: no injected elements`);
        assertEqual(info.dialogs, [], `${info.name}: no dialog opened`);
      }
    });

    await step('links render as safe anchors, other schemes as text', async () => {
      const t = 'Docs: https://example.com/docs, not javascript:alert(3) or data:text/html,hi';
      await send(b.page, t);
      expected.push(t);
      await expectConversation(a.page, expected, 'A');
      const links = await a.page.$$eval('.messages .body a', (els) =>
        els.map((e) => ({ href: e.getAttribute('href'), rel: e.getAttribute('rel'), target: e.getAttribute('target'), text: e.textContent })),
      );
      assert(links.length >= 2, `links rendered: ${JSON.stringify(links)}`);
      for (const l of links) {
        assert(/^https?:\/\//.test(l.href), `only http(s) hrefs: ${l.href}`);
        assertEqual([l.rel, l.target], ['noopener noreferrer', '_blank'], `link attributes of ${l.href}`);
      }
      assert(links.some((l) => l.href === 'https://example.com/docs'), 'the docs link is an anchor');
      assert(links.some((l) => l.href === 'https://example.com/agenda?day=1'), 'trailing period left out of the link');
      await shot(a.page, 'conversation-view.png');
    });

    await step('the server restarts mid-conversation; both tabs reconnect and show every message once, in order', async () => {
      const r = await server.stop();
      assert(r && (r.code === 0 || r.signal === 'SIGTERM'), `chatd exits cleanly on SIGTERM: ${JSON.stringify(r)}`);
      await waitFor(async () => (await status(a.page)) !== 'online' && (await status(b.page)) !== 'online', 'both tabs to notice');
      await a.page.locator('.banner').waitFor();
      // A keeps typing while the server is down: the message waits, pending.
      const offline = 'Sent while the server was restarting.';
      await send(a.page, offline);
      expected.push(offline);
      await a.page.locator('.messages .msg[data-status="sending"]', { hasText: offline }).waitFor();
      await shot(a.page, 'reconnecting.png');

      await server.start();
      await waitFor(async () => (await status(a.page)) === 'online' && (await status(b.page)) === 'online', 'both tabs online again', 30_000);
      await expectConversation(a.page, expected, 'A');
      await expectConversation(b.page, expected, 'B');

      for (const [who, t] of [[b, 'Back online, I got it.'], [a, 'Great, carry on.'], [b, 'Done.']]) {
        await send(who.page, t);
        expected.push(t);
      }
      await expectConversation(a.page, expected, 'A');
      await expectConversation(b.page, expected, 'B');
    });

    await step('a reload restores the session from the refresh cookie', async () => {
      await b.page.reload();
      await b.page.locator('.status[data-status="online"]').waitFor({ timeout: 15_000 });
      await b.page.locator('#conv-title', { hasText: groupTitle }).waitFor();
      await expectConversation(b.page, expected, 'B after reload');
    });

    await step('the server stored each message once (REST agrees with both tabs)', async () => {
      nodeA = new NodeSession(server.base, A.username, A.password);
      await nodeA.start();
      const list = await (await nodeA.fetch('/api/conversations')).json();
      const g = list.conversations.find((c) => c.title === groupTitle);
      assert(g, 'the group is listed');
      const page = await (await nodeA.fetch(`/api/conversations/${g.id}/messages?limit=100`)).json();
      assertEqual(page.messages.map((m) => m.body), expected, 'stored bodies');
      assertEqual(page.messages.map((m) => m.seq), expected.map((_, i) => i + 1), 'stored seqs');
    });

    await step('members: add and remove by username, the list updates', async () => {
      const r = await fetch(`${server.base}/api/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: C.username, password: C.password, displayName: C.display }),
      });
      assert(r.status === 201, `register C: ${r.status}`);
      await a.page.getByRole('button', { name: 'Members' }).click();
      const dlg = a.page.getByRole('dialog', { name: 'Members' });
      await dlg.locator('.member', { hasText: B.display }).waitFor();
      await dlg.getByLabel('Add member by username').fill(C.username);
      await dlg.getByRole('button', { name: 'Add', exact: true }).click();
      await dlg.locator('.member', { hasText: C.display }).waitFor();
      await a.page.locator('.conv-head', { hasText: '3 members' }).waitFor();
      await dlg.getByRole('button', { name: `Remove ${C.display}` }).click();
      await waitFor(async () => (await dlg.locator('.member', { hasText: C.display }).count()) === 0, 'C removed');
      await a.page.keyboard.press('Escape');
      await a.page.locator('.conv-head', { hasText: '2 members' }).waitFor();
    });

    await step('member changes after creation show as system lines, not bubbles', async () => {
      // The step above added and removed C: both tabs show notices, and the chat messages are unchanged.
      for (const [page, who, actor] of [
        [a.page, 'A', 'You'],
        [b.page, 'B', A.display],
      ]) {
        await page.locator('.messages .sysline', { hasText: `${actor} added ${C.display}` }).waitFor();
        await page.locator('.messages .sysline', { hasText: `${actor} removed ${C.display}` }).waitFor();
        await expectConversation(page, expected, `${who} after the member changes`);
      }
      // From history after a reload too, naming C, who is no longer a member.
      await b.page.reload();
      await b.page.locator('.status[data-status="online"]').waitFor({ timeout: 15_000 });
      await b.page.locator('.messages .sysline', { hasText: `${A.display} added ${C.display}` }).waitFor();
      await b.page.locator('.messages .sysline', { hasText: `${A.display} removed ${C.display}` }).waitFor();
      await expectConversation(b.page, expected, 'B after reloading the member changes');
      const item = b.page.locator('.conv-item', { hasText: groupTitle });
      assert(!(await item.locator('.badge').count()), 'member changes are not unread');
      assert((await item.locator('.conv-preview').textContent())?.includes(expected[expected.length - 1].replace(/\s+/g, ' ')), 'the preview is the last chat message');
    });

    await step('a big room: the header counts every member, a sender past the first page is named with one users lookup, "Show more members" loads the rest', async () => {
      // D owns a group of 261: the detail carries the first 200 (D, guests 1-199) and a cursor.
      const D = { username: `dora_${sfx}`, display: 'Dora Park', password: 'big room pass 4' };
      const pad = (i) => String(i).padStart(3, '0');
      const guests = Array.from({ length: 260 }, (_, i) => ({ username: `guest${pad(i + 1)}_${sfx}`, display: `Guest ${pad(i + 1)}`, password: 'guest password 5' }));
      for (let i = 0; i < guests.length; i += 26) {
        await Promise.all(
          guests.slice(i, i + 26).map(async (g) => {
            const r = await fetch(`${server.base}/api/register`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ username: g.username, password: g.password, displayName: g.display }),
            });
            assert(r.status === 201, `register ${g.username}: ${r.status}`);
            g.id = (await r.json()).user.id;
          }),
        );
      }
      const reg = await fetch(`${server.base}/api/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: D.username, password: D.password, displayName: D.display }),
      });
      assert(reg.status === 201, `register D: ${reg.status}`);
      const nodeD = new NodeSession(server.base, D.username, D.password);
      await nodeD.start();
      const created = await nodeD.fetch('/api/conversations', {
        method: 'POST',
        body: JSON.stringify({ kind: 'group', title: 'Town square', members: guests.slice(0, 100).map((g) => g.username) }),
      });
      assert(created.status === 201, `create Town square: ${created.status}`);
      const room = await created.json();
      for (const g of guests.slice(100)) {
        const r = await nodeD.fetch(`/api/conversations/${room.id}/members`, { method: 'POST', body: JSON.stringify({ username: g.username }) });
        assert(r.ok, `add ${g.username}: ${r.status}`);
      }

      // D signs in after the joins (no live notices naming anyone), and opens the room.
      const d = await newUserPage(browser, server.base, 'D');
      await d.page.goto('/');
      await d.page.getByLabel('Username').fill(D.username);
      await d.page.getByLabel('Password').fill(D.password);
      await d.page.getByRole('button', { name: 'Sign in' }).last().click();
      const historyNames = d.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/users');
      await d.page.locator('.conv-item', { hasText: 'Town square' }).click();
      await d.page.locator('.conv-head', { hasText: '261 members' }).waitFor();
      // The newest page of history holds the last 50 joins (guests 211-260): their names are asked once.
      await historyNames;
      await d.page.locator('.messages .sysline', { hasText: `You added ${guests[259].display}` }).waitFor();

      // Guest 200 is past the detail's first page and named in no loaded notice: the SPA has no name for them.
      const asked = [];
      const onRequest = (req) => {
        const u = new URL(req.url());
        if (req.method() === 'GET' && u.pathname.startsWith('/api/')) asked.push(u.pathname + u.search);
      };
      d.page.on('request', onRequest);
      const sender = guests[199];
      const nodeG = new NodeSession(server.base, sender.username, sender.password);
      await nodeG.start();
      const seeder = await browser.newPage();
      await seeder.goto(`${server.base}/healthz`);
      await seeder.evaluate(
        ({ conversationId, token, bodies }) =>
          new Promise((resolve, reject) => {
            const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws`);
            let acked = 0;
            ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token }));
            ws.onmessage = (ev) => {
              const f = JSON.parse(ev.data);
              if (f.type === 'ready') bodies.forEach((body, i) => ws.send(JSON.stringify({ type: 'send', id: `s${i}`, conversationId, clientMsgId: `back-row-${i}`, body })));
              else if (f.type === 'ack' && ++acked === bodies.length) {
                ws.close();
                resolve();
              } else if (f.type === 'error') reject(new Error(ev.data));
            };
          }),
        { conversationId: room.id, token: await nodeG.token(), bodies: ['Hello from the back row.', 'Can you hear me?'] },
      );
      await seeder.close();
      await d.page.locator('.messages .msg', { hasText: 'Hello from the back row.' }).waitFor();
      await d.page.locator('.messages .msg', { hasText: 'Can you hear me?' }).waitFor();
      await d.page.locator('.messages .msg .sender', { hasText: sender.display }).waitFor();
      d.page.off('request', onRequest);
      assertEqual(
        asked.filter((p) => p === `/api/conversations/${room.id}`),
        [],
        'no re-fetch of the room for a sender it did not know',
      );
      assertEqual(
        asked.filter((p) => p.startsWith('/api/users?')),
        [`/api/users?ids=${sender.id}`],
        'one users lookup for the unknown sender',
      );

      // The members dialog: the first 200, then the rest on demand.
      const detail = d.page.waitForResponse((r) => new URL(r.url()).pathname === `/api/conversations/${room.id}`);
      await d.page.getByRole('button', { name: 'Members' }).click();
      await detail;
      const dlg = d.page.getByRole('dialog', { name: 'Members' });
      await waitFor(async () => (await dlg.locator('.member').count()) === 200, 'the first 200 members');
      await dlg.locator('.member-more', { hasText: '200 of 261 shown' }).waitFor();
      await dlg.getByRole('button', { name: 'Show more members' }).click();
      await waitFor(async () => (await dlg.locator('.member').count()) === 261, 'all 261 members');
      await dlg.locator('.member', { hasText: guests[259].display }).waitFor();
      assert(!(await dlg.getByRole('button', { name: 'Show more members' }).count()), 'no "Show more members" at the end');
      await d.page.keyboard.press('Escape');
      assertEqual(d.info.pageErrors, [], 'D: uncaught page errors');
      await d.context.close();
    });

    await step('a direct message shows the peer name on both sides', async () => {
      await a.page.getByRole('button', { name: 'New message' }).click();
      await a.page.getByRole('dialog', { name: 'New message' }).getByLabel('Username').fill(B.username);
      await a.page.getByRole('button', { name: 'Start chat' }).click();
      await a.page.locator('#conv-title', { hasText: B.display }).waitFor();
      await send(a.page, 'A private word.');
      await a.page.locator('.messages .msg[data-status="sent"]', { hasText: 'A private word.' }).waitFor();
      const item = b.page.locator('.conv-item', { hasText: A.display });
      await item.waitFor();
      await waitFor(async () => (await item.locator('.conv-preview').textContent())?.includes('A private word.'), 'B sees the DM preview');
      await waitFor(async () => (await item.locator('.badge').textContent()) === '1', 'B has 1 unread in the DM');
      // The list is sorted by activity: the DM is now on top.
      const first = await b.page.locator('.conv-item').first().textContent();
      assert(first.includes(A.display), `most recent first: ${first}`);
    });

    // -------------------------------------------------------------------------
    // Edits, deletes, reactions, attachments, avatars and presence, in a group of their own
    // (their events take seqs, so the group above keeps its plain 1..N messages).
    const design = 'Design review';
    let designId = '';
    const typo = 'The launch is on Fridy.';
    const fixed = 'The launch is on Friday.';

    await step('A edits her message inline (Esc cancels, Enter saves); B sees the edit', async () => {
      await a.page.getByRole('button', { name: 'New group' }).click();
      await a.page.getByLabel('Group name').fill(design);
      await a.page.getByLabel('Members').fill(B.username);
      await a.page.getByRole('button', { name: 'Create group' }).click();
      await a.page.locator('#conv-title', { hasText: design }).waitFor();
      designId = decodeURIComponent(new URL(a.page.url()).pathname.split('/').pop());
      await b.page.locator('.conv-item', { hasText: design }).click();
      await b.page.locator('#conv-title', { hasText: design }).waitFor();

      await send(a.page, typo);
      await send(b.page, 'Looks good to me.');
      await a.page.locator('.messages .msg[data-status="sent"]', { hasText: typo }).waitFor();
      const seq = await a.page.locator('.messages .msg', { hasText: typo }).getAttribute('data-seq');
      const rowA = a.page.locator(`.messages .msg[data-seq="${seq}"]`);
      const rowB = b.page.locator(`.messages .msg[data-seq="${seq}"]`);
      await rowB.locator('.body', { hasText: typo }).waitFor();

      // Escape leaves the message as it was.
      await rowA.hover();
      await rowA.getByRole('button', { name: 'Edit message' }).click();
      const box = rowA.locator('textarea.edit-input');
      await box.waitFor();
      assertEqual(await box.inputValue(), typo, 'the editor starts with the text');
      await box.fill('never sent');
      await box.press('Escape');
      await waitFor(async () => (await rowA.locator('textarea').count()) === 0, 'the editor to close on Escape');
      assertEqual(await rowA.locator('.body').textContent(), typo, 'Escape keeps the text');
      assertEqual(await rowA.locator('.edited').count(), 0, 'not marked edited after a cancel');

      await rowA.hover();
      await rowA.getByRole('button', { name: 'Edit message' }).click();
      await box.fill(fixed);
      await box.press('Enter');
      for (const [row, who] of [
        [rowA, 'A'],
        [rowB, 'B'],
      ]) {
        await waitFor(async () => (await row.locator('.body').textContent()) === fixed, `${who} to show the edited text`);
        await row.locator('.edited', { hasText: '(edited)' }).waitFor();
      }
      assertEqual(await b.page.locator('.messages', { hasText: 'Fridy' }).count(), 0, 'B no longer shows the old text');
      assertEqual(await b.page.locator(`.messages .msg[data-seq="${seq}"]`).count(), 1, 'the edit is not a new bubble');
    });

    await step('B reacts and A sees the chip with its count; chips toggle each own reaction', async () => {
      const rowB = b.page.locator('.messages .msg', { hasText: fixed });
      const rowA = a.page.locator('.messages .msg', { hasText: fixed });
      await rowB.hover();
      await rowB.getByRole('button', { name: 'Add reaction' }).click();
      await rowB.getByRole('button', { name: 'React with 👍' }).click();
      const chipA = rowA.locator('.reaction[data-emoji="👍"]');
      const chipB = rowB.locator('.reaction[data-emoji="👍"]');
      await waitFor(async () => (await chipA.getAttribute('data-count')) === '1', 'A to see 👍 1');
      assert(!(await chipA.getAttribute('class')).includes('mine'), 'B’s reaction is not A’s');
      assert((await chipA.getAttribute('title')).includes(B.display), `the chip names who reacted: ${await chipA.getAttribute('title')}`);
      await waitFor(async () => (await chipB.getAttribute('aria-pressed')) === 'true', 'B’s chip marked as his');

      await chipA.click(); // A adds hers
      await waitFor(async () => (await chipB.getAttribute('data-count')) === '2', 'B to see 👍 2');
      await waitFor(async () => (await chipA.getAttribute('aria-pressed')) === 'true', 'A’s chip marked as hers');
      await chipB.click(); // B takes his back
      await waitFor(async () => (await chipA.getAttribute('data-count')) === '1', 'A to see 👍 1 again');
      await waitFor(async () => (await chipB.getAttribute('aria-pressed')) === 'false', 'B’s chip no longer his');

      await rowA.hover();
      await rowA.getByRole('button', { name: 'Add reaction' }).click();
      await rowA.getByRole('button', { name: 'React with 🎉' }).click();
      await rowB.locator('.reaction[data-emoji="🎉"][data-count="1"]').waitFor();
    });

    await step('A deletes a message after confirming; B sees "message deleted"; only authors and admins may', async () => {
      const wrong = 'Sorry, wrong chat: the salary sheet.';
      await send(a.page, wrong);
      const rowA = a.page.locator('.messages .msg[data-status="sent"]', { hasText: wrong });
      await rowA.waitFor();
      const seq = await rowA.getAttribute('data-seq');
      const rowB = b.page.locator(`.messages .msg[data-seq="${seq}"]`);
      await rowB.locator('.body', { hasText: wrong }).waitFor();
      // B is a plain member: he may react to A's message but not delete or edit it.
      await rowB.hover();
      assertEqual(await rowB.getByRole('button', { name: 'Add reaction' }).count(), 1, 'B can react to A’s message');
      assertEqual(await rowB.getByRole('button', { name: 'Delete message' }).count(), 0, 'B cannot delete A’s message');
      assertEqual(await rowB.getByRole('button', { name: 'Edit message' }).count(), 0, 'B cannot edit A’s message');
      // A owns the group: she may delete B's message (not edit it).
      const bobsA = a.page.locator('.messages .msg.other', { hasText: 'Looks good to me.' });
      await bobsA.hover();
      assertEqual(await bobsA.getByRole('button', { name: 'Delete message' }).count(), 1, 'the owner can delete B’s message');
      assertEqual(await bobsA.getByRole('button', { name: 'Edit message' }).count(), 0, 'nobody edits someone else’s message');

      await rowA.hover();
      await rowA.getByRole('button', { name: 'Delete message' }).click();
      const dlg = a.page.getByRole('dialog', { name: 'Delete message?' });
      await dlg.waitFor();
      await dlg.getByRole('button', { name: 'Cancel' }).click();
      await dlg.waitFor({ state: 'detached' });
      assertEqual(await rowA.locator('.body').textContent(), wrong, 'Cancel keeps the message');
      await rowA.hover();
      await rowA.getByRole('button', { name: 'Delete message' }).click();
      await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
      for (const [page, who] of [
        [a.page, 'A'],
        [b.page, 'B'],
      ]) {
        const row = page.locator(`.messages .msg[data-seq="${seq}"]`);
        await waitFor(async () => /message deleted/i.test((await row.locator('.body.deleted').textContent().catch(() => '')) ?? ''), `${who} to show "message deleted"`);
        assertEqual(await page.locator('.messages', { hasText: 'salary sheet' }).count(), 0, `${who}: the deleted text is gone`);
        assertEqual(await row.getByRole('button', { name: 'Add reaction' }).count(), 0, `${who}: a deleted message has no actions`);
      }
    });

    await step('A uploads an image and a text file; B sees the image rendered and downloads the file; a disguised file is refused', async () => {
      // A bar chart, so the screenshot shows something; its center pixel is known.
      const bars = [0.45, 0.7, 0.55, 0.9, 0.8, 0.62];
      const pixel = (x, y) => {
        const i = Math.floor((x - 20) / 55);
        const inBar = x >= 20 && i < bars.length && (x - 20) % 55 < 40 && y > 200 - bars[i] * 180 && y < 200;
        return inBar ? [79, 70, 229] : y === 200 ? [180, 184, 196] : [246, 247, 251];
      };
      const chart = png(360, 220, pixel);
      await a.page.setInputFiles('#composer-file', [
        { name: 'chart.png', mimeType: 'image/png', buffer: chart },
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Q3 notes\n') },
      ]);
      await waitFor(async () => (await a.page.locator('.drafts .draft[data-status="ready"]').count()) === 2, 'both uploads ready');
      const caption = 'Chart and notes attached.';
      await send(a.page, caption);
      await waitFor(async () => (await a.page.locator('.drafts .draft').count()) === 0, 'the chips leave the composer');

      const rowB = b.page.locator('.messages .msg', { hasText: caption });
      await rowB.waitFor();
      const img = rowB.locator('img.thumb');
      await img.waitFor();
      assert((await img.getAttribute('src')).startsWith('blob:'), 'the image comes from an object URL (downloads need the token)');
      assertEqual(await img.evaluate((el) => [el.naturalWidth, el.naturalHeight]), [360, 220], 'B’s browser decoded the image');
      assert(near(await centerColor(img), pixel(180, 110)), 'it is A’s chart');
      const file = rowB.locator('button.file', { hasText: 'notes.txt' });
      await file.waitFor();
      assert((await file.textContent()).includes('9 B'), `file size shown: ${await file.textContent()}`);
      const [download] = await Promise.all([b.page.waitForEvent('download'), file.click()]);
      assertEqual(download.suggestedFilename(), 'notes.txt', 'downloaded under its name');
      assertEqual(readFileSync(await download.path(), 'utf8'), 'Q3 notes\n', 'the downloaded content');
      // A sees her own message with the image too.
      await a.page.locator('.messages .msg[data-status="sent"]', { hasText: caption }).locator('img.thumb[src^="blob:"]').waitFor();

      // HTML dressed up as a PNG: the server sniffs it and refuses; nothing can be sent until it is removed.
      await a.page.setInputFiles('#composer-file', [{ name: 'evil.png', mimeType: 'image/png', buffer: Buffer.from('<html><script>alert(1)</script></html>') }]);
      const bad = a.page.locator('.drafts .draft[data-status="failed"]', { hasText: 'evil.png' });
      await bad.waitFor();
      assert((await bad.textContent()).includes('Type not allowed'), `refusal shown: ${await bad.textContent()}`);
      await a.page.getByLabel('Message', { exact: true }).fill('not with that file');
      assert(await a.page.getByRole('button', { name: 'Send message' }).isDisabled(), 'Send is disabled while a file failed');
      await a.page.getByRole('button', { name: 'Remove evil.png' }).click();
      await waitFor(async () => (await a.page.locator('.drafts .draft').count()) === 0, 'the failed chip removed');
      await a.page.getByLabel('Message', { exact: true }).fill('');
    });

    await step('avatars: set in the profile dialog, shown to the other user next to messages, in the list and the members', async () => {
      const orange = [240, 140, 20];
      const teal = [20, 150, 140];
      // A soft disc on a lighter ground: the center pixel is the color.
      const face = (color) =>
        png(96, 96, (x, y) => {
          const d = Math.hypot(x - 48, y - 48) / 48;
          return color.map((c) => Math.round(c + (255 - c) * Math.min(1, Math.max(0, d - 0.35))));
        });
      for (const [{ page }, color, name] of [
        [a, orange, 'alice.png'],
        [b, teal, 'bob.png'],
      ]) {
        await page.getByRole('button', { name: 'Profile and avatar' }).click();
        const dlg = page.getByRole('dialog', { name: 'Profile' });
        await dlg.locator('input[type="file"]').setInputFiles({ name, mimeType: 'image/png', buffer: face(color) });
        await dlg.getByText('Your avatar is updated.').waitFor();
        await page.locator('.me .avatar[data-avatar="image"] img').waitFor();
        assert(near(await centerColor(page.locator('.me .avatar img')), color), 'my own avatar shows');
        await dlg.getByRole('button', { name: 'Close', exact: true }).last().click();
        await dlg.waitFor({ state: 'detached' });
      }
      // Each sees the other's new avatar when loading it (there is no "avatar changed" event).
      for (const [{ page, info }, other, color] of [
        [b, A, orange],
        [a, B, teal],
      ]) {
        await page.reload();
        await page.locator('.status[data-status="online"]').waitFor({ timeout: 15_000 });
        await page.locator('#conv-title', { hasText: design }).waitFor();
        const beside = page.locator('.messages .msg.other .gutter .avatar[data-avatar="image"] img').first();
        await beside.waitFor();
        assert(near(await centerColor(beside), color), `${info.name} sees ${other.display}'s avatar next to the messages`);
        const item = dmItem(page, other.display);
        await item.locator('.avatar[data-avatar="image"] img').waitFor();
        assert(near(await centerColor(item.locator('.avatar img')), color), `${info.name} sees it in the conversation list`);
        await page.getByRole('button', { name: 'Members' }).click();
        const dlg = page.getByRole('dialog', { name: 'Members' });
        const member = dlg.locator('.member', { hasText: other.display });
        await member.locator('.avatar[data-avatar="image"] img').waitFor();
        assert(near(await centerColor(member.locator('.avatar img')), color), `${info.name} sees it in the member list`);
        await page.keyboard.press('Escape');
        await dlg.waitFor({ state: 'detached' });
      }
      await a.page.locator('.messages .msg', { hasText: fixed }).locator('.reaction').first().waitFor();
      await a.page.locator('.messages .msg img.thumb[src^="blob:"]').waitFor();
      await a.page.getByLabel('Message', { exact: true }).focus();
      await shot(a.page, 'conversation-features.png');
    });

    await step('presence: a DM peer’s dot turns online when they connect and offline after they close', async () => {
      await a.page.getByRole('button', { name: 'New message' }).click();
      await a.page.getByRole('dialog', { name: 'New message' }).getByLabel('Username').fill(C.username);
      await a.page.getByRole('button', { name: 'Start chat' }).click();
      await a.page.locator('#conv-title', { hasText: C.display }).waitFor();
      const dot = dmItem(a.page, C.display).locator('.presence');
      await waitFor(async () => (await dot.getAttribute('data-presence')) === 'offline', 'C offline at first');
      assertEqual(await dot.getAttribute('title'), 'Offline', 'never seen: no "last seen"');
      // Someone without an avatar keeps the initials.
      assertEqual(await dmItem(a.page, C.display).locator('.avatar').getAttribute('data-avatar'), 'initials', 'C has no avatar');
      // B is online: A's DM with B says so from the initial state.
      await waitFor(async () => (await dmItem(a.page, B.display).locator('.presence').getAttribute('data-presence')) === 'online', 'B online in A’s list');

      const c = await newUserPage(browser, server.base, 'C');
      await c.page.goto('/');
      await c.page.getByLabel('Username').fill(C.username);
      await c.page.getByLabel('Password').fill(C.password);
      await c.page.getByRole('button', { name: 'Sign in' }).last().click();
      await c.page.locator('.status[data-status="online"]').waitFor({ timeout: 15_000 });
      await waitFor(async () => (await dot.getAttribute('data-presence')) === 'online', 'C online in A’s list');
      assertEqual(await dot.getAttribute('title'), 'Online', 'the dot’s title');
      await a.page.locator('.conv-head', { hasText: 'Online' }).waitFor();
      // C sees A online in return.
      await waitFor(async () => (await dmItem(c.page, A.display).locator('.presence').getAttribute('data-presence')) === 'online', 'A online in C’s list');

      await c.context.close();
      await waitFor(async () => (await dot.getAttribute('data-presence')) === 'offline', 'C offline after closing', 30_000);
      assert(/^Last seen /.test(await dot.getAttribute('title')), `"last seen" title: ${await dot.getAttribute('title')}`);
      await a.page.locator('.conv-head', { hasText: 'Last seen' }).waitFor();
    });

    await step(`${BULK} messages: live delivery, a bounded DOM, and paging back through history`, async () => {
      const created = await nodeA.fetch('/api/conversations', {
        method: 'POST',
        body: JSON.stringify({ kind: 'group', title: 'Archive', members: [B.username] }),
      });
      assert(created.status === 201, `create Archive: ${created.status}`);
      const archive = await created.json();
      await b.page.locator('.conv-item', { hasText: 'Archive' }).click();
      await b.page.locator('#conv-title', { hasText: 'Archive' }).waitFor();

      // Seed from a page of the server's origin that does not run the app: many sockets, each under the frame limit.
      const seeder = await browser.newPage();
      await seeder.exposeFunction('freshToken', () => nodeA.token());
      await seeder.goto(`${server.base}/healthz`);
      const t0 = Date.now();
      await seeder.evaluate(
        async ({ conversationId, total, sockets }) => {
          const token = await window.freshToken();
          const url = `${location.origin.replace(/^http/, 'ws')}/ws`;
          const per = Math.ceil(total / sockets);
          const one = (k) =>
            new Promise((resolve, reject) => {
              const first = k * per;
              const end = Math.min(total, first + per);
              let next = first;
              let acked = 0;
              const byReq = new Map();
              const ws = new WebSocket(url);
              const sendOne = (i) => {
                const id = `q${i}.${Math.random().toString(36).slice(2, 6)}`;
                byReq.set(id, i);
                ws.send(JSON.stringify({ type: 'send', id, conversationId, clientMsgId: `bulk-${i}`, body: `bulk #${String(i + 1).padStart(5, '0')}` }));
              };
              ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token }));
              ws.onmessage = (ev) => {
                if (ev.data.startsWith('{"type":"message"')) return;
                const f = JSON.parse(ev.data);
                if (f.type === 'ready') {
                  const t = setInterval(() => (next < end ? sendOne(next++) : clearInterval(t)), 25);
                  // Keep the socket's token fresh, as the app does.
                  const r = setInterval(async () => {
                    if (ws.readyState !== 1) return clearInterval(r);
                    ws.send(JSON.stringify({ type: 'auth', id: 'renew', token: await window.freshToken() }));
                  }, 5_000);
                } else if (f.type === 'ack' && ++acked === end - first) {
                  ws.close();
                  resolve();
                } else if (f.type === 'error' && byReq.has(f.id)) {
                  setTimeout(() => sendOne(byReq.get(f.id)), 250); // same clientMsgId: stored once
                }
              };
              ws.onclose = (e) => acked < end - first && reject(new Error(`seeder socket ${k} closed ${e.code} after ${acked} acks`));
            });
          await Promise.all(Array.from({ length: sockets }, (_, k) => one(k)));
        },
        { conversationId: archive.id, total: BULK, sockets: 10 },
      );
      const seeded = Date.now() - t0;
      await seeder.close();

      const count = () => b.page.locator('.messages').getAttribute('data-count').then(Number);
      await waitFor(async () => (await count()) === BULK, `B to hold ${BULK} messages`, 120_000, 250);
      console.log(`      seeded ${BULK} in ${seeded} ms; B had all of them ${Date.now() - t0 - seeded} ms later`);
      const domRows = await b.page.locator('.messages .msg').count();
      assert(domRows > 5 && domRows < 100, `the DOM holds a window of rows, not ${BULK}: ${domRows}`);
      const tail = await rows(b.page);
      assertEqual(tail[tail.length - 1].seq, BULK, 'B shows the newest message at the bottom');
      const stored = await (await nodeA.fetch(`/api/conversations/${archive.id}/messages?limit=30`)).json();
      const want = stored.messages.slice(-10).map((m) => [m.seq, m.body]);
      assertEqual(tail.slice(-10).map((r) => [r.seq, r.body]), want, 'the last rows match the server');

      // Jump to the top: the first messages render, each once, in order; the DOM stays small.
      await b.page.locator('.messages').evaluate((el) => (el.scrollTop = 0));
      await waitFor(async () => (await rows(b.page))[0]?.seq === 1, 'seq 1 at the top');
      const head = await rows(b.page);
      assertEqual(head.map((r) => r.seq), head.map((_, i) => i + 1), 'contiguous seqs at the top');
      assert(head.length < 100, `bounded DOM at the top: ${head.length}`);

      // A fresh load pages back with REST before=, keeping the reader's place.
      await b.page.reload();
      await b.page.locator('.status[data-status="online"]').waitFor();
      await waitFor(async () => (await count()) >= 50, 'the newest page');
      for (let i = 1; i <= 3; i++) {
        const before = await count();
        const oldest = BULK - before + 1; // loaded so far: (oldest .. BULK]
        await b.page.locator('.messages').evaluate((el) => (el.scrollTop = 0));
        await waitFor(async () => (await count()) >= before + 50, `page ${i} of older messages`);
        const after = await rows(b.page);
        const seqs = after.map((r) => r.seq);
        assertEqual(seqs, seqs.map((_, j) => seqs[0] + j), 'contiguous rows in seq order after paging');
        // The reader keeps their place: the message that was at the top is still in view, below the new page.
        const inView = await b.page.locator('.messages').evaluate((el, seq) => {
          const m = el.querySelector(`.msg[data-seq="${seq}"]`);
          if (!m) return false;
          const a = el.getBoundingClientRect();
          const r = m.getBoundingClientRect();
          return r.bottom > a.top && r.top < a.bottom;
        }, oldest);
        assert(inView, `message ${oldest}, at the top before page ${i} loaded, is still in view`);
        assert(!seqs.includes(oldest - 50) || seqs.length < 100, 'the new page is mostly above the viewport');
      }
      assertEqual(await count(), 200, 'four pages of 50 loaded');
    });

    await step('screens: the conversation list, and a phone-sized layout', async () => {
      await b.page.goto('/');
      await b.page.locator('.conv-item').first().waitFor();
      await b.page.locator('.empty h2').waitFor();
      await shot(b.page, 'conversation-list.png');
      const phone = await newUserPage(browser, server.base, 'phone', { width: 390, height: 780 });
      await phone.page.goto('/');
      await phone.page.getByRole('button', { name: 'Sign in' }).last().waitFor();
      await phone.page.getByLabel('Username').fill(B.username);
      await phone.page.getByLabel('Password').fill(B.password);
      await phone.page.getByRole('button', { name: 'Sign in' }).last().click();
      await phone.page.locator('.conv-item', { hasText: groupTitle }).click();
      await expectConversation(phone.page, expected, 'phone');
      assert(await phone.page.locator('.sidebar').isHidden(), 'phone layout hides the list while a conversation is open');
      await shot(phone.page, 'conversation-mobile.png');
      await phone.page.getByRole('button', { name: 'Back to conversations' }).click();
      await phone.page.locator('.sidebar').waitFor();
      await phone.context.close();
    });

    await step('tabs renewed their access token on the open socket', async () => {
      const ttl = Number(ACCESS_TTL.replace(/s$/, '')) * 1000 || 30_000;
      // Short runs end before the first renewal is due: wait for it (it comes at 3/4 of the lifetime).
      await waitFor(() => a.info.reauths >= 1 && b.info.reauths >= 1, `an auth frame answered by pong on an open socket in both tabs (ttl ${ACCESS_TTL})`, ttl + 10_000, 250);
      // ...and the tabs keep working on the renewed tokens.
      const t = 'Still here after renewing the token.';
      await b.page.locator('.conv-item', { hasText: groupTitle }).click();
      await a.page.locator('.conv-item', { hasText: groupTitle }).click();
      await send(a.page, t);
      expected.push(t);
      await expectConversation(b.page, expected, 'B');
      console.log(`      re-auths: A ${a.info.reauths}, B ${b.info.reauths}; sockets opened: A ${a.info.sockets}, B ${b.info.sockets}`);
    });

    await step('no CSP violations, page errors or dialogs', async () => {
      for (const { page, info } of [a, b]) {
        const csp = [...info.csp, ...(await page.evaluate(() => window.__csp))];
        assertEqual(csp, [], `${info.name}: CSP violations`);
        assertEqual(info.pageErrors, [], `${info.name}: uncaught page errors`);
        assertEqual(info.dialogs, [], `${info.name}: dialogs`);
      }
    });
  } finally {
    if (process.env.E2E_VERBOSE) for (const { info } of pages) console.log(`[${info.name}] console:\n  ${info.console.join('\n  ')}`);
    await browser.close().catch(() => {});
    await server.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`\ne2e: ${passed} passed, ${failed} failed${failed ? ` (server log: ${logPath})` : ''}`);
  return failed === 0;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(e);
    console.log('\ne2e: 0 passed, 1 failed (setup)');
    process.exit(1);
  },
);
