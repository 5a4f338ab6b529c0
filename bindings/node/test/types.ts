// Compiled (never run) by tests/bindings/node.sh with `tsc --noEmit --strict`: the declarations
// of index.d.ts describe the API as the tests use it.
import * as veritee from '..';

async function main(): Promise<void> {
  const r: veritee.Result = await veritee.verify('quote.bin', {
    collateral: 'collateral/', at: '2025-07-19T10:01:17Z', trustAnchors: ['root.pem'],
    timeMode: 'expiry-only', raiseErrors: false,
  });
  const status: string | null = r.status;
  const ids: string[] = r.advisoryIds;
  const claims: Record<string, unknown> | null = r.claims;
  if (r.error !== null) {
    const e: veritee.VeriteeError = r.error;
    const parts: [string, number, string, string] = [e.code, e.number, e.check, e.detail];
    void parts;
  }
  const v = new veritee.Verifier({ collateralTtl: Infinity });
  const many: veritee.Result[] = await Promise.all([
    v.verify(Buffer.alloc(8), { at: new Date(), nonce: 'aa', maxAge: 60 }),
    v.verify(new Uint8Array(8), { at: 1752919277, reportData: Buffer.alloc(64), vek: 'vcek.der' }),
  ]);
  const one: veritee.Result = v.verifySync('doc.cose', { at: 1n });
  v.close();
  const p = new veritee.Policy({ version: 1, rules: { claim: 'tee', exists: true } });
  const verdict: veritee.PolicyResult = p.evaluate(one);
  const digest: Buffer = p.digest;
  const t: string | null = veritee.claimType('tdx.mrtd');
  veritee.checkClaims(claims ?? {});
  const key = new veritee.RuntimeKey('P-384');
  const rd: Buffer = veritee.reportDataFor(Buffer.alloc(32), key);
  const c = new veritee.Client('https://broker.example', { caFile: 'ca.pem', retries: 2 });
  const fn: veritee.EvidenceFunction = async (reportData, nonce, spki) => Buffer.concat([reportData, nonce, spki]);
  const a = await c.attest(fn, key);
  const rel = await c.release('pepper', key, { token: a.token, cms: false });
  const secret: Buffer = rel.secret;
  const at = new veritee.Attester('tsm', { tsmRoot: '/sys/kernel/config/tsm/report' });
  const { evidence, aux } = at.evidenceSync(rd);
  await c.release('pepper', key, { evidence: at });
  c.close();
  void [status, ids, many, verdict, digest, t, secret, evidence, aux, veritee.version,
    veritee.toEpoch('0')];
}
void main;
