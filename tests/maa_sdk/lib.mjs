// Shared by the @azure/attestation tests of the MAA drop-in (maa_sdk.test.mjs,
// maa_sdk_fixtures.test.mjs): a `veritee serve --maa-listen` on 127.0.0.1 over https (a free
// port, a temporary SQLite database and master key, the TLS certificate run.sh made), its admin
// bearer token (`veritee broker token`) as the SDK's TokenCredential, and SGX evidence from the
// DCAP simulator (`veritee client evidence --backend sim:sgx --report-data HEX`).
// Environment: VERITEE (the binary), VT_MAA_SDK_DIR (where node_modules is), VT_MAA_TLS_CERT,
// VT_MAA_TLS_KEY, TMPDIR.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const veritee = process.env.VERITEE;
if (!veritee || !process.env.VT_MAA_SDK_DIR) {
    throw new Error("VERITEE and VT_MAA_SDK_DIR must be set (tests/maa_sdk/run.sh sets them)");
}
// The SDK as npm installed it into the build tree (run.sh: npm ci from the lock file).
const require = createRequire(join(process.env.VT_MAA_SDK_DIR, "package.json"));
export const maa = require("@azure/attestation");

export const sha256 = (b) => createHash("sha256").update(b).digest();

// A veritee serving the MAA endpoint.
export class Service {
    // opts: {now: RFC 3339 (--now), collateral: DIR, anchors: [PEM file], signers: [PEM file],
    //        issuer: URL, keyvault: true (also --keyvault-listen: kvEndpoint)}
    static async start(opts = {}) {
        const s = new Service();
        s.dir = mkdtempSync(join(tmpdir(), "vt-maa-sdk-"));
        s.db = `sqlite:${join(s.dir, "maa.db")}`;
        s.mk = join(s.dir, "master.key");
        execFileSync("sh", ["-c", `'${veritee}' broker master-key > '${s.mk}'`]);
        s.adminToken = execFileSync(veritee, ["broker", "token", "--db", s.db, "--master-key-file",
                                              s.mk], { encoding: "utf8" }).trim();
        const args = ["serve", "--db", s.db, "--master-key-file", s.mk, "--mode", "offline",
                      "--listen", "127.0.0.1:0", "--port-file", join(s.dir, "port"),
                      "--maa-listen", "127.0.0.1:0", "--maa-port-file", join(s.dir, "maa-port"),
                      "--tls-cert", process.env.VT_MAA_TLS_CERT, "--tls-key",
                      process.env.VT_MAA_TLS_KEY, "--threads", "2"];
        if (opts.now) {
            args.push("--now", opts.now);
        }
        if (opts.collateral) {
            args.push("--collateral", opts.collateral);
        }
        for (const a of opts.anchors || []) {
            args.push("--trust-anchor", a);
        }
        for (const c of opts.signers || []) {
            args.push("--maa-policy-signer", c);
        }
        if (opts.issuer) {
            args.push("--maa-issuer", opts.issuer);
        }
        if (opts.keyvault) {
            args.push("--keyvault-listen", "127.0.0.1:0", "--keyvault-port-file",
                      join(s.dir, "kv-port"));
        }
        s.proc = spawn(veritee, args, { stdio: ["ignore", "ignore", "pipe"] });
        s.stderr = "";
        s.proc.stderr.on("data", (b) => { s.stderr += b; });
        s.exited = new Promise((resolve) => s.proc.on("exit", resolve));
        // The port file appears once the MAA listener serves with its issuer set.
        const portFile = join(s.dir, "maa-port");
        for (let i = 0; i < 300 && !existsSync(portFile); i++) {
            if (s.proc.exitCode !== null) {
                break;
            }
            await sleep(50);
        }
        if (!existsSync(portFile)) {
            await s.stop().catch(() => {});
            throw new Error(`veritee serve --maa-listen did not start: ${s.stderr}`);
        }
        s.endpoint = `https://127.0.0.1:${readFileSync(portFile, "utf8").trim()}`;
        if (opts.keyvault) {
            const kvFile = join(s.dir, "kv-port");
            for (let i = 0; i < 300 && !existsSync(kvFile); i++) {
                await sleep(50);
            }
            s.kvEndpoint = `https://127.0.0.1:${readFileSync(kvFile, "utf8").trim()}`;
        }
        return s;
    }

    // The SDK's TokenCredential, handing out this service's admin token (or another).
    credential(token = this.adminToken) {
        return {
            getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }),
        };
    }

    client(options = {}) {
        return new maa.AttestationClient(this.endpoint, options);
    }

    admin(token, options = {}) {
        return new maa.AttestationAdministrationClient(this.endpoint, this.credential(token),
                                                       options);
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
            throw new Error(`veritee serve exited with ${code}: ${this.stderr}`);
        }
    }
}

// The DCAP simulator's SGX platform: its roots and collateral (for --trust-anchor and
// --collateral) and quotes whose report data the test chooses.
export class SgxSim {
    constructor() {
        this.dir = mkdtempSync(join(tmpdir(), "vt-maa-sim-"));
        this.sim = join(this.dir, "sim");
        this.exp = join(this.dir, "export");
        execFileSync(veritee, ["client", "sim-export", "--backend", "sim:sgx", "--sim-dir", this.sim,
                               "--out", this.exp]);
        this.anchors = [join(this.exp, "anchors", "sgx.pem")];
        this.collateral = join(this.exp, "collateral");
        this.n = 0;
    }

    // An SGX quote whose report data starts with reportData (a Buffer of up to 64 bytes).
    quote(reportData = Buffer.alloc(0)) {
        const out = join(this.dir, `quote-${this.n++}.bin`);
        execFileSync(veritee, ["client", "evidence", "--backend", "sim:sgx", "--sim-dir", this.sim,
                               "--report-data", reportData.toString("hex"), "--out", out]);
        return new Uint8Array(readFileSync(out));
    }

    cleanup() {
        rmSync(this.dir, { recursive: true, force: true });
    }
}

// An Open Enclave remote report around an SGX quote: oe_report_header_t {version 1, report_type
// 2 (SGX remote), report_size}, then the quote.
export function oeReport(quote) {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1, 0);
    h.writeUInt32LE(2, 4);
    h.writeBigUInt64LE(BigInt(quote.length), 8);
    return new Uint8Array(Buffer.concat([h, Buffer.from(quote)]));
}

// The error a call raises, or {name: "no exception"}.
export async function failure(promise) {
    try {
        await promise;
    } catch (err) {
        return err;
    }
    return { name: "no exception", message: "", statusCode: 0 };
}

// The JSON of a compact JWS's segment i (0 header, 1 payload).
export function jwsPart(token, i) {
    return JSON.parse(Buffer.from(token.split(".")[i], "base64url").toString("utf8"));
}
