// Real AWS Nitro Enclaves attestation documents (../shared/fixtures/nitro, VERITEE_FIXTURES
// overrides) as the Recipient of Decrypt and GenerateDataKey, sent by the AWS SDK for JavaScript
// v3 to `veritee kms serve --now T` with T inside each document's validity (its timestamp plus a
// minute; the SDK signs at that time through systemClockOffset). The documents chain to the AWS
// Nitro Enclaves root, which the service always trusts.
//
// Key policies name each document's own measurements (ImageSha384 = PCR0, and PCR1, PCR2), so the
// service must read them from the verified document. None of the recorded documents carries an
// RSA public_key (they hold null, a 65-byte EC point, or a string), so no answer can be wrapped to
// them; what each gets is the refusal the service gives:
//   - public_key null: ValidationException "no public_key" (the document is refused before the
//     key policy is read);
//   - public_key not an RSA SubjectPublicKeyInfo: authorized by the policy on its PCRs, then
//     ValidationException "cannot receive the response (RSAES_OAEP_SHA_256 needs an RSA key...)";
//     with a policy naming other PCRs (another image, another PCR1, the other instance's PCR4):
//     AccessDeniedException;
//   - an RSA public_key (none recorded yet): CiphertextForRecipient, checked to be CMS
//     EnvelopedData.
// With the real clock every document is refused: its certificates expired long ago.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import { Service, enclavePolicy, kms, scratchDir } from "./lib.mjs";

const { CreateKeyCommand, DecryptCommand, EncryptCommand, GenerateDataKeyCommand } = kms;

const fixtures = process.env.VERITEE_FIXTURES || process.env.VT_FIXTURES_DEFAULT || "";
const expectedPath = join(fixtures, "nitro", "expected.json");
const present = fixtures !== "" && existsSync(expectedPath);
if (!present && process.env.CI === "true") {
    throw new Error(`Nitro fixtures not found at ${expectedPath} (under CI=true they must be)`);
}
if (!present) {
    console.log(`SKIP: Nitro fixtures not found at ${expectedPath || "(unset)"} (set VERITEE_FIXTURES)`);
}

const ZERO = "0".repeat(96);
const documents = present ? JSON.parse(readFileSync(expectedPath, "utf8")).documents : [];
const pcr = (doc, i) => doc.pcrs_nonzero[String(i)] || ZERO;

// What the document's public_key is: "none", "rsa" or "other".
function keyKind(doc) {
    if (doc.public_key === null || doc.public_key === undefined) {
        return "none";
    }
    try {
        const k = createPublicKey({ key: Buffer.from(doc.public_key, "hex"), format: "der",
                                    type: "spki" });
        return k.asymmetricKeyType === "rsa" ? "rsa" : "other";
    } catch {
        return "other";
    }
}

async function failure(promise) {
    try {
        await promise;
    } catch (err) {
        return err;
    }
    return { name: "no exception", message: "" };
}

// One service whose clock is pinned inside the document's validity, a key whose policy allows
// the enclave role for the given conditions, and a blob under it.
// Stopped when test t ends.
async function setup(t, doc, conditions) {
    const at = new Date(doc.timestamp_ms + 60e3).toISOString();
    const svc = await Service.start({ now: at });
    t.after(() => svc.stop());
    const admin = svc.client("admin");
    const k = await admin.send(new CreateKeyCommand({ Policy: enclavePolicy(conditions) }));
    const keyId = k.KeyMetadata.KeyId;
    const e = await admin.send(new EncryptCommand({ KeyId: keyId,
                                                    Plaintext: new TextEncoder().encode("pepper") }));
    return { svc, enclave: svc.client("enclave"), keyId, blob: e.CiphertextBlob };
}

const recipient = (bytes) => ({ KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
                                AttestationDocument: bytes });

describe("real Nitro documents as Recipient, the clock pinned", { skip: !present }, () => {
    for (const doc of documents) {
        const kind = keyKind(doc);
        test(`${doc.file} (public_key: ${kind})`, async (t) => {
            const bytes = new Uint8Array(readFileSync(join(fixtures, "nitro", doc.file)));
            // the policy on its own image and boot measurements
            const own = {
                "kms:RecipientAttestation:ImageSha384": pcr(doc, 0),
                "kms:RecipientAttestation:PCR1": pcr(doc, 1),
                "kms:RecipientAttestation:PCR2": pcr(doc, 2),
            };
            const s = await setup(t, doc, own);
            const call = (c) => c.send(new DecryptCommand({ CiphertextBlob: s.blob,
                                                            Recipient: recipient(bytes) }));
            const gdk = (c) => c.send(new GenerateDataKeyCommand({
                KeyId: s.keyId, KeySpec: "AES_256", Recipient: recipient(bytes) }));
            if (kind === "rsa") {
                const d = await call(s.enclave);
                assert.equal(d.Plaintext, undefined);
                const dir = scratchDir();
                writeFileSync(join(dir, "cfr.der"), d.CiphertextForRecipient);
                const printed = execFileSync("openssl", ["cms", "-cmsout", "-print", "-inform",
                                                         "DER", "-in", join(dir, "cfr.der")],
                                             { encoding: "utf8" });
                assert.match(printed, /pkcs7-envelopedData/);
                assert.match(printed, /rsaesOaep/);
            } else if (kind === "none") {
                for (const f of [call, gdk]) {
                    const err = await failure(f(s.enclave));
                    assert.equal(err.name, "ValidationException");
                    assert.match(err.message, /no public_key/);
                }
            } else {
                for (const f of [call, gdk]) {
                    const err = await failure(f(s.enclave));
                    assert.equal(err.name, "ValidationException", err.message);
                    assert.match(err.message, /needs an RSA key/);
                }
            }
            // policies naming other measurements: another image, another PCR1
            for (const other of [
                { "kms:RecipientAttestation:ImageSha384": "ab".repeat(48) },
                { ...own, "kms:RecipientAttestation:PCR1": "cd".repeat(48) },
            ]) {
                const o = await setup(t, doc, other);
                const err = await failure(o.enclave.send(new DecryptCommand({
                    CiphertextBlob: o.blob, Recipient: recipient(bytes) })));
                // a document without a public key is refused before the policy is read
                assert.equal(err.name, kind === "none" ? "ValidationException"
                                                       : "AccessDeniedException", err.message);
            }
        });
    }

    test("the same instance's PCR4 on another instance's document: AccessDeniedException",
         async (t) => {
        // Two documents of one enclave image on two parent instances: PCR0..3 equal, PCR4 not.
        const a = documents.find((d) => d.file.endsWith("attestation-2024-11-25.reconstructed.cose"));
        const b = documents.find((d) => d.file.endsWith("attestation-2024-11-30.cose"));
        assert.ok(a && b, "the two 2024 documents of base-nitro-validator are in expected.json");
        assert.equal(pcr(a, 0), pcr(b, 0));
        assert.notEqual(pcr(a, 4), pcr(b, 4));
        const bytes = new Uint8Array(readFileSync(join(fixtures, "nitro", b.file)));
        const pinned = await setup(t, b, { "kms:RecipientAttestation:ImageSha384": pcr(b, 0),
                                        "kms:RecipientAttestation:PCR4": pcr(a, 4) });
        const err = await failure(pinned.enclave.send(new DecryptCommand({
            CiphertextBlob: pinned.blob, Recipient: recipient(bytes) })));
        assert.equal(err.name, "AccessDeniedException");
        const own = await setup(t, b, { "kms:RecipientAttestation:ImageSha384": pcr(b, 0),
                                     "kms:RecipientAttestation:PCR4": pcr(b, 4) });
        const err2 = await failure(own.enclave.send(new DecryptCommand({
            CiphertextBlob: own.blob, Recipient: recipient(bytes) })));
        // its own PCR4 is allowed; then its public_key (an EC point) cannot receive the answer
        assert.equal(err2.name, "ValidationException", err2.message);
        assert.match(err2.message, /needs an RSA key/);
    });

    test("with the real clock the recorded documents are refused (certificates expired)",
         async (t) => {
        const svc = await Service.start();
        t.after(() => svc.stop());
        const doc = documents.find((d) => d.file.endsWith("attestation-2024-11-30.cose"));
        const bytes = new Uint8Array(readFileSync(join(fixtures, "nitro", doc.file)));
        const err = await failure(svc.client("enclave").send(new kms.GenerateRandomCommand({
            NumberOfBytes: 32, Recipient: recipient(bytes) })));
        assert.equal(err.name, "ValidationException");
        assert.match(err.message, /does not verify/);
    });
});
