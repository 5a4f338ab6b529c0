// Shared by the AWS SDK tests of the KMS drop-in (kms_sdk.test.mjs, kms_sdk_fixtures.test.mjs): a
// `veritee kms serve` on 127.0.0.1 (a free port, a temporary SQLite database and master key), its
// access keys made with `veritee kms access-key create`, enclaves (an RSA key pair and documents
// from the Nitro simulator, tests/support/nitro_doc.c) and CiphertextForRecipient opened with
// OpenSSL's CMS (`openssl cms -decrypt`).
// Environment: VERITEE (the binary), VT_NITRO_DOC (the document tool), VT_KMS_SDK_DIR (where
// node_modules is), TMPDIR.
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";
export const ADMIN_ARN = `arn:aws:iam::${ACCOUNT}:role/admin`;
export const ENCLAVE_ARN = `arn:aws:iam::${ACCOUNT}:role/enclave`;

const veritee = process.env.VERITEE;
const nitroDoc = process.env.VT_NITRO_DOC;
if (!veritee || !process.env.VT_KMS_SDK_DIR) {
    throw new Error("VERITEE and VT_KMS_SDK_DIR must be set (tests/kms_sdk/run.sh sets them)");
}
// The SDK as npm installed it into the build tree (run.sh: npm ci from the lock file).
const require = createRequire(join(process.env.VT_KMS_SDK_DIR, "package.json"));
export const kms = require("@aws-sdk/client-kms");

// A KMS service: `veritee kms serve` with its own database, master key and access keys.
export class Service {
    // opts: {now: RFC 3339 (--now), trustAnchor: a PEM file (--trust-anchor), maxAge: seconds}
    static async start(opts = {}) {
        const s = new Service();
        s.dir = mkdtempSync(join(tmpdir(), "vt-kms-sdk-"));
        s.db = `sqlite:${join(s.dir, "kms.db")}`;
        s.mk = join(s.dir, "master.key");
        writeFileSync(s.mk, execFileSync(veritee, ["broker", "master-key"]));
        s.keys = {
            admin: s.accessKey(ADMIN_ARN, true),
            enclave: s.accessKey(ENCLAVE_ARN, false),
        };
        const args = ["kms", "serve", "--db", s.db, "--master-key-file", s.mk, "--account",
                      ACCOUNT, "--region", REGION, "--listen", "127.0.0.1:0", "--port-file",
                      join(s.dir, "port"), "--threads", "2"];
        if (opts.now) {
            args.push("--now", opts.now);
        }
        if (opts.trustAnchor) {
            args.push("--trust-anchor", opts.trustAnchor);
        }
        if (opts.maxAge) {
            args.push("--recipient-max-age", String(opts.maxAge));
        }
        s.log = join(s.dir, "serve.log");
        s.proc = spawn(veritee, args, { stdio: ["ignore", "ignore", "pipe"] });
        s.stderr = "";
        s.proc.stderr.on("data", (b) => { s.stderr += b; });
        s.exited = new Promise((resolve) => s.proc.on("exit", resolve));
        // The port file appears complete once the server listens (docs/kms.md, Running it).
        const portFile = join(s.dir, "port");
        for (let i = 0; i < 200 && !existsSync(portFile); i++) {
            if (s.proc.exitCode !== null) {
                break;
            }
            await sleep(50);
        }
        if (!existsSync(portFile)) {
            s.stop();
            throw new Error(`veritee kms serve did not start: ${s.stderr}`);
        }
        s.endpoint = `http://127.0.0.1:${readFileSync(portFile, "utf8").trim()}`;
        s.clockOffset = opts.now ? Date.parse(opts.now) - Date.now() : 0;
        return s;
    }

    // `veritee kms access-key create`: {AccessKeyId, SecretAccessKey, Principal, ...}
    accessKey(principal, admin) {
        const args = ["kms", "access-key", "create", "--db", this.db, "--master-key-file", this.mk,
                      "--principal", principal];
        if (admin) {
            args.push("--admin");
        }
        return JSON.parse(execFileSync(veritee, args, { encoding: "utf8" }));
    }

    // A KMSClient as an application writes it: endpoint override, region, static credentials.
    // who: "admin", "enclave" or {AccessKeyId, SecretAccessKey}.
    client(who, extra = {}) {
        const k = typeof who === "string" ? this.keys[who] : who;
        const c = new kms.KMSClient({
            endpoint: this.endpoint,
            region: REGION,
            credentials: { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey },
            // a pinned service clock (--now): the SDK signs at that time, and keeps to it since
            // it corrects its offset from each answer's Date, which the service sets from that
            // clock
            systemClockOffset: this.clockOffset,
            maxAttempts: 1,
            ...extra,
        });
        return c;
    }

    // Stop the service; it must exit cleanly (status 0: under the sanitizers, no leak or error
    // report at exit either).
    async stop() {
        let code = this.proc?.exitCode;
        if (this.proc && code === null) {
            this.proc.kill("SIGTERM");
            code = await this.exited;
        }
        rmSync(this.dir, { recursive: true, force: true });
        if (this.proc && code !== 0) {
            throw new Error(`veritee kms serve exited with ${code}: ${this.stderr}`);
        }
    }
}

// The exception a call raises (its SDK name), or "no exception".
export async function errorName(promise) {
    try {
        await promise;
    } catch (err) {
        return err.name;
    }
    return "no exception";
}

// An enclave: an RSA-2048 key pair whose public half goes into its attestation documents.
export class Enclave {
    constructor(dir) {
        this.dir = dir;
        const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        this.keyPem = join(dir, "enclave-key.pem");
        this.spki = join(dir, "enclave-spki.der");
        writeFileSync(this.keyPem, privateKey.export({ type: "pkcs8", format: "pem" }), {
            mode: 0o600,
        });
        writeFileSync(this.spki, publicKey.export({ type: "spki", format: "der" }));
        this.n = 0;
    }

    // A Nitro document from the simulator (its root in simDir/nitro/root.pem) carrying this
    // enclave's key. opts: {pcrs: {0: hex, ...}, age: seconds before now, noKey: true}.
    // {bytes: Uint8Array, pcrs: {index: hex}, timestampMs}
    document(simDir, opts = {}) {
        const out = join(this.dir, `doc-${this.n++}.cose`);
        const args = ["--sim-dir", simDir, "--out", out];
        if (!opts.noKey) {
            args.push("--public-key", this.spki);
        }
        for (const [i, hex] of Object.entries(opts.pcrs || {})) {
            args.push("--pcr", `${i}=${hex}`);
        }
        if (opts.age !== undefined) {
            args.push("--age", String(opts.age));
        }
        const info = JSON.parse(execFileSync(nitroDoc, args, { encoding: "utf8" }));
        return { bytes: new Uint8Array(readFileSync(out)), pcrs: info.pcrs,
                 timestampMs: info.timestamp_ms };
    }

    // CiphertextForRecipient opened as the enclave opens it: OpenSSL's CMS with the private key.
    open(cms) {
        const der = join(this.dir, `cfr-${this.n++}.der`);
        writeFileSync(der, cms);
        return new Uint8Array(execFileSync("openssl", ["cms", "-decrypt", "-inform", "DER", "-in",
                                                       der, "-inkey", this.keyPem, "-binary"]));
    }
}

// The simulator's root (made by the first document): the service's --trust-anchor.
export function simulatorRoot(dir) {
    const simDir = join(dir, "sim");
    execFileSync(nitroDoc, ["--sim-dir", simDir, "--out", join(dir, "first.cose")]);
    return { simDir, anchor: join(simDir, "nitro", "root.pem") };
}

// A key policy as AWS's Nitro Enclaves documentation writes it: the administrator role keeps the
// key; the enclave role may call `actions` only with an attestation document whose condition keys
// have these values (e.g. {"kms:RecipientAttestation:ImageSha384": hex}).
export function enclavePolicy(conditions, actions = ["kms:Decrypt", "kms:GenerateDataKey"]) {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "Allow access for Key Administrators",
                Effect: "Allow",
                Principal: { AWS: ADMIN_ARN },
                Action: "kms:*",
                Resource: "*",
            },
            {
                Sid: "Enable enclave data processing",
                Effect: "Allow",
                Principal: { AWS: ENCLAVE_ARN },
                Action: actions,
                Resource: "*",
                Condition: { StringEqualsIgnoreCase: conditions },
            },
        ],
    });
}

export function scratchDir() {
    return mkdtempSync(join(tmpdir(), "vt-kms-enclave-"));
}
