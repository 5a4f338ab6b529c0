// Shared by the tests: the package under test (VERITEE_NODE_PKG: where tests/bindings/node.sh
// built it), the fixtures, and `veritee verify` for the command line's verdicts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
export const veritee = require(process.env.VERITEE_NODE_PKG || path.join(here, '..'));

export function fixturesRoot() {
  for (const v of ['VERITEE_FIXTURES', 'VT_FIXTURES', 'VT_FIXTURES_DEFAULT']) {
    if (process.env[v]) return process.env[v];
  }
  const guess = path.join(here, '..', '..', '..', '..', 'shared', 'fixtures');
  return existsSync(guess) ? guess : null;
}

export const ROOT = fixturesRoot();
export const HAVE_FIXTURES = ROOT !== null && existsSync(path.join(ROOT, 'dcap'));
if (!HAVE_FIXTURES && process.env.CI === 'true') {
  throw new Error(`fixtures not found at ${ROOT} (set VERITEE_FIXTURES); CI requires them`);
}
/** node:test's skip option: a message when the fixtures are absent. */
export const needFixtures = HAVE_FIXTURES ? false : `fixtures not found at ${ROOT} (set VERITEE_FIXTURES)`;

/** The environment of the veritee command: without the LD_PRELOAD of a sanitizer runtime that
 * node needs for an instrumented libveritee.so (tests/bindings/node.sh). */
export function cliEnv() {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  return env;
}

export function cliVerify(args) {
  const bin = process.env.VERITEE_BINARY;
  if (!bin) return null;
  const r = spawnSync(bin, ['verify', ...args], { encoding: 'utf8', env: cliEnv() });
  return JSON.parse(r.stdout);
}

export function cli(args, opts) {
  return execFileSync(process.env.VERITEE_BINARY, args, { env: cliEnv(), ...(opts || {}) });
}

/** '2022-10-12 13:49:51+00:00' -> unix seconds. */
export function utc(s) {
  return Math.floor(Date.parse(s.replace(' ', 'T')) / 1000);
}
