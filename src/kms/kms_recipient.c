/*
 * The Recipient parameter of Decrypt, GenerateDataKey and GenerateRandom (kms.h, docs/kms.md
 * "Recipient"): a Nitro Enclaves attestation document verified with libveritee on the broker's
 * verifier (COSE_Sign1 signature by the leaf, the chain to the AWS Nitro root or a configured
 * root, every certificate valid now), fresh (its timestamp at most recipient_max_age seconds
 * old and not ahead of the clock by more than the SigV4 skew), with an RSA public_key. The
 * result is wrapped to that key as CMS EnvelopedData, the shape of KMS's CiphertextForRecipient
 * (crypto/cms.h). The PCRs of the verified document (never of the unverified bytes) become the
 * condition keys kms:RecipientAttestation:ImageSha384 (PCR0) and PCR0..PCR31, lowercase hex as
 * KMS formats them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cms.h"
#include "kms/kms.h"

#define RECIPIENT_ALG "RSAES_OAEP_SHA_256"

void vt_kms_recipient_cleanup(struct vt_kms_recipient *r)
{
    if (r != NULL) {
        free(r->spki);
        r->spki = NULL;
    }
}

bool vt_kms_recipient_verify(struct vt_kms *k, const char *alg, const uint8_t *doc, size_t n,
                             struct vt_kms_recipient *r, struct vt_kms_error *e)
{
    memset(r, 0, sizeof(*r));
    if (doc != NULL) {
        vt_sha256(doc, n, r->doc_sha256); /* the log names even a document that is refused */
    }
    if (alg == NULL || strcmp(alg, RECIPIENT_ALG) != 0) {
        return vt_kms_fail(
            e, VT_KMS_EXC_VALIDATION,
            "1 validation error detected: Value at 'recipient.keyEncryptionAlgorithm'"
            " failed to satisfy constraint: Member must satisfy enum value set: "
            "[" RECIPIENT_ALG "]");
    }
    if (doc == NULL || n == 0) {
        return vt_kms_fail(e, VT_KMS_EXC_VALIDATION,
                           "1 validation error detected: Value null at "
                           "'recipient.attestationDocument' failed to satisfy constraint: Member "
                           "must not be null");
    }
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_evidence ev;
    if (vt_evidence_parse(doc, n, &ev, &d) != VT_OK || ev.kind != VT_EVIDENCE_NITRO_DOC) {
        return vt_kms_fail(e, VT_KMS_EXC_VALIDATION,
                           "The attestation document is not an AWS Nitro Enclaves attestation "
                           "document: %s%s%s",
                           d.check[0] ? d.check : "evidence.type", d.check[0] ? ": " : "",
                           d.check[0] ? d.detail : vt_evidence_kind_name(ev.kind));
    }
    vt_time now = vt_kms_now(k);
    struct vt_verify_opts o = {.now = now, .has_max_age = true, .max_age = k->recipient_max_age};
    struct vt_claims *c = malloc(sizeof(*c)); /* a few KB: not on a worker's stack */
    if (c == NULL) {
        return vt_kms_fail(e, VT_KMS_EXC_INTERNAL, "out of memory");
    }
    vt_claims_init(c);
    bool ok = false;
    if (k->b->verifier == NULL) {
        vt_kms_fail(e, VT_KMS_EXC_INTERNAL, "the service has no verifier");
    } else if (vt_verify_evidence(k->b->verifier, &ev, &o, c, &d) != VT_OK) {
        vt_kms_fail(e, VT_KMS_EXC_VALIDATION, "The attestation document does not verify: %s: %s",
                    d.check, d.detail);
    } else if (c->tee != VT_TEE_NITRO) {
        vt_kms_fail(e, VT_KMS_EXC_VALIDATION, "The attestation document is not of Nitro");
    } else if ((vt_time)(c->nitro.timestamp_ms / 1000) > now + VT_SIGV4_MAX_SKEW) {
        vt_kms_fail(e, VT_KMS_EXC_VALIDATION,
                    "The attestation document's timestamp is more than %d s ahead of the "
                    "service's clock",
                    VT_SIGV4_MAX_SKEW);
    } else if (!c->public_key.present || c->public_key.len == 0) {
        vt_kms_fail(e, VT_KMS_EXC_VALIDATION,
                    "The attestation document has no public_key to encrypt the response to");
    } else if ((r->spki = malloc(c->public_key.len)) == NULL) {
        vt_kms_fail(e, VT_KMS_EXC_INTERNAL, "out of memory");
    } else {
        memcpy(r->spki, c->public_key.data, c->public_key.len);
        r->spki_len = c->public_key.len;
        snprintf(r->module_id, sizeof(r->module_id), "%s", c->nitro.module_id);
        r->pcr_mask = c->nitro.pcr_mask;
        r->verified = true;
        for (unsigned i = 0; i < 32; i++) {
            if ((r->pcr_mask >> i) & 1u) {
                vt_hex_encode(c->nitro.pcrs[i], c->nitro.pcr_len[i], r->pcr[i]);
            }
        }
        ok = true;
    }
    free(c);
    return ok;
}

bool vt_kms_recipient_wrap(const struct vt_kms_recipient *r, const uint8_t *pt, size_t n,
                           uint8_t **out, size_t *out_len, struct vt_kms_error *e)
{
    *out = NULL;
    *out_len = 0;
    struct vt_buf b;
    vt_buf_init(&b, VT_CMS_MAX_SIZE);
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_cms_encrypt_for_recipient(r->spki, r->spki_len, pt, n, &b, &d);
    if (err == VT_E_BAD_KEY || err == VT_E_UNSUPPORTED_ALGORITHM || err == VT_E_BAD_DER) {
        vt_buf_cleanup(&b);
        return vt_kms_fail(e, VT_KMS_EXC_VALIDATION,
                           "The attestation document's public_key cannot receive the response "
                           "(RSAES_OAEP_SHA_256 needs an RSA key of 2048 bits or more): %s",
                           d.detail);
    }
    if (err != VT_OK) {
        vt_buf_cleanup(&b);
        return vt_kms_fail(e, VT_KMS_EXC_INTERNAL, "cannot encrypt for the recipient: %s",
                           d.detail);
    }
    *out = vt_buf_steal(&b, out_len);
    return true;
}
