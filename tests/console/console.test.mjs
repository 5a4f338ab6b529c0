// The console in Debian's chromium (headless), driven by puppeteer-core: run by tests/console/run.sh,
// which starts the servers and passes them in the environment. Prints "ok"/"FAIL" per check and
// "N passed, N failed"; exits 1 on any failure. Screenshots: $VT_ARTIFACTS/*.png.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH, 'x.js'));
const puppeteer = require('puppeteer-core');

const env = (k) => process.env[k] || '';
const url = env('VT_URL');
const admin = env('VT_ADMIN');
const artifacts = env('VT_ARTIFACTS');
const release = JSON.parse(readFileSync(env('VT_RELEASE'), 'utf8'));
const masterKey = readFileSync(env('VT_SECRETS'), 'utf8').trim();
let passed = 0;
let failed = 0;

function check(name, cond, detail = '') {
  if (cond) {
    passed++;
    console.log(`ok    ${name}`);
  } else {
    failed++;
    console.log(`FAIL  ${name}${detail ? `: ${detail}` : ''}`);
  }
}

const browser = await puppeteer.launch({
  executablePath: env('VT_CHROMIUM'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const page = await browser.newPage();
await page.setViewport({ width: 1366, height: 900 }); // a laptop screen
const violations = [];
page.on('console', (m) => {
  if (/Content Security Policy|Refused to/i.test(m.text())) {
    violations.push(m.text());
  }
});
page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
const requests = [];
page.on('request', (r) => requests.push(r.url()));

const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
const text = (sel) => page.$eval(sel, (e) => e.textContent);
const waitText = (sel, re, timeout = 10000) =>
  page.waitForFunction((s, src) => {
    const e = document.querySelector(s);
    return e && new RegExp(src).test(e.textContent);
  }, { timeout }, sel, re.source).then(() => true, () => false);

try {
  // ---- the page and its headers ----
  const resp = await page.goto(`${url}/console`, { waitUntil: 'networkidle0' });
  const h = resp.headers();
  check('the console answers 200', resp.status() === 200, String(resp.status()));
  check('a strict CSP: default-src self, no unsafe-inline',
    /default-src 'self'/.test(h['content-security-policy'] || '') && !/unsafe/.test(h['content-security-policy'] || ''),
    h['content-security-policy']);
  check("frame-ancestors 'none'", /frame-ancestors 'none'/.test(h['content-security-policy'] || ''));
  check('X-Content-Type-Options: nosniff', h['x-content-type-options'] === 'nosniff');
  check('Cache-Control and ETag', /no-cache/.test(h['cache-control'] || '') && /^"[0-9a-f]{32}"$/.test(h.etag || ''));
  await shot('01-login');

  // ---- log in ----
  await page.type('#token', `${admin}x`);
  await page.keyboard.press('Enter');
  check('a wrong token is refused', await waitText('#login-error', /not an admin token/));
  check('…and the views stay hidden', await page.$eval('#nav', (e) => e.hidden));
  await page.focus('#token');
  await page.type('#token', admin);
  await page.keyboard.press('Enter'); // keyboard only
  check('log in with the admin token', await waitText('#fleet-count', /of [1-9][0-9]* TEEs/));
  const stored = await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
  check('the token is kept in memory only (no storage, no cookie)',
    stored[0] === 0 && stored[1] === 0 && stored[2] === '', JSON.stringify(stored));

  // ---- fleet: the TD that attested ----
  check('the fleet lists the attested TD', await waitText('#fleet-table tbody', /attestedtdx[\s\S]*fmspc [0-9a-f]{12}[\s\S]*UpToDate/));
  const fleetRows = await page.$$eval('#fleet-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
  const seen = fleetRows.filter((t) => t.startsWith('attested'));
  check('one TD, seen by each attestation and release, its last decision the denied release',
    seen.length === 1 && /release deny/.test(seen[0]), fleetRows.join(' | '));
  // veritee serve runs the cache too: the platform registered with it (PCCS style) is listed
  const recorded = fleetRows.filter((t) => t.startsWith('PCK requests'));
  check('the platform the cache recorded is listed, from PCK requests, not judged (no FMSPC known)',
    recorded.length === 1 && /fmspc \(unknown\)/.test(recorded[0]) && /not judged/.test(recorded[0]) &&
      /recorded by registration/.test(recorded[0]), fleetRows.join(' | '));
  await page.select('#fleet-origin', 'PCK requests');
  check('filtering by source', await waitText('#fleet-count', /^1 of 2 TEEs and platforms/));
  await page.select('#fleet-origin', 'attested');
  check('…attested only', await waitText('#fleet-count', /^1 of 2 TEEs and platforms/) &&
    (await page.$$eval('#fleet-table tbody tr', (trs) => trs.every((tr) => tr.cells[0].textContent === 'attested'))));
  check('its measurements are listed', /tdx\.mrtd/.test(await page.$eval('#fleet-table tbody pre', (e) => e.textContent)));
  check('counts by status are charted', await page.$eval('#fleet-chart', (e) => /UpToDate 1/.test(e.querySelector('svg title').textContent)));
  await page.select('#fleet-tee', 'nitro');
  check('filtering by TEE', await waitText('#fleet-count', /^0 of 2 TEEs and platforms/));
  await page.select('#fleet-tee', '');
  await page.select('#fleet-origin', '');
  await page.click('#fleet-table th button[data-sort="status"]');
  check('sorting by a column sets aria-sort', await page.$eval('#fleet-table th button[data-sort="status"]', (b) => b.parentElement.getAttribute('aria-sort') === 'ascending'));
  await shot('02-fleet');

  // ---- releases and attestations ----
  await page.click('#nav [data-view="releases"]');
  await waitText('#log-count', /of [1-9][0-9]* entries/);
  const logEntries = Number((await text('#log-count')).match(/of (\d+) entries/)[1]);
  const rows = await page.$$eval('#log-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
  check('the log lists the attestations', rows.some((r) => /attest/.test(r)), rows.join(' | '));
  check('the log lists the release of app-key', rows.some((r) => /release.*app-key.*allow/.test(r)));
  await shot('03-releases');
  await page.type('#log-search', 'deny');
  const denied = await page.$$eval('#log-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
  check('searching "deny" leaves the denied release only',
    denied.length === 1 && /other-app-key/.test(denied[0]) && /release-policy/.test(denied[0]), denied.join(' | '));
  await page.click('#log-table tbody tr button');
  check('its explanation opens', await waitText('#explain-h', /release deny/));
  const rules = await page.$$eval('#explain-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
  check('the explanation shows the failing rule, expected and actual',
    rules.some((r) => /tdx\.mrtd/.test(r) && /0{96}/.test(r) && /FAIL/.test(r)), rules.join(' | '));
  check('focus moves to the explanation', await page.evaluate(() => document.activeElement.id === 'explain-h'));
  await shot('04-explanation');

  // ---- a receipt checked in the browser ----
  await page.$eval('#receipt-input', (e, v) => { e.value = v; }, JSON.stringify(release));
  await page.click('#receipt-check');
  check('the release receipt verifies in the page', await waitText('#receipt-result', /^Verified: entry \d+ of \d+/),
    await text('#receipt-result'));
  await shot('05-receipt-ok');
  const tampered = JSON.parse(JSON.stringify(release));
  const r = tampered.receipt.receipt || tampered.receipt;
  const entry = JSON.parse(Buffer.from(r.entry, 'base64').toString());
  entry.decision = entry.decision === 'allow' ? 'deny' : 'allow';
  r.entry = Buffer.from(JSON.stringify(entry)).toString('base64');
  await page.$eval('#receipt-input', (e, v) => { e.value = v; }, JSON.stringify(tampered));
  await page.click('#receipt-check');
  check('a tampered entry fails the inclusion proof', await waitText('#receipt-result', /^Not verified: receipt\.inclusion/),
    await text('#receipt-result'));
  await shot('06-receipt-tampered');
  const badSig = JSON.parse(JSON.stringify(release));
  const r2 = badSig.receipt.receipt || badSig.receipt;
  r2.checkpoint.body = r2.checkpoint.body.replace(/\n(\d+)\n/, (m, n) => `\n${Number(n) + 1}\n`);
  await page.$eval('#receipt-input', (e, v) => { e.value = v; }, JSON.stringify(badSig));
  await page.click('#receipt-check');
  check('a changed checkpoint fails its signature', await waitText('#receipt-result', /^Not verified: receipt\.checkpoint\.signature/),
    await text('#receipt-result'));

  // ---- keys and policies: no secret ----
  await page.click('#nav [data-view="keys"]');
  check('keys are listed', await waitText('#keys-table tbody', /app-key[\s\S]*other-app-key|other-app-key[\s\S]*app-key/));
  check('a key\'s policy text is shown', await waitText('#keys-table tbody', /tdx\.mrtd/));
  const vers = await page.$$eval('#keys-table tbody tr', (trs) => Object.fromEntries(trs.map((tr) =>
    [tr.cells[0].textContent, [tr.cells[1].textContent, tr.cells[2].textContent,
      [...tr.querySelectorAll('ul.versions li')].map((li) => li.textContent)]])));
  const ts = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';
  const ak = vers['app-key'];
  check('app-key: version 2 current, version 1 older, both listed with their creation time',
    ak && ak[0] === '2' && ak[1] === 'enabled' && ak[2].length === 2 &&
      new RegExp(`^v1 ${ts} older$`).test(ak[2][0]) && new RegExp(`^v2 ${ts} current$`).test(ak[2][1]),
    JSON.stringify(ak));
  const ok = vers['other-app-key'];
  check('other-app-key: disabled, its one version marked disabled',
    ok && ok[0] === '1' && ok[1] === 'disabled' && ok[2].length === 1 && new RegExp(`^v1 ${ts} current, disabled$`).test(ok[2][0]),
    JSON.stringify(ok));
  await page.click('#keys-table tbody button');
  const copied = await page.$eval('#policy-text', (e) => e.value);
  check('a key\'s policy is copied to the policy check', /tdx\.mrtd/.test(copied));
  await page.click('#policy-check');
  check('it compiles', await waitText('#policy-result', /^Compiles \(SHA-256 [0-9a-f]{64}\)/), await text('#policy-result'));
  await page.$eval('#policy-text', (e) => { e.value = '{"version":1,"rules":{"claim":"tdx.mrtdd","exists":true}}'; });
  await page.click('#policy-check');
  check('a policy with an unknown claim shows its compile error and path',
    await waitText('#policy-result', /^Does not compile: rules\.claim: /), await text('#policy-result'));
  await shot('07-keys');

  // ---- health ----
  await page.click('#nav [data-view="health"]');
  check('health shows the store', await waitText('#health-status', /store/));
  // GET /admin/v1/status (the offline cache of veritee serve) and /admin/v1/log/status
  await waitText('#health-store', /log sequencer/);
  const dl = (sel) => page.$eval(sel, (e) => Object.fromEntries([...e.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  const st = await dl('#health-store');
  check('health: the audit log\'s size is the log view\'s, the tree in step, the latest checkpoint of that size',
    st['audit log'] && st['audit log'].startsWith(`${logEntries} entries, last 2`) && /this process's tree (\d+) \(in step\)/.test(st['audit log']) &&
      st['audit log'].includes(`tree ${logEntries} (in step)`) && st['latest checkpoint'] && st['latest checkpoint'].startsWith(`size ${logEntries}, key `),
    JSON.stringify(st));
  check('health: the log sequencer is idle, nothing queued, batches committed',
    /^idle, 0 queued, [1-9]\d* batches committed/.test(st['log sequencer'] || ''), st['log sequencer']);
  check('health: the cache store and this replica (offline, SQLite)',
    /^sqlite, ok, \d+ items$/.test(st['cache store'] || '') && /^offline, started \d{4}-/.test(st['this replica'] || ''), JSON.stringify(st));
  // the replica registry: veritee serve's broker and cache (this process) and the second broker
  const reps = await page.$$eval('#health-replicas tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const mine = reps.filter((r) => r[7] === 'this process');
  check('health: the replicas: this process as broker and as cache, and another broker on the same store',
    reps.length === 3 && mine.length === 2 && mine.map((r) => r[0]).sort().join() === 'broker,cache' &&
      mine[0][2] === mine[1][2] && reps.some((r) => r[0] === 'broker' && r[7] === 'ok' && r[2] !== mine[0][2]),
    JSON.stringify(reps));
  check('health: each replica its version, heartbeat age and interval; a broker its committed log',
    reps.every((r) => /^\d+\.\d+\.\d+/.test(r[3]) && /^\d+ s \(every 5 s\)$/.test(r[6]) &&
      (r[0] === 'broker' ? /^\d+ entries, \d+ batches$/.test(r[8]) : r[8] === '')),
    JSON.stringify(reps));
  const outage = await dl('#health-outage');
  check('health: an offline cache has no upstream: outage "offline", no upstream table',
    outage.outage === 'offline' && await page.$eval('#health-upstreams', (e) => e.hidden), JSON.stringify(outage));
  check('health shows the cache upstreams', await waitText('#health-upstream', /requests[\s\S]*errors[\s\S]*oldest document/));
  check('the log chart is drawn', await page.waitForFunction(() => document.querySelectorAll('#health-log-chart svg rect').length >= 2, { timeout: 5000 }).then(() => true, () => false));
  await page.click('#health-reload');
  await new Promise((res) => setTimeout(res, 300)); // a second sample for the rate chart
  await page.click('#health-reload');
  // drawn from the second sample on, the rates' lines have a point each (the second reload is done)
  check('the rate chart is drawn', await page.waitForFunction(() => {
    const lines = document.querySelectorAll('#health-rate-chart polyline');
    return lines.length === 3 && [...lines].every((l) => l.getAttribute('points') !== '');
  }, { timeout: 5000 }).then(() => true, () => false));
  // read in one evaluation: $$eval's query and its function are two round trips, between which
  // a reload may replace the elements
  const lat = await page.$eval('#health-latency', (e) => Object.fromEntries([...e.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  const latRe = /^[1-9]\d* answered, mean \d+(\.\d+)? ms, p50 ≤ \d+(\.\d+)? ms, p99 ≤ (\d+(\.\d+)? ms|above the last bucket)$/;
  check('health: the broker\'s answer times for attest and release (count, mean, p50, p99 from the histograms)',
    latRe.test(lat.attest || '') && latRe.test(lat.release || ''), JSON.stringify(lat));
  check('the answer-time chart is drawn', await page.$$eval('#health-latency-chart polyline', (p) => p.length === 2));
  await shot('08-health');

  // ---- TCB recoveries: schedule an enforcement, with a confirmation ----
  await page.click('#nav [data-view="recoveries"]');
  await page.select('#enforce-tee', 'tdx');
  await page.type('#enforce-eval', '19');
  await page.type('#enforce-from', '2030-01-01T00:00:00Z');
  await page.click('#enforce-form button[type="submit"]');
  check('scheduling asks for a confirmation', await waitText('#enforce-confirm-text', /Enforce tdx tcbEvaluationDataNumber 19 from 2030-01-01T00:00:00Z/));
  check('nothing is scheduled before it', !/2030/.test(await text('#enforce-table')));
  await shot('09-enforce-confirm');
  await page.keyboard.press('Enter'); // the focused Confirm button
  check('the scheduled enforcement is listed', await waitText('#enforce-table tbody', /tdx.*19.*2030-01-01T00:00:00Z/));
  await waitText('#recoveries-tees', /19 from 2030/);
  const tees = await page.$$eval('#recoveries-tees dt, #recoveries-tees dd', (es) => es.map((e) => e.textContent));
  check('recoveries: tdx has 19 scheduled from 2030, nothing enforced, sgx nothing',
    tees.join('|') === 'sgx enforced|none: the newest number|sgx scheduled|none|tdx enforced|none: the newest number|tdx scheduled|19 from 2030-01-01T00:00:00Z',
    tees.join('|'));
  await shot('10-enforce-listed');

  // ---- no secret anywhere in the page ----
  const secret = (release.secret_b64 || '').replace(/=+$/, '');
  const all = await page.evaluate(() => document.documentElement.outerHTML);
  check('no released secret, master key or admin token in the page',
    secret.length > 8 && !all.includes(secret) && !all.includes(masterKey) && !all.includes(admin));
  check('every request stayed on the origin', requests.every((u) => u.startsWith(url)), requests.filter((u) => !u.startsWith(url)).join(' '));
  check('no CSP violation or script error', violations.length === 0, violations.join(' | '));

  // ---- impact of a newer number on the recorded fixtures (cache serve) ----

  // ---- accessibility: text contrast (WCAG 2.1 1.4.3) and a visible keyboard focus, every view ----
  for (const view of ['fleet', 'releases', 'recoveries', 'health', 'keys']) {
    await page.click(`#nav [data-view="${view}"]`);
    await page.waitForFunction((v) => !document.querySelector(`#view-${v}`).hidden, {}, view);
    const low = await page.evaluate(() => {
      const rgba = (c) => (c.match(/[\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => {
        const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      // the colour behind an element: its ancestors' backgrounds composited over white
      const behind = (el) => {
        const layers = [];
        for (let e = el; e; e = e.parentElement) {
          const c = rgba(getComputedStyle(e).backgroundColor);
          if (c.length === 4 && c[3] === 0) continue;
          layers.push(c);
          if (c.length === 3 || c[3] === 1) break;
        }
        let bg = [255, 255, 255];
        for (const c of layers.reverse()) {
          const a = c.length === 4 ? c[3] : 1;
          bg = bg.map((v, i) => c[i] * a + v * (1 - a));
        }
        return bg;
      };
      const out = [];
      for (const el of document.querySelectorAll('body *')) {
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
        if (!own || el.closest('[hidden]') || el.closest('svg') || el.getClientRects().length === 0) continue;
        const st = getComputedStyle(el);
        if (st.visibility === 'hidden' || Number(st.opacity) === 0) continue;
        const fg = rgba(st.color);
        const bg = behind(el);
        const a = fg.length === 4 ? fg[3] : 1;
        const fgc = bg.map((v, i) => fg[i] * a + v * (1 - a));
        const [l1, l2] = [lum(fgc), lum(bg)].sort((x, y) => y - x);
        const ratio = (l1 + 0.05) / (l2 + 0.05);
        const size = parseFloat(st.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
        if (ratio < (large ? 3 : 4.5)) {
          out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
        }
      }
      return out;
    });
    check(`${view}: every text has WCAG AA contrast`, low.length === 0, low.slice(0, 5).join('; '));
    await page.focus(`#nav [data-view="${view}"]`);
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const e = document.activeElement;
      const st = getComputedStyle(e);
      return { tag: e.tagName, outline: st.outlineStyle, width: parseFloat(st.outlineWidth) };
    });
    check(`${view}: the keyboard focus is visible`, ring.tag !== 'BODY' && ring.outline !== 'none' && ring.width >= 2,
      JSON.stringify(ring));
  }
  if (env('VT_CACHE_URL')) {
    const p2 = await browser.newPage();
    await p2.setViewport({ width: 1366, height: 900 });
    await p2.goto(`${env('VT_CACHE_URL')}/console`, { waitUntil: 'networkidle0' });
    await p2.type('#token', env('VT_CACHE_ADMIN'));
    await p2.keyboard.press('Enter');
    const ok = await p2.waitForFunction(() => /No key broker/.test(document.querySelector('#keys-error').textContent) || !document.querySelector('#nav').hidden, { timeout: 10000 }).then(() => true, () => false);
    check('cache serve: log in to its console', ok);
    // the fleet of cache serve: the platforms it recorded (no broker), judged under 17 in force
    const listedFleet = await p2.waitForFunction(() => /90c06f000000/.test(document.querySelector('#fleet-table tbody').textContent), { timeout: 30000 }).then(() => true, () => false);
    const crows = await p2.$$eval('#fleet-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    check('cache serve: the fleet lists the recorded TDX platform from PCK requests, UpToDate under 17',
      listedFleet && crows.length >= 1 && crows.every((c) => c[0] === 'PCK requests') &&
        crows.some((c) => c[1] === 'tdx' && c[2] === 'fmspc 90c06f000000' && c[3] === 'UpToDate' && c[4] === '17' && /recorded by pckcert/.test(c[9])),
      JSON.stringify(crows));
    check('cache serve: its registration of the same platform is listed too, as TDX, not judged (no TCB components)',
      crows.some((c) => c[1] === 'tdx' && c[2] === 'fmspc 90c06f000000' && c[3] === 'not judged' && /recorded by registration/.test(c[9])),
      JSON.stringify(crows));
    check('cache serve: no broker is not an error on the fleet', (await p2.$eval('#fleet-error', (e) => e.textContent)) === '');
    await p2.screenshot({ path: path.join(artifacts, '14-cache-fleet.png'), fullPage: true });
    await p2.click('#nav [data-view="recoveries"]');
    const listed = await p2.waitForFunction(() => /tdx/.test(document.querySelector('#enforce-table tbody').textContent), { timeout: 10000 }).then(() => true, () => false);
    check('cache serve: eval 17 is listed as enforced', listed && /17/.test(await p2.$eval('#enforce-table tbody', (e) => e.textContent)));
    // the numbers held per TEE and FMSPC (GET /admin/v1/recoveries): cells of the platform's row
    const recRow = () => p2.$$eval('#recoveries-table tbody tr', (trs) => trs
      .map((tr) => [...tr.cells].map((c) => c.textContent))
      .find((c) => c[0] === 'tdx' && c[1] === '90c06f000000') || null);
    await p2.waitForFunction(() => !document.querySelector('#recoveries-table').hidden, { timeout: 10000 }).catch(() => {});
    let rc = await recRow();
    // the verifier's request stored the upstream's default (18, under update=standard) and the
    // number in force (17, by number); 17 is what the cache serves by default
    check('recoveries: the TDX platform holds 17 and 18 (standard 18), serves 17, enforced 17 (held), nothing scheduled',
      rc !== null && rc[2] === '17, 18' && rc[3] === '17' && /^17 from \d{4}-\d\d-\d\dT[\d:]+Z \(held\)$/.test(rc[4]) &&
        rc[5] === '' && rc[6] === '18 (18, –)',
      JSON.stringify(rc));
    const tdxEnf = await p2.$$eval('#recoveries-tees dt, #recoveries-tees dd', (es) => es.map((e) => e.textContent));
    check('recoveries: tdx enforced 17 from its start', /tdx enforced\|17 from \d{4}-/.test(tdxEnf.join('|')), tdxEnf.join('|'));
    await p2.select('#impact-tee', 'tdx');
    await p2.type('#impact-eval', '18');
    await p2.click('#impact-form button[type="submit"]');
    const summary = await p2.waitForFunction(() => /platforms change status/.test(document.querySelector('#impact-summary').textContent), { timeout: 30000 }).then(() => true, () => false);
    check('impact of eval 18 is previewed', summary, await p2.$eval('#impact-summary', (e) => e.textContent));
    const irows = await p2.$$eval('#impact-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
    check('the recorded platform turns OutOfDate under 18',
      irows.some((t) => /90c06f000000/.test(t) && /UpToDate \(17\)/.test(t) && /OutOfDate \(18\)/.test(t) && /yes/.test(t)), irows.join(' | '));
    check('the impact chart is drawn', await p2.$eval('#impact-chart', (e) => e.querySelectorAll('svg rect').length >= 1));
    await p2.select('#enforce-tee', 'tdx');
    await p2.type('#enforce-eval', '18');
    await p2.type('#enforce-from', '2030-01-01T00:00:00Z');
    await p2.click('#enforce-form button[type="submit"]');
    await p2.click('#enforce-yes');
    await p2.waitForFunction(() => /2030/.test(document.querySelector('#recoveries-table tbody').textContent), { timeout: 10000 }).catch(() => {});
    rc = await recRow();
    check('recoveries: 18 scheduled from 2030 and held, 17 still served',
      rc !== null && rc[5] === '18 from 2030-01-01T00:00:00Z (held)' && rc[3] === '17', JSON.stringify(rc));
    await p2.screenshot({ path: path.join(artifacts, '12-recoveries.png'), fullPage: true });

    // health of cache serve: one upstream down, the double answering, the refresher's next pass
    await p2.click('#nav [data-view="health"]');
    await p2.waitForFunction(() => !document.querySelector('#health-upstreams').hidden, { timeout: 10000 }).catch(() => {});
    const ups = await p2.$$eval('#health-upstreams tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    check('cache health: two upstreams, in order', ups.length === 2 && ups[0][0] === 'http://127.0.0.1:1' && ups[1][0] === env('VT_DOUBLE_URL'), JSON.stringify(ups));
    check('cache health: the first is failing, never succeeded, its last failure and error shown',
      ups[0] && ups[0][1] === 'failing' && ups[0][2] === 'never' && /^2026-02-2\dT[\d:]+Z: .+/.test(ups[0][3]) && Number(ups[0][4]) >= 1, JSON.stringify(ups[0]));
    check('cache health: the double is ok, its last success at the cache\'s time, no failure',
      ups[1] && ups[1][1] === 'ok' && /^2026-02-2\dT[\d:]+Z$/.test(ups[1][2]) && ups[1][3] === 'never' && ups[1][4] === '0', JSON.stringify(ups[1]));
    check('cache health: the next refresh is a day after the start',
      ups[1] && /^2026-02-2\dT[\d:]+Z$/.test(ups[1][5]) && Date.parse(ups[1][5]) - Date.parse('2026-02-20T15:06:40Z') >= 86400e3 - 120e3 && Date.parse(ups[1][5]) - Date.parse('2026-02-20T15:06:40Z') <= 86400e3 + 120e3,
      JSON.stringify(ups[1]));
    const co = await p2.$eval('#health-outage', (e) => Object.fromEntries([...e.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
    check('cache health: outage "some upstreams failing", the refresher every 86400 s',
      co.outage === 'some upstreams failing' && /^every 86400 s; last pass none yet/.test(co.refresher || ''), JSON.stringify(co));
    const cs = await p2.$$eval('#health-store dt', (dts) => dts.map((dt) => dt.textContent));
    check('cache health: the cache store and replica, no broker log on cache serve',
      cs.join('|') === 'cache store|this replica', cs.join('|'));
    const creps = await p2.$$eval('#health-replicas tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    check('cache health: one replica, this cache serve',
      creps.length === 1 && creps[0][0] === 'cache' && creps[0][7] === 'this process', JSON.stringify(creps));
    await p2.screenshot({ path: path.join(artifacts, '13-cache-health.png'), fullPage: true });
    await p2.screenshot({ path: path.join(artifacts, '11-impact.png'), fullPage: true });
  }
} catch (e) {
  check('the browser run completed', false, e.stack);
  await shot('99-error').catch(() => {});
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
