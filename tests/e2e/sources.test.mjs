// Every webhook source end to end against the real tally binary (`tally
// serve` on a loopback port, SQLite in a temp dir, secrets from TALLY_*
// variables), with the recorded provider payloads of ../shared/fixtures:
// Stripe signed by the official `stripe` package
// (stripe.webhooks.generateTestHeaderString), Lemon Squeezy and GitHub by
// their documented HMAC schemes, Gumroad by its URL token, LiteLLM by an
// ingest key. For each: a bad signature (tampered body, wrong secret, and for
// Stripe a stale timestamp) is 400 and stores nothing; an unmapped product is
// accepted and parked, then stored when the mapping is added; the same
// delivery 3 times counts once.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';

const BIN = process.env.TALLY_BINARY || path.resolve('build/tally');
const FIXTURES = process.env.TALLY_FIXTURES || path.resolve('../shared/fixtures');
const fixture = (rel) => readFileSync(path.join(FIXTURES, rel), 'utf8');

const PRODUCT = '3f6c1b2a-9d4e-4f5a-8b7c-6d5e4f3a2b1c';
const STRIPE_SECRET = 'whsec_e2eCurrentSecret0123456789';
const STRIPE_OLD_SECRET = 'whsec_e2eRolledSecret9876543210';
const LS_SECRET = 'e2e-lemonsqueezy-signing-secret';
const GUMROAD_TOKEN = 'e2e-gumroad-url-token-5d1c';
const GITHUB_SECRET = 'e2e-github-webhook-secret';

const stripe = new Stripe('sk_test_e2e_not_used_for_network');

// One tally per provider: its own data directory, so counts start at zero.
async function startTally(env = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tally-sources-e2e-'));
  const data = path.join(dir, 'data');
  const fullEnv = {
    ...process.env,
    TALLY_STRIPE_WEBHOOK_SECRETS: `${STRIPE_OLD_SECRET},${STRIPE_SECRET}`,
    TALLY_LEMONSQUEEZY_SIGNING_SECRET: LS_SECRET,
    TALLY_GUMROAD_URL_TOKEN: GUMROAD_TOKEN,
    TALLY_GITHUB_WEBHOOK_SECRETS: GITHUB_SECRET,
    TALLY_FX_RATES: 'EUR=1.08',
    ...env,
  };
  const key = execFileSync(BIN, ['keys', 'create', '--scope', 'admin', '--name', 'e2e', '--data', data],
    { env: fullEnv, stdio: ['ignore', 'pipe', 'ignore'] }).toString().split('\n')[0].trim();
  const portFile = path.join(dir, 'port');
  let child = null;
  let base = '';
  // Starts `tally serve` on the data directory; again after stop(false) it
  // is a process restart: only the store survives.
  const launch = async () => {
    rmSync(portFile, { force: true });
    child = spawn(BIN, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--port-file', portFile],
      { env: fullEnv, stdio: 'ignore' });
    let port = 0;
    for (let i = 0; i < 200 && !port; ++i) {
      if (existsSync(portFile)) port = Number(readFileSync(portFile, 'utf8')) || 0;
      if (!port) {
        if (child.exitCode !== null) throw new Error('tally serve exited early');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (!port) throw new Error('tally serve did not start');
    base = `http://127.0.0.1:${port}`;
  };
  const halt = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  };
  await launch();
  const t = {
    get base() { return base; },
    key,
    async post(target, body, headers = {}) {
      const res = await fetch(base + target, { method: 'POST', body, headers });
      const text = await res.text();
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, json, text };
    },
    async admin(method, target, body) {
      const res = await fetch(base + target, {
        method, body: body === undefined ? undefined : JSON.stringify(body),
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });
      return { status: res.status, json: await res.json() };
    },
    async sql(query) {
      const r = await t.admin('POST', '/v1/sql', { sql: query });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json.rows;
    },
    async count(table) { return Number((await t.sql(`SELECT count(*) FROM ${table}`))[0][0]); },
    async parked(all = false) { return (await t.admin('GET', `/v1/parked${all ? '?all=true' : ''}`)).json.items; },
    async map(provider, externalId) {
      const r = await t.admin('POST', '/v1/mappings', { provider, external_id: externalId, product_id: PRODUCT });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return r.json.replay;
    },
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const product = await t.admin('POST', '/v1/products', { id: PRODUCT, name: 'E2E product', type: 'micro-saas' });
  assert.ok(product.status === 201 || product.status === 200, JSON.stringify(product.json));
  return t;
}

// Nothing stored and nothing parked: what every refused delivery must leave.
async function assertNothingStored(t, table) {
  assert.equal(await t.count(table), 0, `${table} must stay empty`);
  assert.deepEqual(await t.parked(true), [], 'nothing may be parked');
}

describe('stripe', () => {
  let t;
  before(async () => { t = await startTally(); });
  after(async () => { await t?.stop(); });

  const payload = fixture('stripe/events/payment_intent.succeeded.supabase-stripe-sync-engine.json');
  const deliver = (body, header) =>
    t.post('/webhooks/stripe', body, { 'content-type': 'application/json', 'stripe-signature': header });
  const signed = (body, opts = {}) => stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SECRET, ...opts });

  test('tampered body, stale timestamp and wrong secret are 400 and store nothing', async () => {
    const header = signed(payload);
    const event = JSON.parse(payload);
    event.data.object.amount *= 100;
    const tampered = await deliver(JSON.stringify(event), header);
    assert.equal(tampered.status, 400, tampered.text);
    const stale = await deliver(payload, signed(payload, { timestamp: Math.floor(Date.now() / 1000) - 301 }));
    assert.equal(stale.status, 400, stale.text);
    const wrong = await deliver(payload, stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_wrong' }));
    assert.equal(wrong.status, 400, wrong.text);
    const unsigned = await t.post('/webhooks/stripe', payload, { 'content-type': 'application/json' });
    assert.equal(unsigned.status, 400);
    await assertNothingStored(t, 'revenue_events');
  });

  test('unmapped payment is parked (3 deliveries park once), stored when mapped, then counted once', async () => {
    for (let i = 0; i < 3; ++i) {
      const r = await deliver(payload, signed(payload));
      assert.equal(r.status, 202, r.text);
      assert.equal(r.json.status, 'parked');
    }
    const parked = await t.parked();
    assert.equal(parked.length, 1);
    assert.equal(parked[0].provider_event_id, JSON.parse(payload).id);
    assert.equal(await t.count('revenue_events'), 0);

    const replay = await t.map('stripe', '*');
    assert.equal(replay.replayed, 1);
    assert.equal(replay.accepted, 1);
    assert.deepEqual(await t.parked(), []);
    for (let i = 0; i < 3; ++i) {
      const r = await deliver(payload, signed(payload));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.accepted, 0);
    }
    assert.equal(await t.count('revenue_events'), 1);
    const [[amount, product, type]] = await t.sql('SELECT amount_usd, product_id, event_type FROM revenue_events');
    assert.equal(Number(amount), 10_000_000);  // 1000 minor units of USD, in micro-USD
    assert.equal(product, PRODUCT);
    assert.equal(type, 'payment');
  });

  test('a secret being rolled out: the old one still verifies', async () => {
    const body = fixture('stripe/events/charge.refunded.supabase-stripe-sync-engine.json');
    for (let i = 0; i < 3; ++i) {
      const r = await deliver(body, stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_OLD_SECRET }));
      assert.equal(r.status, 200, r.text);
    }
    const [[refunds]] = await t.sql("SELECT count(*) FROM revenue_events WHERE event_type = 'refund'");
    assert.equal(Number(refunds), 1);
  });
});

describe('lemonsqueezy', () => {
  let t;
  before(async () => { t = await startTally(); });
  after(async () => { await t?.stop(); });

  const order = fixture('lemonsqueezy/webhooks/order_created.lemonsqueezy-go-stub.json');
  const sign = (body, secret = LS_SECRET) => createHmac('sha256', secret).update(body).digest('hex');
  const deliver = (body, signature) => t.post('/webhooks/lemonsqueezy', body,
    { 'content-type': 'application/json', 'x-event-name': 'order_created', ...(signature ? { 'x-signature': signature } : {}) });

  test('tampered body, wrong secret and no signature are 400 and store nothing', async () => {
    assert.equal((await deliver(order.replace('"total": 1859', '"total": 9999'), sign(order))).status, 400);
    assert.equal((await deliver(order, sign(order, 'another-secret'))).status, 400);
    assert.equal((await deliver(order)).status, 400);
    await assertNothingStored(t, 'revenue_events');
  });

  test('unmapped order parked, replayed by the variant mapping, counted once', async () => {
    for (let i = 0; i < 3; ++i) assert.equal((await deliver(order, sign(order))).status, 202);
    assert.equal((await t.parked()).length, 1);
    const replay = await t.map('lemonsqueezy', '1');
    assert.equal(replay.accepted, 1);
    for (let i = 0; i < 3; ++i) assert.equal((await deliver(order, sign(order))).status, 200);
    assert.equal(await t.count('revenue_events'), 1);
    const [[amount]] = await t.sql('SELECT amount_usd FROM revenue_events');
    assert.equal(Number(amount), 20_160_000);  // total_usd 2016 cents
  });
});

// Lemon Squeezy partial refunds: order_refunded carries the order's
// cumulative refunded_amount (cents). An order of 50.00, refunded 10.00, then
// 25.00, then 50.00 in all: revenue must read 40, 25, 0 whatever the retries,
// the order of arrival and restarts, asserted through GET /v1/pnl.
describe('lemonsqueezy partial refunds', () => {
  const ORDER_TOTAL = 5000;
  const sign = (body) => createHmac('sha256', LS_SECRET).update(body).digest('hex');
  // The recorded order, as order 7 of 50.00 USD.
  const order = (() => {
    const doc = JSON.parse(fixture('lemonsqueezy/webhooks/order_created.lemonsqueezy-go-stub.json'));
    doc.data.id = '7';
    Object.assign(doc.data.attributes, { currency: 'USD', total: ORDER_TOTAL, total_usd: ORDER_TOTAL });
    return JSON.stringify(doc);
  })();
  // The refund of order 7 as Lemon Squeezy sends it after each refund: the
  // assembled order_refunded with the cumulative refunded_amount.
  const refund = (cents, day) => {
    const doc = JSON.parse(fixture('lemonsqueezy/assembled/order_refunded.assembled-edited.json'));
    doc.data.id = '7';
    const full = cents >= ORDER_TOTAL;
    Object.assign(doc.data.attributes, {
      currency: 'USD', total: ORDER_TOTAL, total_usd: ORDER_TOTAL,
      status: full ? 'refunded' : 'partial_refund', refunded: full,
      refunded_at: full ? `2023-01-${day}T10:00:00.000000Z` : null,
      updated_at: `2023-01-${day}T10:00:00.000000Z`,
      refunded_amount: cents, refunded_amount_usd: cents,
    });
    return JSON.stringify(doc);
  };
  const steps = { 1000: refund(1000, 20), 2500: refund(2500, 21), 5000: refund(5000, 22) };

  async function start() {
    const t = await startTally();
    await t.map('lemonsqueezy', '1');
    return t;
  }
  const deliver = (t, body, event = 'order_refunded') => t.post('/webhooks/lemonsqueezy', body,
    { 'content-type': 'application/json', 'x-event-name': event, 'x-signature': sign(body) });
  // Revenue, gross and refunds of January 2023 (the order and its refunds)
  // from the P&L API, in dollars.
  async function revenue(t) {
    const r = await t.admin('GET', `/v1/pnl?from=2023-01-01&to=2023-01-31&granularity=total&product=${PRODUCT}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const line = r.json.products.find((p) => p.product_id === PRODUCT);
    assert.ok(line, JSON.stringify(r.json));
    return { net: Number(line.revenue), gross: Number(line.gross_revenue), refunds: Number(line.refunds),
      total: Number(r.json.totals.revenue) };
  }

  test('10.00 -> 25.00 -> 50.00, each delivered 3 times with a restart after each: -10, -15, -25', async () => {
    const t = await start();
    try {
      for (let i = 0; i < 3; ++i) assert.equal((await deliver(t, order, 'order_created')).status, 200);
      assert.deepEqual(await revenue(t), { net: 50, gross: 50, refunds: 0, total: 50 });
      const want = { 1000: 40, 2500: 25, 5000: 0 };
      for (const cents of [1000, 2500, 5000]) {
        for (let i = 0; i < 3; ++i) {
          const r = await deliver(t, steps[cents]);
          assert.equal(r.status, 200, r.text);
          assert.equal(r.json.accepted, i === 0 ? 1 : 0, `${cents} delivery ${i}: ${r.text}`);
        }
        const got = await revenue(t);
        assert.equal(got.net, want[cents], `after ${cents}: ${JSON.stringify(got)}`);
        assert.equal(got.refunds, want[cents] - 50);
        assert.equal(got.total, want[cents]);
        await t.restart();
        assert.deepEqual(await revenue(t), got, 'a restart changes nothing');
      }
      const rows = await t.sql("SELECT event_id, amount_usd FROM revenue_events WHERE event_type = 'refund' ORDER BY event_id");
      assert.deepEqual(rows.map(([id, a]) => [id, Number(a)]), [
        ['lemonsqueezy:refund:order:7:1000', -10_000_000],
        ['lemonsqueezy:refund:order:7:2500', -15_000_000],
        ['lemonsqueezy:refund:order:7:5000', -25_000_000],
      ]);
    } finally {
      await t.stop();
    }
  });

  test('out of order (25.00 before 10.00), retried, across a restart and concurrent: never double counted', async () => {
    const t = await start();
    try {
      assert.equal((await deliver(t, order, 'order_created')).status, 200);
      for (let i = 0; i < 3; ++i) assert.equal((await deliver(t, steps[2500])).status, 200);
      assert.equal((await revenue(t)).net, 25);
      for (let i = 0; i < 3; ++i) {
        const late = await deliver(t, steps[1000]);
        assert.equal(late.status, 200, late.text);
        assert.equal(late.json.accepted, 0, 'a smaller total that arrives late adds nothing');
      }
      assert.deepEqual(await revenue(t), { net: 25, gross: 50, refunds: -25, total: 25 });
      await t.restart();
      // Every total three times at once, in mixed order.
      const all = [];
      for (let i = 0; i < 3; ++i) for (const cents of [5000, 1000, 2500]) all.push(deliver(t, steps[cents]));
      for (const r of await Promise.all(all)) assert.equal(r.status, 200, r.text);
      assert.deepEqual(await revenue(t), { net: 0, gross: 50, refunds: -50, total: 0 });
      await t.restart();
      for (const cents of [1000, 2500, 5000]) assert.equal((await deliver(t, steps[cents])).json.accepted, 0);
      assert.deepEqual(await revenue(t), { net: 0, gross: 50, refunds: -50, total: 0 });
    } finally {
      await t.stop();
    }
  });
});

describe('gumroad', () => {
  let t;
  before(async () => { t = await startTally(); });
  after(async () => { await t?.stop(); });

  const sale = fixture('gumroad/ping.sale.subscription.example.txt');
  const deliver = (body, token = GUMROAD_TOKEN) =>
    t.post(`/webhooks/gumroad/${token}`, body, { 'content-type': 'application/x-www-form-urlencoded' });

  test('a wrong URL token is 400 and stores nothing', async () => {
    assert.equal((await deliver(sale, 'guessed-token')).status, 400);
    await assertNothingStored(t, 'revenue_events');
  });

  test('unmapped sale parked, replayed by the product mapping, counted once; refund negative', async () => {
    for (let i = 0; i < 3; ++i) assert.equal((await deliver(sale)).status, 202);
    assert.equal((await t.parked()).length, 1);
    assert.equal((await t.map('gumroad', 'pr0duct_SEOTOOL==')).accepted, 1);
    for (let i = 0; i < 3; ++i) assert.equal((await deliver(sale)).status, 200);
    assert.equal(await t.count('revenue_events'), 1);
    const refund = fixture('gumroad/ping.refund.example.txt');
    for (let i = 0; i < 3; ++i) assert.equal((await deliver(refund)).status, 200);
    assert.equal(await t.count('revenue_events'), 2);
    const [[net]] = await t.sql('SELECT sum(amount_usd) FROM revenue_events');
    assert.equal(Number(net), 0);
  });
});

describe('github', () => {
  let t;
  before(async () => { t = await startTally(); });
  after(async () => { await t?.stop(); });

  const deploy = fixture('github/payloads/deployment_status.created.success.octokit-webhooks-examples.json');
  const sign = (body, secret = GITHUB_SECRET) => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
  const deliver = (event, body, signature, delivery = 'e2e-delivery-1') => t.post('/webhooks/github', body, {
    'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery,
    ...(signature ? { 'x-hub-signature-256': signature } : {}),
  });

  test('recorded signature vectors: valid ones pass the signature check, the others are 400', async () => {
    const doc = JSON.parse(fixture('github/signatures/github_signature_vectors.json'));
    // The vectors' secret, on a tally of its own.
    const v = await startTally({ TALLY_GITHUB_WEBHOOK_SECRETS: 'holdout-gh-webhook-secret-2f9c71' });
    try {
      for (const vec of doc.vectors.filter((x) => x.secret === 'holdout-gh-webhook-secret-2f9c71')) {
        const body = vec.payload_file ? fixture(`github/${vec.payload_file}`) : vec.payload_inline;
        const r = await v.post('/webhooks/github', body, {
          'content-type': 'application/json', 'x-github-event': vec.x_github_event || 'ping',
          'x-github-delivery': vec.name, 'x-hub-signature-256': vec.x_hub_signature_256,
        });
        if (vec.expected_valid) assert.ok(r.status === 200 || r.status === 202, `${vec.name}: ${r.status} ${r.text}`);
        else assert.equal(r.status, 400, vec.name);
      }
    } finally {
      await v.stop();
    }
  });

  test('tampered body, wrong secret, no signature are 400 and store nothing', async () => {
    assert.equal((await deliver('deployment_status', deploy.replace('"success"', '"failure"'), sign(deploy))).status, 400);
    assert.equal((await deliver('deployment_status', deploy, sign(deploy, 'not-the-secret'))).status, 400);
    assert.equal((await deliver('deployment_status', deploy)).status, 400);
    await assertNothingStored(t, 'ops_events');
  });

  test('unmapped repository parked, replayed by the repository mapping, redeliveries counted once', async () => {
    for (let i = 0; i < 3; ++i) assert.equal((await deliver('deployment_status', deploy, sign(deploy))).status, 202);
    const parked = await t.parked();
    assert.equal(parked.length, 1);
    assert.match(parked[0].reason, /Codertocat\/Hello-World/);
    assert.equal((await t.map('github', 'Codertocat/Hello-World')).accepted, 1);
    for (let i = 0; i < 3; ++i) assert.equal((await deliver('deployment_status', deploy, sign(deploy))).status, 200);
    assert.equal(await t.count('ops_events'), 1);
    const [[kind, status, product, repo]] = await t.sql('SELECT kind, status, product_id, repository FROM ops_events');
    assert.deepEqual([kind, status, product, repo], ['deploy', 'success', PRODUCT, 'Codertocat/Hello-World']);

    for (const [event, file] of [['push', 'push.branch-1-commit.octokit-webhooks-examples.json'],
      ['release', 'release.published.octokit-webhooks-examples.json']]) {
      const body = fixture(`github/payloads/${file}`);
      for (let i = 0; i < 3; ++i) assert.equal((await deliver(event, body, sign(body), `d-${event}`)).status, 200);
    }
    const ping = fixture('github/payloads/ping.octokit-webhooks-examples.json');
    const r = await deliver('ping', ping, sign(ping), 'd-ping');
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'ignored');
    const kinds = (await t.sql('SELECT kind FROM ops_events ORDER BY kind')).map((row) => row[0]);
    assert.deepEqual(kinds, ['deploy', 'push', 'release']);
    const [[deploys]] = await t.sql("SELECT sum(event_count) FROM ops_daily WHERE kind = 'deploy'");
    assert.equal(Number(deploys), 1);
  });

  test('form-encoded deliveries (payload=<url-encoded JSON>) are verified over the raw body and stored', async () => {
    // What GitHub sends with content type application/x-www-form-urlencoded.
    const form = (json) => new URLSearchParams({ payload: json }).toString();
    const deliverForm = (event, body, signature, delivery) => t.post('/webhooks/github', body, {
      'content-type': 'application/x-www-form-urlencoded', 'x-github-event': event, 'x-github-delivery': delivery,
      'x-hub-signature-256': signature,
    });
    const status = fixture('github/payloads/deployment_status.created.success.octokit-webhooks-examples.json');
    const failed = JSON.parse(status);
    failed.deployment_status.id += 1000;
    failed.deployment_status.state = 'failure';
    const failedForm = form(JSON.stringify(failed));
    const before = await t.count('ops_events');
    // Tampered after signing, or signed over the decoded JSON instead of the raw body: 400.
    const tampered = failedForm.replace('failure', 'success');
    assert.equal((await deliverForm('deployment_status', tampered, sign(failedForm), 'f-1')).status, 400);
    assert.equal((await deliverForm('deployment_status', failedForm, sign(JSON.stringify(failed)), 'f-1')).status, 400);
    assert.equal(await t.count('ops_events'), before);
    // Signed correctly: stored once however often delivered.
    for (let i = 0; i < 3; ++i) {
      const r = await deliverForm('deployment_status', failedForm, sign(failedForm), 'f-1');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.accepted, i === 0 ? 1 : 0);
    }
    const [[state]] = await t.sql(`SELECT status FROM ops_events WHERE event_id = 'github:deploy:${failed.deployment_status.id}'`);
    assert.equal(state, 'failure');
    // A push sent as a form is the same event as the JSON one stored above.
    const push = fixture('github/payloads/push.branch-1-commit.octokit-webhooks-examples.json');
    const pushed = await deliverForm('push', form(push), sign(form(push)), 'f-2');
    assert.equal(pushed.status, 200, pushed.text);
    assert.equal(pushed.json.duplicates, 1);
    assert.equal(await t.count('ops_events'), before + 1);
  });

  test('other ops signals arrive through POST /v1/events/ops_events', async () => {
    const events = [{ event_id: 'up-1', time: '2026-03-01T12:00:00Z', product_id: PRODUCT, kind: 'uptime_check',
      source: 'uptime', status: 'down', latency_ms: 1200, status_code: 503 }];
    const r = await t.admin('POST', '/v1/events/ops_events', events);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.accepted, 1);
    const [[failures]] = await t.sql("SELECT failure_count FROM ops_daily WHERE kind = 'uptime_check'");
    assert.equal(Number(failures), 1);
    const bad = await t.admin('POST', '/v1/events/ops_events', [{ ...events[0], event_id: 'up-2', kind: 'Uptime Check' }]);
    assert.equal(bad.status, 400);
  });
});

describe('litellm', () => {
  let t;
  before(async () => { t = await startTally(); });
  after(async () => { await t?.stop(); });

  const payload = fixture('litellm/standard_logging_payload.litellm-tests-gcs_pub_sub.json');

  test('needs an ingest key; the same payload 3 times counts once; a malformed one is 400', async () => {
    const anon = await t.post('/v1/integrations/litellm', payload, { 'content-type': 'application/json' });
    assert.equal(anon.status, 401);
    await assertNothingStored(t, 'llm_calls');
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${t.key}` };
    for (let i = 0; i < 3; ++i) {
      const r = await t.post('/v1/integrations/litellm', `[${payload}]`, headers);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.accepted, i === 0 ? 1 : 0);
    }
    assert.equal(await t.count('llm_calls'), 1);
    const [[model, tokensIn, tokensOut]] = await t.sql('SELECT model, input_tokens, output_tokens FROM llm_calls');
    assert.deepEqual([model, Number(tokensIn), Number(tokensOut)], ['gpt-4o', 10, 20]);
    const bad = await t.post('/v1/integrations/litellm', '{"id":"x"}', headers);
    assert.equal(bad.status, 400);
    assert.equal(await t.count('llm_calls'), 1);
  });
});
