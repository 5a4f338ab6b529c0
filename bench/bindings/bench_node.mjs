// Verifications per second through the Node.js binding, warm Verifier, as bench/bench_bindings.c
// measures C: verifySync on the main thread, and verify() (the libuv thread pool; bench.sh sets
// UV_THREADPOOL_SIZE=1 and pins the process to one core) with 32 promises in flight.
// Usage: VERITEE_NODE_PKG=DIR node bench_node.mjs FIXTURES SECONDS
// Prints one line per evidence: KIND LABEL SYNC_WALL SYNC_CPU ASYNC_WALL ASYNC_CPU (per second of
// wall-clock time, and per second of the process's CPU time, every thread's).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const veritee = createRequire(import.meta.url)(process.env.VERITEE_NODE_PKG);
const root = process.argv[2];
const seconds = Number(process.argv[3] || 2);
const ev = JSON.parse(readFileSync(path.join(here, 'evidence.json'), 'utf8'));

const cpuSeconds = (u) => (u.user + u.system) / 1e6;

function rates(n, start, cpu0) {
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  return `${(n / wall).toFixed(0)} ${(n / cpuSeconds(process.cpuUsage(cpu0))).toFixed(0)}`;
}

function measureSync(fn) {
  for (let i = 0; i < 500; i++) fn(); // warm-up: the JIT, the caches
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  for (;;) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    if (process.hrtime.bigint() >= deadline) return rates(n, start, cpu0);
  }
}

async function measureAsync(fn) {
  for (let i = 0; i < 500; i++) await fn();
  let n = 0;
  const cpu0 = process.cpuUsage();
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
  return rates(n, start, cpu0);
}

async function row(kind, label, v, evidence, opts) {
  const r = v.verifySync(evidence, opts);
  if (!r.verified) throw new Error(`${label}: not verified`);
  const s = measureSync(() => v.verifySync(evidence, opts));
  const a = await measureAsync(() => v.verify(evidence, opts));
  console.log(`${kind} ${label} ${s} ${a}`);
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
