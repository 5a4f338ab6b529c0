// The Azure Secure Key Release flow, unchanged, against one veritee: an enclave attests with
// @azure/attestation's attestSgxEnclave to `veritee serve --maa-listen`, its RSA key in the
// runtime data (a JWK set the quote's report data binds), and the application releases a Key
// Vault key with @azure/keyvault-keys' releaseKey to `--keyvault-listen` of the same process,
// passing the MAA token as the target. The vault trusts this MAA's tokens (its issuer and
// signing key, in-process); the key's release policy names the enclave's MRENCLAVE with the MAA
// issuer as authority. The released key is unwrapped with the enclave's private key (RSA-OAEP,
// then AES key wrap with padding, as Key Vault's CKM_RSA_AES_KEY_WRAP) and must be the key the
// vault holds. A policy naming another MRENCLAVE refuses the same token (the SDK's RestError).
import assert from "node:assert/strict";
import {
    constants,
    createDecipheriv,
    createPrivateKey,
    createPublicKey,
    generateKeyPairSync,
    privateDecrypt,
} from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { Service, SgxSim, sha256 } from "./lib.mjs";

const require = createRequire(join(process.env.VT_MAA_SDK_DIR, "package.json"));
const { KeyClient } = require("@azure/keyvault-keys");

let sim, svc, vault;
before(async () => {
    sim = new SgxSim();
    svc = await Service.start({ collateral: sim.collateral, anchors: sim.anchors,
                                keyvault: true });
    // 127.0.0.1 is no subdomain of vault.azure.net, the challenge's default resource
    vault = new KeyClient(svc.kvEndpoint, svc.credential(),
                          { disableChallengeResourceVerification: true,
                            retryOptions: { maxRetries: 0 } });
});
after(async () => {
    await svc?.stop();
    sim?.cleanup();
});

function releasePolicy(issuer, mrenclave) {
    const p = {
        version: "1.0.0",
        anyOf: [{
            authority: issuer,
            allOf: [
                { claim: "x-ms-attestation-type", equals: "sgx" },
                { claim: "x-ms-sgx-mrenclave", equals: mrenclave },
                { claim: "x-ms-sgx-is-debuggable", equals: false },
            ],
        }],
    };
    return { encodedPolicy: new TextEncoder().encode(JSON.stringify(p)),
             contentType: "application/json; charset=utf-8", immutable: false };
}

// The enclave: an RSA key whose public half it reports in its runtime data, and an MAA token.
async function enclaveToken() {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const runtime = Buffer.from(JSON.stringify({
        keys: [{ ...publicKey.export({ format: "jwk" }), kid: "enclave-key",
                 key_ops: ["encrypt"] }],
    }));
    const r = await svc.client().attestSgxEnclave(sim.quote(sha256(runtime)),
                                                  { runTimeJson: runtime });
    return { privateKey, token: r.token.serialize(), mrEnclave: r.body.mrEnclave };
}

// The released key: the JWS payload's key_hsm, opened with the enclave's key.
function unwrap(value, privateKey) {
    const payload = JSON.parse(Buffer.from(value.split(".")[1], "base64url"));
    const hsm = JSON.parse(Buffer.from(payload.response.key.key.key_hsm, "base64url"));
    assert.equal(hsm.header.kid, "enclave-key");
    const blob = Buffer.from(hsm.ciphertext, "base64url");
    const aes = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING,
                                 oaepHash: "sha1" }, blob.subarray(0, 256));
    const d = createDecipheriv("id-aes256-wrap-pad", aes, Buffer.from("A65959A6", "hex"));
    return Buffer.concat([d.update(blob.subarray(256)), d.final()]);
}

test("attest with @azure/attestation, release with @azure/keyvault-keys", async () => {
    const enc = await enclaveToken();
    const key = await vault.createRsaKey("skr-key", {
        hsm: true, exportable: true, releasePolicy: releasePolicy(svc.endpoint, enc.mrEnclave),
    });
    const r = await vault.releaseKey("skr-key", enc.token);
    const material = unwrap(r.value, enc.privateKey);
    const pub = createPublicKey(createPrivateKey({ key: material, format: "der", type: "pkcs8" }))
        .export({ format: "jwk" });
    assert.equal(pub.n, Buffer.from(key.key.n).toString("base64url"));
});

test("a release policy naming another enclave refuses the same MAA token", async () => {
    const enc = await enclaveToken();
    await vault.createRsaKey("other-enclave", {
        hsm: true, exportable: true, releasePolicy: releasePolicy(svc.endpoint, "ab".repeat(32)),
    });
    await assert.rejects(vault.releaseKey("other-enclave", enc.token),
                         (e) => e.name === "RestError" && e.statusCode >= 400 &&
                                e.statusCode < 500);
});

test("a token from a draft policy (unsigned) is refused", async () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const runtime = Buffer.from(JSON.stringify({
        keys: [{ ...publicKey.export({ format: "jwk" }), kid: "enclave-key" }] }));
    const draft = "version= 1.0;\nauthorizationrules\n{\n    => permit();\n};\n" +
                  "issuancerules\n{\n};\n";
    const r = await svc.client().attestSgxEnclave(sim.quote(sha256(runtime)),
                                                  { runTimeJson: runtime,
                                                    draftPolicyForAttestation: draft });
    await vault.createRsaKey("draft-key", {
        hsm: true, exportable: true,
        releasePolicy: releasePolicy(svc.endpoint, r.body.mrEnclave),
    });
    await assert.rejects(vault.releaseKey("draft-key", r.token.serialize()),
                         (e) => e.statusCode >= 400 && e.statusCode < 500);
});
