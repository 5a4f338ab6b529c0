/*
 * Attested TLS certificates (include/veritee/atls.h): round trips for every simulator and
 * format, every reject path of vt_atls_verify_cert with its check name, broker certificates made
 * here with OpenSSL, the extension readers, and the verification context's cache and last
 * outcome.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "atls_harness.h"
#include "base/cbor.h"

static struct atls_harness H;

static int setup(void **state)
{
    (void)state;
    ah_setup(&H);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ah_teardown(&H);
    return 0;
}

static struct vt_atls_verify_opts now_opts(void)
{
    struct vt_atls_verify_opts o = {.now = vt_time_now()};
    return o;
}

static void expect_ok(const uint8_t *der, size_t len, const struct vt_atls_verify_opts *o,
                      enum vt_atls_format want, const char *tee)
{
    char *claims = NULL;
    enum vt_atls_format f = VT_ATLS_NONE;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_atls_verify_cert(H.v, der, len, o, &claims, &f, &d), d);
    assert_int_equal(f, want);
    assert_non_null(claims);
    char needle[64];
    snprintf(needle, sizeof(needle), "\"tee\":\"%s\"", tee);
    if (strstr(claims, needle) == NULL) {
        fail_msg("claims without %s: %.300s", needle, claims);
    }
    assert_int_equal(vt_policy_claims_check(claims, strlen(claims), &d), VT_OK);
    free(claims);
}

static void expect_fail(const uint8_t *der, size_t len, const struct vt_atls_verify_opts *o,
                        enum vt_err want, const char *check)
{
    char *claims = (char *)"unchanged";
    enum vt_atls_format f = VT_ATLS_CMW;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_CHECK(vt_atls_verify_cert(H.v, der, len, o, &claims, &f, &d), d, want, check);
    assert_null(claims);
    assert_int_equal(f, VT_ATLS_NONE);
}

/* ---- round trips ---- */

static void round_trip(int att, enum vt_atls_format fmt, const char *key_type,
                       enum vt_atls_format want, const char *tee)
{
    const char *dns[] = {"vault.example", "localhost"};
    struct vt_atls_cert_opts co = {
        .format = fmt, .key_type = key_type, .dns = dns, .n_dns = 2, .common_name = "vault"};
    size_t len = 0;
    struct vt_buf key;
    uint8_t *der = ah_make(&H, att, &co, &len, &key);
    assert_non_null(strstr((const char *)key.data, "-----BEGIN PRIVATE KEY-----"));
    vt_buf_cleanup(&key);
    struct vt_atls_verify_opts o = now_opts();
    expect_ok(der, len, &o, want, tee);
    free(der);
}

static void test_round_trips(void **state)
{
    (void)state;
    round_trip(AH_SGX, VT_ATLS_NONE, NULL, VT_ATLS_RATLS_SGX, "sgx");
    round_trip(AH_SGX, VT_ATLS_RATLS_SGX, "P-384", VT_ATLS_RATLS_SGX, "sgx");
    round_trip(AH_SGX, VT_ATLS_OE, NULL, VT_ATLS_OE, "sgx");
    round_trip(AH_SGX, VT_ATLS_OE, "RSA-2048", VT_ATLS_OE, "sgx");
    round_trip(AH_TDX, VT_ATLS_NONE, NULL, VT_ATLS_RATLS_TDX, "tdx");
    round_trip(AH_TDX, VT_ATLS_RATLS_TDX, "RSA-3072", VT_ATLS_RATLS_TDX, "tdx");
    round_trip(AH_SNP, VT_ATLS_NONE, NULL, VT_ATLS_CMW, "sev-snp");
    round_trip(AH_SNP, VT_ATLS_CMW, "P-384", VT_ATLS_CMW, "sev-snp");
    round_trip(AH_NITRO, VT_ATLS_NONE, NULL, VT_ATLS_CMW, "nitro");
    round_trip(AH_NITRO, VT_ATLS_CMW, "RSA-2048", VT_ATLS_CMW, "nitro");
}

static void test_format_names(void **state)
{
    (void)state;
    const char *names[] = {"ratls-sgx", "ratls-tdx", "oe", "cmw", "broker"};
    for (size_t i = 0; i < 5; i++) {
        enum vt_atls_format f = vt_atls_format_parse(names[i]);
        assert_int_equal(f, (enum vt_atls_format)(i + 1));
        assert_string_equal(vt_atls_format_name(f), names[i]);
    }
    assert_int_equal(vt_atls_format_parse("RATLS"), VT_ATLS_NONE);
    assert_int_equal(vt_atls_format_parse(NULL), VT_ATLS_NONE);
    assert_string_equal(vt_atls_format_name((enum vt_atls_format)42), "none");
}

static void test_create_rejects(void **state)
{
    (void)state;
    struct vt_buf cert, key;
    vt_buf_init(&cert, 1u << 20);
    vt_buf_init(&key, 1u << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    struct vt_atls_cert_opts co = {.format = VT_ATLS_OE};
    AV_CHECK(vt_atls_cert_create(H.att[AH_TDX], &co, &cert, &key, &d), d, VT_E_ARG, "atls.format");
    co.format = VT_ATLS_CMW;
    AV_CHECK(vt_atls_cert_create(H.att[AH_SGX], &co, &cert, &key, &d), d, VT_E_ARG, "atls.format");
    co.format = VT_ATLS_BROKER;
    AV_CHECK(vt_atls_cert_create(H.att[AH_SNP], &co, &cert, &key, &d), d, VT_E_ARG, "atls.format");
    co.format = VT_ATLS_NONE;
    co.key_type = "Ed25519";
    AV_CHECK(vt_atls_cert_create(H.att[AH_SGX], &co, &cert, &key, &d), d, VT_E_ARG,
             "x509.key_type");
    co.key_type = NULL;
    co.validity_seconds = -5;
    AV_CHECK(vt_atls_cert_create(H.att[AH_SGX], &co, &cert, &key, &d), d, VT_E_ARG, "atls.create");
    co.validity_seconds = 0;
    co.n_dns = 1;
    AV_CHECK(vt_atls_cert_create(H.att[AH_SGX], &co, &cert, &key, &d), d, VT_E_ARG, "atls.create");
    assert_int_equal(cert.len, 0);
    assert_int_equal(key.len, 0);
    AV_CHECK(vt_atls_cert_create(NULL, &co, &cert, &key, &d), d, VT_E_ARG, "atls.create");
    vt_buf_cleanup(&cert);
    vt_buf_cleanup(&key);
}

/* ---- reject paths ---- */

static void test_validity(void **state)
{
    (void)state;
    vt_time now = vt_time_now();
    struct vt_atls_cert_opts co = {.not_before = now - 3 * 86400, .validity_seconds = 86400};
    size_t len = 0;
    uint8_t *der = ah_make(&H, AH_SGX, &co, &len, NULL);
    struct vt_atls_verify_opts o = now_opts();
    expect_fail(der, len, &o, VT_E_EXPIRED, "atls.validity");
    free(der);
    co.not_before = now + 3600;
    der = ah_make(&H, AH_NITRO, &co, &len, NULL);
    expect_fail(der, len, &o, VT_E_NOT_YET_VALID, "atls.validity");
    free(der);
}

static void test_not_a_cert(void **state)
{
    (void)state;
    struct vt_atls_verify_opts o = now_opts();
    const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    expect_fail(junk, sizeof(junk), &o, VT_E_BAD_CERT, "atls.cert");
    char *claims = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_CHECK(vt_atls_verify_cert(H.v, NULL, 0, &o, &claims, NULL, &d), d, VT_E_ARG, "atls.verify");
}

static void test_extension_count(void **state)
{
    (void)state;
    struct vt_atls_verify_opts o = now_opts();
    size_t len = 0;
    uint8_t *plain = ah_selfsigned(NULL, 0, &len);
    expect_fail(plain, len, &o, VT_E_CERT_EXTENSION, "atls.extension");
    free(plain);

    /* two attestation extensions: RA-TLS and a copy under the OE OID */
    uint8_t *der = ah_make(&H, AH_SGX, &(struct vt_atls_cert_opts){0}, &len, NULL);
    char oid[128];
    size_t n = 0;
    uint8_t *quote = ah_ext(der, len, oid, &n);
    struct vt_x509_ext two[2] = {
        {.oid = VT_ATLS_OID_SGX_QUOTE, .value = quote, .value_len = n},
        {.oid = VT_ATLS_OID_TDX_QUOTE, .value = quote, .value_len = n},
    };
    size_t tl = 0;
    uint8_t *twice = ah_selfsigned(two, 2, &tl);
    expect_fail(twice, tl, &o, VT_E_CERT_EXTENSION, "atls.extension");
    free(twice);
    /* an attestation OID veritee recognises but does not read */
    struct vt_x509_ext dice = {.oid = VT_ATLS_OID_TCG_DICE_CMW, .value = quote, .value_len = n};
    uint8_t *dc = ah_selfsigned(&dice, 1, &tl);
    expect_fail(dc, tl, &o, VT_E_UNSUPPORTED, "atls.extension");
    free(dc);
    free(quote);
    free(der);
}

/* The extension of a certificate of attester att, moved into a new certificate with another key
 * (same OID): the evidence verifies, the binding does not. */
static void moved_evidence(int att, enum vt_atls_format fmt)
{
    struct vt_atls_cert_opts co = {.format = fmt};
    size_t len = 0;
    uint8_t *der = ah_make(&H, att, &co, &len, NULL);
    char oid[128];
    size_t n = 0;
    uint8_t *ext = ah_ext(der, len, oid, &n);
    struct vt_x509_ext e = {.oid = oid, .value = ext, .value_len = n};
    size_t ml = 0;
    uint8_t *moved = ah_selfsigned(&e, 1, &ml);
    struct vt_atls_verify_opts o = now_opts();
    expect_fail(moved, ml, &o, VT_E_BINDING, "atls.binding");
    free(moved);
    free(ext);
    free(der);
}

static void test_binding(void **state)
{
    (void)state;
    moved_evidence(AH_SGX, VT_ATLS_RATLS_SGX);
    moved_evidence(AH_SGX, VT_ATLS_OE);
    moved_evidence(AH_TDX, VT_ATLS_RATLS_TDX);
    moved_evidence(AH_SNP, VT_ATLS_CMW);
    moved_evidence(AH_NITRO, VT_ATLS_CMW);
}

/* A byte of the certificate changed inside the extension: the self-signature fails; the same
 * change re-signed with the same kind of certificate: the evidence fails. */
static void test_tampered(void **state)
{
    (void)state;
    for (int att = 0; att < AH_N; att++) {
        size_t len = 0;
        uint8_t *der = ah_make(&H, att, &(struct vt_atls_cert_opts){0}, &len, NULL);
        struct vt_atls_verify_opts o = now_opts(); /* not before the certificate's notBefore */
        char oid[128];
        size_t n = 0;
        uint8_t *ext = ah_ext(der, len, oid, &n);
        /* find the extension in the DER and flip a byte near its end (in the evidence's
         * signature for every format) */
        uint8_t *pos = NULL;
        for (size_t i = 0; i + n <= len; i++) {
            if (memcmp(der + i, ext, n) == 0) {
                pos = der + i;
                break;
            }
        }
        assert_non_null(pos);
        size_t at = att == AH_SNP ? n / 2 : n - 40;
        pos[at] ^= 0x01;
        expect_fail(der, len, &o, VT_E_CERT_SIGNATURE, "atls.signature");
        /* re-signed by a new key: the evidence is checked (and fails) before the binding */
        ext[at] ^= 0x01;
        struct vt_x509_ext e = {.oid = oid, .value = ext, .value_len = n};
        size_t rl = 0;
        uint8_t *re = ah_selfsigned(&e, 1, &rl);
        char *claims = NULL;
        struct vt_diag d;
        vt_diag_init(&d);
        enum vt_err err = vt_atls_verify_cert(H.v, re, rl, &o, &claims, NULL, &d);
        assert_int_not_equal(err, VT_OK);
        assert_int_not_equal(err, VT_E_BINDING);
        assert_null(claims);
        free(re);
        free(ext);
        free(der);
    }
}

static void test_policy(void **state)
{
    (void)state;
    const char *deny = "{\"version\":1,\"rules\":{\"claim\":\"tee\",\"equals\":\"tdx\"}}";
    const char *allow = "{\"version\":1,\"rules\":{\"claim\":\"tee\",\"equals\":\"sgx\"}}";
    struct vt_policy *pd = NULL, *pa = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_policy_compile(deny, strlen(deny), &pd, &d), d);
    AV_OK(vt_policy_compile(allow, strlen(allow), &pa, &d), d);
    size_t len = 0;
    uint8_t *der = ah_make(&H, AH_SGX, &(struct vt_atls_cert_opts){0}, &len, NULL);
    struct vt_atls_verify_opts o = now_opts();
    o.policy = pd;
    expect_fail(der, len, &o, VT_E_BINDING, "atls.policy");
    o.policy = pa;
    expect_ok(der, len, &o, VT_ATLS_RATLS_SGX, "sgx");
    free(der);
    vt_policy_free(pd);
    vt_policy_free(pa);
}

/* Gramine's legacy encoding of its quote OID (the DER of 1.2.840.113741.1337.6 with tag and
 * length as the content octets) carries the same RA-TLS binding. */
static void test_gramine_oid(void **state)
{
    (void)state;
    size_t len = 0;
    struct vt_buf keypem;
    uint8_t *der = ah_make(&H, AH_SGX, &(struct vt_atls_cert_opts){0}, &len, &keypem);
    char oid[128];
    size_t n = 0;
    uint8_t *quote = ah_ext(der, len, oid, &n);
    assert_string_equal(oid, VT_ATLS_OID_SGX_QUOTE);
    /* re-make the certificate with the same key under Gramine's OID */
    struct vt_key *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_key_from_private_pem((const char *)keypem.data, keypem.len, VT_KEY_P256, &k, &d), d);
    static const uint8_t raw[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x8a, 0x39, 0x06};
    struct vt_x509_ext e = {
        .oid_der = raw, .oid_der_len = sizeof(raw), .value = quote, .value_len = n};
    vt_time now = vt_time_now();
    struct vt_x509_template t = {.common_name = "gramine",
                                 .not_before = now - 10,
                                 .not_after = now + 600,
                                 .exts = &e,
                                 .n_exts = 1};
    struct vt_buf pem;
    vt_buf_init(&pem, 1u << 20);
    AV_OK(vt_x509_self_signed(k, &t, &pem, &d), d);
    size_t gl = 0;
    uint8_t *g = ah_der(&pem, &gl);
    char goid[128];
    size_t gn = 0;
    free(ah_ext(g, gl, goid, &gn));
    assert_string_equal(goid, VT_ATLS_OID_GRAMINE_QUOTE_RAW);
    struct vt_atls_verify_opts o = now_opts();
    expect_ok(g, gl, &o, VT_ATLS_RATLS_SGX, "sgx");
    /* a TDX quote under an SGX OID */
    size_t tl = 0;
    uint8_t *tdx = ah_make(&H, AH_TDX, &(struct vt_atls_cert_opts){0}, &tl, NULL);
    size_t tn = 0;
    char toid[128];
    uint8_t *tq = ah_ext(tdx, tl, toid, &tn);
    struct vt_x509_ext te = {.oid = VT_ATLS_OID_SGX_QUOTE, .value = tq, .value_len = tn};
    size_t ml = 0;
    uint8_t *m = ah_selfsigned(&te, 1, &ml);
    expect_fail(m, ml, &o, VT_E_UNSUPPORTED_TEE, "atls.tee");
    /* an SNP report under the RA-TLS OID */
    free(m);
    free(tq);
    free(tdx);
    free(g);
    vt_buf_cleanup(&pem);
    vt_buf_cleanup(&keypem);
    vt_key_free(k);
    free(quote);
    free(der);
}

/* ---- the extension readers ---- */

static void ext_fail(enum vt_atls_format f, const uint8_t *p, size_t n, enum vt_err want,
                     const char *check)
{
    struct vt_atls_evidence ev;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_CHECK(vt_atls_ext_read(f, p, n, &ev, &d), d, want, check);
}

static void test_oe_reader(void **state)
{
    (void)state;
    uint8_t b[32] = {1, 0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0};
    struct vt_atls_evidence ev;
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_atls_ext_read(VT_ATLS_OE, b, 32, &ev, &d), d);
    assert_ptr_equal(ev.evidence, b + 16);
    assert_int_equal(ev.evidence_len, 16);
    ext_fail(VT_ATLS_OE, b, 15, VT_E_TRUNCATED, "atls.oe.header");
    ext_fail(VT_ATLS_OE, b, 31, VT_E_BAD_LENGTH, "atls.oe.header.report_size");
    b[0] = 2;
    ext_fail(VT_ATLS_OE, b, 32, VT_E_UNSUPPORTED_VERSION, "atls.oe.header.version");
    b[0] = 1;
    b[4] = 1;
    ext_fail(VT_ATLS_OE, b, 32, VT_E_UNSUPPORTED, "atls.oe.header.report_type");
    b[4] = 2;
    b[8] = 0;
    ext_fail(VT_ATLS_OE, b, 16, VT_E_MISSING_FIELD, "atls.oe.header.report_size");
    ext_fail(VT_ATLS_RATLS_SGX, b, 0, VT_E_MISSING_FIELD, "atls.ratls-sgx.quote");
    ext_fail(VT_ATLS_RATLS_TDX, b, 0, VT_E_MISSING_FIELD, "atls.ratls-tdx.quote");
    ext_fail(VT_ATLS_BROKER, b, 16, VT_E_ARG, "atls.extension");
    static uint8_t big[VT_ATLS_EXT_MAX + 1];
    ext_fail(VT_ATLS_RATLS_SGX, big, sizeof(big), VT_E_TOO_LARGE, "atls.extension");
}

/* A CMW value: OCTET STRING around the CBOR given as text of hex digits. */
static size_t cmw(const char *cbor_hex, uint8_t *out)
{
    size_t n = strlen(cbor_hex) / 2;
    assert_true(n < 128);
    out[0] = 0x04;
    out[1] = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(cbor_hex + 2 * i, "%2x", &v), 1);
        out[2 + i] = (uint8_t)v;
    }
    return n + 2;
}

static uint8_t *find_bytes(uint8_t *hay, size_t n, const char *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

static void cb_head(struct vt_buf *b, uint8_t major, uint64_t arg)
{
    uint8_t h[VT_CBOR_HEAD_MAX];
    size_t n = vt_cbor_encode_head(major, arg, h);
    assert_int_equal(vt_buf_append(b, h, n), VT_OK);
}

static void cb_text(struct vt_buf *b, const char *s)
{
    cb_head(b, VT_CBOR_TEXT, strlen(s));
    assert_int_equal(vt_buf_append(b, s, strlen(s)), VT_OK);
}

static void cb_rec(struct vt_buf *b, const char *label, const char *type, unsigned ind, size_t n)
{
    static const uint8_t v[16] = {0x55};
    cb_text(b, label);
    cb_head(b, VT_CBOR_ARRAY, 3);
    cb_text(b, type);
    cb_head(b, VT_CBOR_BYTES, n);
    assert_int_equal(vt_buf_append(b, v, n), VT_OK);
    cb_head(b, VT_CBOR_UINT, ind);
}

static void test_cmw_reader(void **state)
{
    (void)state;
    uint8_t snp[16] = {0xaa};
    struct vt_buf ok;
    vt_buf_init(&ok, 1u << 16);
    struct vt_diag d;
    vt_diag_init(&d);
    AV_OK(vt_atls_ext_write(VT_ATLS_CMW, VT_TEE_SEV_SNP, snp, sizeof(snp), snp, 4, &ok, &d), d);
    struct vt_atls_evidence ev;
    AV_OK(vt_atls_ext_read(VT_ATLS_CMW, ok.data, ok.len, &ev, &d), d);
    assert_int_equal(ev.tee, VT_TEE_SEV_SNP);
    assert_int_equal(ev.evidence_len, sizeof(snp));
    assert_int_equal(ev.vcek_len, 4);
    /* trailing byte after the OCTET STRING; not an OCTET STRING; truncated */
    uint8_t buf[512];
    memcpy(buf, ok.data, ok.len);
    buf[ok.len] = 0;
    ext_fail(VT_ATLS_CMW, buf, ok.len + 1, VT_E_TRAILING_DATA, "atls.cmw.octet_string");
    buf[0] = 0x0c;
    ext_fail(VT_ATLS_CMW, buf, ok.len, VT_E_BAD_DER, "atls.cmw.octet_string");
    ext_fail(VT_ATLS_CMW, ok.data, ok.len - 1, VT_E_TRUNCATED, "atls.cmw.octet_string");
    /* the CBOR: an array, not a map */
    size_t n = cmw("8201", buf);
    ext_fail(VT_ATLS_CMW, buf, n, VT_E_BAD_FIELD, "atls.cmw.collection");
    /* a map of one entry */
    n = cmw("a1616101", buf);
    ext_fail(VT_ATLS_CMW, buf, n, VT_E_BAD_FIELD, "atls.cmw.collection");
    /* an unknown label, an integer label */
    n = cmw("a2617801617901", buf);
    ext_fail(VT_ATLS_CMW, buf, n, VT_E_BAD_FIELD, "atls.cmw.label");
    n = cmw("a201010202", buf);
    ext_fail(VT_ATLS_CMW, buf, n, VT_E_BAD_FIELD, "atls.cmw.label");
    /* another collection type */
    n = cmw("a2685f5f636d77635f74637461676476636b6502", buf);
    ext_fail(VT_ATLS_CMW, buf, n, VT_E_UNSUPPORTED, "atls.cmw.type");
    vt_buf_cleanup(&ok);

    /* records: wrong media type, not an array, wrong indicator, empty value, duplicates */
    struct vt_buf w;
    vt_buf_init(&w, 1u << 16);
    uint8_t doc[8] = {0xd2};
    AV_OK(vt_atls_ext_write(VT_ATLS_CMW, VT_TEE_NITRO, doc, sizeof(doc), NULL, 0, &w, &d), d);
    AV_OK(vt_atls_ext_read(VT_ATLS_CMW, w.data, w.len, &ev, &d), d);
    assert_int_equal(ev.tee, VT_TEE_NITRO);
    assert_null(ev.vcek);
    /* the indicator (last byte, 04) made 02 */
    memcpy(buf, w.data, w.len);
    buf[w.len - 1] = 0x02;
    ext_fail(VT_ATLS_CMW, buf, w.len, VT_E_BAD_FIELD, "atls.cmw.record.indicator");
    /* a byte of the media type changed */
    memcpy(buf, w.data, w.len);
    uint8_t *t = find_bytes(buf, w.len, "vnd.veritee", 11);
    assert_non_null(t);
    t[0] = 'x';
    ext_fail(VT_ATLS_CMW, buf, w.len, VT_E_BAD_FIELD, "atls.cmw.record.type");
    /* the value's byte string head (0x48: 8 bytes) made a text head (0x68) */
    memcpy(buf, w.data, w.len);
    buf[w.len - 10] = 0x68;
    ext_fail(VT_ATLS_CMW, buf, w.len, VT_E_BAD_FIELD, "atls.cmw.record.value");
    /* the record's array head (0x83) made 0x84 */
    memcpy(buf, w.data, w.len);
    t = find_bytes(buf, w.len, "nitro-document", 14);
    assert_non_null(t);
    t[14] = 0x84;
    ext_fail(VT_ATLS_CMW, buf, w.len, VT_E_BAD_FIELD, "atls.cmw.record");
    vt_buf_cleanup(&w);
    /* whole collections built here */
    static const struct {
        const char *labels;
        enum vt_err want;
        const char *check;
    } cases[] = {
        {"TSVV", VT_E_DUPLICATE, "atls.cmw.label"},
        {"TSN", VT_E_DUPLICATE, "atls.cmw.evidence"},
        {"TNV", VT_E_BAD_FIELD, "atls.cmw.label"},
        {"TV", VT_E_MISSING_FIELD, "atls.cmw.evidence"},
        {"SV", VT_E_MISSING_FIELD, "atls.cmw.type"},
        {"TTS", VT_E_DUPLICATE, "atls.cmw.label"},
        {"TSE", VT_E_MISSING_FIELD, "atls.cmw.record.value"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vt_buf c;
        vt_buf_init(&c, 1u << 16);
        size_t k = strlen(cases[i].labels);
        cb_head(&c, VT_CBOR_MAP, k);
        for (size_t j = 0; j < k; j++) {
            switch (cases[i].labels[j]) {
            case 'T':
                cb_text(&c, "__cmwc_t");
                cb_text(&c, VT_ATLS_CMW_COLLECTION_TYPE);
                break;
            case 'S':
                cb_rec(&c, "snp-report", VT_ATLS_CMW_SNP_TYPE, 4, 4);
                break;
            case 'N':
                cb_rec(&c, "nitro-document", VT_ATLS_CMW_NITRO_TYPE, 4, 4);
                break;
            case 'V':
                cb_rec(&c, "vcek", VT_ATLS_CMW_VCEK_TYPE, 2, 4);
                break;
            case 'E':
                cb_rec(&c, "vcek", VT_ATLS_CMW_VCEK_TYPE, 2, 0);
                break;
            }
        }
        uint8_t wrapped[600];
        assert_true(c.len < 256);
        size_t h = 0;
        wrapped[h++] = 0x04;
        if (c.len >= 128) {
            wrapped[h++] = 0x81;
        }
        wrapped[h++] = (uint8_t)c.len;
        memcpy(wrapped + h, c.data, c.len);
        ext_fail(VT_ATLS_CMW, wrapped, c.len + h, cases[i].want, cases[i].check);
        vt_buf_cleanup(&c);
    }
}

static void test_broker_ext_text(void **state)
{
    (void)state;
    char *json = NULL;
    size_t n = 0;
    struct vt_diag d;
    vt_diag_init(&d);
    const uint8_t good[] = {0x0c, 0x02, '{', '}'};
    AV_OK(vt_atls_broker_ext_text(good, sizeof(good), &json, &n, &d), d);
    assert_string_equal(json, "{}");
    free(json);
    const uint8_t octets[] = {0x04, 0x02, '{', '}'};
    AV_CHECK(vt_atls_broker_ext_text(octets, sizeof(octets), &json, &n, &d), d, VT_E_BAD_DER,
             "atls.broker.extension");
    const uint8_t trailing[] = {0x0c, 0x02, '{', '}', 0};
    AV_CHECK(vt_atls_broker_ext_text(trailing, sizeof(trailing), &json, &n, &d), d,
             VT_E_TRAILING_DATA, "atls.broker.extension");
    const uint8_t nul[] = {0x0c, 0x02, '{', 0};
    AV_CHECK(vt_atls_broker_ext_text(nul, sizeof(nul), &json, &n, &d), d, VT_E_BAD_FIELD,
             "atls.broker.extension");
    const uint8_t latin1[] = {0x0c, 0x02, '{', 0xe9};
    AV_CHECK(vt_atls_broker_ext_text(latin1, sizeof(latin1), &json, &n, &d), d, VT_E_BAD_FIELD,
             "atls.broker.extension");
    assert_null(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),    cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_create_rejects),  cmocka_unit_test(test_validity),
        cmocka_unit_test(test_not_a_cert),      cmocka_unit_test(test_extension_count),
        cmocka_unit_test(test_binding),         cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_policy),          cmocka_unit_test(test_gramine_oid),
        cmocka_unit_test(test_oe_reader),       cmocka_unit_test(test_cmw_reader),
        cmocka_unit_test(test_broker_ext_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
