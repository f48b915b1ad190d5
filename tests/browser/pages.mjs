// The hub's pages in a real browser (issue 15): Debian's headless Chromium, driven by
// puppeteer-core, against `raccordo serve --demo` on 127.0.0.1.
//
// - `/` and `/graphql` render, and no request of any page leaves the hub's origin;
// - `/map` draws every demo agency and collaboration that has coordinates (the same numbers the
//   GraphQL API gives), the province filter and the agency card work;
// - an anonymous visitor sees no operational field (no referral contact);
// - a screenshot of `/map` is written to target/browser/map.png for review.
//
//   RACCORDO_BIN  hub binary (default: target/debug/raccordo of this repository)
//   CHROMIUM      browser binary (default: /usr/bin/chromium)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import puppeteer from 'puppeteer-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const BIN = resolve(repo, process.env.RACCORDO_BIN ?? 'target/debug/raccordo');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUT = join(repo, 'target', 'browser');

function startHub() {
  const dir = mkdtempSync(join(tmpdir(), 'raccordo-browser-'));
  const child = spawn(
    BIN,
    ['serve', '--demo', '--bind', '127.0.0.1:0', '--database-url', `sqlite://${join(dir, 'hub.db')}?mode=rwc`,
      '--jwt-secret', 'browser-test-secret'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } },
  );
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the hub did not start:\n${out.slice(-2000)}`)), 120_000);
    const check = setInterval(() => {
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (!m) return;
      clearInterval(check);
      clearTimeout(timer);
      const tokens = {};
      for (const line of out.split('\n')) {
        const t = line.trim().split(/\s+/);
        if (t.length === 3 && t[2].startsWith('eyJ')) tokens[`${t[0]} ${t[1]}`] = t[2];
      }
      res({ url: m[1], tokens, stop: () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); } });
    }, 100);
    child.on('exit', (code) => rej(new Error(`the hub exited (${code}):\n${out.slice(-2000)}`)));
  });
}

async function gql(url, query, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }) });
  const body = await r.json();
  assert.ok(!body.errors, JSON.stringify(body.errors));
  return body.data;
}

const located = (n) => n.latitude != null && n.longitude != null;

async function main() {
  if (!existsSync(BIN)) throw new Error(`no hub binary at ${BIN} (cargo build -p raccordo-api --bin raccordo)`);
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install chromium)`);
  mkdirSync(OUT, { recursive: true });
  const hub = await startHub();
  const origin = new URL(hub.url).origin;
  const partner = hub.tokens['micaela-bg COORDINATOR'];
  assert.ok(partner, 'the demo prints a token for micaela-bg COORDINATOR');
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--proxy-server=127.0.0.1:9', `--proxy-bypass-list=127.0.0.1`],
  });
  const failures = [];
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    const foreign = [];
    const consoleErrors = [];
    page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreign.push(r.url()); });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    const step = async (name, f) => {
      try { await f(); console.log(`ok   ${name}`); } catch (e) { failures.push(name); console.log(`FAIL ${name}\n     ${e.stack ?? e}`); }
    };

    await step('/ renders with the version and the protocol version', async () => {
      await page.goto(`${origin}/`, { waitUntil: 'networkidle0' });
      const version = await page.$eval('#version', (e) => e.textContent);
      const protocol = await page.$eval('#protocol-version', (e) => e.textContent);
      assert.match(version, /^\d+\.\d+\.\d+/);
      assert.ok(protocol.length > 0);
      assert.equal(await page.$eval('html', (e) => e.lang), 'it');
    });

    await step('/graphql renders GraphiQL offline', async () => {
      await page.goto(`${origin}/graphql`, { waitUntil: 'networkidle0' });
      await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
    });

    // What the API gives each kind of visitor, to compare with what the map draws.
    const directory = (await gql(hub.url, '{ directory { id province latitude longitude } }')).directory;
    const graph = (await gql(hub.url, '{ networkGraph { nodes { id province latitude longitude } edges { from to } } }', partner)).networkGraph;
    const contacts = (await gql(hub.url, '{ directory { referralContact } }', partner)).directory
      .map((a) => a.referralContact).filter((c) => c && c.length > 3);

    await step('/map as an anonymous visitor: the public directory, no operational field', async () => {
      const started = Date.now();
      await page.goto(`${origin}/map`, { waitUntil: 'networkidle0' });
      await page.waitForSelector('body[data-drawn="yes"]', { timeout: 20_000 });
      console.log(`     drawn ${Date.now() - started} ms after navigation`);
      const nodes = Number(await page.$eval('body', (b) => b.dataset.nodes));
      assert.equal(nodes, directory.filter(located).length);
      assert.equal(Number(await page.$eval('body', (b) => b.dataset.edges)), 0);
      // Open every card: none shows a referral contact.
      const ids = directory.filter(located).map((a) => a.id);
      for (const id of ids.slice(0, 15)) {
        await page.$eval(`path.agency-${id}`, (p) => p.dispatchEvent(new MouseEvent('click', { bubbles: true })));
      }
      const html = await page.content();
      for (const c of contacts) assert.ok(!html.includes(c), `an anonymous visitor sees ${c}`);
    });

    await step('/map with a partner token: every agency and collaboration with coordinates', async () => {
      await page.evaluate((t) => sessionStorage.setItem('raccordo-token', t), partner);
      const started = Date.now();
      await page.goto(`${origin}/map`, { waitUntil: 'networkidle0' });
      await page.waitForFunction(() => document.body.dataset.drawn === 'yes' && document.getElementById('who').textContent.startsWith('Vista di'), { timeout: 20_000 });
      console.log(`     drawn ${Date.now() - started} ms after navigation`);
      const at = new Set(graph.nodes.filter(located).map((n) => n.id));
      assert.equal(Number(await page.$eval('body', (b) => b.dataset.nodes)), at.size);
      const edges = graph.edges.filter((e) => at.has(e.from) && at.has(e.to)).length;
      assert.equal(Number(await page.$eval('body', (b) => b.dataset.edges)), edges);
      const drawnPaths = await page.$$eval('path.agency', (p) => p.length);
      assert.equal(drawnPaths, at.size);
      await page.screenshot({ path: join(OUT, 'map.png') });
    });

    await step('/map: the province filter and the agency card', async () => {
      await page.select('#f-province', 'BG');
      const bg = graph.nodes.filter((n) => located(n) && n.province === 'BG');
      assert.equal(Number(await page.$eval('body', (b) => b.dataset.nodes)), bg.length);
      const first = bg[0];
      assert.ok(first, 'the demo has located agencies in BG');
      await page.$eval(`path.agency-${first.id}`, (p) => p.dispatchEvent(new MouseEvent('click', { bubbles: true })));
      const card = await page.$eval('#card', (c) => (c.hidden ? '' : c.textContent));
      assert.ok(card.length > 0, 'the card opens');
      await page.screenshot({ path: join(OUT, 'map-bg.png') });
    });

    await step('no request left the hub, no script error', async () => {
      assert.deepEqual(foreign, []);
      assert.deepEqual(consoleErrors, []);
    });
  } finally {
    await browser.close();
    hub.stop();
  }
  if (failures.length) {
    console.log(`${failures.length} browser check(s) failed`);
    process.exit(1);
  }
  console.log(`browser checks passed; screenshots in ${OUT}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
