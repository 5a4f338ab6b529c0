// attest and release against a live `veritee broker serve`, evidence from the Nitro simulator
// through a JavaScript evidence function (the simulators are not in libveritee.so).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { cli, cliEnv, veritee } from './lib.mjs';

let skip = false;
if (!process.env.VERITEE_BINARY) {
  if (process.env.CI === 'true') throw new Error('VERITEE_BINARY is not set; CI requires the broker test');
  skip = 'VERITEE_BINARY is not set: no broker to talk to';
}

describe('the broker client', { skip }, () => {
  let tmp, url, proc;
  before(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'vt-node-broker-'));
    const mk = path.join(tmp, 'master.key');
    writeFileSync(mk, cli(['broker', 'master-key']));
    const common = ['--db', `sqlite:${path.join(tmp, 'v.db')}`, '--master-key-file', mk];
    cli(['client', 'sim-export', '--backend', 'sim:nitro', '--sim-dir', path.join(tmp, 'sim'), '--out', path.join(tmp, 'export')]);
    cli(['broker', 'key-put', ...common, '--name', 'pepper', '--generate', '32']);
    writeFileSync(path.join(tmp, 'tdx.json'), '{"version":1,"rules":{"claim":"tdx.mrtd","exists":true}}');
    cli(['broker', 'key-put', ...common, '--name', 'tdx-only', '--generate', '16', '--policy', path.join(tmp, 'tdx.json')]);
    const pf = path.join(tmp, 'port');
    proc = spawn(process.env.VERITEE_BINARY, ['broker', 'serve', ...common, '--trust-anchor',
      path.join(tmp, 'export/anchors/nitro.pem'), '--listen', '127.0.0.1:0', '--port-file', pf], { stdio: 'ignore', env: cliEnv() });
    for (let i = 0; i < 600 && !(existsSync(pf) && readFileSync(pf, 'utf8').trim()); i++) {
      if (proc.exitCode !== null) throw new Error('the broker exited');
      await sleep(50); // waiting for the port file; not a timing assertion
    }
    url = `http://127.0.0.1:${readFileSync(pf, 'utf8').trim()}`;
  });
  after(() => proc && proc.kill());

  const calls = [];
  // Asynchronous, on the libuv thread pool (fs.promises): tests/bindings/node.sh runs with one
  // pool thread, which a request waiting for this function must not hold.
  const evidence = async (reportData, nonce, spki) => {
    assert.equal(reportData.length, 64);
    assert.equal(nonce.length, 32);
    const i = calls.push(nonce);
    const spkiFile = path.join(tmp, `spki-${i}.der`);
    await writeFile(spkiFile, spki);
    const out = path.join(tmp, `doc-${i}.cose`);
    cli(['client', 'evidence', '--backend', 'sim:nitro', '--sim-dir', path.join(tmp, 'sim'),
      '--public-key', spkiFile, '--nonce', nonce.toString('hex'), '--out', out]);
    return readFile(out);
  };

  test('attest, release with the token and with evidence, refusals', async () => {
    const key = new veritee.RuntimeKey('P-256');
    const c = new veritee.Client(url, { retries: 1 });
    const a = await c.attest(evidence, key);
    assert.equal(a.token.split('.').length, 3);
    assert.equal(a.claims.tee, 'nitro');
    const r1 = await c.release('pepper', key, { token: a.token });
    assert.equal(r1.secret.length, 32);
    assert.equal(r1.version, 1);
    const r2 = await c.release('pepper', new veritee.RuntimeKey('RSA-2048'), { evidence, cms: true });
    assert.deepEqual(r2.secret, r1.secret);
    assert.equal(calls.length, 2);
    // Several requests in flight at once, each waiting for its evidence function.
    const keys = [1, 2, 3].map(() => new veritee.RuntimeKey());
    const all = await Promise.all(keys.map((k) => c.attest(evidence, k)));
    assert.deepEqual(all.map((x) => x.claims.tee), ['nitro', 'nitro', 'nitro']);
    await assert.rejects(c.release('tdx-only', key, { token: a.token }),
      (e) => e.httpStatus === 403 && e.code === 'VT_E_UNAUTHORIZED' && e.check === 'broker');
    await assert.rejects(c.release('no-such-key', key, { token: a.token }),
      (e) => e.httpStatus === 404 && e.code === 'VT_E_NOT_FOUND');
    // A synchronous evidence function; evidence bound to another key.
    await assert.rejects(c.attest((rd, n) => readFileSync(path.join(tmp, 'doc-1.cose')), key),
      (e) => [400, 401].includes(e.httpStatus));
    // A function that throws, and one that rejects: their own errors.
    const boom = new Error('no TEE here');
    await assert.rejects(c.attest(() => { throw boom; }, key), (e) => e === boom);
    await assert.rejects(c.attest(async () => { throw boom; }, key), (e) => e === boom);
    await assert.rejects(c.attest(() => 42, key), (e) => e.code === 'VT_E_IO' && e.check === 'client.evidence');
    c.close();
  });
});
