// veritee's AWS KMS drop-in driven by the AWS SDK for JavaScript v3 (@aws-sdk/client-kms, pinned
// by package-lock.json), as an application and an enclave written for AWS KMS use it: an endpoint
// override, a region and static credentials from `veritee kms access-key create`. Keys, aliases,
// Encrypt/Decrypt with an encryption context, data keys, random bytes; a key policy that lets the
// enclave role decrypt and generate data keys only for one enclave image (ImageSha384 and PCR0),
// Decrypt, GenerateDataKey and GenerateRandom with a Recipient whose attestation document comes
// from the Nitro simulator, CiphertextForRecipient opened with the enclave's private key through
// OpenSSL's CMS; and every refusal as the SDK raises it (err.name): another image, no document, a
// wrong secret, an unknown access key, a disabled key, a key pending deletion, a stale document, a
// document from the future. Run by tests/kms_sdk/run.sh (CTest: kms_sdk).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import {
    ACCOUNT,
    Enclave,
    REGION,
    Service,
    enclavePolicy,
    errorName,
    kms,
    scratchDir,
    simulatorRoot,
} from "./lib.mjs";

const {
    CreateAliasCommand,
    CreateKeyCommand,
    DecryptCommand,
    DeleteAliasCommand,
    DescribeKeyCommand,
    DisableKeyCommand,
    EnableKeyCommand,
    EncryptCommand,
    GenerateDataKeyCommand,
    GenerateRandomCommand,
    GetKeyPolicyCommand,
    ListAliasesCommand,
    ListKeysCommand,
    PutKeyPolicyCommand,
    ScheduleKeyDeletionCommand,
    ReEncryptCommand,
    GenerateDataKeyWithoutPlaintextCommand,
    EnableKeyRotationCommand,
    DisableKeyRotationCommand,
    GetKeyRotationStatusCommand,
    RotateKeyOnDemandCommand,
    UpdateAliasCommand,
    UpdateKeyDescriptionCommand,
    CancelKeyDeletionCommand,
    paginateListKeys,
    paginateListAliases,
} = kms;

const enc = new TextEncoder();
const dec = new TextDecoder();
const recipient = (doc) => ({ KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
                              AttestationDocument: doc.bytes });

let svc, admin, enclaveClient, dir, sim, enclave, approved, keyId, keyArn;

before(async () => {
    dir = scratchDir();
    sim = simulatorRoot(dir);
    svc = await Service.start({ trustAnchor: sim.anchor });
    admin = svc.client("admin");
    enclaveClient = svc.client("enclave");
    enclave = new Enclave(dir);
    approved = enclave.document(sim.simDir);
});

after(async () => {
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
});

describe("the document tool (tests/support/nitro_doc.c)", () => {
    // exit status 2 and a message for what it cannot make
    const refuses = (...args) => {
        const r = spawnSync(process.env.VT_NITRO_DOC, ["--sim-dir", sim.simDir, "--out",
                                                         join(dir, "refused.cose"), ...args],
                            { encoding: "utf8" });
        return [r.status, r.stderr.split("\n")[0]];
    };
    test("refuses a bad --pcr, --age or --time, and a key that is no key", () => {
        for (const bad of ["32=" + "00".repeat(48), "0=abc", "0=" + "00".repeat(20), "x=00",
                           "0"]) {
            const [status, msg] = refuses("--pcr", bad);
            assert.equal(status, 2, bad);
            assert.match(msg, /--pcr takes N=HEX/);
        }
        assert.equal(refuses("--age", "86401")[0], 2);
        assert.equal(refuses("--age", "5s")[0], 2);
        assert.equal(refuses("--time", "yesterday")[0], 2);
        writeFileSync(join(dir, "not-a-key.der"), "not a key");
        const [status, msg] = refuses("--public-key", join(dir, "not-a-key.der"));
        assert.equal(status, 1);
        assert.match(msg, /not a public key/);
        assert.equal(spawnSync(process.env.VT_NITRO_DOC, ["--out", "x"]).status, 2);
    });

    test("writes the PCRs it was given and the timestamp asked for", () => {
        const doc = enclave.document(sim.simDir, { pcrs: { 0: "ab".repeat(48), 8: "cd".repeat(48) },
                                                   age: 60 });
        assert.equal(doc.pcrs["0"], "ab".repeat(48));
        assert.equal(doc.pcrs["8"], "cd".repeat(48));
        assert.equal(doc.pcrs["1"], approved.pcrs["1"]);
        assert.ok(Math.abs(doc.timestampMs - (Date.now() - 60e3)) < 10e3);
    });
});

describe("keys and aliases", () => {
    test("CreateKey, DescribeKey by id and ARN, ListKeys", async () => {
        const created = await admin.send(new CreateKeyCommand({ Description: "sdk test key" }));
        const m = created.KeyMetadata;
        keyId = m.KeyId;
        keyArn = m.Arn;
        assert.match(keyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.equal(keyArn, `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`);
        assert.equal(m.AWSAccountId, ACCOUNT);
        assert.equal(m.KeyState, "Enabled");
        assert.equal(m.Enabled, true);
        assert.equal(m.KeySpec, "SYMMETRIC_DEFAULT");
        assert.equal(m.KeyUsage, "ENCRYPT_DECRYPT");
        assert.equal(m.Description, "sdk test key");
        assert.ok(m.CreationDate instanceof Date, "CreationDate is read as a date");
        assert.ok(Math.abs(m.CreationDate.getTime() - Date.now()) < 600e3);
        for (const id of [keyId, keyArn]) {
            const d = await admin.send(new DescribeKeyCommand({ KeyId: id }));
            assert.equal(d.KeyMetadata.Arn, keyArn);
        }
        const listed = await admin.send(new ListKeysCommand({}));
        assert.ok(listed.Keys.some((k) => k.KeyId === keyId && k.KeyArn === keyArn));
    });

    test("CreateAlias, ListAliases, DeleteAlias", async () => {
        await admin.send(new CreateAliasCommand({ AliasName: "alias/sdk-test", TargetKeyId: keyId }));
        const d = await admin.send(new DescribeKeyCommand({ KeyId: "alias/sdk-test" }));
        assert.equal(d.KeyMetadata.KeyId, keyId);
        const aliasArn = `arn:aws:kms:${REGION}:${ACCOUNT}:alias/sdk-test`;
        const byArn = await admin.send(new DescribeKeyCommand({ KeyId: aliasArn }));
        assert.equal(byArn.KeyMetadata.KeyId, keyId);
        const aliases = await admin.send(new ListAliasesCommand({ KeyId: keyId }));
        assert.deepEqual(aliases.Aliases.map((a) => [a.AliasName, a.AliasArn, a.TargetKeyId]),
                         [["alias/sdk-test", aliasArn, keyId]]);
        assert.equal(await errorName(admin.send(new CreateAliasCommand({
                         AliasName: "alias/sdk-test", TargetKeyId: keyId }))),
                     "AlreadyExistsException");
        assert.equal(await errorName(admin.send(new CreateAliasCommand({
                         AliasName: "alias/aws/reserved", TargetKeyId: keyId }))),
                     "InvalidAliasNameException");
        await admin.send(new DeleteAliasCommand({ AliasName: "alias/sdk-test" }));
        assert.equal(await errorName(admin.send(new DescribeKeyCommand({ KeyId: "alias/sdk-test" }))),
                     "NotFoundException");
        assert.equal(await errorName(admin.send(new DescribeKeyCommand({
                         KeyId: "00000000-0000-4000-8000-000000000000" }))),
                     "NotFoundException");
    });
});

describe("cryptographic operations", () => {
    test("Encrypt and Decrypt with an encryption context; a wrong context", async () => {
        const context = { purpose: "sdk-test", tenant: "alpha" };
        const e = await admin.send(new EncryptCommand({
            KeyId: keyId, Plaintext: enc.encode("attack at dawn"), EncryptionContext: context }));
        assert.equal(e.KeyId, keyArn);
        assert.equal(e.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
        assert.ok(e.CiphertextBlob instanceof Uint8Array && e.CiphertextBlob.length > 14);
        const d = await admin.send(new DecryptCommand({
            CiphertextBlob: e.CiphertextBlob, EncryptionContext: context }));
        assert.equal(dec.decode(d.Plaintext), "attack at dawn");
        assert.equal(d.KeyId, keyArn);
        for (const wrong of [{ purpose: "sdk-test", tenant: "beta" }, { purpose: "sdk-test" },
                             undefined]) {
            assert.equal(await errorName(admin.send(new DecryptCommand({
                             CiphertextBlob: e.CiphertextBlob, EncryptionContext: wrong }))),
                         "InvalidCiphertextException");
        }
        const flipped = Uint8Array.from(e.CiphertextBlob);
        flipped[flipped.length - 1] ^= 1;
        assert.equal(await errorName(admin.send(new DecryptCommand({
                         CiphertextBlob: flipped, EncryptionContext: context }))),
                     "InvalidCiphertextException");
    });

    test("GenerateDataKey: the plaintext key and its CiphertextBlob agree", async () => {
        const g = await admin.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" }));
        assert.equal(g.Plaintext.length, 32);
        assert.equal(g.KeyId, keyArn);
        const d = await admin.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob }));
        assert.deepEqual(d.Plaintext, g.Plaintext);
        const g16 = await admin.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 16 }));
        assert.equal(g16.Plaintext.length, 16);
        assert.equal(await errorName(admin.send(new GenerateDataKeyCommand({ KeyId: keyId }))),
                     "ValidationException");
    });

    test("GenerateRandom", async () => {
        const r = await admin.send(new GenerateRandomCommand({ NumberOfBytes: 48 }));
        assert.equal(r.Plaintext.length, 48);
        const s = await admin.send(new GenerateRandomCommand({ NumberOfBytes: 48 }));
        assert.notDeepEqual(r.Plaintext, s.Plaintext);
        assert.equal(await errorName(admin.send(new GenerateRandomCommand({ NumberOfBytes: 0 }))),
                     "ValidationException");
    });
});

describe("more operations, as the SDK's own helpers call them", () => {
    test("ReEncrypt to another key and context; GenerateDataKeyWithoutPlaintext", async () => {
        const other = (await admin.send(new CreateKeyCommand({}))).KeyMetadata;
        const e = await admin.send(new EncryptCommand({
            KeyId: keyId, Plaintext: enc.encode("moved"), EncryptionContext: { a: "1" } }));
        const r = await admin.send(new ReEncryptCommand({
            CiphertextBlob: e.CiphertextBlob, SourceEncryptionContext: { a: "1" },
            DestinationKeyId: other.Arn, DestinationEncryptionContext: { b: "2" } }));
        assert.equal(r.SourceKeyId, keyArn);
        assert.equal(r.KeyId, other.Arn);
        const d = await admin.send(new DecryptCommand({ CiphertextBlob: r.CiphertextBlob,
                                                        EncryptionContext: { b: "2" } }));
        assert.equal(dec.decode(d.Plaintext), "moved");
        assert.equal(d.KeyId, other.Arn);
        const w = await admin.send(new GenerateDataKeyWithoutPlaintextCommand({
            KeyId: keyId, KeySpec: "AES_128" }));
        assert.equal(w.Plaintext, undefined);
        const dk = await admin.send(new DecryptCommand({ CiphertextBlob: w.CiphertextBlob }));
        assert.equal(dk.Plaintext.length, 16);
    });

    test("rotation: a new version, old blobs still decrypt", async () => {
        const e = await admin.send(new EncryptCommand({ KeyId: keyId, Plaintext: enc.encode("v1") }));
        await admin.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
        const st = await admin.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
        assert.equal(st.KeyRotationEnabled, true);
        assert.equal(st.RotationPeriodInDays, 90);
        assert.ok(st.NextRotationDate instanceof Date);
        await admin.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
        const e2 = await admin.send(new EncryptCommand({ KeyId: keyId, Plaintext: enc.encode("v2") }));
        assert.notDeepEqual(e2.CiphertextBlob.subarray(0, 24), e.CiphertextBlob.subarray(0, 24));
        for (const [blob, text] of [[e.CiphertextBlob, "v1"], [e2.CiphertextBlob, "v2"]]) {
            const d = await admin.send(new DecryptCommand({ CiphertextBlob: blob }));
            assert.equal(dec.decode(d.Plaintext), text);
        }
        await admin.send(new DisableKeyRotationCommand({ KeyId: keyId }));
        const off = await admin.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
        assert.equal(off.KeyRotationEnabled, false);
    });

    test("the SDK's paginator over ListKeys and ListAliases; UpdateAlias", async () => {
        for (let i = 0; i < 3; i++) {
            await admin.send(new CreateKeyCommand({ Description: `page ${i}` }));
        }
        const seen = [];
        for await (const page of paginateListKeys({ client: admin, pageSize: 2 }, {})) {
            assert.ok(page.Keys.length <= 2);
            seen.push(...page.Keys.map((k) => k.KeyId));
        }
        assert.equal(new Set(seen).size, seen.length, "no key twice");
        const all = await admin.send(new ListKeysCommand({ Limit: 1000 }));
        assert.deepEqual(seen.sort(), all.Keys.map((k) => k.KeyId).sort());
        assert.ok(seen.length >= 5);
        await admin.send(new CreateAliasCommand({ AliasName: "alias/moving", TargetKeyId: keyId }));
        await admin.send(new UpdateAliasCommand({ AliasName: "alias/moving",
                                                  TargetKeyId: seen.find((k) => k !== keyId) }));
        const names = [];
        for await (const page of paginateListAliases({ client: admin, pageSize: 1 }, {})) {
            names.push(...page.Aliases.map((a) => a.AliasName));
        }
        assert.ok(names.includes("alias/moving"));
        const d = await admin.send(new DescribeKeyCommand({ KeyId: "alias/moving" }));
        assert.notEqual(d.KeyMetadata.KeyId, keyId);
        await admin.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: "renamed" }));
        const r = await admin.send(new DescribeKeyCommand({ KeyId: keyId }));
        assert.equal(r.KeyMetadata.Description, "renamed");
    });

    test("DryRun: DryRunOperationException; an invalid marker: InvalidMarkerException", async () => {
        assert.equal(await errorName(admin.send(new EncryptCommand({
                         KeyId: keyId, Plaintext: enc.encode("x"), DryRun: true }))),
                     "DryRunOperationException");
        assert.equal(await errorName(admin.send(new ListKeysCommand({ Marker: "nonsense" }))),
                     "InvalidMarkerException");
        // the enclave role's key is not an admin key: no ListKeys
        assert.equal(await errorName(enclaveClient.send(new ListKeysCommand({}))),
                     "AccessDeniedException");
    });
});

describe("an enclave with a Recipient under a key policy on its image", () => {
    let blob, policy;

    before(async () => {
        policy = enclavePolicy({
            "kms:RecipientAttestation:ImageSha384": approved.pcrs["0"],
            "kms:RecipientAttestation:PCR0": approved.pcrs["0"].toUpperCase(),
        });
        await admin.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default",
                                                   Policy: policy }));
        const e = await admin.send(new EncryptCommand({
            KeyId: keyId, Plaintext: enc.encode("the vault's pepper") }));
        blob = e.CiphertextBlob;
    });

    test("GetKeyPolicy returns the policy put", async () => {
        const p = await admin.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }));
        assert.deepEqual(JSON.parse(p.Policy), JSON.parse(policy));
    });

    test("a policy with a mistake is refused, naming it", async () => {
        const bad = JSON.parse(policy);
        bad.Statement[1].Effect = "Permit";
        let err;
        try {
            await admin.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default",
                                                       Policy: JSON.stringify(bad) }));
        } catch (e) {
            err = e;
        }
        assert.equal(err?.name, "MalformedPolicyDocumentException");
        assert.match(err.message, /Effect/);
    });

    test("Decrypt for the approved image: CiphertextForRecipient, no Plaintext", async () => {
        const d = await enclaveClient.send(new DecryptCommand({
            CiphertextBlob: blob, Recipient: recipient(approved) }));
        assert.equal(d.Plaintext, undefined);
        assert.equal(d.KeyId, keyArn);
        assert.ok(d.CiphertextForRecipient.length > 256);
        assert.equal(dec.decode(enclave.open(d.CiphertextForRecipient)), "the vault's pepper");
    });

    test("GenerateDataKey for the approved image: the enclave opens the data key", async () => {
        const g = await enclaveClient.send(new GenerateDataKeyCommand({
            KeyId: keyId, KeySpec: "AES_256", Recipient: recipient(approved) }));
        assert.equal(g.Plaintext, undefined);
        const dataKey = enclave.open(g.CiphertextForRecipient);
        assert.equal(dataKey.length, 32);
        // the CiphertextBlob holds the same key: the administrator can decrypt it
        const d = await admin.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob }));
        assert.deepEqual(new Uint8Array(d.Plaintext), dataKey);
    });

    test("GenerateRandom with a Recipient", async () => {
        const r = await enclaveClient.send(new GenerateRandomCommand({
            NumberOfBytes: 40, Recipient: recipient(approved) }));
        assert.equal(r.Plaintext, undefined);
        assert.equal(enclave.open(r.CiphertextForRecipient).length, 40);
    });

    test("the same document again: taken while fresh (KMS keeps no record of documents)",
         async () => {
        // Only the holder of the document's private key can open the answer, so a replayed
        // document gives its sender nothing; AWS KMS takes a document for as long as it is fresh,
        // and so does veritee (--recipient-max-age, 300 s).
        const d = await enclaveClient.send(new DecryptCommand({
            CiphertextBlob: blob, Recipient: recipient(approved) }));
        assert.equal(dec.decode(enclave.open(d.CiphertextForRecipient)), "the vault's pepper");
    });

    test("another image: AccessDeniedException", async () => {
        const other = enclave.document(sim.simDir, { pcrs: { 0: "ab".repeat(48) } });
        assert.notEqual(other.pcrs["0"], approved.pcrs["0"]);
        assert.equal(await errorName(enclaveClient.send(new DecryptCommand({
                         CiphertextBlob: blob, Recipient: recipient(other) }))),
                     "AccessDeniedException");
        assert.equal(await errorName(enclaveClient.send(new GenerateDataKeyCommand({
                         KeyId: keyId, KeySpec: "AES_256", Recipient: recipient(other) }))),
                     "AccessDeniedException");
    });

    test("the approved image on another kernel (PCR1): allowed, the policy names PCR0 only",
         async () => {
        const kernel = enclave.document(sim.simDir, { pcrs: { 1: "cd".repeat(48) } });
        const d = await enclaveClient.send(new DecryptCommand({
            CiphertextBlob: blob, Recipient: recipient(kernel) }));
        assert.equal(dec.decode(enclave.open(d.CiphertextForRecipient)), "the vault's pepper");
    });

    test("no attestation document: AccessDeniedException", async () => {
        assert.equal(await errorName(enclaveClient.send(new DecryptCommand({ CiphertextBlob: blob }))),
                     "AccessDeniedException");
        assert.equal(await errorName(enclaveClient.send(new GenerateDataKeyCommand({
                         KeyId: keyId, KeySpec: "AES_256" }))),
                     "AccessDeniedException");
        // an action the policy does not give the enclave role, document or not
        assert.equal(await errorName(enclaveClient.send(new EncryptCommand({
                         KeyId: keyId, Plaintext: enc.encode("x") }))),
                     "AccessDeniedException");
    });

    test("a stale document, and one from the future: ValidationException", async () => {
        const stale = enclave.document(sim.simDir, { age: 400 }); // the limit is 300 s
        let err;
        try {
            await enclaveClient.send(new DecryptCommand({ CiphertextBlob: blob,
                                                          Recipient: recipient(stale) }));
        } catch (e) {
            err = e;
        }
        assert.equal(err?.name, "ValidationException");
        assert.match(err.message, /max_age/);
        const future = enclave.document(sim.simDir, { age: -(900 + 120) });
        err = undefined;
        try {
            await enclaveClient.send(new DecryptCommand({ CiphertextBlob: blob,
                                                          Recipient: recipient(future) }));
        } catch (e) {
            err = e;
        }
        assert.equal(err?.name, "ValidationException");
        assert.match(err.message, /ahead/);
    });

    test("a document without a public key, and bytes that are no document: ValidationException",
         async () => {
        const keyless = enclave.document(sim.simDir, { noKey: true });
        assert.equal(await errorName(enclaveClient.send(new DecryptCommand({
                         CiphertextBlob: blob, Recipient: recipient(keyless) }))),
                     "ValidationException");
        assert.equal(await errorName(enclaveClient.send(new DecryptCommand({
                         CiphertextBlob: blob,
                         Recipient: recipient({ bytes: enc.encode("not a document") }) }))),
                     "ValidationException");
    });
});

describe("authentication", () => {
    test("a wrong secret key: InvalidSignatureException", async () => {
        const k = svc.keys.enclave;
        const wrong = svc.client({ AccessKeyId: k.AccessKeyId,
                                   SecretAccessKey: k.SecretAccessKey.replace(/^./, (c) =>
                                       (c === "A" ? "B" : "A")) });
        let err;
        try {
            await wrong.send(new GenerateRandomCommand({ NumberOfBytes: 8 }));
        } catch (e) {
            err = e;
        }
        assert.equal(err?.name, "InvalidSignatureException");
        assert.equal(err.$metadata.httpStatusCode, 400);
        assert.equal(err.$fault, "client");
        assert.match(err.message, /signature we calculated does not match/);
    });

    test("an unknown access key: UnrecognizedClientException", async () => {
        const stranger = svc.client({ AccessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                      SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" });
        assert.equal(await errorName(stranger.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))),
                     "UnrecognizedClientException");
    });

    test("a signature for another region: InvalidSignatureException", async () => {
        const k = svc.keys.admin;
        const c = svc.client(k, { region: "eu-west-1" });
        assert.equal(await errorName(c.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))),
                     "InvalidSignatureException");
    });

    test("a clock 20 minutes off: InvalidSignatureException (signature expired)", async () => {
        const c = svc.client("admin", { systemClockOffset: svc.clockOffset - 20 * 60e3 });
        let err;
        try {
            await c.send(new GenerateRandomCommand({ NumberOfBytes: 8 }));
        } catch (e) {
            err = e;
        }
        assert.equal(err?.name, "InvalidSignatureException");
        assert.match(err.message, /Signature expired/);
    });
});

describe("key states", () => {
    test("a disabled key: DisabledException, until enabled again", async () => {
        const e = await admin.send(new EncryptCommand({ KeyId: keyId, Plaintext: enc.encode("x") }));
        await admin.send(new DisableKeyCommand({ KeyId: keyId }));
        const d = await admin.send(new DescribeKeyCommand({ KeyId: keyId }));
        assert.equal(d.KeyMetadata.KeyState, "Disabled");
        assert.equal(d.KeyMetadata.Enabled, false);
        assert.equal(await errorName(admin.send(new EncryptCommand({
                         KeyId: keyId, Plaintext: enc.encode("x") }))),
                     "DisabledException");
        assert.equal(await errorName(admin.send(new DecryptCommand({
                         CiphertextBlob: e.CiphertextBlob }))),
                     "DisabledException");
        assert.equal(await errorName(enclaveClient.send(new DecryptCommand({
                         CiphertextBlob: e.CiphertextBlob, Recipient: recipient(approved) }))),
                     "DisabledException");
        await admin.send(new EnableKeyCommand({ KeyId: keyId }));
        const again = await admin.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob }));
        assert.equal(dec.decode(again.Plaintext), "x");
    });

    test("a key pending deletion: KMSInvalidStateException", async () => {
        const k = await admin.send(new CreateKeyCommand({}));
        const id = k.KeyMetadata.KeyId;
        const s = await admin.send(new ScheduleKeyDeletionCommand({ KeyId: id,
                                                                    PendingWindowInDays: 7 }));
        assert.equal(s.KeyState, "PendingDeletion");
        assert.ok(s.DeletionDate instanceof Date);
        assert.equal(await errorName(admin.send(new EncryptCommand({
                         KeyId: id, Plaintext: enc.encode("x") }))),
                     "KMSInvalidStateException");
        const c = await admin.send(new CancelKeyDeletionCommand({ KeyId: id }));
        assert.equal(c.KeyId, k.KeyMetadata.Arn);
        const d = await admin.send(new DescribeKeyCommand({ KeyId: id }));
        assert.equal(d.KeyMetadata.KeyState, "Disabled");
        assert.equal(d.KeyMetadata.DeletionDate, undefined);
    });
});
