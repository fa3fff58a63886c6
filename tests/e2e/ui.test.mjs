// Browser tests of the built-in UI: Debian's chromium driven by playwright-core
// against the real binary on loopback, with the demo factory loaded.
// Screenshots of every page go to build/screenshots/ for review.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.TALLY_BINARY || path.resolve('build/tally');
const SHOTS = process.env.TALLY_SCREENSHOTS || path.resolve('build/screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let dir, server, base, key, browser;

async function waitForPort(file, child) {
  for (let i = 0; i < 1500; i++) {  // bounded: 30 s
    if (existsSync(file)) {
      const port = Number(readFileSync(file, 'utf8'));
      if (port > 0) return port;
    }
    if (child.exitCode !== null) throw new Error('tally serve exited early');
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('tally serve did not start');
}

async function login(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base + '/');
  await page.fill('#api-key', key);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('[data-testid=today-cost]');
  return errors;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tally-e2e-'));
  const data = path.join(dir, 'data');
  execFileSync(BIN, ['demo', 'seed', '--days', '30', '--data', data]);
  key = execFileSync(BIN, ['keys', 'create', '--scope', 'admin', '--name', 'e2e', '--data', data], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString().trim();
  const portFile = path.join(dir, 'port');
  server = spawn(BIN, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--port-file', portFile], { stdio: 'ignore' });
  base = 'http://127.0.0.1:' + (await waitForPort(portFile, server));
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a wrong key is refused and no data is shown', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/');
  await page.fill('#api-key', 'tally_wrong');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  assert.match(await page.textContent('#login-error'), /unknown or revoked/);
  assert.equal(await page.isHidden('#app'), true);
  await page.close();
});

test('login sets an HttpOnly SameSite session cookie and the key is not kept in the page', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'tally_session');
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.inputValue('#api-key'), '');
  assert.ok(!page.url().includes(key), 'no key in the URL');
  const storage = await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage));
  assert.ok(!storage.includes(key), 'no key in web storage');
  await context.close();
});

test('a write without the CSRF token is refused even with the session cookie', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page);
  const status = await page.evaluate(async () => {
    const r = await fetch('/v1/agents/kev', { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{"status":"paused"}' });
    return r.status;
  });
  assert.equal(status, 403);
  await context.close();
});

for (const name of ['overview', 'financial', 'agents', 'products', 'growth', 'ops']) {
  test(`the ${name} page renders demo data without console errors`, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = await login(page);
    await page.goto(base + '/#/' + name);
    await page.waitForFunction((n) => document.body.dataset.page === n, name);
    await page.waitForSelector('main section');
    await page.waitForTimeout(300);  // let uPlot draw before the screenshot; no assertion depends on it
    const tables = await page.$$eval('main table tbody tr', (rows) => rows.length);
    assert.ok(tables > 0, 'at least one table row of demo data');
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('a product page shows its revenue and funnel', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = await login(page);
  await page.goto(base + '/#/products');
  await page.waitForSelector('[data-testid=products] a');
  await page.click('[data-testid=products] tbody tr:first-child a');
  await page.waitForSelector('[data-testid=funnel]');
  assert.match(await page.textContent('[data-testid=funnel]'), /visit: [\d,]+/);
  await page.screenshot({ path: path.join(SHOTS, 'product.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the overview cards equal the numbers the API gives', async () => {
  const page = await browser.newPage();
  await login(page);
  const r = await fetch(base + '/v1/overview', { headers: { Authorization: 'Bearer ' + key } });
  assert.equal(r.status, 200);
  const o = await r.json();
  const money = (t) => '$' + Number(t).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  assert.equal(await page.textContent('[data-testid=today-cost] .value'), money(o.today.cost));
  assert.equal(await page.textContent('[data-testid=mtd-revenue] .value'), money(o.mtd.revenue));
  assert.equal(await page.textContent('[data-testid=active-agents] .value'), `${o.active_agents.active}/${o.active_agents.total}`);
  assert.equal(await page.textContent('[data-testid=error-rate] .value'), (o.error_rate.value * 100).toFixed(1) + '%');
  const agents = await page.$$eval('[data-testid=top-agents] tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(agents, o.top_cost_agents_today.map((a) => a.agent_id));
  assert.ok(agents.length > 0, 'the demo factory has spend today');
  await page.close();
});

test('pausing an agent from the UI makes its next budget check deny', async () => {
  const check = async () => {
    const r = await fetch(base + '/v1/budget/check', {
      method: 'POST', headers: { Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' },
      body: JSON.stringify({ agent_id: 'kev', estimated_cost_usd: '0.01', reserve: false }),
    });
    assert.equal(r.status, 200);
    return r.json();
  };
  assert.equal((await check()).allowed, true, 'kev may spend before the pause');
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await login(page);
  await page.goto(base + '/#/agents');
  await page.waitForSelector('[data-testid=toggle-kev]');
  await page.click('[data-testid=toggle-kev]');
  await page.waitForFunction(() => document.querySelector('[data-testid=status-kev]')?.textContent === 'paused');
  const denied = await check();
  assert.equal(denied.allowed, false);
  assert.equal(denied.reason, 'agent_paused');
  await page.click('[data-testid=toggle-kev]');
  await page.waitForFunction(() => document.querySelector('[data-testid=status-kev]')?.textContent === 'active');
  assert.equal((await check()).allowed, true, 'resumed from the UI');
  await page.close();
});
