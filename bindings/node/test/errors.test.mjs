// The error paths, policies and the verifier's life cycle through the Node binding.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import { needFixtures, ROOT, veritee } from './lib.mjs';

const NITRO = 'nitro/base-nitro-validator/attestation-2024-11-30.cose';
const NITRO_AT = '2024-11-30T16:30:00Z';
const ALI = 'dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba';

const code = (c, check) => (e) => {
  assert.equal(e.code, c, e.message);
  assert.ok(e instanceof Error);
  if (check !== undefined) assert.equal(e.check, check);
  assert.equal(typeof e.detail, 'string');
  assert.equal(typeof e.number, 'number');
  return true;
};

describe('errors without fixtures', () => {
  test('bytes of no known format', async () => {
    await assert.rejects(veritee.verify(Buffer.alloc(100), { at: 0 }), (e) => {
      code('VT_E_UNKNOWN_EVIDENCE', 'evidence.type')(e);
      assert.equal(e.number, 401);
      assert.equal(e.category, 'unsupported');
      assert.ok(e.message.startsWith('VT_E_UNKNOWN_EVIDENCE: evidence.type: '));
      assert.ok(e.detail.includes('100 bytes'));
      return true;
    });
    await assert.rejects(veritee.verify(Buffer.from('xyz'), { at: 0 }), code('VT_E_BAD_BASE64'));
    const r = await veritee.verify(Buffer.alloc(64, 1), { at: 0, raiseErrors: false });
    assert.equal(r.verified, false);
    assert.equal(r.claims, null);
    assert.equal(r.error.code, 'VT_E_UNKNOWN_EVIDENCE');
    assert.equal(r.toJSON().error.check, 'evidence.type');
    const v = new veritee.Verifier();
    assert.throws(() => v.verifySync(Buffer.alloc(8), { at: 0 }), code('VT_E_UNKNOWN_EVIDENCE'));
    v.close();
  });

  test('bad arguments', async () => {
    await assert.rejects(veritee.verify(Buffer.alloc(8), { at: 'yesterday' }), code('VT_E_BAD_TIME', 'time.parse'));
    await assert.rejects(veritee.verify(Buffer.alloc(8), { at: [1] }), TypeError);
    await assert.rejects(veritee.verify(Buffer.alloc(8), { at: NaN }), RangeError);
    await assert.rejects(veritee.verify(Buffer.alloc(8), { nonce: 'zz' }), TypeError);
    await assert.rejects(veritee.verify(Buffer.alloc(8), { reportData: Buffer.alloc(65) }), RangeError);
    await assert.rejects(veritee.verify(Buffer.alloc(8), { maxAge: -1 }), RangeError);
    await assert.rejects(veritee.verify(42), TypeError);
    await assert.rejects(veritee.verify('/no/such/file'), (e) => e.code === 'ENOENT');
    assert.throws(() => new veritee.Verifier({ timeMode: 'lenient' }), RangeError);
    assert.throws(() => new veritee.Verifier({ collateralTtl: 0 }), RangeError);
    const dir = mkdtempSync(path.join(tmpdir(), 'vt-'));
    assert.throws(() => new veritee.Verifier({ trustAnchors: [path.join(dir, 'missing.pem')] }),
      (e) => code('VT_E_IO')(e) && e.detail.includes('missing.pem'));
    assert.equal(veritee.toEpoch(1.9), 1);
    assert.equal(veritee.toEpoch('1970-01-01T00:01:00Z'), 60);
    assert.equal(veritee.toEpoch(new Date(61500)), 61);
  });

  test('a closed verifier', async () => {
    const v = new veritee.Verifier();
    v.close();
    v.close();
    await assert.rejects(v.verify(Buffer.alloc(8), { at: 0 }), code('VT_E_STATE', 'verifier'));
  });

  test('policy compile errors name the JSON path', () => {
    const cases = [
      ['{', 'VT_E_BAD_JSON'],
      ['{"version": 2, "rules": {"allOf": []}}', 'VT_E_UNSUPPORTED_VERSION', 'version'],
      ['{"version": 1, "rules": {"claim": "tdx.mrtdd", "exists": true}}', 'VT_E_BAD_FIELD', 'rules.claim'],
      ['{"rules": {"allOf": []}}', 'VT_E_MISSING_FIELD'],
      ['{"version": 1, "rules": {"claim": "tdx.mrtd", "equals": "00"}}', 'VT_E_BAD_LENGTH', 'rules.equals'],
    ];
    for (const [text, c, check] of cases) {
      assert.throws(() => new veritee.Policy(text), code(c, check));
    }
    assert.throws(() => new veritee.Policy(42), TypeError);
    assert.equal(veritee.claimType('tdx.mrtd'), 'hex');
    assert.equal(veritee.claimType('no.such.claim'), null);
    assert.throws(() => veritee.checkClaims({ 'no.such.claim': 1 }), code('VT_E_BAD_FIELD', 'no.such.claim'));
  });

  test('runtime keys, report data, attester and client errors', async () => {
    for (const t of ['P-256', 'P-384', 'RSA-2048']) {
      const k = new veritee.RuntimeKey(t);
      assert.equal(k.publicJwk.kty, t.startsWith('RSA') ? 'RSA' : 'EC');
      assert.equal(k.publicJwk.d, undefined);
    }
    assert.throws(() => new veritee.RuntimeKey('Ed25519'), code('VT_E_UNSUPPORTED_ALGORITHM', 'jwk.generate'));
    const k = new veritee.RuntimeKey();
    const a = veritee.reportDataFor(Buffer.alloc(32, 1), k);
    assert.equal(a.length, 64);
    assert.notDeepEqual(a, veritee.reportDataFor(Buffer.alloc(32, 2), k));
    assert.throws(() => veritee.reportDataFor(Buffer.alloc(3), k), TypeError);
    assert.throws(() => new veritee.Attester('sim:tdx'), code('VT_E_UNSUPPORTED', 'attester.backend'));
    const dir = mkdtempSync(path.join(tmpdir(), 'vt-'));
    assert.throws(() => new veritee.Attester('tsm', { tsmRoot: path.join(dir, 'none') }), code('VT_E_NOT_FOUND', 'tsm.root'));
    assert.throws(() => new veritee.Attester('nsm', { nsmPath: path.join(dir, 'nsm') }), code('VT_E_NOT_FOUND', 'nsm.open'));
    assert.throws(() => new veritee.Attester('tsm', { tsmPrivlevel: 4 }), RangeError);
    assert.throws(() => new veritee.Client('ftp://example.invalid'), (e) => e.category === 'usage');
    const c = new veritee.Client('http://127.0.0.1:9', { timeoutMs: 2000 });
    await assert.rejects(c.attest(() => Buffer.alloc(1), k), (e) => e.code.startsWith('VT_E_') && e.httpStatus === undefined);
    await assert.rejects(c.release('k', k, {}), TypeError);
    await assert.rejects(c.attest(42, k), TypeError);
    c.close();
  });
});

describe('errors on real evidence', { skip: needFixtures }, () => {
  test('Nitro: nonce, age, report data, flipped signature, text encodings', async () => {
    const doc = readFileSync(path.join(ROOT, NITRO));
    const want = (await veritee.verify(doc, { at: NITRO_AT })).claims;
    await assert.rejects(veritee.verify(doc, { at: NITRO_AT, nonce: Buffer.alloc(8, 1) }), code('VT_E_NONCE_MISMATCH'));
    assert.equal((await veritee.verify(doc, { at: NITRO_AT, maxAge: 600 })).verified, true);
    const old = await veritee.verify(doc, { at: NITRO_AT, maxAge: 60, raiseErrors: false });
    assert.equal(old.verified, false);
    await assert.rejects(veritee.verify(doc, { at: NITRO_AT, reportData: '00' }), code('VT_E_UNSUPPORTED'));
    const flipped = Buffer.from(doc);
    flipped[flipped.length - 10] ^= 1;
    const bad = await veritee.verify(flipped, { at: NITRO_AT, raiseErrors: false });
    assert.equal(bad.error.category, 'signature');
    assert.deepEqual((await veritee.verify(Buffer.from(doc.toString('hex')), { at: NITRO_AT })).claims, want);
    assert.deepEqual((await veritee.verify(Buffer.from(doc.toString('base64') + '\n'), { at: NITRO_AT })).claims, want);
    assert.deepEqual((await veritee.verify(new Uint8Array(doc), { at: NITRO_AT })).claims, want);
    const root = path.join(ROOT, 'nitro/aws-root/AWS_NitroEnclaves_Root-G1.pem');
    assert.equal((await veritee.verify(doc, { at: NITRO_AT, trustAnchors: [root] })).verified, true);
  });

  test('DCAP: no collateral, binding, truncated quote', async () => {
    const d = path.join(ROOT, ALI);
    const at = JSON.parse(readFileSync(path.join(d, 'expected.json'))).verification_time;
    const quote = readFileSync(path.join(d, 'quote.bin'));
    await assert.rejects(veritee.verify(quote, { at }), code('VT_E_COLLATERAL_MISSING', 'collateral.source'));
    await assert.rejects(veritee.verify(quote, { collateral: d, at, reportData: Buffer.alloc(64, 1) }), code('VT_E_BINDING'));
    const r = await veritee.verify(quote.subarray(0, 700), { collateral: d, at, raiseErrors: false });
    assert.ok(['truncated', 'malformed'].includes(r.error.category));
  });

  test('SEV-SNP without its VEK', async () => {
    await assert.rejects(veritee.verify(path.join(ROOT, 'snp/trustee/test-report.bin'), { at: '2025-06-01T00:00:00Z' }),
      code('VT_E_COLLATERAL_MISSING', 'vcek'));
  });

  test('policies on a Result, on claims, from a file', async () => {
    const r = await veritee.verify(path.join(ROOT, NITRO), { at: NITRO_AT });
    const pcr0 = r.claims['nitro.pcr0'];
    const allow = { version: 1, allowDebug: false, acceptStatus: ['UpToDate'],
      rules: { allOf: [{ claim: 'nitro.pcr0', equals: pcr0 }, { claim: 'tee', in: ['nitro', 'tdx'] }] } };
    const p = new veritee.Policy(allow);
    const v = p.evaluate(r);
    assert.equal(v.allowed, true);
    assert.equal(v.reason, '');
    assert.ok(v.explanation.length > 0 && v.explanation.every((e) => 'outcome' in e));
    assert.equal(p.evaluate(r.claims).allowed, true);
    assert.equal(p.evaluate(r.claimsJson).allowed, true);
    assert.equal(new veritee.Policy({ ...allow, rules: { not: { claim: 'nitro.pcr0', equals: pcr0 } } }).evaluate(r).reason, 'rules');
    assert.equal(new veritee.Policy({ ...allow, acceptStatus: ['OutOfDate'] }).evaluate(r).reason, 'status');
    const dir = mkdtempSync(path.join(tmpdir(), 'vt-'));
    const f = path.join(dir, 'p.json');
    writeFileSync(f, JSON.stringify(allow, null, 2));
    assert.deepEqual(veritee.Policy.fromFile(f).digest, createHash('sha256').update(readFileSync(f)).digest());
    assert.throws(() => p.evaluate('[1, 2]'), (e) => e.category === 'malformed');
    const failed = await veritee.verify(Buffer.alloc(10), { at: 0, raiseErrors: false });
    assert.throws(() => p.evaluate(failed), code('VT_E_ARG'));
    // Claims are read only from buffers the addon filled: a forged one of the right size is
    // refused, never read as a struct.
    const forged = Object.create(veritee.Result.prototype);
    Object.defineProperty(forged, 'verified', { value: true });
    Object.defineProperty(forged, '_native', { value: new ArrayBuffer(r._native.byteLength) });
    assert.throws(() => p.evaluate(forged), TypeError);
    assert.throws(() => forged.claimsJson, TypeError);
    veritee.checkClaims(r.claims);
  });

  test('many verifications in flight on one verifier, then close', async () => {
    const d = path.join(ROOT, ALI);
    const at = JSON.parse(readFileSync(path.join(d, 'expected.json'))).verification_time;
    const quote = readFileSync(path.join(d, 'quote.bin'));
    const doc = readFileSync(path.join(ROOT, NITRO));
    const v = new veritee.Verifier({ collateral: d });
    const wantQ = (await v.verify(quote, { at })).claimsJson;
    const wantD = (await v.verify(doc, { at: NITRO_AT })).claimsJson;
    const all = [];
    for (let i = 0; i < 200; i++) {
      all.push(i % 2 ? v.verify(quote, { at }) : v.verify(doc, { at: NITRO_AT }));
    }
    v.close(); // freed when the last one settles
    const got = await Promise.all(all);
    got.forEach((r, i) => assert.equal(r.claimsJson, i % 2 ? wantQ : wantD));
    await assert.rejects(v.verify(doc, { at: NITRO_AT }), code('VT_E_STATE'));
  });
});
