// tally's built-in UI: a small single-page app over tally's own API.
// Login exchanges an API key for an HttpOnly session cookie; the CSRF token
// lives only in this page's memory and goes back in X-CSRF-Token on writes.
// Charts are uPlot (bundled into the binary); no request leaves this server.
// Times are UTC (the business day of the embedded default); money arrives as
// integer micro-USD from SQL and as decimal strings from the entity API.
'use strict';

const DAY_US = 86400e6;
const HOUR_US = 3600e6;
const state = { csrf: null, scopes: [], features: {}, timer: null, charts: [] };

// ---------- API ----------

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (r.status === 401 && path !== '/v1/session') showLogin();  // the session ended (expired, key revoked)
  if (!r.ok) {
    const err = new Error((data && data.error && data.error.message) || r.statusText);
    err.status = r.status;
    throw err;
  }
  return data;
}

async function sql(query) {
  const r = await api('POST', '/v1/sql', { sql: query, max_rows: 5000 });
  return r.rows;
}

// First row's first value, or 0.
async function scalar(query) {
  const rows = await sql(query);
  return rows.length && rows[0][0] !== null ? rows[0][0] : 0;
}

// ---------- formatting ----------

function usd(micros, digits) {
  const v = (micros || 0) / 1e6;
  const d = digits === undefined ? (Math.abs(v) < 10 ? 2 : 0) : digits;
  return (v < 0 ? '-$' : '$') + Math.abs(v).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}
function pct(x) { return x === null || !isFinite(x) ? '—' : (x * 100).toFixed(1) + '%'; }
function num(x) { return (x || 0).toLocaleString('en-US'); }
function ratio(a, b) { return b ? a / b : null; }
function esc(s) {
  return String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, (c) => (
    { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
function sqlText(s) { return "'" + String(s).replace(/'/g, "''") + "'"; }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c));
  return e;
}

// A trend arrow: `better` says which direction is good for this number.
function trend(now, before, better) {
  if (now === null || before === null || before === 0) return el('span', { class: 'trend flat' }, '→ no prior data');
  const change = (now - before) / Math.abs(before);
  if (Math.abs(change) < 0.02) return el('span', { class: 'trend flat' }, '→ stable');
  const up = change > 0;
  const good = better === 'up' ? up : !up;
  return el('span', { class: 'trend ' + (good ? 'up' : 'down') },
    (up ? '↑ ' : '↓ ') + Math.abs(change * 100).toFixed(0) + '% vs previous');
}

function card(label, value, extra, testid) {
  const c = el('div', { class: 'card', 'data-testid': testid || '' },
    el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));
  if (extra) c.append(extra);
  return c;
}

function panel(title, ...children) {
  return el('section', { class: 'panel' }, el('h2', {}, title), ...children);
}

// A table whose headers sort it. columns: [{label, key, num, fmt, render}]
function table(columns, rows, testid) {
  const t = el('table', { 'data-testid': testid || '' });
  const head = el('tr');
  const body = el('tbody');
  let sortKey = null;
  let asc = true;
  function draw() {
    const sorted = rows.slice();
    if (sortKey !== null) {
      sorted.sort((a, b) => {
        const x = a[sortKey]; const y = b[sortKey];
        const r = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
        return asc ? r : -r;
      });
    }
    body.replaceChildren(...sorted.map((row) => el('tr', {}, ...columns.map((c) => {
      const td = el('td', { class: c.num ? 'num' : '' });
      if (c.render) td.append(c.render(row));
      else td.textContent = c.fmt ? c.fmt(row[c.key], row) : (row[c.key] === null || row[c.key] === undefined ? '—' : row[c.key]);
      return td;
    }))));
  }
  columns.forEach((c) => {
    const th = el('th', {}, c.label);
    if (c.key !== undefined) {
      th.addEventListener('click', () => {
        asc = sortKey === c.key ? !asc : !c.num;
        sortKey = c.key;
        head.querySelectorAll('th').forEach((h) => h.classList.remove('sorted-asc', 'sorted-desc'));
        th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
        draw();
      });
    }
    head.append(th);
  });
  t.append(el('thead', {}, head), body);
  draw();
  if (!rows.length) t.append(el('caption', {}, 'no data in this range'));
  return t;
}

function bar(value, max) {
  return el('span', { class: 'bar', style: 'width:' + Math.round(100 * (max ? value / max : 0)) + 'px' });
}

const COLORS = ['#4fa3ff', '#3fb950', '#f85149', '#d29922', '#a371f7', '#39c5cf', '#ff7b72', '#8b96a3'];

// xs: unix seconds; series: [{label, values}]
function chart(title, xs, series, opts) {
  const box = el('div', { class: 'chart' });
  const p = panel(title, box);
  requestAnimationFrame(() => {
    const width = Math.max(300, box.clientWidth || 600);
    const u = new uPlot({
      width, height: (opts && opts.height) || 220,
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: COLORS[i % COLORS.length], width: 2,
        fill: opts && opts.fill ? COLORS[i % COLORS.length] + '33' : undefined,
        value: (u, v) => (v === null ? '—' : (s.fmt ? s.fmt(v) : v.toFixed(2))),
      }))],
      axes: [{ stroke: '#8b96a3', grid: { stroke: '#26303b' } },
        { stroke: '#8b96a3', grid: { stroke: '#26303b' }, size: 70 }],
      scales: { x: { time: true } },
    }, [xs, ...series.map((s) => s.values)], box);
    state.charts.push(u);
  });
  return p;
}

// Fills [from, to) buckets of `step` seconds from SQL rows [bucket_seconds, value].
function buckets(fromS, toS, step, rows) {
  const xs = [];
  const index = new Map();
  for (let t = Math.floor(fromS / step) * step; t < toS; t += step) { index.set(t, xs.length); xs.push(t); }
  const values = xs.map(() => 0);
  for (const [t, v] of rows) if (index.has(t)) values[index.get(t)] = v;
  return { xs, values };
}

// ---------- time ----------

function range() {
  const days = Number(document.getElementById('range').value);
  const now = Date.now() * 1000;
  return { days, now, from: now - days * DAY_US };
}
function dayStart(us) { return Math.floor(us / DAY_US) * DAY_US; }
function monthStart(us) {
  const d = new Date(us / 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) * 1000;
}

// ---------- pages ----------

// Money as the API's exact decimal text ("47.23") to "$47.23".
function usdText(text) {
  const v = Number(text || 0);
  return (v < 0 ? '-$' : '$') + Math.abs(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

const TREND_CLASS = { improving: 'up', worsening: 'down', stable: 'flat', unknown: 'flat' };
// The arrow says where the number went; the colour and word say whether that is good.
function trendOf(metric) {
  const word = (metric && metric.trend) || 'unknown';
  if (word === 'unknown') return el('span', { class: 'trend flat' }, '→ no prior data');
  const arrow = word === 'stable' ? '→ ' : (metric.value > metric.previous ? '↑ ' : '↓ ');
  return el('span', { class: 'trend ' + TREND_CLASS[word] }, arrow + word + ' vs previous 24 h');
}

// The seed §8 overview, straight from GET /v1/overview (the same numbers the
// API gives any other client).
async function overviewPage() {
  const o = await api('GET', '/v1/overview');
  const latency = o.avg_latency_ms && o.avg_latency_ms.value !== null ? (o.avg_latency_ms.value / 1000).toFixed(2) + ' s' : '—';
  const cards = el('div', { class: 'cards' },
    card('LLM spend today', usdText(o.today.cost), null, 'today-cost'),
    card('Cost MTD', usdText(o.mtd.cost), null, 'mtd-cost'),
    card('Revenue MTD (net)', usdText(o.mtd.revenue), null, 'mtd-revenue'),
    card('Budget used today', o.budget.used === null ? '—' : pct(o.budget.used), null, 'budget-used'),
    card('Active agents', `${o.active_agents.active}/${o.active_agents.total}`, null, 'active-agents'),
    card('Error rate 24h', pct(o.error_rate.value), trendOf(o.error_rate), 'error-rate'),
    card('Avg latency 24h', latency, trendOf(o.avg_latency_ms), 'latency'),
    card('Cache hit rate 24h', pct(o.cache_hit_rate.value), trendOf(o.cache_hit_rate), 'cache-hit'));
  const xs = o.cost_per_hour_24h.map((h) => Date.parse(h.hour) / 1000);
  const ys = o.cost_per_hour_24h.map((h) => Number(h.cost));
  const agents = o.top_cost_agents_today.map((a) => [a.agent_id, Number(a.cost)]);
  const products = o.top_revenue_products_mtd.map((p) => [p.product_name, Number(p.revenue)]);
  const maxAgent = agents.length ? agents[0][1] : 0;
  const maxProduct = products.length ? products[0][1] : 0;
  const alerts = o.alerts && o.alerts.length
    ? el('ul', {}, ...o.alerts.map((x) => el('li', {}, `${x.state || x.status || ''} ${x.summary || x.message || x.rule || ''}`)))
    : el('p', { class: 'flat' }, state.features.alerts ? 'No alerts in the last 24 hours.' : 'Alerting is not enabled in this build.');
  const money = (v) => usdText(v);
  return [cards,
    chart('Cost per hour, last 24 h (USD)', xs, [{ label: 'cost', values: ys, fmt: money }], { fill: true }),
    el('div', { class: 'grid2' },
      panel('Top cost agents (today)', table([
        { label: 'agent', key: 0 },
        { label: 'spend', key: 1, num: true, fmt: money },
        { label: '', render: (r) => bar(r[1], maxAgent) }], agents, 'top-agents')),
      panel('Top revenue products (MTD)', table([
        { label: 'product', key: 0 },
        { label: 'revenue', key: 1, num: true, fmt: money },
        { label: '', render: (r) => bar(r[1], maxProduct) }], products, 'top-products'))),
    panel('Alerts (24 h)', alerts)];
}

async function financialPage() {
  const { from, now } = range();
  const [rev, llm, infra, pnl] = await Promise.all([
    sql(`SELECT time / 86400000000 * 86400, sum(amount_usd) / 1e6 FROM revenue_events WHERE time >= ${from} GROUP BY 1`),
    sql(`SELECT time / 86400000000 * 86400, sum(cost_usd) / 1e6 FROM llm_calls WHERE time >= ${from} GROUP BY 1`),
    sql(`SELECT time / 86400000000 * 86400, sum(amount_usd) / 1e6 FROM infra_costs WHERE time >= ${from} GROUP BY 1`),
    sql(`SELECT p.name, p.type,
           (SELECT coalesce(sum(amount_usd), 0) FROM revenue_events r WHERE r.product_id = p.id AND r.time >= ${from}),
           (SELECT coalesce(sum(total_cost_usd), 0) FROM task_events t WHERE t.product_id = p.id
              AND t.status IN ('completed', 'failed', 'escalated') AND t.time >= ${from}),
           (SELECT coalesce(sum(amount_usd), 0) FROM infra_costs i WHERE i.product_id = p.id AND i.time >= ${from})
         FROM products p
         UNION ALL
         SELECT '(shared)', '',  0,
           (SELECT coalesce(sum(total_cost_usd), 0) FROM task_events WHERE product_id IS NULL
              AND status IN ('completed', 'failed', 'escalated') AND time >= ${from}),
           (SELECT coalesce(sum(amount_usd), 0) FROM infra_costs WHERE product_id IS NULL AND time >= ${from})`),
  ]);
  const r = buckets(from / 1e6, now / 1e6, 86400, rev);
  const l = buckets(from / 1e6, now / 1e6, 86400, llm);
  const i = buckets(from / 1e6, now / 1e6, 86400, infra);
  let cum = 0;
  const cash = r.xs.map((_, k) => (cum += r.values[k] - l.values[k] - i.values[k]));
  const rows = pnl.map(([name, type, revenue, agent, infraCost]) =>
    [name, type, revenue, agent, infraCost, revenue - agent - infraCost, revenue ? (revenue - agent - infraCost) / revenue : null]);
  const money = (v) => '$' + v.toFixed(2);
  return [
    chart('Revenue (net) and costs per day (USD)', r.xs, [
      { label: 'revenue', values: r.values, fmt: money },
      { label: 'LLM cost', values: l.values, fmt: money },
      { label: 'infra cost', values: i.values, fmt: money }]),
    panel('P&L per product (agent cost = every finished task, refunds netted)', table([
      { label: 'product', key: 0 }, { label: 'type', key: 1 },
      { label: 'revenue', key: 2, num: true, fmt: (v) => usd(v) },
      { label: 'agent cost', key: 3, num: true, fmt: (v) => usd(v) },
      { label: 'infra cost', key: 4, num: true, fmt: (v) => usd(v) },
      { label: 'net profit', key: 5, num: true, fmt: (v) => usd(v) },
      { label: 'margin', key: 6, num: true, fmt: pct }], rows, 'pnl')),
    chart('Cash flow: cumulative net (revenue − LLM − infra), USD', r.xs, [{ label: 'cumulative net', values: cash, fmt: money }], { fill: true }),
  ];
}

async function agentsPage() {
  const { from } = range();
  const [agents, tasks, mix] = await Promise.all([
    sql(`SELECT a.id, a.role, a.status, a.daily_budget, a.default_model, coalesce(c.calls, 0), coalesce(c.cost, 0),
           coalesce(c.errors, 0), c.lat, coalesce(c.cached, 0), coalesce(c.input, 0)
         FROM agents a LEFT JOIN (SELECT agent_id, count(*) AS calls, sum(cost_usd) AS cost,
           sum(status != 'success') AS errors, avg(latency_ms) AS lat, sum(cached_tokens) AS cached,
           sum(input_tokens) AS input FROM llm_calls WHERE time >= ${from} GROUP BY 1) c ON c.agent_id = a.id`),
    sql(`SELECT agent_id, sum(status = 'completed'), sum(status = 'failed'), sum(status = 'escalated')
         FROM task_events WHERE time >= ${from} GROUP BY 1`),
    sql(`SELECT model, count(*), sum(cost_usd) FROM llm_calls WHERE time >= ${from} GROUP BY 1 ORDER BY 3 DESC`),
  ]);
  const byAgent = new Map(tasks.map((t) => [t[0], t]));
  const admin = state.scopes.includes('admin');
  const rows = agents.map((a) => {
    const t = byAgent.get(a[0]) || [a[0], 0, 0, 0];
    const done = t[1] + t[2] + t[3];
    return { id: a[0], role: a[1], status: a[2], budget: a[3], model: a[4], calls: a[5], cost: a[6],
      errorRate: ratio(a[7], a[5]), latency: a[8], cache: ratio(a[9], a[10]), completed: t[1], failed: t[2],
      escalated: t[3], completion: ratio(t[1], done) };
  });
  const columns = [
    { label: 'agent', key: 'id' }, { label: 'role', key: 'role' },
    { label: 'status', key: 'status', render: (r) => el('span', { class: 'badge ' + r.status, 'data-testid': 'status-' + r.id }, r.status) },
    { label: 'budget/day', key: 'budget', num: true, fmt: (v) => (v === null ? 'none' : usd(v)) },
    { label: 'calls', key: 'calls', num: true, fmt: num },
    { label: 'cost', key: 'cost', num: true, fmt: (v) => usd(v) },
    { label: 'error rate', key: 'errorRate', num: true, fmt: pct },
    { label: 'avg latency', key: 'latency', num: true, fmt: (v) => (v === null ? '—' : (v / 1000).toFixed(2) + ' s') },
    { label: 'cache hit', key: 'cache', num: true, fmt: pct },
    { label: 'tasks ok/failed/escalated', key: 'completed', num: true, fmt: (v, r) => `${r.completed}/${r.failed}/${r.escalated}` },
    { label: 'completion', key: 'completion', num: true, fmt: pct },
  ];
  if (admin) {
    columns.push({ label: 'actions', render: (r) => el('span', {},
      el('button', { class: r.status === 'paused' ? '' : 'danger', 'data-testid': 'toggle-' + r.id,
        onclick: () => setAgentPaused(r.id, r.status !== 'paused') }, r.status === 'paused' ? 'Resume' : 'Pause'),
      ' ',
      el('button', { 'data-testid': 'budget-' + r.id, onclick: () => setBudget(r.id, r.budget) }, 'Set budget')) });
  }
  return [
    panel('Agents: cost and efficiency', table(columns, rows, 'agents')),
    panel('Model mix', table([
      { label: 'model', key: 0 }, { label: 'calls', key: 1, num: true, fmt: num },
      { label: 'cost', key: 2, num: true, fmt: (v) => usd(v) }], mix, 'model-mix')),
  ];
}

async function setAgentPaused(id, paused) {
  const action = paused ? 'pause' : 'resume';
  try {
    if (state.features.kill_switch) {
      await api('POST', `/v1/agents/${encodeURIComponent(id)}/${action}`, {});
    } else {
      // Without the kill-switch endpoint, the status field is the switch.
      await api('PATCH', `/v1/agents/${encodeURIComponent(id)}`, { status: paused ? 'paused' : 'active' });
    }
  } catch (e) {
    status(e.message, true);
    return;
  }
  status(`${id} ${paused ? 'paused' : 'resumed'}`);
  render();
}

async function setBudget(id, current) {
  const text = prompt(`Daily budget for ${id} in USD (empty: none)`, current === null ? '' : (current / 1e6).toFixed(2));
  if (text === null) return;
  try {
    await api('PATCH', `/v1/agents/${encodeURIComponent(id)}`, { daily_budget: text.trim() === '' ? null : text.trim() });
    status(`budget of ${id} set`);
    render();
  } catch (e) { status(e.message, true); }
}

async function productsPage() {
  const { from } = range();
  const rows = await sql(`SELECT p.id, p.name, p.type, p.revenue_model, p.status, p.launched_at,
      (SELECT coalesce(sum(amount_usd), 0) FROM revenue_events r WHERE r.product_id = p.id AND r.time >= ${from}),
      (SELECT count(DISTINCT customer_id) FROM revenue_events r WHERE r.product_id = p.id AND r.time >= ${from})
    FROM products p ORDER BY 7 DESC`);
  return [panel('Products (click one for its page)', table([
    { label: 'product', key: 1, render: (r) => el('a', { href: '#/product/' + r[0] }, r[1]) },
    { label: 'type', key: 2 }, { label: 'revenue model', key: 3 }, { label: 'status', key: 4 },
    { label: 'launched', key: 5, fmt: (v) => (v ? new Date(v / 1000).toISOString().slice(0, 10) : '—') },
    { label: 'revenue', key: 6, num: true, fmt: (v) => usd(v) },
    { label: 'customers', key: 7, num: true, fmt: num }], rows, 'products'))];
}

async function productPage(id) {
  const { from, now } = range();
  const pid = sqlText(id);
  const [info, rev, funnel, subs] = await Promise.all([
    sql(`SELECT name, type, revenue_model, status FROM products WHERE id = ${pid}`),
    sql(`SELECT time / 86400000000 * 86400, sum(amount_usd) / 1e6 FROM revenue_events WHERE product_id = ${pid}
         AND time >= ${from} GROUP BY 1`),
    sql(`SELECT metric, sum(value) FROM growth_events WHERE product_id = ${pid} AND time >= ${from}
         AND metric IN ('pageview', 'signup', 'trial_start', 'conversion') GROUP BY 1`),
    sql(`SELECT sum(event_type = 'subscription_start') - sum(event_type = 'subscription_cancel'),
           sum(event_type = 'subscription_start') FROM revenue_events WHERE product_id = ${pid}`),
  ]);
  if (!info.length) return [panel('Product', el('p', { class: 'error' }, 'No such product.'))];
  const [name, type, model, st] = info[0];
  const r = buckets(from / 1e6, now / 1e6, 86400, rev);
  const f = new Map(funnel.map(([m, v]) => [m, v / 100]));
  const steps = [['visit', f.get('pageview') || 0], ['signup', f.get('signup') || 0],
    ['paid', f.get('conversion') || 0], ['retained (active subscriptions)', (subs[0] && subs[0][0]) || 0]];
  const top = steps[0][1] || 1;
  return [
    el('h2', {}, `${name} — ${type}, ${model || 'no revenue model'}, ${st}`),
    chart('Revenue per day (USD)', r.xs, [{ label: 'revenue', values: r.values, fmt: (v) => '$' + v.toFixed(2) }], { fill: true }),
    panel('Funnel: visit → signup → paid → retain', el('div', { class: 'funnel', 'data-testid': 'funnel' },
      ...steps.map(([label, v]) => el('div', {}, bar(v, top), ` ${label}: ${num(Math.round(v))}`)))),
  ];
}

async function growthPage() {
  const { from, now } = range();
  const [daily, byChannel, gauges] = await Promise.all([
    sql(`SELECT channel, time / 86400000000 * 86400, sum(value) / 100.0 FROM growth_events
         WHERE metric = 'pageview' AND time >= ${from} GROUP BY 1, 2`),
    sql(`SELECT channel, sum(CASE WHEN metric = 'pageview' THEN value END) / 100.0,
           sum(CASE WHEN metric = 'signup' THEN value END) / 100.0,
           sum(CASE WHEN metric = 'conversion' THEN value END) / 100.0
         FROM growth_events WHERE time >= ${from} AND metric IN ('pageview', 'signup', 'conversion') GROUP BY 1`),
    sql(`SELECT g.metric, sum(g.value) / 100.0 FROM growth_events g
         JOIN (SELECT product_id, metric, max(time) AS t FROM growth_events
               WHERE metric IN ('users', 'email_subscribers', 'keyword_top10', 'mau') AND time >= ${from}
               GROUP BY 1, 2) last ON last.product_id = g.product_id AND last.metric = g.metric AND last.t = g.time
         GROUP BY 1`),
  ]);
  const channels = [...new Set(daily.map((d) => d[0]))];
  const series = channels.map((c) => {
    const b = buckets(from / 1e6, now / 1e6, 86400, daily.filter((d) => d[0] === c).map((d) => [d[1], d[2]]));
    return { label: c, values: b.values, xs: b.xs, fmt: (v) => v.toFixed(0) };
  });
  const xs = series.length ? series[0].xs : buckets(from / 1e6, now / 1e6, 86400, []).xs;
  return [
    chart('Pageviews per day by channel', xs, series),
    el('div', { class: 'grid2' },
      panel('Channels', table([
        { label: 'channel', key: 0 }, { label: 'pageviews', key: 1, num: true, fmt: num },
        { label: 'signups', key: 2, num: true, fmt: num }, { label: 'conversions', key: 3, num: true, fmt: num },
        { label: 'signup → paid', key: 4, num: true, fmt: (v, r) => pct(ratio(r[3], r[2])) }], byChannel, 'channels')),
      panel('Latest gauges (all products)', table([
        { label: 'gauge', key: 0 }, { label: 'value', key: 1, num: true, fmt: num }], gauges, 'gauges'))),
  ];
}

async function opsPage() {
  const { from, now } = range();
  const [daily, infra] = await Promise.all([
    sql(`SELECT time / 86400000000 * 86400, count(*), sum(status != 'success'), avg(latency_ms) FROM llm_calls
         WHERE time >= ${from} GROUP BY 1`),
    sql(`SELECT cost_type, provider, count(DISTINCT product_id), sum(amount_usd) FROM infra_costs
         WHERE time >= ${from} GROUP BY 1, 2 ORDER BY 4 DESC`),
  ]);
  const err = buckets(from / 1e6, now / 1e6, 86400, daily.map((d) => [d[0], d[1] ? (100 * d[2]) / d[1] : 0]));
  const lat = buckets(from / 1e6, now / 1e6, 86400, daily.map((d) => [d[0], d[3] / 1000]));
  let deploys = null;
  if (!state.features.ops_events) {
    deploys = panel('Deploy frequency', el('p', { class: 'flat' }, 'No ops events source (GitHub webhooks) in this build.'));
  } else try {
    const rows = await sql(`SELECT time / 86400000000 * 86400, count(*) FROM ops_events WHERE time >= ${from} GROUP BY 1`);
    const d = buckets(from / 1e6, now / 1e6, 86400, rows);
    deploys = chart('Ops events per day (deploys, releases, probes)', d.xs, [{ label: 'events', values: d.values, fmt: (v) => v.toFixed(0) }]);
  } catch (e) {
    deploys = panel('Deploy frequency', el('p', { class: 'error' }, e.message));
  }
  return [
    el('div', { class: 'grid2' },
      chart('LLM error rate per day (%)', err.xs, [{ label: 'error %', values: err.values, fmt: (v) => v.toFixed(2) + '%' }]),
      chart('LLM average latency per day (s)', lat.xs, [{ label: 'latency', values: lat.values, fmt: (v) => v.toFixed(2) + ' s' }])),
    deploys,
    panel('Infra costs', table([
      { label: 'cost type', key: 0 }, { label: 'provider', key: 1 },
      { label: 'products', key: 2, num: true }, { label: 'cost', key: 3, num: true, fmt: (v) => usd(v) }], infra, 'infra')),
  ];
}

// ---------- shell ----------

const PAGES = { overview: overviewPage, financial: financialPage, agents: agentsPage, products: productsPage,
  growth: growthPage, ops: opsPage };

function status(text, isError) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = isError ? 'error' : '';
}

let rendering = 0;
async function render() {
  const ticket = ++rendering;
  const hash = location.hash.replace(/^#\/?/, '') || 'overview';
  const [name, arg] = hash.split('/');
  const pageName = name === 'product' ? 'products' : (PAGES[name] ? name : 'overview');
  document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.dataset.page === pageName));
  try {
    const parts = name === 'product' ? await productPage(decodeURIComponent(arg || '')) : await PAGES[pageName]();
    if (ticket !== rendering) return;  // a newer render started meanwhile
    state.charts.forEach((c) => c.destroy());
    state.charts = [];
    document.getElementById('page').replaceChildren(...parts);
    document.body.dataset.page = pageName;
    status('updated ' + new Date().toISOString().slice(11, 19) + ' UTC');
  } catch (e) {
    if (ticket === rendering) status(e.message, true);
  }
}

function showLogin() {
  document.getElementById('app').hidden = true;
  document.getElementById('login').hidden = false;
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

function showApp(session) {
  state.csrf = session.csrf_token || state.csrf;
  state.scopes = session.scopes || [];
  state.features = session.features || {};
  document.getElementById('who').textContent = `${session.name || session.key_id} (${state.scopes.join(', ')})`;
  document.getElementById('login').hidden = true;
  document.getElementById('app').hidden = false;
  restartTimer();
  render();
}

function restartTimer() {
  if (state.timer) clearInterval(state.timer);
  state.timer = document.getElementById('auto-refresh').checked ? setInterval(render, 30000) : null;
}

document.getElementById('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = document.getElementById('api-key');
  try {
    await api('POST', '/v1/session', { api_key: input.value.trim() });
    input.value = '';
    document.getElementById('login-error').textContent = '';
    showApp(await api('GET', '/v1/session'));
  } catch (e) {
    document.getElementById('login-error').textContent = e.message;
  }
});
document.getElementById('logout').addEventListener('click', async () => {
  await api('DELETE', '/v1/session').catch(() => {});
  state.csrf = null;
  showLogin();
});
document.getElementById('range').addEventListener('change', render);
document.getElementById('auto-refresh').addEventListener('change', restartTimer);
window.addEventListener('hashchange', render);

(async () => {
  try {
    const session = await api('GET', '/v1/session');
    if (session.logged_in) showApp(session); else showLogin();
  } catch (e) {
    showLogin();
  }
})();
