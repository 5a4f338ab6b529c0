// Verifications per second through the Node.js binding on one thread, warm Verifier, as
// bench/bench_*.c measure "1 thr/s": verifySync on the main thread, and verify() (the libuv
// thread pool; bench.sh sets UV_THREADPOOL_SIZE=1 and pins the process to one core) with 32
// promises in flight.
// Usage: VERITEE_NODE_PKG=DIR node bench_node.mjs FIXTURES SECONDS
// Prints one line per evidence: KIND LABEL SYNC_RATE ASYNC_RATE.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const veritee = createRequire(import.meta.url)(process.env.VERITEE_NODE_PKG);
const root = process.argv[2];
const seconds = Number(process.argv[3] || 2);
const ev = JSON.parse(readFileSync(path.join(here, 'evidence.json'), 'utf8'));

function measureSync(fn) {
  fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  for (;;) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    const now = process.hrtime.bigint();
    if (now >= deadline) return n / (Number(now - start) / 1e9);
  }
}

async function measureAsync(fn) {
  await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let done = false;
  const worker = async () => {
    while (!done) {
      await fn();
      n++;
      if (process.hrtime.bigint() >= deadline) done = true;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function row(kind, label, v, evidence, opts) {
  const r = v.verifySync(evidence, opts);
  if (!r.verified) throw new Error(`${label}: not verified`);
  const s = measureSync(() => v.verifySync(evidence, opts));
  const a = await measureAsync(() => v.verify(evidence, opts));
  console.log(`${kind} ${label} ${s.toFixed(0)} ${a.toFixed(0)}`);
}

for (const e of ev.dcap) {
  const d = path.join(root, 'dcap', e.set);
  const v = new veritee.Verifier({ collateral: d });
  await row('dcap', e.set, v, readFileSync(path.join(d, 'quote.bin')), { at: e.at });
  v.close();
}
for (const e of ev.nitro) {
  const v = new veritee.Verifier();
  await row('nitro', e.file, v, readFileSync(path.join(root, 'nitro', e.file)), { at: e.at });
  v.close();
}
for (const e of ev.snp) {
  const v = new veritee.Verifier();
  await row('snp', e.report, v, readFileSync(path.join(root, 'snp', e.report)),
    { at: e.at, vek: readFileSync(path.join(root, 'snp', e.vek)) });
  v.close();
}
