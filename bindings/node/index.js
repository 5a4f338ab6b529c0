'use strict';
// veritee for Node.js: verification of confidential-computing attestation evidence and
// attestation policies over the installed libveritee (docs/bindings.md). The addon
// (src/addon.cc) runs verifications on the libuv thread pool; this file normalises arguments.

const fs = require('node:fs');
const path = require('node:path');

const native = require(process.env.VERITEE_NODE_ADDON ||
  path.join(__dirname, 'build', 'Release', 'veritee.node'));

const MAX_FILE = 2 * 1024 * 1024;

function readFile(what, p) {
  const b = fs.readFileSync(p);
  if (b.length > MAX_FILE) {
    throw new RangeError(`${what}: ${p} is larger than ${MAX_FILE} bytes`);
  }
  return b;
}

// Bytes from a Buffer/Uint8Array, or a file path (string or URL).
function bytesOrFile(what, v) {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string' || v instanceof URL) return readFile(what, v);
  throw new TypeError(`${what}: expected a Buffer or a path`);
}

// Bytes from a Buffer/Uint8Array or a hex string.
function bytesOrHex(what, v) {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    if (v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v)) {
      throw new TypeError(`${what}: not hex`);
    }
    return Buffer.from(v, 'hex');
  }
  throw new TypeError(`${what}: expected a Buffer or hex`);
}

/**
 * A verification time as unix seconds: undefined (now), a Date, a number (a fraction dropped
 * toward the earlier second), a bigint, or a string as `veritee verify --at` takes it.
 */
function toEpoch(at) {
  if (at === undefined || at === null) return Math.floor(Date.now() / 1000);
  if (at instanceof Date) {
    const ms = at.getTime();
    if (!Number.isFinite(ms)) throw new RangeError('at: an invalid Date');
    return Math.floor(ms / 1000);
  }
  if (typeof at === 'number') {
    if (!Number.isFinite(at)) throw new RangeError(`at: ${at} is not a time`);
    return Math.floor(at);
  }
  if (typeof at === 'bigint') return Number(at);
  if (typeof at === 'string') return native.parseTime(at);
  throw new TypeError('at: expected a Date, unix seconds or a string');
}

function nativeOptions(options) {
  const o = options || {};
  const reportData = bytesOrHex('reportData', o.reportData);
  if (reportData !== undefined && reportData.length > 64) {
    throw new RangeError(`reportData: ${reportData.length} bytes, at most 64`);
  }
  if (o.maxAge !== undefined && o.maxAge !== null &&
      !(Number.isInteger(o.maxAge) && o.maxAge >= 0)) {
    throw new RangeError(`maxAge: ${o.maxAge} is not a number of seconds`);
  }
  return {
    now: toEpoch(o.at),
    nonce: bytesOrHex('nonce', o.nonce),
    maxAge: o.maxAge === null ? undefined : o.maxAge,
    reportData,
    vek: bytesOrFile('vek', o.vek),
    certChain: bytesOrFile('certChain', o.certChain),
    crl: bytesOrFile('crl', o.crl),
  };
}

function evidenceBytes(evidence) {
  if (evidence instanceof Uint8Array) return evidence;
  if (typeof evidence === 'string' || evidence instanceof URL) {
    return readFile('evidence', evidence);
  }
  throw new TypeError('evidence: expected a Buffer or a path');
}

/** The outcome of one verification (see index.d.ts). */
class Result {
  constructor(r, error) {
    this.verified = error === undefined;
    this.evidenceType = r ? r.evidenceType : (error && error.evidenceType) || 'unknown';
    this.tee = r ? r.tee : null;
    this.status = r ? r.status : null;
    this.advisoryIds = r ? r.advisoryIds : [];
    this.debug = r ? r.debug : null;
    this.error = error === undefined ? null : error;
    // The typed claims (native), serialised on first access.
    Object.defineProperty(this, '_native', { value: r ? r.claims : null, enumerable: false });
    Object.defineProperty(this, '_json', { value: undefined, writable: true, enumerable: false });
    Object.defineProperty(this, '_claims', { value: undefined, writable: true, enumerable: false });
  }

  /** The claims as the library serialises them (vt_claims_to_json); null when not verified. */
  get claimsJson() {
    if (this._json === undefined) {
      this._json = this._native === null ? null : native.claimsJson(this._native);
    }
    return this._json;
  }

  /** Every claim (docs/claims.md), parsed on first access; null when not verified. */
  get claims() {
    if (this._claims === undefined) {
      const j = this.claimsJson;
      this._claims = j === null ? null : JSON.parse(j);
    }
    return this._claims;
  }

  /** As `veritee verify` prints it. */
  toJSON() {
    const out = { verified: this.verified, evidence_type: this.evidenceType, claims: this.claims };
    if (this.error) {
      const e = this.error;
      out.error = { code: e.code, number: e.number, category: e.category, message: e.description,
        check: e.check, detail: e.detail };
    }
    return out;
  }
}

function isVeriteeError(e) {
  return e instanceof Error && typeof e.code === 'string' && e.code.startsWith('VT_');
}

/**
 * A verifier that keeps its caches (collateral, verified chains) across calls. Any number of
 * verifications may be in flight at once; each runs on the libuv thread pool.
 */
class Verifier {
  constructor(options) {
    const o = options || {};
    let mode = 0;
    if (o.timeMode === 'expiry-only') mode = 1;
    else if (o.timeMode !== undefined && o.timeMode !== 'strict') {
      throw new RangeError(`timeMode: ${o.timeMode} is neither 'strict' nor 'expiry-only'`);
    }
    let ttl = 0;
    if (o.collateralTtl === Infinity) ttl = -1;
    else if (o.collateralTtl !== undefined) {
      if (!(Number.isFinite(o.collateralTtl) && o.collateralTtl > 0)) {
        throw new RangeError(`collateralTtl: ${o.collateralTtl} is not a positive number of seconds`);
      }
      ttl = Math.floor(o.collateralTtl);
    }
    const anchors = (o.trustAnchors || []).map(String);
    const collateral = o.collateral === undefined || o.collateral === null ? null : String(o.collateral);
    this._v = new native.NativeVerifier(collateral, anchors, mode, ttl);
  }

  /** Verify on the libuv thread pool: a Promise of the Result, rejected with the error. */
  verify(evidence, options) {
    let ev, opts;
    try {
      ev = evidenceBytes(evidence);
      opts = nativeOptions(options);
    } catch (e) {
      return Promise.reject(e);
    }
    const raise = !(options && options.raiseErrors === false);
    let p;
    try {
      p = this._v.verify(ev, opts);
    } catch (e) {
      return Promise.reject(e);
    }
    return p.then((r) => new Result(r), (e) => {
      if (!raise && isVeriteeError(e)) return new Result(null, e);
      throw e;
    });
  }

  /** Verify on the calling thread (blocks the event loop). */
  verifySync(evidence, options) {
    const ev = evidenceBytes(evidence);
    const opts = nativeOptions(options);
    try {
      return new Result(this._v.verifySync(ev, opts));
    } catch (e) {
      if (options && options.raiseErrors === false && isVeriteeError(e)) return new Result(null, e);
      throw e;
    }
  }

  /** Free the verifier once the verifications in flight have settled. Idempotent. */
  close() {
    this._v.close();
  }
}

/** Verify one piece of evidence with a verifier made for it (as `veritee verify` does). */
async function verify(evidence, options) {
  const o = options || {};
  const v = new Verifier({ collateral: o.collateral, trustAnchors: o.trustAnchors,
    timeMode: o.timeMode, collateralTtl: Infinity });
  try {
    return await v.verify(evidence, o);
  } finally {
    v.close();
  }
}

function jsonBytes(what, v) {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v);
  if (v !== null && typeof v === 'object') return Buffer.from(JSON.stringify(v));
  throw new TypeError(`${what}: expected JSON text or an object`);
}

/** A compiled attestation or release policy (docs/policy.md). */
class Policy {
  constructor(source) {
    this._p = new native.NativePolicy(jsonBytes('policy', source));
  }

  static fromFile(p) {
    return new Policy(readFile('policy', p));
  }

  /** SHA-256 of the exact policy bytes. */
  get digest() {
    return this._p.digest();
  }

  /** Evaluate on a verified Result, or claims as an object or JSON text. */
  evaluate(claims) {
    let json;
    if (claims instanceof Result) {
      if (!claims.verified) {
        const e = new Error('VT_E_ARG: policy.claims: the verification failed: there are no claims to evaluate');
        Object.assign(e, { code: 'VT_E_ARG', number: 100, category: 'usage', check: 'policy.claims',
          detail: 'the verification failed: there are no claims to evaluate' });
        throw e;
      }
      json = claims._native; // the typed claims: no JSON involved
    } else {
      json = jsonBytes('claims', claims);
    }
    const r = this._p.evaluate(json);
    return { allowed: r.allowed, reason: r.reason, explanation: JSON.parse(r.explanation) };
  }
}

function claimType(name) {
  return native.claimType(name);
}

function checkClaims(claims) {
  native.checkClaims(jsonBytes('claims', claims));
}

/** A key pair that exists only in this process (RSA-2048/3072/4096, P-256/384/521). */
class RuntimeKey {
  constructor(type) {
    this.type = type === undefined ? 'P-256' : type;
    this._k = new native.NativeKey(this.type);
  }

  /** The public JWK (RFC 7638 members). */
  get publicJwk() {
    return JSON.parse(this._k.publicJson());
  }
}

/** The report data evidence must carry: SHA-512(nonce || the key's RFC 7638 thumbprint input). */
function reportDataFor(nonce, key) {
  if (!(key instanceof RuntimeKey)) throw new TypeError('key: a RuntimeKey');
  return native.reportDataFor(bytesOrHex('nonce', nonce), key._k);
}

/** Evidence from inside a TEE: backend "tsm" (configfs-tsm) or "nsm" (AWS Nitro). */
class Attester {
  constructor(backend, options) {
    const o = options || {};
    if (o.tsmPrivlevel !== undefined && !(Number.isInteger(o.tsmPrivlevel) &&
        o.tsmPrivlevel >= 0 && o.tsmPrivlevel <= 3)) {
      throw new RangeError(`tsmPrivlevel: ${o.tsmPrivlevel} is not in 0..3`);
    }
    this._a = new native.NativeAttester(String(backend), {
      tsmRoot: o.tsmRoot === undefined ? undefined : String(o.tsmRoot),
      tsmPrivlevel: o.tsmPrivlevel, tsmWaitMs: o.tsmWaitMs,
      nsmPath: o.nsmPath === undefined ? undefined : String(o.nsmPath),
    });
  }

  get backend() { return this._a.backend(); }

  get tee() { return this._a.tee(); }

  /** Evidence binding reportData (SGX/TDX/SEV-SNP) or nonce/publicKey/userData (Nitro).
   * Runs on the calling thread (the device call blocks). */
  evidenceSync(reportData, options) {
    const o = options || {};
    const r = this._a.evidenceSync(bytesOrHex('reportData', reportData) || Buffer.alloc(0),
      bytesOrHex('nonce', o.nonce), bytesOrHex('publicKey', o.publicKey),
      bytesOrHex('userData', o.userData));
    return r;
  }

  close() { this._a.close(); }
}

function evidenceSource(e) {
  if (e instanceof Attester) return e._a;
  if (typeof e === 'function') return e;
  throw new TypeError('evidence: an Attester or a function (reportData, nonce, spki) => Buffer');
}

/** The broker client: attest and release (docs/client.md); requests run on the thread pool. */
class Client {
  constructor(url, options) {
    const o = options || {};
    this._c = new native.NativeClient(String(url), o.caFile === undefined ? null : String(o.caFile),
      o.timeoutMs === undefined ? 15000 : o.timeoutMs, o.retries === undefined ? 0 : o.retries,
      o.backoffMs === undefined ? 200 : o.backoffMs);
  }

  /** challenge -> evidence -> /v1/attest: {token, claims}. */
  async attest(evidence, key) {
    if (!(key instanceof RuntimeKey)) throw new TypeError('key: a RuntimeKey');
    const r = await this._c.attest(evidenceSource(evidence), key._k);
    return { token: r.token, claims: JSON.parse(r.claims) };
  }

  /** Release a secret with {token} from attest, or {evidence}: {secret, version, receipt}. */
  async release(keyName, key, options) {
    const o = options || {};
    if (!(key instanceof RuntimeKey)) throw new TypeError('key: a RuntimeKey');
    if ((o.token === undefined) === (o.evidence === undefined)) {
      throw new TypeError('release: give a token or evidence, not both or neither');
    }
    const src = o.evidence === undefined ? null : evidenceSource(o.evidence);
    const r = await this._c.release(String(keyName), key._k,
      o.token === undefined ? null : String(o.token), src, !!o.cms);
    return { secret: r.secret, version: r.version,
      receipt: r.receipt === null ? null : JSON.parse(r.receipt) };
  }

  close() { this._c.close(); }
}

module.exports = {
  verify, Verifier, Result, Policy, claimType, checkClaims, toEpoch, version: native.version,
  RuntimeKey, Attester, Client, reportDataFor,
};
