// veritee's Node.js binding beside other people's JavaScript verifiers, on the same evidence in
// the same process (bench/bindings/bench.sh runs it on one core):
//   dcap   @phala/dcap-qvl (pure JavaScript): verify(quote, collateral, now) with the collateral
//          of the fixture directory; it has no cache, so every call parses and checks the
//          collateral and the PCK chain.
//   nitro  @evervault/attestation-bindings (Rust, N-API): attestEnclave checks a document
//          against the wall clock only, so bench.sh runs this mode under faketime at the
//          document's time, one document per process. Its last step compares the document's
//          user_data with a TLS certificate's key, which the fixtures do not have: every call
//          ends there, after the chain and the COSE signature were verified (the message it
//          prints says which step failed and is checked).
//   snp    @lit-protocol/sev-snp-utils-sdk (Rust, WASM): verify_attestation_report(report, VCEK).
// veritee is measured warm (one Verifier, collateral and chains cached) and cold (a Verifier per
// verification: collateral loaded and verified, chains verified), the peers as they run. Rates
// are per second of the process's CPU time.
// Usage: VERITEE_NODE_PKG=DIR node bench_peers.mjs dcap|snp FIXTURES SECONDS
//        VERITEE_NODE_PKG=DIR node bench_peers.mjs nitro FIXTURES SECONDS FILE AT
// Prints: PEER KIND LABEL WARM COLD PEER_RATE PEER_VERDICT
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const veritee = require(process.env.VERITEE_NODE_PKG);
const peers = createRequire(path.join(process.env.VT_PEERS_DIR || here, 'package.json'));
const [mode, root, secs, file, at] = process.argv.slice(2);
const seconds = Number(secs || 2);
const ev = JSON.parse(readFileSync(path.join(here, 'evidence.json'), 'utf8'));

// Verifications per second of the process's CPU time (every thread's): the machine may be shared.
async function rate(fn) {
  await fn();
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  for (;;) {
    await fn();
    n++;
    if (process.hrtime.bigint() >= deadline) {
      const u = process.cpuUsage(cpu0);
      return n / ((u.user + u.system) / 1e6);
    }
  }
}

async function veriteeRates(evidence, opts, verifierOpts) {
  const v = new veritee.Verifier(verifierOpts);
  const warm = await rate(() => v.verifySync(evidence, opts));
  v.close();
  const cold = await rate(() => {
    const c = new veritee.Verifier(verifierOpts);
    c.verifySync(evidence, opts);
    c.close();
  });
  return [warm, cold];
}

const fmt = (x) => (typeof x === 'number' ? x.toFixed(1) : x);
const out = (peer, kind, label, warm, cold, peerRate, verdict) =>
  console.log([peer, kind, label, fmt(warm), fmt(cold), fmt(peerRate), verdict].join(' '));

// The signed member of a DCAP collateral document, byte for byte ({"tcbInfo":{...},"signature":...}).
function signedMember(text, name) {
  const start = text.indexOf(`"${name}":`) + name.length + 3;
  const end = text.lastIndexOf(',"signature"');
  return text.slice(start, end);
}

if (mode === 'dcap') {
  const qvl = peers('@phala/dcap-qvl');
  for (const e of ev.dcap) {
    const d = path.join(root, 'dcap', e.set);
    const rd = (f) => readFileSync(path.join(d, f));
    const quote = rd('quote.bin');
    const tcb = rd('tcb_info.json').toString();
    const qe = rd('qe_identity.json').toString();
    const collateral = {
      pck_crl_issuer_chain: rd(existsSync(path.join(d, 'pck_crl_issuer_chain.pem'))
        ? 'pck_crl_issuer_chain.pem' : 'tcb_info_issuer_chain.pem').toString(),
      root_ca_crl: rd('root_ca_crl.der').toString('hex'),
      pck_crl: rd('pck_crl.der').toString('hex'),
      tcb_info_issuer_chain: rd('tcb_info_issuer_chain.pem').toString(),
      tcb_info: signedMember(tcb, 'tcbInfo'),
      tcb_info_signature: JSON.parse(tcb).signature,
      qe_identity_issuer_chain: rd('qe_identity_issuer_chain.pem').toString(),
      qe_identity: signedMember(qe, 'enclaveIdentity'),
      qe_identity_signature: JSON.parse(qe).signature,
    };
    const [warm, cold] = await veriteeRates(quote, { at: e.at }, { collateral: d });
    const ours = new veritee.Verifier({ collateral: d }).verifySync(quote, { at: e.at });
    let peerRate = '-';
    let verdict;
    try {
      const r = qvl.verify(quote, collateral, e.at);
      const same = r.status === ours.status &&
        [...r.advisory_ids].sort().join() === [...ours.advisoryIds].sort().join();
      verdict = same ? `same:${r.status}` : `DIFFERENT:${r.status}`;
      peerRate = await rate(() => qvl.verify(quote, collateral, e.at));
    } catch (err) {
      verdict = `fails:${String(err.message).replace(/\s+/g, '_').slice(0, 60)}`;
    }
    out('@phala/dcap-qvl', 'dcap', e.set, warm, cold, peerRate, verdict);
  }
} else if (mode === 'nitro') {
  const evervault = peers('@evervault/attestation-bindings');
  const doc = readFileSync(path.join(root, 'nitro', file));
  const [warm, cold] = await veriteeRates(doc, { at: Number(at) });
  // Any certificate: the comparison with its key is the last step (see the top of this file).
  const cert = readFileSync(path.join(root, 'nitro/aws-root/AWS_NitroEnclaves_Root-G1.der'));
  evervault.attestEnclave(cert, [{}], doc);
  const peerRate = await rate(() => evervault.attestEnclave(cert, [{}], doc));
  out('@evervault/attestation-bindings', 'nitro', file, warm, cold, peerRate, 'see-stderr');
} else if (mode === 'snp') {
  const lit = peers('@lit-protocol/sev-snp-utils-sdk');
  await lit.initWasmSevSnpUtilsSdk();
  // Lit takes a plain SNP report: the Azure HCL report's is the derived .snp-report.bin.
  const reports = ev.snp.map((e) => (e.report === 'trustee-azure/hcl-report.bin'
    ? { ...e, report: 'trustee-azure/derived/hcl-report.snp-report.bin' } : e));
  for (const e of reports) {
    const report = readFileSync(path.join(root, 'snp', e.report));
    let vek = readFileSync(path.join(root, 'snp', e.vek));
    const [warm, cold] = await veriteeRates(report, { at: e.at, vek }, {});
    if (e.vek.endsWith('.pem')) { // Lit takes the VCEK as DER
      const b64 = vek.toString().split('-----BEGIN CERTIFICATE-----')[1].split('-----END')[0];
      vek = Buffer.from(b64.replace(/\s/g, ''), 'base64');
    }
    const b64report = report.toString('base64');
    let peerRate = '-';
    let verdict = 'verified';
    try {
      await lit.verify_attestation_report(b64report, vek);
      peerRate = await rate(() => lit.verify_attestation_report(b64report, vek));
    } catch (err) {
      verdict = `fails:${String(err).replace(/\s+/g, '_').slice(0, 60)}`;
    }
    out('@lit-protocol/sev-snp-utils-sdk', 'snp', e.report, warm, cold, peerRate, verdict);
  }
} else {
  console.error('usage: bench_peers.mjs dcap|snp FIXTURES SECONDS | nitro FIXTURES SECONDS FILE AT');
  process.exit(2);
}
