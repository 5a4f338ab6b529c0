/*
 * Fuzz the readers of a POST /v1/cert request (broker_cert.c, docs/attested-tls.md): the JSON body
 * (vt_broker_cert_request_parse) and the PKCS#10 request it carries (vt_csr_parse: PEM or DER,
 * size cap, key and signature algorithms, proof of possession), then the key's conversion to a
 * JWK (vt_jwk_from_spki_der) whose thumbprint the broker compares with the token's cnf.jkt. The
 * input is read both ways: as a request body (and, when it parses, its "csr" member as a CSR), and
 * as a CSR itself.
 *
 * Invariants: a body that does not parse is refused with 400, 413 or 500 and a reason, leaving
 * nothing allocated; one that parses has a profile, a CSR of at most VT_MAX_CSR_SIZE bytes, and
 * exactly one of token and evidence (evidence with a nonce). A CSR that does not parse leaves no
 * object and its error recorded; one that parses has a non-empty SubjectPublicKeyInfo and key
 * name, parses again to the same key, and its key converts to a JWK or is refused with a
 * recorded error.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/broker.h"
#include "crypto/jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static void csr(const uint8_t *p, size_t n)
{
    struct vt_csr *c = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    enum vt_err err = vt_csr_parse(p, n, &c, &d);
    if (err != VT_OK) {
        require(c == NULL && d.code == err && d.check[0] != '\0');
        return;
    }
    size_t len = 0;
    const uint8_t *spki = vt_csr_spki(c, &len);
    require(spki != NULL && len > 0 && vt_csr_key_name(c)[0] != '\0');
    struct vt_csr *again = NULL;
    require(vt_csr_parse(p, n, &again, &d) == VT_OK);
    size_t len2 = 0;
    const uint8_t *spki2 = vt_csr_spki(again, &len2);
    require(len2 == len && memcmp(spki, spki2, len) == 0);
    struct vt_jwk *k = NULL;
    vt_diag_init(&d);
    err = vt_jwk_from_spki_der(spki, len, &k, &d);
    require(err == VT_OK ? k != NULL : (k == NULL && d.code == err));
    if (k != NULL) {
        char tp[44];
        vt_jwk_thumbprint_b64(k, tp);
        require(strlen(tp) == 43);
    }
    vt_jwk_free(k);
    vt_csr_free(again);
    vt_csr_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *o = NULL;
    struct vt_broker_cert_req q;
    struct vt_broker_denial den;
    if (vt_broker_cert_request_parse(data, size, &o, &q, &den)) {
        require(o != NULL && q.profile != NULL && q.csr != NULL && q.csr_len <= VT_MAX_CSR_SIZE);
        require((q.token != NULL) != (q.evidence != NULL));
        require(q.evidence == NULL || q.nonce != NULL);
        csr(q.csr, q.csr_len);
        vt_broker_cert_req_cleanup(&q);
        json_decref(o);
    } else {
        require(o == NULL && q.csr == NULL && q.evidence == NULL && q.vek == NULL);
        require(den.status == 400 || den.status == 413 || den.status == 500);
        require(den.reason[0] != '\0');
    }
    csr(data, size);
    return 0;
}
