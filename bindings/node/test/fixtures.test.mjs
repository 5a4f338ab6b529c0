// Every real fixture through the binding with the expectations of the C tests
// (tests/unit/dcap/test_fixtures.c, scripts/verify-fixtures.sh) and the command line's verdict.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { cliVerify, needFixtures, ROOT, utc, veritee } from './lib.mjs';

const load = (rel) => JSON.parse(readFileSync(path.join(ROOT, rel), 'utf8'));

function dcapSets() {
  if (needFixtures) return [];
  const out = [];
  for (const src of readdirSync(path.join(ROOT, 'dcap')).sort()) {
    const d = path.join(ROOT, 'dcap', src);
    if (!existsSync(d) || src.includes('.')) continue;
    for (const set of readdirSync(d).sort()) {
      const dir = path.join(d, set);
      if (existsSync(path.join(dir, 'expected.json')) && existsSync(path.join(dir, 'qe_identity.json')) &&
          existsSync(path.join(dir, 'pck_crl.der'))) {
        out.push(`${src}/${set}`);
      }
    }
  }
  return out;
}

function sameAsCli(r, args) {
  const want = cliVerify(args);
  if (want === null) return;
  assert.equal(r.verified, want.verified);
  assert.equal(r.evidenceType, want.evidence_type);
  if (r.verified) assert.deepEqual(r.claims, want.claims);
  else assert.equal(r.error.code, want.error.code);
}

async function rejects(p, code) {
  await assert.rejects(p, (e) => {
    assert.equal(e.code, code, e.message);
    assert.ok(e instanceof Error && typeof e.check === 'string' && typeof e.detail === 'string');
    return true;
  });
}

describe('DCAP quotes', { skip: needFixtures }, () => {
  for (const name of dcapSets()) {
    test(name, async () => {
      const d = path.join(ROOT, 'dcap', name);
      const exp = load(`dcap/${name}/expected.json`);
      const at = exp.verification_time;
      const quote = readFileSync(path.join(d, 'quote.bin'));
      const cliArgs = ['--collateral', d, '--at', String(at), path.join(d, 'quote.bin')];
      const v = new veritee.Verifier({ collateral: d });
      try {
        if (exp.status.startsWith('TCB_NOT_SUPPORTED')) {
          await rejects(v.verify(quote, { at }), 'VT_E_TCB_NOT_SUPPORTED');
          const r = await v.verify(quote, { at, raiseErrors: false });
          assert.equal(r.verified, false);
          assert.equal(r.error.number, 803);
          sameAsCli(r, cliArgs);
          return;
        }
        const r = await v.verify(quote, { at });
        assert.equal(r.verified, true);
        assert.equal(r.evidenceType, 'dcap-quote');
        assert.equal(r.tee, exp.tee.toLowerCase());
        assert.equal(r.status, exp.status);
        assert.deepEqual([...r.advisoryIds].sort(), [...exp.advisory_ids].sort());
        const c = r.claims;
        assert.equal(c.qe_status, exp.qe_status);
        assert.equal(c['dcap.quote_version'], exp.quote_version);
        assert.equal(c['dcap.pck_ca'], exp.pck_ca);
        if (exp.tdx_module_status !== undefined) {
          assert.equal(c.module_status, exp.tdx_module_status);
          assert.equal(c['dcap.tdx_module_identity'], exp.tdx_module_identity);
        }
        assert.equal(c.fmspc.toLowerCase(), name.split('fmspc')[1].slice(0, 12).toLowerCase());
        sameAsCli(r, cliArgs);
        const [lo, hi] = exp.validity_window;
        assert.equal((await v.verify(quote, { at: lo })).status, exp.status);
        assert.equal(v.verifySync(quote, { at: hi - 1 }).status, exp.status);
        await rejects(v.verify(quote, { at: hi }), 'VT_E_EXPIRED');
        await rejects(v.verify(quote, { at: lo - 1 }), 'VT_E_NOT_YET_VALID');
        const lax = new veritee.Verifier({ collateral: d, timeMode: 'expiry-only' });
        assert.equal((await lax.verify(quote, { at: lo - 1 })).status, exp.status);
        lax.close();
        const r2 = await veritee.verify(path.join(d, 'quote.bin'), { collateral: d, at: new Date(at * 1000) });
        assert.deepEqual(r2.claims, r.claims);
      } finally {
        v.close();
      }
    });
  }

  test('the partial set names the missing file', async () => {
    const d = path.join(ROOT, 'dcap/go-tdx-guest/tdx-v5-fmspc90c06f000000-partial');
    await assert.rejects(veritee.verify(path.join(d, 'quote.bin'), { collateral: d, at: '2025-06-01T00:00:00Z' }),
      (e) => e.code === 'VT_E_COLLATERAL_MISSING' && e.detail.includes('qe_identity.json'));
  });
});

describe('Nitro documents', { skip: needFixtures }, () => {
  const docs = needFixtures ? [] : load('nitro/expected.json').documents;
  for (const doc of docs) {
    test(doc.file, async () => {
      const p = path.join(ROOT, 'nitro', doc.file);
      const at = utc(doc.chain_valid_from_utc);
      const r = await veritee.verify(p, { at });
      assert.equal(r.verified, true);
      assert.equal(r.tee, 'nitro');
      assert.equal(r.claims['nitro.module_id'], doc.module_id);
      assert.equal(r.claims['nitro.timestamp_ms'], doc.timestamp_ms);
      for (const [i, value] of Object.entries(doc.pcrs_nonzero || {})) {
        assert.equal(r.claims[`nitro.pcr${i}`], value);
      }
      for (const f of ['public_key', 'user_data', 'nonce']) {
        if (doc[f]) assert.equal(r.claims[f], doc[f]);
      }
      sameAsCli(r, ['--at', String(at), p]);
      await rejects(veritee.verify(p, { at: at - 1 }), 'VT_E_NOT_YET_VALID');
      const until = utc(doc.chain_valid_until_utc);
      assert.equal((await veritee.verify(p, { at: until })).verified, true);
      await rejects(veritee.verify(p, { at: until + 1 }), 'VT_E_EXPIRED');
    });
  }

  test('the corrupt published document is rejected', async () => {
    const bad = path.join(ROOT, 'nitro/base-nitro-validator/attestation-2026-01-03.as-published.b64');
    const r = await veritee.verify(bad, { at: '2026-01-03T20:41:07Z', raiseErrors: false });
    assert.equal(r.verified, false);
    assert.equal(r.claims, null);
    sameAsCli(r, ['--at', '2026-01-03T20:41:07Z', bad]);
  });
});

describe('SEV-SNP reports', { skip: needFixtures }, () => {
  const reports = needFixtures ? [] : load('snp/expected.json').reports;
  for (const rep of reports) {
    test(rep.report, async () => {
      const at = utc(rep.vek_not_before);
      const report = path.join(ROOT, 'snp', rep.report);
      const vek = path.join(ROOT, 'snp', rep.vek);
      const r = await veritee.verify(report, { vek, at });
      assert.equal(r.tee, 'sev-snp');
      assert.equal(r.claims['snp.measurement'], rep.measurement);
      sameAsCli(r, ['--at', String(at), '--vcek', vek, report]);
      const r2 = await veritee.verify(readFileSync(report), { vek: readFileSync(vek), at,
        reportData: rep.report_data });
      assert.deepEqual(r2.claims, r.claims);
    });
  }

  const measurement = (prefix) => reports.find((r) => r.report.startsWith(prefix)).measurement;
  for (const [report, vek, prefix] of [
    ['trustee-azure/hcl-report.bin', 'trustee-azure/vcek.pem', 'trustee-azure/derived/hcl-report'],
    ['trustee-azure/derived/genoa-hcl-report.bin', 'trustee-azure/vcek-genoa.pem', 'trustee-azure/derived/genoa-hcl'],
  ]) {
    test(`Azure HCL ${report}`, async () => {
      const at = '2025-06-01T00:00:00Z';
      const r = await veritee.verify(path.join(ROOT, 'snp', report), { vek: path.join(ROOT, 'snp', vek), at });
      assert.equal(r.evidenceType, 'azure-hcl-report');
      assert.equal(r.claims['snp.measurement'], measurement(prefix));
      sameAsCli(r, ['--at', at, '--vcek', path.join(ROOT, 'snp', vek), path.join(ROOT, 'snp', report)]);
    });
  }

  for (const vek of ['trustee/test-vcek-invalid-legacy.der', 'trustee/test-vcek-invalid-new.der', 'trustee/test-vlek.der']) {
    test(`rejected: test-report.bin with ${vek}`, async () => {
      const report = path.join(ROOT, 'snp/trustee/test-report.bin');
      const r = await veritee.verify(report, { vek: path.join(ROOT, 'snp', vek), at: '2025-06-01T00:00:00Z', raiseErrors: false });
      assert.equal(r.verified, false);
      assert.ok(r.error.check);
      sameAsCli(r, ['--at', '2025-06-01T00:00:00Z', '--vcek', path.join(ROOT, 'snp', vek), report]);
    });
  }
});
