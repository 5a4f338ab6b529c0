/*
 * Fuzz targets must not carry state from one input to the next: a finding has to reproduce from
 * its file alone. This runs fuzz/fuzz_broker_request.c's LLVMFuzzerTestOneInput on two inputs in
 * one process, the way libFuzzer does: the first has a nonce issued (and refused before spending
 * it), the second supplies that nonce. With the CSPRNG made predictable here, the second input
 * knows the first one's nonce as libFuzzer's comparison tracing learns it. A target that kept one
 * broker across inputs redeemed it and logged an entry for a nonce "not issued here", and aborted
 * on its own invariant; replayed alone, the second input passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "../../../fuzz/fuzz_broker_request.c"

/* The library's CSPRNG (vt_random_bytes) made predictable for this test: every nonce is the same
 * 32 bytes. */
int RAND_priv_bytes(unsigned char *buf, int num)
{
    memset(buf, 0xa5, (size_t)num);
    return 1;
}

static size_t input(uint8_t *out, const char *nonce, const char *jwk, const char *evidence)
{
    size_t n = 0;
    const char *fields[3] = {nonce, jwk, ""};
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(fields[i]);
        memcpy(out + n, fields[i], l);
        n += l;
        out[n++] = '\0';
    }
    memcpy(out + n, evidence, strlen(evidence));
    return n + strlen(evidence);
}

static void test_no_state_across_inputs(void **state)
{
    (void)state;
    uint8_t raw[VT_BROKER_NONCE_LEN];
    memset(raw, 0xa5, sizeof(raw));
    char nonce[64];
    assert_int_equal(vt_base64_encode(raw, sizeof(raw), true, nonce, sizeof(nonce)), VT_OK);
    struct vt_jwk *k = NULL;
    struct vt_diag d;
    vt_diag_init(&d);
    assert_int_equal(vt_jwk_generate("P-256", &k, &d), VT_OK);
    char *jwk = vt_jwk_public_json(k);
    vt_jwk_free(k);
    uint8_t a[4096], b[4096];
    /* 1: a nonce issued here, the request refused for its runtime key (the nonce not spent) */
    size_t na = input(a, "", "{\"kty\":\"none\"}", "junk evidence");
    /* 2: that nonce, supplied by the input, a real key and evidence that does not verify */
    size_t nb = input(b, nonce, jwk, "more junk evidence, a little longer");
    assert_int_equal(LLVMFuzzerTestOneInput(a, na), 0);
    assert_int_equal(LLVMFuzzerTestOneInput(b, nb), 0);
    /* each alone, and in the other order */
    assert_int_equal(LLVMFuzzerTestOneInput(b, nb), 0);
    assert_int_equal(LLVMFuzzerTestOneInput(a, na), 0);
    free(jwk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_state_across_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
