// A receipt checked in the browser (docs/audit-log.md, "Checking a receipt"): the checkpoint's
// ES256 signature with the log's public key (a JWK from the broker's JWKS), then the RFC 9162
// inclusion proof of SHA-256(0x00 || entry) against the checkpoint's root, with WebCrypto. The
// result names the first failing check, as vt_receipt_verify does.

class ReceiptError extends Error {
  constructor(check, detail) {
    super(`${check}: ${detail}`);
    this.check = check;
  }
}

const fail = (check, detail) => {
  throw new ReceiptError(check, detail);
};

function hexBytes(s, n, check) {
  if (typeof s !== 'string' || s.length !== 2 * n || !/^[0-9a-f]*$/.test(s)) {
    fail(check, `expected ${2 * n} lowercase hex digits`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

function b64Bytes(s, check) {
  if (typeof s !== 'string' || !/^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    fail(check, 'not standard base64 with padding');
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) {
    out[i] = bin.charCodeAt(i);
  }
  return out;
}

function toB64(bytes) {
  let s = '';
  for (const b of bytes) {
    s += String.fromCharCode(b);
  }
  return btoa(s);
}

async function sha256(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const buf = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

const isInt = (v) => Number.isSafeInteger(v) && v >= 0;

// The receipt object out of what the operator pasted: a receipt, a release's answer
// ({receipt, receipt_kid}) or the CLI's ({receipt: {receipt, receipt_kid}}).
export function unwrap(pasted) {
  let o = pasted;
  let kid = null;
  for (let i = 0; i < 3 && o && typeof o === 'object' && !('checkpoint' in o); i++) {
    if (typeof o.receipt_kid === 'string') {
      kid = o.receipt_kid;
    }
    o = o.receipt;
  }
  if (!o || typeof o !== 'object') {
    fail('receipt.json', 'no receipt object found');
  }
  return { receipt: o, kid };
}

// Verify receipt r (an object) with the JWK of the log key. Resolves to {index, size, root, time,
// origin}; rejects with a ReceiptError naming the check.
export async function verifyReceipt(r, jwk) {
  const names = ['version', 'entry', 'index', 'tree_size', 'inclusion', 'checkpoint'];
  for (const k of Object.keys(r)) {
    if (!names.includes(k)) {
      fail('receipt.fields', `unknown member ${k}`);
    }
  }
  for (const k of names) {
    if (!(k in r)) {
      fail('receipt.fields', `missing member ${k}`);
    }
  }
  if (r.version !== 1) {
    fail('receipt.version', `version ${JSON.stringify(r.version)}, expected 1`);
  }
  const entry = b64Bytes(r.entry, 'receipt.entry');
  if (!isInt(r.index)) {
    fail('receipt.index', 'not a non-negative integer');
  }
  if (!isInt(r.tree_size)) {
    fail('receipt.tree_size', 'not a non-negative integer');
  }
  if (!Array.isArray(r.inclusion) || r.inclusion.length > 64) {
    fail('receipt.inclusion', 'not an array of at most 64 hashes');
  }
  const proof = r.inclusion.map((h) => hexBytes(h, 32, 'receipt.inclusion'));
  const cp = r.checkpoint;
  if (!cp || typeof cp !== 'object' || typeof cp.body !== 'string' || Object.keys(cp).length !== 2) {
    fail('receipt.checkpoint', 'expected {body, signature}');
  }
  const sig = hexBytes(cp.signature, 64, 'receipt.checkpoint');

  // The checkpoint: signature first, then its four lines.
  let key;
  try {
    key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  } catch (e) {
    fail('receipt.checkpoint.key', `the log key is not a P-256 point (${e.message})`);
  }
  const body = new TextEncoder().encode(cp.body);
  const good = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sig, body);
  if (!good) {
    fail('receipt.checkpoint.signature', 'the checkpoint signature does not verify with the log key');
  }
  const m = /^([\x21-\x7e]{1,255})\n(0|[1-9][0-9]*)\n([A-Za-z0-9+/]{43}=)\n(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\n$/.exec(cp.body);
  if (!m) {
    fail('receipt.checkpoint.lines', 'the body is not origin, size, root and time lines');
  }
  const size = Number(m[2]);
  const root = b64Bytes(m[3], 'receipt.checkpoint.root');
  if (r.tree_size !== size) {
    fail('receipt.tree_size', `tree_size ${r.tree_size}, the checkpoint's size ${size}`);
  }
  if (r.index >= size) {
    fail('receipt.index', `index ${r.index} is not below the size ${size}`);
  }

  // RFC 9162 section 2.1.3.2.
  let fn = r.index;
  let sn = size - 1;
  let h = await sha256(new Uint8Array([0]), entry);
  for (const p of proof) {
    if (sn === 0) {
      fail('receipt.inclusion', 'the proof is longer than the tree is deep');
    }
    if (fn % 2 === 1 || fn === sn) {
      h = await sha256(new Uint8Array([1]), p, h);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      h = await sha256(new Uint8Array([1]), h, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) {
    fail('receipt.inclusion', 'the proof is shorter than the tree is deep');
  }
  if (toB64(h) !== m[3]) {
    fail('receipt.inclusion', `the proof leads to root ${toB64(h)}, the checkpoint's root is ${m[3]}`);
  }
  void root;
  return { index: r.index, size, root: m[3], time: m[4], origin: m[1], entry: new TextDecoder().decode(entry) };
}
