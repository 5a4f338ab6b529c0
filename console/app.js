// The console's views. Every value from the server goes into the page with textContent (or an
// attribute set with setAttribute), never as HTML.
import { api, setToken, hasToken, ApiError } from './api.js';
import { barChart, lineChart } from './chart.js';
import { unwrap, verifyReceipt } from './receipt.js';

const $ = (id) => document.getElementById(id);

function cell(tr, value, cls) {
  const td = document.createElement('td');
  td.textContent = value === undefined || value === null ? '' : String(value);
  if (cls) {
    td.className = cls;
  }
  tr.append(td);
  return td;
}

function setError(id, e) {
  $(id).textContent = e ? (e instanceof ApiError || e instanceof Error ? e.message : String(e)) : '';
}

function dlPut(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? '');
    dl.append(dt, dd);
  }
}

const fmt = (v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? ''));

// ---- log in and navigation ----

const views = {
  fleet: loadFleet,
  releases: loadReleases,
  recoveries: loadRecoveries,
  health: loadHealth,
  keys: loadKeys,
};

function show(view) {
  for (const b of document.querySelectorAll('#nav [data-view]')) {
    if (b.dataset.view === view) {
      b.setAttribute('aria-current', 'page');
    } else {
      b.removeAttribute('aria-current');
    }
  }
  for (const s of document.querySelectorAll('.view')) {
    s.hidden = s.id !== `view-${view}`;
  }
  views[view]();
}

async function login(ev) {
  ev.preventDefault();
  const t = $('token').value.trim();
  $('token').value = '';
  setToken(t);
  try {
    // Any admin call tells whether the token is good: the broker's keys, else the cache's
    // enforcement list (cache serve has no keys).
    try {
      await api('/admin/v1/keys');
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) {
        throw e;
      }
      await api('/admin/v1/enforce');
    }
  } catch (e) {
    setToken(null);
    setError('login-error', e.status === 401 || e.status === 403 ? 'That token is not an admin token of this server.' : e);
    return;
  }
  setError('login-error', null);
  $('login').hidden = true;
  $('nav').hidden = false;
  show('fleet');
  $('main').focus();
}

function logout() {
  setToken(null);
  location.reload();
}

// ---- fleet ----

let fleet = [];
let fleetSort = { key: 'last_seen', dir: -1 };

// The cache's recorded platforms (GET /admin/v1/platforms) in the fleet's shape: one row per
// platform, its identity the QE ID, its "measurements" what the cache recorded of it.
function cachePlatformRow(p) {
  const recorded = {
    qeid: p.qeid,
    pceid: p.pceid,
    sgx_components: p.sgx_components,
    pcesvn: p.pcesvn,
    cpusvn: p.cpusvn,
    first_seen: p.first_seen,
  };
  if (p.error) {
    recorded.error = p.error;
  }
  return {
    origin: 'PCK requests',
    tee: p.tee,
    platform_kind: 'fmspc',
    platform: p.fmspc || '(unknown)',
    identity: `QE ${p.qeid}`,
    status: p.status || 'not judged',
    tcb_eval: p.tcb_eval,
    advisory_ids: p.advisory_ids || [],
    debug: null,
    last_seen: p.last_seen,
    seen: '',
    last_decision: `recorded by ${p.source}`,
    measurements: recorded,
  };
}

async function loadFleet() {
  setError('fleet-error', null);
  // veritee serve answers both; broker serve only the first, cache serve only the second.
  const [attested, recorded] = await Promise.all([
    api('/admin/v1/fleet?limit=10000').then((r) => ({ rows: r }), (e) => ({ e })),
    api('/admin/v1/platforms?limit=10000').then((r) => ({ rows: r.platforms }), (e) => ({ e })),
  ]);
  fleet = [];
  const errors = [];
  for (const [res, map] of [[attested, (t) => ({ ...t, origin: 'attested' })], [recorded, cachePlatformRow]]) {
    if (res.rows) {
      fleet.push(...res.rows.map(map));
    } else if (!(res.e instanceof ApiError && res.e.status === 404)) {
      errors.push(res.e);
    }
  }
  if (errors.length > 0) {
    setError('fleet-error', errors[0]);
  } else if (attested.e && recorded.e) {
    setError('fleet-error', 'Neither a key broker nor a collateral cache answered.');
  }
  const statuses = [...new Set(fleet.map((t) => t.status))].sort();
  const sel = $('fleet-status');
  const keep = sel.value;
  sel.replaceChildren();
  for (const v of ['', ...statuses]) {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = v || 'all';
    sel.append(o);
  }
  sel.value = statuses.includes(keep) ? keep : '';
  renderFleet();
}

function renderFleet() {
  const tee = $('fleet-tee').value;
  const origin = $('fleet-origin').value;
  const status = $('fleet-status').value;
  const q = $('fleet-search').value.trim().toLowerCase();
  const rows = fleet.filter((t) => (tee === '' || t.tee === tee) && (origin === '' || t.origin === origin) &&
    (status === '' || t.status === status) &&
    (q === '' || JSON.stringify(t).toLowerCase().includes(q)));
  const { key, dir } = fleetSort;
  rows.sort((a, b) => (a[key] < b[key] ? -dir : a[key] > b[key] ? dir : 0));
  const tbody = $('fleet-table').tBodies[0];
  tbody.replaceChildren();
  for (const t of rows) {
    const tr = document.createElement('tr');
    cell(tr, t.origin);
    cell(tr, t.tee);
    cell(tr, `${t.platform_kind} ${t.platform}`, 'mono');
    cell(tr, t.status, /^UpToDate$/.test(t.status) ? 'allow' : 'deny');
    cell(tr, t.tcb_eval || '');
    cell(tr, (t.advisory_ids || []).join(', '));
    if (t.debug === null) {
      cell(tr, 'n/a');
    } else {
      cell(tr, t.debug ? 'DEBUG' : 'no', t.debug ? 'deny' : '');
    }
    cell(tr, t.last_seen);
    cell(tr, t.seen);
    cell(tr, t.last_decision);
    const td = document.createElement('td');
    const det = document.createElement('details');
    const sum = document.createElement('summary');
    sum.textContent = `${t.identity.slice(0, 16)}…`;
    const pre = document.createElement('pre');
    pre.textContent = Object.entries(t.measurements || {}).map(([k, v]) => `${k} ${fmt(v)}`).join('\n');
    det.append(sum, pre);
    td.append(det);
    tr.append(td);
    tbody.append(tr);
  }
  $('fleet-count').textContent = `${rows.length} of ${fleet.length} TEEs and platforms`;
  const counts = new Map();
  for (const t of rows) {
    counts.set(t.status, (counts.get(t.status) || 0) + 1);
  }
  barChart($('fleet-chart'), 'TEEs and platforms by TCB status', [...counts.entries()]);
  for (const b of document.querySelectorAll('#fleet-table th button')) {
    b.parentElement.setAttribute('aria-sort', b.dataset.sort !== key ? 'none' : dir > 0 ? 'ascending' : 'descending');
  }
}

// ---- releases and attestations ----

let logRows = [];

async function loadReleases() {
  setError('log-error', null);
  try {
    const all = [];
    for (let start = 0; ; start += 1000) {
      const page = await api(`/admin/v1/log?explain=1&start=${start}&limit=1000`);
      all.push(...page);
      if (page.length < 1000) {
        break;
      }
    }
    logRows = all.reverse();
  } catch (e) {
    logRows = [];
    setError('log-error', e.status === 404 ? 'No audit log on this server (a cache without a broker).' : e);
  }
  renderLog();
}

function rowText(r) {
  const e = r.entry || {};
  return [r.index, e.time, e.type, e.key, e.decision, e.reason].join(' ').toLowerCase();
}

function renderLog() {
  const q = $('log-search').value.trim().toLowerCase();
  const tbody = $('log-table').tBodies[0];
  tbody.replaceChildren();
  const rows = logRows.filter((r) => q === '' || rowText(r).includes(q));
  for (const r of rows) {
    const e = r.entry || {};
    const tr = document.createElement('tr');
    cell(tr, r.index);
    cell(tr, e.time);
    cell(tr, e.type);
    cell(tr, e.key ? `${e.key} v${e.key_version ?? ''}` : '');
    cell(tr, e.decision, e.decision === 'deny' ? 'deny' : 'allow');
    cell(tr, e.reason);
    const td = document.createElement('td');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Explain';
    b.setAttribute('aria-label', `Explain entry ${r.index}`);
    b.addEventListener('click', () => explain(r));
    td.append(b);
    tr.append(td);
    tbody.append(tr);
  }
  $('log-count').textContent = `${rows.length} of ${logRows.length} entries`;
}

function explain(r) {
  const e = r.entry || {};
  $('explain').hidden = false;
  $('explain-h').textContent = `Entry ${r.index}: ${e.type ?? ''} ${e.decision ?? ''}`;
  dlPut($('explain-entry'), Object.entries(e).filter(([k]) => k !== 'collateral'));
  const tbody = $('explain-table').tBodies[0];
  tbody.replaceChildren();
  const rules = Array.isArray(r.explanation) ? r.explanation : [];
  for (const x of rules) {
    const tr = document.createElement('tr');
    cell(tr, x.path);
    cell(tr, x.claim);
    cell(tr, x.op);
    cell(tr, fmt(x.expected), 'mono');
    cell(tr, x.present === false ? '(absent)' : fmt(x.actual), 'mono');
    cell(tr, x.outcome ? 'pass' : 'FAIL', x.outcome ? 'allow' : 'deny');
    tbody.append(tr);
  }
  $('explain-table').hidden = rules.length === 0;
  $('explain-none').textContent = rules.length === 0 ? 'This entry has no recorded explanation.' : '';
  $('explain-h').focus();
}

async function checkReceipt() {
  const out = $('receipt-result');
  out.className = '';
  out.textContent = 'Checking…';
  try {
    let pasted;
    try {
      pasted = JSON.parse($('receipt-input').value);
    } catch (e) {
      throw Object.assign(new Error(`receipt.json: ${e.message}`), { check: 'receipt.json' });
    }
    const { receipt, kid } = unwrap(pasted);
    const jwks = await api('/.well-known/jwks.json', { auth: false });
    let want = kid;
    if (want === null) {
      want = (await api('/v1/log/checkpoint', { auth: false })).kid;
    }
    const jwk = (jwks.keys || []).find((k) => k.kid === want);
    if (!jwk) {
      throw new Error(`receipt.checkpoint.key: no key ${want} in /.well-known/jwks.json`);
    }
    const v = await verifyReceipt(receipt, jwk);
    out.className = 'allow';
    out.textContent = `Verified: entry ${v.index} of ${v.size} in log ${v.origin}, checkpoint of ${v.time} signed by ${want}.`;
  } catch (e) {
    out.className = 'deny';
    out.textContent = `Not verified: ${e.message}`;
  }
}

// ---- TCB recoveries ----

function genericTable(table, rows) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const tr = document.createElement('tr');
  for (const c of cols) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c;
    tr.append(th);
  }
  table.tHead.replaceChildren(tr);
  const tbody = table.tBodies[0];
  tbody.replaceChildren();
  for (const r of rows) {
    const row = document.createElement('tr');
    for (const c of cols) {
      cell(row, fmt(r[c]));
    }
    tbody.append(row);
  }
}

// "18 from 2026-03-01T00:00:00Z (held)": an enforcement entry; held only for a platform's row.
function enforcement(e) {
  if (!e) {
    return '';
  }
  const held = e.held === undefined ? '' : e.held ? ' (held)' : ' (not held: fetched on first use)';
  return `${e.tcb_eval} from ${e.from}${held}`;
}

function renderRecoveries(r) {
  const pairs = [];
  for (const tee of ['sgx', 'tdx']) {
    const t = (r.tees || {})[tee] || {};
    pairs.push([`${tee} enforced`, t.enforced ? enforcement(t.enforced) : 'none: the newest number']);
    pairs.push([`${tee} scheduled`, (t.scheduled || []).map(enforcement).join('; ') || 'none']);
  }
  dlPut($('recoveries-tees'), pairs);
  const tbody = $('recoveries-table').tBodies[0];
  tbody.replaceChildren();
  for (const p of r.platforms || []) {
    const tr = document.createElement('tr');
    cell(tr, p.tee);
    cell(tr, p.fmspc, 'mono');
    cell(tr, (p.held || []).join(', '));
    cell(tr, p.served);
    cell(tr, p.enforced ? enforcement(p.enforced) : 'none', p.enforced && !p.enforced.held ? 'deny' : '');
    cell(tr, (p.scheduled || []).map(enforcement).join('; '));
    cell(tr, `${p.newest ?? ''} (${p.standard ?? '–'}, ${p.early ?? '–'})`);
    tbody.append(tr);
  }
  const n = (r.platforms || []).length;
  $('recoveries-table').hidden = n === 0;
  $('recoveries-empty').textContent = n === 0 ? 'The cache holds no TCB info yet.' : '';
}

async function loadRecoveries() {
  setError('enforce-error', null);
  try {
    renderRecoveries(await api('/admin/v1/recoveries'));
    const list = await api('/admin/v1/enforce');
    genericTable($('enforce-table'), list);
    $('enforce-table').caption.textContent = list.length
      ? 'tcbEvaluationDataNumbers enforced and scheduled'
      : 'No enforcement: every TEE gets the newest number';
  } catch (e) {
    setError('enforce-error', e.status === 404 ? 'No collateral cache on this server.' : e);
  }
}

async function previewImpact(ev) {
  ev.preventDefault();
  const tee = $('impact-tee').value;
  const n = $('impact-eval').value;
  $('impact-summary').textContent = 'Computing…';
  try {
    const r = await api(`/admin/v1/impact?tee=${encodeURIComponent(tee)}&tcb_eval=${encodeURIComponent(n)}`);
    $('impact-summary').textContent =
      `${r.tee} tcbEvaluationDataNumber ${r.tcb_eval} (in force: ${r.in_force || 'newest'}): ` +
      `${r.affected} of ${r.platforms} platforms change status.`;
    const tbody = $('impact-table').tBodies[0];
    tbody.replaceChildren();
    const counts = new Map();
    for (const p of r.results || []) {
      const tr = document.createElement('tr');
      cell(tr, p.fmspc, 'mono');
      cell(tr, p.source);
      cell(tr, p.in_force ? `${p.in_force.status} (${p.in_force.tcb_eval})` : '');
      cell(tr, p.proposed ? `${p.proposed.status} (${p.proposed.tcb_eval})` : '');
      cell(tr, p.changes ? 'yes' : 'no', p.changes ? 'deny' : '');
      tbody.append(tr);
      const s = p.proposed ? p.proposed.status : 'unknown';
      counts.set(s, (counts.get(s) || 0) + 1);
    }
    $('impact-table').hidden = (r.results || []).length === 0;
    barChart($('impact-chart'), 'Platforms by status under the candidate', [...counts.entries()]);
    loadRecoveries(); // the preview may have fetched numbers the cache did not hold
  } catch (e) {
    $('impact-summary').textContent = `Impact failed: ${e.message}`;
  }
}

let pending = null;

function askEnforce(ev) {
  ev.preventDefault();
  const from = $('enforce-from').value.trim();
  pending = { tee: $('enforce-tee').value, tcb_eval: Number($('enforce-eval').value) };
  if (from !== '') {
    pending.from = from;
  }
  $('enforce-confirm-text').textContent =
    `Enforce ${pending.tee} tcbEvaluationDataNumber ${pending.tcb_eval} from ${from || 'now'}? ` +
    'Platforms below that number will verify as OutOfDate from then on.';
  $('enforce-confirm').hidden = false;
  $('enforce-yes').focus();
}

async function confirmEnforce() {
  $('enforce-confirm').hidden = true;
  const body = pending;
  pending = null;
  try {
    const list = await api('/admin/v1/enforce', { method: 'POST', body });
    $('enforce-result').textContent = `Scheduled: ${body.tee} ${body.tcb_eval}.`;
    genericTable($('enforce-table'), list);
    renderRecoveries(await api('/admin/v1/recoveries'));
  } catch (e) {
    $('enforce-result').textContent = `Refused: ${e.message}`;
  }
}

// ---- health ----

function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) {
      out.push({ name: m[1], labels: m[2] || '', value: Number(m[3]) });
    }
  }
  return out;
}

const samples = [];

// Quantile q of a Prometheus histogram summed over its label sets: the upper bound ("le") of the
// first bucket holding it, Infinity past the last bound, null with no observation.
function histQuantile(m, base, q) {
  const buckets = new Map();
  for (const x of m.filter((y) => y.name === `${base}_bucket`)) {
    const le = /le="([^"]+)"/.exec(x.labels);
    if (le) {
      const b = le[1] === '+Inf' ? Infinity : Number(le[1]);
      buckets.set(b, (buckets.get(b) || 0) + x.value);
    }
  }
  const list = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = list.length ? list[list.length - 1][1] : 0;
  if (total === 0) {
    return null;
  }
  return list.find(([, v]) => v >= q * total)[0];
}

const ms = (s) => (s === Infinity ? 'above the last bucket' : `${(1000 * s).toFixed(s < 0.01 ? 2 : 1)} ms`);

// An admin status endpoint, or null when this server has no such service (404).
async function status(path) {
  try {
    return await api(path);
  } catch (e) {
    if (e.status === 404) {
      return null;
    }
    throw e;
  }
}

// The cache's GET /admin/v1/status and the broker's GET /admin/v1/log/status.
async function loadStatus() {
  const [c, l] = await Promise.all([status('/admin/v1/status'), status('/admin/v1/log/status')]);
  const tbody = $('health-upstreams').tBodies[0];
  tbody.replaceChildren();
  const store = [];
  if (c) {
    const next = c.refresher.next_pass || (c.refresher.running ? 'due' : 'no refresher');
    for (const u of c.upstreams) {
      const tr = document.createElement('tr');
      cell(tr, u.url, 'mono');
      cell(tr, u.state, u.state === 'failing' ? 'deny' : u.state === 'ok' ? 'allow' : '');
      cell(tr, u.last_success || 'never');
      cell(tr, u.last_failure ? `${u.last_failure}: ${u.last_status ? `HTTP ${u.last_status} ` : ''}${u.last_error}` : 'never');
      cell(tr, u.consecutive_failures);
      cell(tr, next);
      tbody.append(tr);
    }
    $('health-upstreams').hidden = c.upstreams.length === 0;
    const o = c.outage;
    dlPut($('health-outage'), [
      ['outage', o.state],
      ['documents past their nextUpdate', `${o.items_past_next_update} (oldest by ${o.oldest_past_next_update_s} s; served until ${o.max_stale_s} s past)`],
      ['stale answers served', o.stale_served],
      ['refresher', c.refresher.running
        ? `every ${c.refresher.interval_s} s; last pass ${c.refresher.last_pass || 'none yet'} (${c.refresher.last_renewed} renewed, ${c.refresher.last_failed} failed); next ${next}`
        : `not running (${c.replica.mode})`],
    ]);
    store.push(['cache store', `${c.store.backend}, ${c.store.state}${c.store.error ? `: ${c.store.error}` : ''}, ${c.store.items} items`]);
    store.push(['this replica', `${c.replica.mode}, started ${c.replica.started}, memory tier ${c.replica.memory_ttl_s} s; shared store: ${c.replica.shared_store}`]);
  } else {
    $('health-upstreams').hidden = true;
    dlPut($('health-outage'), [['cache', 'none on this server']]);
  }
  if (l) {
    store.push(['broker store', `${l.store.backend}, ${l.store.state}${l.store.error ? `: ${l.store.error}` : ''}`]);
    store.push(['audit log', `${l.log.size} entries, last ${l.log.last_entry || 'none'}; this process's tree ${l.log.tree_size}${l.log.behind ? ` (${l.log.behind} behind: catches up at its next append)` : ' (in step)'}`]);
    store.push(['latest checkpoint', l.log.checkpoint ? `size ${l.log.checkpoint.size}, key ${l.log.checkpoint.kid}` : 'none yet']);
    store.push(['log sequencer', `${l.sequencer.state}, ${l.sequencer.queued} queued, ${l.sequencer.batches} batches committed (at most ${l.sequencer.batch_max} entries, waiting ${l.sequencer.batch_wait_us} µs)`]);
  }
  dlPut($('health-store'), store);
  // the replica registry: the same rows from either answer (veritee serve: one store, two
  // registrations of this process, each answer marking its own)
  const seen = new Map();
  for (const r of [...(l && l.replicas ? l.replicas : []), ...(c && c.replicas ? c.replicas : [])]) {
    const had = seen.get(r.id);
    seen.set(r.id, had ? { ...had, self: had.self || r.self } : r);
  }
  const reps = [...seen.values()].sort((a, b) => (a.last_seen < b.last_seen ? 1 : a.last_seen > b.last_seen ? -1 : 0));
  const rbody = $('health-replicas').tBodies[0];
  rbody.replaceChildren();
  for (const r of reps) {
    const tr = document.createElement('tr');
    cell(tr, r.role);
    cell(tr, r.host, 'mono');
    cell(tr, r.pid);
    cell(tr, r.version);
    cell(tr, r.started);
    cell(tr, r.last_seen);
    cell(tr, `${r.age_s} s (every ${r.interval_s} s)`);
    cell(tr, r.stale ? 'stale' : r.self ? 'this process' : 'ok', r.stale ? 'deny' : 'allow');
    cell(tr, r.log_size === undefined ? '' : `${r.log_size} entries, ${r.log_batches} batches`);
    rbody.append(tr);
  }
  $('health-replicas').hidden = reps.length === 0;
  $('health-replicas-none').textContent = reps.length === 0 ? 'No replica has registered in this store.' : '';
}

async function loadHealth() {
  setError('health-error', null);
  try {
    await loadStatus();
    const h = await api('/healthz', { auth: false });
    dlPut($('health-status'), Object.entries(h));
    const m = parseMetrics(await api('/metrics', { auth: false, raw: true }));
    const log = m.filter((x) => x.name === 'veritee_broker_log_entries_total')
      .map((x) => [x.labels.replace(/[{}"]/g, '').replace(/,/g, ' '), x.value]);
    barChart($('health-log-chart'), 'Log entries by type and decision', log);
    const cache = m.filter((x) => x.name === 'veritee_cache_requests_total' && x.value > 0)
      .map((x) => [x.labels.replace(/[{}"]/g, '').replace('endpoint=', ''), x.value]);
    barChart($('health-cache-chart'), 'Cache requests by endpoint', cache);
    const sum = (name) => m.filter((x) => x.name === name).reduce((a, x) => a + x.value, 0);
    const has = (name) => m.some((x) => x.name === name);
    if (has('veritee_cache_upstream_requests_total')) {
      const n = sum('veritee_cache_upstream_latency_seconds_count');
      dlPut($('health-upstream'), [
        ['requests', sum('veritee_cache_upstream_requests_total')],
        ['errors', sum('veritee_cache_upstream_errors_total')],
        ['mean latency', n > 0 ? `${((1000 * sum('veritee_cache_upstream_latency_seconds_sum')) / n).toFixed(1)} ms` : 'none yet'],
        ['refreshes (failed)', `${sum('veritee_cache_refreshes_total')} (${sum('veritee_cache_refresh_failures_total')})`],
        ['stale documents served (outage)', sum('veritee_cache_stale_served_total')],
        ['oldest document past its nextUpdate', `${sum('veritee_cache_oldest_past_next_update_seconds')} s`],
        ['throttled fetches', sum('veritee_cache_throttled_total')],
      ]);
    } else {
      dlPut($('health-upstream'), [['cache', 'none on this server']]);
    }
    const calls = ['attest', 'release'].filter((c) => has(`veritee_broker_${c}_duration_seconds_count`));
    dlPut($('health-latency'), calls.length === 0 ? [['broker', 'no attest or release answered yet']]
      : calls.map((c) => {
        const base = `veritee_broker_${c}_duration_seconds`;
        const n = sum(`${base}_count`);
        return [c, `${n} answered, mean ${ms(sum(`${base}_sum`) / n)}, p50 ≤ ${ms(histQuantile(m, base, 0.5))}, ` +
          `p99 ≤ ${ms(histQuantile(m, base, 0.99))}`];
      }));
    const sample = { t: performance.now() / 1000, log: sum('veritee_broker_log_entries_total'),
      cache: sum('veritee_cache_requests_total'), upstream: sum('veritee_cache_upstream_requests_total') };
    for (const c of ['attest', 'release']) {
      sample[`${c}_n`] = sum(`veritee_broker_${c}_duration_seconds_count`);
      sample[`${c}_s`] = sum(`veritee_broker_${c}_duration_seconds_sum`);
    }
    samples.push(sample);
    if (samples.length > 60) {
      samples.shift();
    }
    const rate = (k) => samples.slice(1).map((s, i) => Math.max(0, (s[k] - samples[i][k]) / Math.max(1e-3, s.t - samples[i].t)));
    lineChart($('health-rate-chart'), 'Rates since the page opened',
      { 'log entries': rate('log'), 'cache requests': rate('cache'), 'upstream requests': rate('upstream') });
    // the mean answer time of the calls between two samples (0 where none was answered)
    const mean = (c) => samples.slice(1).map((s, i) => {
      const dn = s[`${c}_n`] - samples[i][`${c}_n`];
      return dn > 0 ? (1000 * (s[`${c}_s`] - samples[i][`${c}_s`])) / dn : 0;
    });
    lineChart($('health-latency-chart'), 'Mean answer time between samples (ms)',
      { attest: mean('attest'), release: mean('release') }, ' ms');
  } catch (e) {
    setError('health-error', e);
  }
}

// ---- keys and policies ----

async function loadKeys() {
  setError('keys-error', null);
  const tbody = $('keys-table').tBodies[0];
  tbody.replaceChildren();
  try {
    for (const k of await api('/admin/v1/keys')) {
      const tr = document.createElement('tr');
      cell(tr, k.name);
      cell(tr, k.version);
      cell(tr, k.disabled ? 'disabled' : 'enabled', k.disabled ? 'deny' : 'allow');
      cell(tr, k.updated ? new Date(k.updated * 1000).toISOString() : '');
      cell(tr, k.policy_sha256, 'mono');
      // every version: its number, when it was added, current or older; a disabled key releases
      // none of them
      const vtd = document.createElement('td');
      const ul = document.createElement('ul');
      ul.className = 'versions';
      ul.setAttribute('aria-label', `Versions of ${k.name}`);
      for (const v of k.versions || []) {
        const li = document.createElement('li');
        const when = v.created ? new Date(v.created * 1000).toISOString().replace('.000Z', 'Z') : '';
        li.textContent = `v${v.version} ${when} ${v.current ? 'current' : 'older'}${v.disabled ? ', disabled' : ''}`;
        li.className = v.disabled ? 'deny' : v.current ? 'allow' : '';
        ul.append(li);
      }
      vtd.append(ul);
      tr.append(vtd);
      const td = document.createElement('td');
      const pre = document.createElement('pre');
      pre.textContent = k.policy ? JSON.stringify(k.policy, null, 2) : '(the attestation policy only)';
      td.append(pre);
      if (k.policy) {
        const copy = document.createElement('button');
        copy.type = 'button';
        copy.textContent = 'Copy';
        copy.setAttribute('aria-label', `Copy the policy of ${k.name} to the policy check`);
        copy.addEventListener('click', () => {
          $('policy-text').value = JSON.stringify(k.policy, null, 2);
          $('policy-text').focus();
        });
        td.append(copy);
      }
      tr.append(td);
      tbody.append(tr);
    }
  } catch (e) {
    setError('keys-error', e.status === 404 ? 'No key broker on this server.' : e);
  }
}

async function checkPolicy() {
  const out = $('policy-result');
  out.className = '';
  out.textContent = 'Checking…';
  try {
    const r = await api('/admin/v1/policy/check', { method: 'POST', rawBody: $('policy-text').value });
    out.className = r.ok ? 'allow' : 'deny';
    out.textContent = r.ok ? `Compiles (SHA-256 ${r.sha256}).` : `Does not compile: ${r.check}: ${r.detail} (${r.code})`;
  } catch (e) {
    out.className = 'deny';
    out.textContent = `Not checked: ${e.message}`;
  }
}

// ---- wiring ----

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
for (const b of document.querySelectorAll('#nav [data-view]')) {
  b.addEventListener('click', () => hasToken() && show(b.dataset.view));
}
$('log-search').addEventListener('input', renderLog);
for (const id of ['fleet-tee', 'fleet-origin', 'fleet-status', 'fleet-search']) {
  $(id).addEventListener('input', renderFleet);
}
$('fleet-reload').addEventListener('click', loadFleet);
for (const b of document.querySelectorAll('#fleet-table th button')) {
  b.addEventListener('click', () => {
    const k = b.dataset.sort;
    fleetSort = { key: k, dir: fleetSort.key === k ? -fleetSort.dir : 1 };
    renderFleet();
  });
}
$('log-reload').addEventListener('click', loadReleases);
$('receipt-check').addEventListener('click', checkReceipt);
$('impact-form').addEventListener('submit', previewImpact);
$('enforce-form').addEventListener('submit', askEnforce);
$('enforce-yes').addEventListener('click', confirmEnforce);
$('enforce-no').addEventListener('click', () => {
  pending = null;
  $('enforce-confirm').hidden = true;
  $('enforce-result').textContent = 'Cancelled.';
});
$('health-reload').addEventListener('click', loadHealth);
$('policy-check').addEventListener('click', checkPolicy);
$('token').focus();
