// Type declarations of the veritee Node.js binding (index.js, src/addon.cc).

/** Bytes, or the path of a file holding them. */
export type BytesOrPath = Uint8Array | string | URL;
/** Bytes, or a hex string. */
export type BytesOrHex = Uint8Array | string;
/** A verification time: a Date, unix seconds, or RFC 3339 / unix seconds as text. */
export type TimeLike = Date | number | bigint | string;

/** An Error of libveritee. */
export interface VeriteeError extends Error {
  /** The symbolic name, e.g. "VT_E_EXPIRED". */
  code: string;
  /** Its stable number, e.g. 701. */
  number: number;
  /** "usage", "malformed", "truncated", "unsupported", "signature", "chain", "validity",
   * "mismatch", "io", "storage", "internal". */
  category: string;
  /** The stable name of the check that failed, e.g. "pck_crl.issuer". */
  check: string;
  /** The values involved. */
  detail: string;
  /** The generic message of the code. */
  description: string;
  /** The detected evidence type (verification errors). */
  evidenceType?: string;
  /** Broker refusals: the HTTP status (401, 403 a policy's denial, 400, 404). */
  httpStatus?: number;
  /** Broker refusals: the broker's reason id. */
  reason?: string;
}

export interface VerifierOptions {
  /** A collateral directory or an http(s):// base URL (Intel PCS, PCCS, AMD KDS, a veritee
   * cache). */
  collateral?: string | null;
  /** Files (PEM or DER) of extra trusted roots, added to the embedded vendor roots. */
  trustAnchors?: string[];
  /** "strict" (default) or "expiry-only" (only notAfter/nextUpdate, as Intel's QVL). */
  timeMode?: 'strict' | 'expiry-only';
  /** Seconds fetched collateral is reused (default 60; Infinity: forever). */
  collateralTtl?: number;
}

export interface VerifyOptions {
  /** The verification time (default now). */
  at?: TimeLike;
  /** Nitro: the document's nonce must equal these bytes. */
  nonce?: BytesOrHex;
  /** Nitro: the document may be at most this many seconds old at `at`. */
  maxAge?: number;
  /** SGX, TDX, SEV-SNP: REPORT_DATA must be these bytes (at most 64) then zeros. */
  reportData?: BytesOrHex;
  /** SEV-SNP: the VCEK or VLEK (DER or PEM). */
  vek?: BytesOrPath;
  /** SEV-SNP: ASK or ASVK then ARK (PEM). */
  certChain?: BytesOrPath;
  /** SEV-SNP: the AMD CRL. */
  crl?: BytesOrPath;
  /** false: a failed verification resolves with verified false and the error. */
  raiseErrors?: boolean;
}

export declare class Result {
  /** Every check passed (the verdict is `status`; it may be OutOfDate or Revoked). */
  readonly verified: boolean;
  /** "dcap-quote", "nitro-document", "snp-report", "azure-hcl-report" or "unknown". */
  readonly evidenceType: string;
  /** "sgx", "tdx", "sev-snp", "nitro"; null when not verified. */
  readonly tee: string | null;
  /** The converged TCB status ("UpToDate", "SWHardeningNeeded", ...). */
  readonly status: string | null;
  /** Intel security advisory IDs of the matched TCB level. */
  readonly advisoryIds: string[];
  readonly debug: boolean | null;
  /** The error of a failed verification (raiseErrors: false), else null. */
  readonly error: VeriteeError | null;
  /** Every claim (docs/claims.md), parsed on first access; null when not verified. */
  readonly claims: Record<string, unknown> | null;
  /** The claims as the library serialised them. */
  readonly claimsJson: string | null;
  /** As `veritee verify` prints it. */
  toJSON(): object;
}

/** A verifier keeping its caches (collateral, verified chains) across calls. */
export declare class Verifier {
  constructor(options?: VerifierOptions);
  /** Verify on the libuv thread pool. Rejects with a VeriteeError. */
  verify(evidence: BytesOrPath, options?: VerifyOptions): Promise<Result>;
  /** Verify on the calling thread. Throws a VeriteeError. */
  verifySync(evidence: BytesOrPath, options?: VerifyOptions): Result;
  /** Free once the verifications in flight have settled. Idempotent. */
  close(): void;
}

/** Verify one piece of evidence with a verifier made for it (as `veritee verify` does). */
export declare function verify(evidence: BytesOrPath,
  options?: VerifierOptions & VerifyOptions): Promise<Result>;

/** A verification time as unix seconds. */
export declare function toEpoch(at?: TimeLike): number;

export interface PolicyResult {
  allowed: boolean;
  /** "debug", "status", or the path of the first failing rule; "" when allowed. */
  reason: string;
  /** One entry per evaluated check, in document order. */
  explanation: Array<Record<string, unknown>>;
}

/** A compiled attestation or release policy (docs/policy.md). */
export declare class Policy {
  /** Throws a VeriteeError whose check is the JSON path of the problem. */
  constructor(source: string | Uint8Array | object);
  static fromFile(path: string | URL): Policy;
  /** SHA-256 of the exact policy bytes. */
  readonly digest: Buffer;
  evaluate(claims: Result | Record<string, unknown> | string | Uint8Array): PolicyResult;
}

/** The type policies see for a claim name, or null for an unknown name. */
export declare function claimType(name: string): string | null;
/** Throws VT_E_BAD_FIELD (check: the claim) unless every claim is known and of its type. */
export declare function checkClaims(claims: Record<string, unknown> | string | Uint8Array): void;

/** A key pair that exists only in this process. */
export declare class RuntimeKey {
  constructor(type?: 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'P-256' | 'P-384' | 'P-521');
  readonly type: string;
  readonly publicJwk: Record<string, string>;
}

/** SHA-512(nonce || the key's RFC 7638 thumbprint input): 64 bytes. */
export declare function reportDataFor(nonce: BytesOrHex, key: RuntimeKey): Buffer;

export interface AttesterOptions {
  tsmRoot?: string;
  tsmPrivlevel?: number;
  tsmWaitMs?: number;
  nsmPath?: string;
}

/** Evidence from inside a TEE: "tsm" (configfs-tsm: TDX, SEV-SNP) or "nsm" (AWS Nitro). */
export declare class Attester {
  constructor(backend: string, options?: AttesterOptions);
  readonly backend: string;
  readonly tee: string;
  evidenceSync(reportData?: BytesOrHex, options?: { nonce?: BytesOrHex; publicKey?: BytesOrHex;
    userData?: BytesOrHex }): { evidence: Buffer; aux: Buffer };
  close(): void;
}

/** A JavaScript evidence source for the client. */
export type EvidenceFunction = (reportData: Buffer, nonce: Buffer, spki: Buffer) =>
  Uint8Array | { evidence: Uint8Array; vek?: Uint8Array } |
  Promise<Uint8Array | { evidence: Uint8Array; vek?: Uint8Array }>;

export interface ClientOptions {
  caFile?: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

/** The broker client (docs/client.md). Refusals reject with httpStatus and reason. */
export declare class Client {
  constructor(url: string, options?: ClientOptions);
  attest(evidence: Attester | EvidenceFunction, key: RuntimeKey):
    Promise<{ token: string; claims: Record<string, unknown> }>;
  release(keyName: string, key: RuntimeKey, options: { token?: string;
    evidence?: Attester | EvidenceFunction; cms?: boolean }):
    Promise<{ secret: Buffer; version: number; receipt: Record<string, unknown> | null }>;
  close(): void;
}

export declare const version: string;
