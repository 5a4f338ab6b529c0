// veritee's Azure Key Vault keys drop-in with Secure Key Release (docs/skr.md), driven by
// @azure/keyvault-keys as an application uses it: `veritee serve --keyvault-listen` over HTTPS,
// the SDK's challenge-based bearer authentication with a `veritee broker token`, an exportable
// key created with a release policy, releaseKey with an attestation token of an approved enclave
// (MAA-shaped, RS256, from a test issuer the server is configured to trust, its x-ms-runtime
// keys holding an RSA key the test keeps), the key material unwrapped here with that key, and
// the refusals the SDK raises: a policy that refuses the token's MRENCLAVE, an expired token, an
// untrusted issuer.
// Environment (run.sh): VERITEE, VT_KV_SDK_DIR, VT_KV_TLS_CERT, VT_KV_TLS_KEY,
// NODE_EXTRA_CA_CERTS; VT_KV_DB (a PostgreSQL URL) instead of a fresh SQLite file.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import {
    X509Certificate,
    createDecipheriv,
    createHash,
    createPrivateKey,
    createPublicKey,
    generateKeyPairSync,
    privateDecrypt,
    constants as cc,
    sign as rsaSign,
    verify as rsaVerify,
} from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

const veritee = process.env.VERITEE;
const require = createRequire(join(process.env.VT_KV_SDK_DIR, "package.json"));
const { KeyClient } = require("@azure/keyvault-keys");

const ISSUER = "https://sharedveritee.test.attest.example";
const GOOD_MRENCLAVE = "a".repeat(64);
const BAD_MRENCLAVE = "b".repeat(64);

const b64u = (buf) => Buffer.from(buf).toString("base64url");

// An attestation service the vault trusts: an RSA key whose public half is in a JWKS file.
function makeIssuer(dir, kid) {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = publicKey.export({ format: "jwk" });
    const file = join(dir, `${kid}.jwks.json`);
    writeFileSync(file, JSON.stringify({ keys: [{ ...jwk, kid, use: "sig" }] }));
    return { kid, privateKey, file };
}

// An MAA-shaped token: RS256, jku/kid headers, SGX claims, the enclave's key in x-ms-runtime.
function token(issuer, claims) {
    const header = { alg: "RS256", jku: `${ISSUER}/certs`, kid: issuer.kid, typ: "JWT" };
    const now = Math.floor(Date.now() / 1000);
    const body = {
        iss: ISSUER,
        iat: now,
        nbf: now - 5,
        exp: now + 600,
        "x-ms-ver": "1.0",
        "x-ms-attestation-type": "sgx",
        "x-ms-sgx-is-debuggable": false,
        "x-ms-sgx-mrsigner": "c".repeat(64),
        "x-ms-sgx-product-id": 1,
        "x-ms-sgx-svn": 3,
        ...claims,
    };
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(body))}`;
    const sig = rsaSign("RSA-SHA256", Buffer.from(input), issuer.privateKey);
    return `${input}.${b64u(sig)}`;
}

// The enclave: an RSA key pair; its public half goes into the token's x-ms-runtime.keys.
function enclave() {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = publicKey.export({ format: "jwk" });
    return {
        privateKey,
        runtime: { keys: [{ ...jwk, kid: "enclave-key", key_ops: ["encrypt"] }] },
    };
}

function policy(mrenclave) {
    return {
        version: "1.0.0",
        anyOf: [
            {
                authority: ISSUER,
                allOf: [
                    { claim: "x-ms-attestation-type", equals: "sgx" },
                    { claim: "x-ms-sgx-mrenclave", equals: mrenclave },
                    { claim: "x-ms-sgx-is-debuggable", equals: false },
                    { claim: "x-ms-sgx-svn", greaterOrEquals: 2 },
                ],
            },
        ],
    };
}

const releasePolicy = (p) => ({
    encodedPolicy: new TextEncoder().encode(JSON.stringify(p)),
    contentType: "application/json; charset=utf-8",
    immutable: false,
});

// Open a release: verify the JWS with its x5c, unwrap key_hsm with the enclave's key.
const OAEP = { CKM_RSA_AES_KEY_WRAP: "sha1", RSA_AES_KEY_WRAP_256: "sha256",
               RSA_AES_KEY_WRAP_384: "sha384" };
function openRelease(value, enclaveKey) {
    const [h, p, s] = value.split(".");
    const header = JSON.parse(Buffer.from(h, "base64url"));
    assert.equal(header.alg, "RS256");
    const cert = new X509Certificate(Buffer.from(header.x5c[0], "base64"));
    assert.equal(header["x5t#S256"], b64u(createHash("sha256").update(cert.raw).digest()));
    assert.ok(rsaVerify("RSA-SHA256", Buffer.from(`${h}.${p}`), cert.publicKey,
                        Buffer.from(s, "base64url")), "the release JWS verifies with its x5c");
    const payload = JSON.parse(Buffer.from(p, "base64url"));
    const hsm = JSON.parse(Buffer.from(payload.response.key.key.key_hsm, "base64url"));
    assert.equal(hsm.header.alg, "dir");
    assert.equal(hsm.header.kid, "enclave-key");
    const blob = Buffer.from(hsm.ciphertext, "base64url");
    const k = 256; // RSA-2048
    const aes = privateDecrypt({ key: enclaveKey, padding: cc.RSA_PKCS1_OAEP_PADDING,
                                 oaepHash: OAEP[hsm.header.enc] }, blob.subarray(0, k));
    assert.equal(aes.length, 32);
    const d = createDecipheriv("id-aes256-wrap-pad", aes, Buffer.from("A65959A6", "hex"));
    const material = Buffer.concat([d.update(blob.subarray(k)), d.final()]);
    return { payload, hsm, material };
}

describe("@azure/keyvault-keys against veritee serve --keyvault-listen", () => {
    let dir, proc, stderr = "", url, credential, client, trusted, rogue;
    before(async () => {
        dir = mkdtempSync(join(tmpdir(), "vt-kv-sdk-"));
        const db = process.env.VT_KV_DB || `sqlite:${join(dir, "kv.db")}`;
        const mk = join(dir, "master.key");
        writeFileSync(mk, execFileSync(veritee, ["broker", "master-key"]));
        trusted = makeIssuer(dir, "maa-test-1");
        rogue = makeIssuer(dir, "rogue-1");
        const pf = join(dir, "port"), kpf = join(dir, "kv.port");
        proc = spawn(veritee, [
            "serve", "--db", db, "--master-key-file", mk, "--listen", "127.0.0.1:0",
            "--port-file", pf, "--keyvault-listen", "127.0.0.1:0", "--keyvault-port-file", kpf,
            "--keyvault-issuer", `${ISSUER}=${trusted.file}`,
            "--tls-cert", process.env.VT_KV_TLS_CERT, "--tls-key", process.env.VT_KV_TLS_KEY,
            "--mode", "offline", "--refresh-interval", "0", "--threads", "2",
        ], { stdio: ["ignore", "ignore", "pipe"] });
        proc.stderr.on("data", (b) => { stderr += b; });
        for (let i = 0; i < 400 && !existsSync(kpf); i++) {
            if (proc.exitCode !== null) {
                break;
            }
            await sleep(50);
        }
        assert.ok(existsSync(kpf), `veritee serve did not start: ${stderr}`);
        await sleep(20); // the port file is written whole before rename; read it now
        url = `https://127.0.0.1:${readFileSync(kpf, "utf8").trim()}`;
        const bearer = execFileSync(veritee, ["broker", "token", "--db", db, "--master-key-file",
                                              mk, "--name", "keyvault-sdk"],
                                    { encoding: "utf8" }).trim();
        credential = {
            scopes: [],
            async getToken(scopes) {
                this.scopes.push(...[].concat(scopes));
                return { token: bearer, expiresOnTimestamp: Date.now() + 3600e3 };
            },
        };
        client = new KeyClient(url, credential, {
            disableChallengeResourceVerification: true,
            retryOptions: { maxRetries: 0 },
        });
    });
    after(async () => {
        if (proc && proc.exitCode === null) {
            proc.kill("SIGTERM");
            const code = await new Promise((r) => proc.on("exit", r));
            assert.equal(code, 0, `veritee serve exited with ${code}: ${stderr}`);
        }
        rmSync(dir, { recursive: true, force: true });
    });

    it("answers the SDK's challenge; the SDK checks the resource against the vault's host",
       async () => {
        // 127.0.0.1 is not a subdomain of vault.azure.net: the SDK itself refuses the challenge
        const strict = new KeyClient(url, credential, { retryOptions: { maxRetries: 0 } });
        await assert.rejects(strict.getKey("nothing"), /does not match the requested domain/);
        // a wrong bearer token: 401 and the SDK's RestError
        const wrong = new KeyClient(url, { getToken: async () => ({ token: "vt_wrong",
                                                                   expiresOnTimestamp: Date.now() + 3600e3 }) },
                                    { disableChallengeResourceVerification: true,
                                      retryOptions: { maxRetries: 0 } });
        await assert.rejects(wrong.getKey("nothing"), (e) => e.statusCode === 401);
        await assert.rejects(client.getKey("nothing"),
                             (e) => e.statusCode === 404 && e.code === "KeyNotFound");
        assert.ok(credential.scopes.includes("https://vault.azure.net/.default"),
                  `scopes asked: ${credential.scopes}`);
    });

    it("creates an exportable RSA-HSM key with a release policy, gets it and its versions",
       async () => {
        const key = await client.createRsaKey("sgx-key", {
            hsm: true, keySize: 2048, exportable: true,
            releasePolicy: releasePolicy(policy(GOOD_MRENCLAVE)),
        });
        assert.equal(key.keyType, "RSA-HSM");
        assert.equal(key.properties.exportable, true);
        assert.equal(key.properties.enabled, true);
        assert.match(key.properties.version, /^[0-9a-f]{32}$/);
        assert.equal(key.key.d, undefined, "no private member in a key bundle");
        const p = JSON.parse(new TextDecoder().decode(key.properties.releasePolicy.encodedPolicy));
        assert.deepEqual(p, policy(GOOD_MRENCLAVE));
        const latest = await client.getKey("sgx-key");
        assert.equal(latest.id, key.id);
        const second = await client.createRsaKey("sgx-key", {
            hsm: true, exportable: true, releasePolicy: releasePolicy(policy(GOOD_MRENCLAVE)),
        });
        assert.notEqual(second.properties.version, key.properties.version);
        const first = await client.getKey("sgx-key", { version: key.properties.version });
        assert.deepEqual(Buffer.from(first.key.n), Buffer.from(key.key.n));
        const versions = [];
        for await (const v of client.listPropertiesOfKeyVersions("sgx-key")) {
            versions.push(v.version);
        }
        assert.deepEqual(versions.sort(),
                         [key.properties.version, second.properties.version].sort());
    });

    it("refuses what Key Vault refuses at creation", async () => {
        await assert.rejects(client.createRsaKey("no-policy", { hsm: true, exportable: true }),
                             (e) => e.statusCode === 400 && /release_policy/.test(e.message));
        const bad = releasePolicy({ version: "1.0.0", anyOf: [{ authority: ISSUER,
            allOf: [{ claim: "x", in: ["a"] }] }] });
        await assert.rejects(
            client.createRsaKey("bad-policy", { hsm: true, exportable: true, releasePolicy: bad }),
            (e) => e.statusCode === 400 && /\$\.anyOf\[0\]\.allOf\[0\]/.test(e.message));
    });

    it("releases the key to an approved enclave, wrapped to its runtime key", async () => {
        const created = await client.createRsaKey("release-me", {
            hsm: true, exportable: true, releasePolicy: releasePolicy(policy(GOOD_MRENCLAVE)),
        });
        for (const algorithm of [undefined, "RSA_AES_KEY_WRAP_256", "RSA_AES_KEY_WRAP_384"]) {
            const enc = enclave();
            const target = token(trusted, { "x-ms-sgx-mrenclave": GOOD_MRENCLAVE,
                                            "x-ms-runtime": enc.runtime });
            const r = await client.releaseKey("release-me", target,
                                              { algorithm, nonce: "n-123" });
            const { payload, hsm, material } = openRelease(r.value, enc.privateKey);
            assert.equal(hsm.header.enc, algorithm ?? "CKM_RSA_AES_KEY_WRAP");
            assert.equal(payload.request.nonce, "n-123");
            assert.equal(payload.request.kid, created.id);
            // the unwrapped PKCS#8 is the private half of the key the vault shows
            const priv = createPrivateKey({ key: material, format: "der", type: "pkcs8" });
            const pub = createPublicKey(priv).export({ format: "jwk" });
            assert.equal(pub.n, b64u(created.key.n));
        }
    });

    it("releases an oct-HSM key by version", async () => {
        const key = await client.createOctKey("aes-key", {
            hsm: true, exportable: true, releasePolicy: releasePolicy(policy(GOOD_MRENCLAVE)),
        });
        const enc = enclave();
        const target = token(trusted, { "x-ms-sgx-mrenclave": GOOD_MRENCLAVE,
                                        "x-ms-runtime": enc.runtime });
        const r = await client.releaseKey("aes-key", target,
                                          { version: key.properties.version,
                                            algorithm: "RSA_AES_KEY_WRAP_256" });
        const { material } = openRelease(r.value, enc.privateKey);
        assert.equal(material.length, 32);
    });

    it("imports RSA and EC keys (importKey) and releases exactly them", async () => {
        for (const [name, kind, opts] of [["imported-rsa", "rsa", { modulusLength: 3072 }],
                                          ["imported-ec", "ec", { namedCurve: "P-384" }]]) {
            const { privateKey } = generateKeyPairSync(kind, opts);
            const jwk = privateKey.export({ format: "jwk" });
            const bytes = {};
            for (const m of ["n", "e", "d", "p", "q", "dp", "dq", "qi", "x", "y"]) {
                if (jwk[m]) {
                    bytes[m] = new Uint8Array(Buffer.from(jwk[m], "base64url"));
                }
            }
            const key = await client.importKey(name, { kty: jwk.kty, crv: jwk.crv, ...bytes }, {
                hardwareProtected: true, exportable: true,
                releasePolicy: releasePolicy(policy(GOOD_MRENCLAVE)),
            });
            assert.equal(key.keyType, `${jwk.kty}-HSM`);
            assert.equal(key.key.d, undefined);
            const enc = enclave();
            const target = token(trusted, { "x-ms-sgx-mrenclave": GOOD_MRENCLAVE,
                                            "x-ms-runtime": enc.runtime });
            const r = await client.releaseKey(name, target, { algorithm: "RSA_AES_KEY_WRAP_256" });
            const { material } = openRelease(r.value, enc.privateKey);
            const back = createPrivateKey({ key: material, format: "der", type: "pkcs8" })
                .export({ format: "jwk" });
            assert.equal(back.d, jwk.d, "the released key is the imported one");
        }
        // a private key whose members do not agree is refused
        const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const jwk = privateKey.export({ format: "jwk" });
        const bad = {};
        for (const m of ["n", "e", "d", "p", "q", "dp", "dq", "qi"]) {
            bad[m] = new Uint8Array(Buffer.from(jwk[m], "base64url"));
        }
        bad.d[bad.d.length - 1] ^= 2;
        await assert.rejects(client.importKey("broken", { kty: "RSA", ...bad }),
                             (e) => e.statusCode === 400 && e.code === "BadParameter");
    });

    it("refuses an enclave the policy does not name, an expired token, an untrusted issuer",
       async () => {
        await client.createRsaKey("guarded", {
            hsm: true, exportable: true, releasePolicy: releasePolicy(policy(GOOD_MRENCLAVE)),
        });
        const enc = enclave();
        const wrongEnclave = token(trusted, { "x-ms-sgx-mrenclave": BAD_MRENCLAVE,
                                              "x-ms-runtime": enc.runtime });
        await assert.rejects(client.releaseKey("guarded", wrongEnclave),
                             (e) => e.statusCode === 403 && e.code === "Forbidden" &&
                                    /release policy/.test(e.message));
        const now = Math.floor(Date.now() / 1000);
        const expired = token(trusted, { "x-ms-sgx-mrenclave": GOOD_MRENCLAVE,
                                         "x-ms-runtime": enc.runtime, exp: now - 60,
                                         nbf: now - 120, iat: now - 120 });
        await assert.rejects(client.releaseKey("guarded", expired),
                             (e) => e.statusCode === 403 && /expired/.test(e.message));
        const untrusted = token(rogue, { "x-ms-sgx-mrenclave": GOOD_MRENCLAVE,
                                         "x-ms-runtime": enc.runtime });
        await assert.rejects(client.releaseKey("guarded", untrusted),
                             (e) => e.statusCode === 403 && /untrusted issuer/.test(e.message));
        const noKey = token(trusted, { "x-ms-sgx-mrenclave": GOOD_MRENCLAVE });
        await assert.rejects(client.releaseKey("guarded", noKey),
                             (e) => e.statusCode === 403 && /x-ms-runtime/.test(e.message));
        await assert.rejects(client.releaseKey("guarded", "not-a-token"),
                             (e) => e.statusCode === 403);
    });

    it("updates a release policy unless it is immutable", async () => {
        const key = await client.createRsaKey("updatable", {
            hsm: true, exportable: true, releasePolicy: releasePolicy(policy(BAD_MRENCLAVE)),
        });
        const updated = await client.updateKeyProperties("updatable", key.properties.version, {
            releasePolicy: { ...releasePolicy(policy(GOOD_MRENCLAVE)), immutable: true },
        });
        assert.equal(updated.properties.releasePolicy.immutable, true);
        const enc = enclave();
        const target = token(trusted, { "x-ms-sgx-mrenclave": GOOD_MRENCLAVE,
                                        "x-ms-runtime": enc.runtime });
        const r = await client.releaseKey("updatable", target);
        assert.ok(openRelease(r.value, enc.privateKey).material.length > 1000);
        await assert.rejects(
            client.updateKeyProperties("updatable", key.properties.version,
                                       { releasePolicy: releasePolicy(policy(BAD_MRENCLAVE)) }),
            (e) => e.statusCode === 403 && /immutable/.test(e.message));
    });
});
