// Real quotes of the fixtures (../shared/fixtures/dcap, VERITEE_FIXTURES overrides) attested at
// veritee's MAA drop-in with the clock pinned (`veritee serve --now T`, T ten minutes
// before each quote's verification time in its expected.json) and the fixture's collateral (--collateral): the SGX
// quote through the SDK's attestSgxEnclave (the token's signature checked by the SDK against
// /certs; its expiry is not, since the token expires hours after the pinned time, long ago), the
// TDX quote through POST /attest/TdxVm?api-version=2022-08-01 (the SDK 1.0.0 has no TDX call),
// its token checked against /certs with node's crypto. No runtime data: the recorded report data
// binds none of ours. Skipped with a message when the fixtures are absent; failed under CI=true.
import assert from "node:assert/strict";
import { createPublicKey, createVerify, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import { Service, jwsPart } from "./lib.mjs";

const fixtures = process.env.VERITEE_FIXTURES || process.env.VT_FIXTURES_DEFAULT || "";
const base = join(fixtures, "dcap", "phala-dcap-qvl");
const sgxDir = join(base, "sgx-v3-fmspc00a067110000");
const tdxDir = join(base, "tdx-v4-fmspcb0c06f000000");
const present = fixtures !== "" && existsSync(join(sgxDir, "quote.bin")) &&
                existsSync(join(tdxDir, "quote.bin"));
if (!present && process.env.CI === "true") {
    throw new Error(`DCAP fixtures not found under ${base} (under CI=true they must be)`);
}
if (!present) {
    console.log(`SKIP: DCAP fixtures not found under ${base || "(unset)"} (set VERITEE_FIXTURES)`);
}

const expected = (dir) => JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
// Ten minutes before the recorded verification time (the last second of the collateral's
// validity): the service's clock runs on from --now while the test runs.
const pinned = (dir) => expected(dir).verification_time - 600;
const at = (dir) => new Date(pinned(dir) * 1000).toISOString();

describe("real DCAP quotes", { skip: !present }, () => {
    test("SGX: attestSgxEnclave at the quote's time, the token validated by the SDK", async (t) => {
        const svc = await Service.start({ now: at(sgxDir), collateral: sgxDir });
        t.after(() => svc.stop());
        const quote = new Uint8Array(readFileSync(join(sgxDir, "quote.bin")));
        const r = await svc.client({ validationOptions: { validateToken: true,
                                                          validateExpirationTime: false,
                                                          validateNotBeforeTime: true } })
            .attestSgxEnclave(quote);
        assert.equal(r.token.algorithm, "RS256");
        assert.equal(r.body.verifierType, "sgx");
        assert.match(r.body.mrEnclave, /^[0-9a-f]{64}$/);
        assert.match(r.body.mrSigner, /^[0-9a-f]{64}$/);
        const body = jwsPart(r.token.serialize(), 1);
        assert.ok(body.iat >= pinned(sgxDir) && body.iat < pinned(sgxDir) + 300, `iat ${body.iat}`);
        // the report data is the quote's own (nothing of ours bound)
        const rd = Buffer.from(quote.subarray(48 + 320, 48 + 384)).toString("hex");
        assert.equal(body["x-ms-sgx-report-data"], rd);
        // one second past the collateral's validity the same quote is refused
        const late = await Service.start({
            now: new Date((expected(sgxDir).validity_window[1] + 1) * 1000).toISOString(),
            collateral: sgxDir });
        t.after(() => late.stop());
        await assert.rejects(late.client().attestSgxEnclave(quote),
                             (e) => e.statusCode === 400 && /does not verify/.test(e.message));
    });

    test("TDX: POST /attest/TdxVm at the quote's time, the token checked against /certs", async (t) => {
        const svc = await Service.start({ now: at(tdxDir), collateral: tdxDir });
        t.after(() => svc.stop());
        const quote = readFileSync(join(tdxDir, "quote.bin"));
        const res = await fetch(`${svc.endpoint}/attest/TdxVm?api-version=2022-08-01`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ quote: quote.toString("base64url") }),
        });
        const text = await res.text();
        assert.equal(res.status, 200, text);
        const token = JSON.parse(text).token;
        const h = jwsPart(token, 0);
        const body = jwsPart(token, 1);
        const jwks = await (await fetch(`${svc.endpoint}/certs`)).json();
        const jwk = jwks.keys.find((k) => k.kid === h.kid);
        assert.ok(jwk, "the token's kid is published at /certs");
        const cert = new X509Certificate(Buffer.from(jwk.x5c[0], "base64"));
        assert.deepEqual(cert.publicKey.export({ format: "jwk" }),
                         createPublicKey({ key: jwk, format: "jwk" }).export({ format: "jwk" }));
        const [hh, pp, ss] = token.split(".");
        const v = createVerify("RSA-SHA256");
        v.update(`${hh}.${pp}`);
        assert.ok(v.verify(cert.publicKey, Buffer.from(ss, "base64url")), "RS256 signature");
        assert.equal(body["x-ms-attestation-type"], "tdxvm");
        assert.match(body.tdx_mrtd, /^[0-9a-f]{96}$/);
        assert.equal(body.attester_tcb_status, expected(tdxDir).status);
        assert.equal(body.iss, svc.endpoint);
    });
});
