// An enclave's call as it is written for AWS KMS, with the AWS SDK for JavaScript v3 (used by
// scripts/demo.sh when the SDK is installed in a build tree): GenerateDataKey of an AES-256 key
// with a Recipient carrying the enclave's attestation document; CiphertextForRecipient is written
// to OUT for the enclave to open with its private key. Only the endpoint is veritee's.
//
//   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
//       node enclave.mjs SDK_DIR ENDPOINT REGION KEY_ID DOCUMENT OUT
//
// Exit status 0 with the answer written; 1 with the exception's name on stderr.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [sdkDir, endpoint, region, keyId, document, out] = process.argv.slice(2);
const { KMSClient, GenerateDataKeyCommand } =
    createRequire(join(sdkDir, "package.json"))("@aws-sdk/client-kms");

const kms = new KMSClient({ endpoint, region }); // credentials from the environment, as usual
try {
    const r = await kms.send(new GenerateDataKeyCommand({
        KeyId: keyId,
        KeySpec: "AES_256",
        Recipient: {
            KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
            AttestationDocument: readFileSync(document),
        },
    }));
    writeFileSync(out, r.CiphertextForRecipient);
} catch (err) {
    console.error(err.name);
    process.exit(1);
}
