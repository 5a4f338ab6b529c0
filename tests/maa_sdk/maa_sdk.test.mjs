// veritee's Azure Attestation drop-in driven by Microsoft's @azure/attestation 1.0.0, unchanged:
// the SDK attests simulated SGX evidence (attestSgxEnclave, attestOpenEnclave) with its runtime
// data bound as MAA binds it (the first 32 bytes of the report data are the SHA-256 of the
// runtime data), validates every token itself against /certs (signature by the kid's x5c
// certificate, exp, nbf) and reads the claims through AttestationResult; the admin client gets,
// sets (unsigned and signed) and resets policies over https with veritee's admin token, and an
// attestation under a policy that refuses it fails as the SDK reports MAA's refusals.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { Service, SgxSim, failure, jwsPart, oeReport, sha256 } from "./lib.mjs";

let sim, svc;
before(async () => {
    sim = new SgxSim();
    svc = await Service.start({ collateral: sim.collateral, anchors: sim.anchors });
});
after(async () => {
    await svc?.stop();
    sim?.cleanup();
});

// The measurements of the simulator's enclave, from a verified token of it.
async function simIdentity() {
    const r = await svc.client().attestSgxEnclave(sim.quote());
    return { mrEnclave: r.body.mrEnclave, mrSigner: r.body.mrSigner };
}

describe("AttestationClient", () => {
    test("attestSgxEnclave with runTimeJson: the SDK validates the token and reads its claims", async () => {
        const runtime = Buffer.from(JSON.stringify({ purpose: "maa_sdk", keys: [] }));
        const quote = sim.quote(sha256(runtime));
        const client = svc.client();
        const r = await client.attestSgxEnclave(quote, { runTimeJson: runtime });
        const b = r.body;
        assert.equal(b.issuer, svc.endpoint);
        assert.equal(b.verifierType, "sgx");
        assert.equal(b.version, "1.0");
        assert.match(b.mrEnclave, /^[0-9a-f]{64}$/);
        assert.match(b.mrSigner, /^[0-9a-f]{64}$/);
        assert.equal(typeof b.productId, "number");
        assert.equal(typeof b.svn, "number");
        assert.equal(b.isDebuggable, false);
        assert.deepEqual(b.runTimeClaims, { purpose: "maa_sdk", keys: [] });
        // JSON runtime data is reflected as claims, not as enclave held data (MAA's rule)
        assert.equal(b.enclaveHeldData, undefined);
        assert.equal(b.policyHash.length, 32);
        assert.match(b.uniqueId, /^[0-9a-f]{64}$/);
        assert.match(b.sgxCollateral.quotehash, /^[0-9a-f]{64}$/);
        // the header MAA's tokens have, and the signer published at /certs with its certificate
        const h = jwsPart(r.token.serialize(), 0);
        assert.equal(h.alg, "RS256");
        assert.equal(h.typ, "JWT");
        assert.equal(h.jku, `${svc.endpoint}/certs`);
        const signers = await client.getAttestationSigners();
        assert.equal(signers.length, 1);
        assert.equal(signers[0].keyId, h.kid);
        const cert = new X509Certificate(signers[0].certificates[0]);
        assert.ok(cert.verify(cert.publicKey), "the signing certificate is self-signed");
        assert.equal(r.token.algorithm, "RS256");
    });

    test("attestSgxEnclave with runTimeData (Binary): enclave held data, no runtime claims", async () => {
        const runtime = Buffer.from("binary runtime data \x00\x01\x02");
        const r = await svc.client().attestSgxEnclave(sim.quote(sha256(runtime)),
                                                      { runTimeData: runtime });
        assert.deepEqual(Buffer.from(r.body.enclaveHeldData), runtime);
        assert.equal(r.body.runTimeClaims, undefined);
    });

    test("attestSgxEnclave with a JWK set as runtime data: x-ms-runtime carries the keys", async () => {
        const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const jwk = { ...publicKey.export({ format: "jwk" }), kid: "enclave-key" };
        const runtime = Buffer.from(JSON.stringify({ keys: [jwk] }));
        const r = await svc.client().attestSgxEnclave(sim.quote(sha256(runtime)),
                                                      { runTimeJson: runtime });
        assert.deepEqual(r.body.runTimeClaims.keys, [jwk]);
    });

    test("attestSgxEnclave without runtime data: nothing bound, no enclave held data", async () => {
        const r = await svc.client().attestSgxEnclave(sim.quote());
        assert.equal(r.body.enclaveHeldData, undefined);
        assert.equal(r.body.runTimeClaims, undefined);
    });

    test("attestOpenEnclave: an Open Enclave remote report around the quote", async () => {
        const runtime = Buffer.from(JSON.stringify({ oe: true }));
        const quote = sim.quote(sha256(runtime));
        const r = await svc.client().attestOpenEnclave(oeReport(quote), { runTimeJson: runtime });
        assert.equal(r.body.verifierType, "sgx");
        assert.deepEqual(r.body.runTimeClaims, { oe: true });
        const id = await simIdentity();
        assert.equal(r.body.mrEnclave, id.mrEnclave);
    });

    test("runtime data that the report data does not bind: 400, the SDK's RestError", async () => {
        const quote = sim.quote(sha256(Buffer.from("other data")));
        const err = await failure(svc.client().attestSgxEnclave(quote,
                                  { runTimeJson: Buffer.from("{\"a\":1}") }));
        assert.equal(err.name, "RestError");
        assert.equal(err.statusCode, 400);
        assert.match(err.message, /runtimeData does not match the report data/);
    });

    test("a corrupted quote: 400 naming the failed check", async () => {
        const quote = sim.quote();
        quote[quote.length - 40] ^= 1;
        const err = await failure(svc.client().attestSgxEnclave(quote));
        assert.equal(err.statusCode, 400);
        assert.match(err.message, /does not verify|does not parse/);
    });

    test("an Open Enclave local report is refused", async () => {
        const report = oeReport(sim.quote());
        report[4] = 1;
        const err = await failure(svc.client().attestOpenEnclave(report));
        assert.equal(err.statusCode, 400);
        assert.match(err.message, /local report/);
    });

    test("draftPolicyForAttestation: an unsigned token (alg none) from the draft", async () => {
        const draft = "version= 1.0;\nauthorizationrules\n{\n    => permit();\n};\n" +
                      "issuancerules\n{\n};\n";
        const r = await svc.client().attestSgxEnclave(sim.quote(),
                                                      { draftPolicyForAttestation: draft });
        assert.equal(r.token.algorithm, "none");
        assert.match(r.body.mrEnclave, /^[0-9a-f]{64}$/);
    });

    test("getOpenIdMetadata: issuer and jwks_uri", async () => {
        const m = await svc.client().getOpenIdMetadata();
        assert.equal(m.issuer, svc.endpoint);
        assert.equal(m.jwks_uri, `${svc.endpoint}/certs`);
    });

    test("an api-version MAA does not have is refused; the SDK's is accepted", async () => {
        const bad = await fetch(`${svc.endpoint}/attest/SgxEnclave?api-version=2019-01-01`,
                                { method: "POST", body: "{}" });
        assert.equal(bad.status, 400);
        assert.equal((await bad.json()).error.code, "InvalidApiVersionParameter");
        const none = await fetch(`${svc.endpoint}/attest/SgxEnclave`, { method: "POST", body: "{}" });
        assert.equal((await none.json()).error.code, "MissingApiVersionParameter");
    });
});

describe("AttestationAdministrationClient", () => {
    test("getPolicy: the default policy (permit all)", async () => {
        const r = await svc.admin().getPolicy("SgxEnclave");
        assert.match(r.body, /authorizationrules/);
        assert.match(r.body, /=> permit\(\);/);
    });

    test("a wrong admin token: 401", async () => {
        const err = await failure(svc.admin("vt_" + "0".repeat(56)).getPolicy("SgxEnclave"));
        assert.equal(err.statusCode, 401);
    });

    test("setPolicy: a policy that refuses the simulator's enclave denies its attestation", async () => {
        const id = await simIdentity();
        const deny = "version= 1.0;\nauthorizationrules\n{\n" +
                     `    [ type=="x-ms-sgx-mrsigner", value=="${"00".repeat(32)}" ] => permit();\n` +
                     "};\nissuancerules\n{\n};\n";
        const admin = svc.admin();
        const set = await admin.setPolicy("SgxEnclave", deny);
        assert.equal(set.body.policyResolution, "Updated");
        assert.equal(Buffer.from(set.body.policyTokenHash).length, 32);
        assert.equal((await admin.getPolicy("SgxEnclave")).body, deny);
        const err = await failure(svc.client().attestSgxEnclave(sim.quote()));
        assert.equal(err.statusCode, 400);
        assert.match(err.message, /deny/);
        // a policy that names the enclave permits it again, and issues a claim
        const permit = "version= 1.0;\nauthorizationrules\n{\n" +
                       `    [ type=="x-ms-sgx-mrenclave", value=="${id.mrEnclave}" ] => permit();\n` +
                       "};\nissuancerules\n{\n" +
                       "    c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"signer\", value=c.value);\n" +
                       "};\n";
        await admin.setPolicy("SgxEnclave", permit);
        const ok = await svc.client().attestSgxEnclave(sim.quote());
        assert.equal(jwsPart(ok.token.serialize(), 1).signer, id.mrSigner);
        const reset = await admin.resetPolicy("SgxEnclave");
        assert.equal(reset.body.policyResolution, "Removed");
        assert.match((await admin.getPolicy("SgxEnclave")).body, /=> permit\(\);/);
    });

    test("setPolicy signed with a certificate: x-ms-policy-signer names it", async () => {
        const dir = mkdtempSync(join(tmpdir(), "vt-maa-signer-"));
        try {
            execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                                     "-subj", "/CN=maa policy signer", "-keyout",
                                     join(dir, "k.pem"), "-out", join(dir, "c.pem")],
                         { stdio: "ignore" });
            const key = readFileSync(join(dir, "k.pem"), "utf8");
            const cert = readFileSync(join(dir, "c.pem"), "utf8");
            const admin = svc.admin();
            const text = (await admin.getPolicy("OpenEnclave")).body;
            const set = await admin.setPolicy("OpenEnclave", text, { privateKey: key,
                                                                     certificate: cert });
            assert.equal(set.body.policyResolution, "Updated");
            const signer = new X509Certificate(set.body.policySigner.certificates[0]);
            assert.equal(signer.fingerprint256, new X509Certificate(cert).fingerprint256);
            // attestation tokens under that policy name its signer too
            const r = await svc.client().attestOpenEnclave(oeReport(sim.quote()));
            const tokenSigner = new X509Certificate(r.body.policySigner.certificates[0]);
            assert.equal(tokenSigner.fingerprint256, signer.fingerprint256);
            await admin.resetPolicy("OpenEnclave");
            writeFileSync(join(dir, "done"), "");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
