/*
 * vt_nitro_doc: one AWS Nitro Enclaves attestation document from the simulator (nitro_sim.h), for
 * tests that drive the KMS drop-in with other people's clients (tests/kms_sdk): the Recipient's
 * AttestationDocument of an enclave whose RSA key, PCRs and time the test chooses.
 *
 *   vt_nitro_doc --sim-dir DIR --out FILE [--public-key FILE] [--pcr N=HEX]... [--time T]
 *                [--age S]
 *
 * The simulator's root is kept in DIR/nitro/root.pem and root-key.pem, the layout of
 * `veritee client --sim-dir` (made on first use, reused after, so one root serves every
 * document and `veritee kms serve --trust-anchor DIR/nitro/root.pem` trusts them all); the
 * regional, zonal, instance and leaf certificates are issued afresh around T (default: now), as
 * AWS's are. The document carries --public-key (a DER or PEM SubjectPublicKeyInfo; none: null),
 * the simulator's PCRs with each --pcr N=HEX put in (PCR0, the image, is ImageSha384) and the
 * timestamp T - S (S may be negative: a document from the future). It prints
 * {"timestamp_ms": ..., "pcrs": {"0": "hex", ...}} on stdout.
 *
 * Exit status: 0 written, 1 failure, 2 usage error. A test-support program: OpenSSL directly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <veritee/time.h>

#include "base/encoding.h"
#include "nitro_sim.h"

#define MAX_PUBLIC_KEY 8192

static int usage(const char *msg)
{
    fprintf(stderr,
            "vt_nitro_doc: %s\n"
            "usage: vt_nitro_doc --sim-dir DIR --out FILE [--public-key FILE] [--pcr N=HEX]...\n"
            "                    [--time T] [--age S]\n",
            msg);
    return 2;
}

static bool mkdir_one(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "vt_nitro_doc: mkdir %s: %s\n", path, strerror(errno));
        return false;
    }
    return true;
}

/* The root of DIR/nitro (loaded, or NULLs when there is none yet). */
static bool load_root(const char *dir, EVP_PKEY **key, X509 **cert)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/nitro/root.pem", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return errno == ENOENT;
    }
    *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof(path), "%s/nitro/root-key.pem", dir);
    f = fopen(path, "r");
    if (f != NULL) {
        *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (*cert == NULL || *key == NULL) {
        fprintf(stderr, "vt_nitro_doc: %s/nitro: root.pem and root-key.pem do not load\n", dir);
        return false;
    }
    return true;
}

static bool save_root(const char *dir, EVP_PKEY *key, X509 *cert)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/nitro", dir);
    if (!mkdir_one(dir) || !mkdir_one(path)) {
        return false;
    }
    snprintf(path, sizeof(path), "%s/nitro/root-key.pem", dir);
    FILE *f = fopen(path, "w");
    bool ok = f != NULL && chmod(path, 0600) == 0 &&
              PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    ok = (f == NULL || fclose(f) == 0) && ok;
    snprintf(path, sizeof(path), "%s/nitro/root.pem", dir);
    f = ok ? fopen(path, "w") : NULL;
    ok = f != NULL && PEM_write_X509(f, cert) == 1;
    ok = (f == NULL || fclose(f) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "vt_nitro_doc: cannot write the root to %s/nitro\n", dir);
    }
    return ok;
}

/* A SubjectPublicKeyInfo from a DER or PEM file, as DER. */
static bool read_public_key(const char *path, uint8_t *out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "vt_nitro_doc: %s: %s\n", path, strerror(errno));
        return false;
    }
    uint8_t raw[MAX_PUBLIC_KEY];
    size_t n = fread(raw, 1, sizeof(raw), f);
    fclose(f);
    EVP_PKEY *key = NULL;
    if (n > 10 && memcmp(raw, "-----BEGIN", 10) == 0) {
        BIO *b = BIO_new_mem_buf(raw, (int)n);
        key = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else {
        const unsigned char *p = raw;
        key = d2i_PUBKEY(NULL, &p, (long)n);
    }
    unsigned char *der = NULL;
    int m = key != NULL ? i2d_PUBKEY(key, &der) : -1;
    EVP_PKEY_free(key);
    if (m <= 0 || (size_t)m > MAX_PUBLIC_KEY) {
        fprintf(stderr, "vt_nitro_doc: %s: not a public key (DER or PEM SubjectPublicKeyInfo)\n",
                path);
        OPENSSL_free(der);
        return false;
    }
    memcpy(out, der, (size_t)m);
    *len = (size_t)m;
    OPENSSL_free(der);
    return true;
}

/* --pcr N=HEX into the document's PCRs (replacing PCR N, or added after the others). */
static bool set_pcr(struct vt_nsim_doc_params *p, const char *arg)
{
    char *end = NULL;
    errno = 0;
    unsigned long idx = strtoul(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '=' || idx > 31) {
        return false;
    }
    const char *hex = end + 1;
    struct vt_nsim_pcr v = {.index = idx};
    if (vt_hex_decode(hex, strlen(hex), v.value, sizeof(v.value), &v.len) != VT_OK ||
        (v.len != 32 && v.len != 48 && v.len != 64)) {
        return false;
    }
    for (size_t i = 0; i < p->n_pcrs; i++) {
        if (p->pcrs[i].index == idx) {
            p->pcrs[i] = v;
            return true;
        }
    }
    if (p->n_pcrs >= VT_NSIM_MAX_PCRS) {
        return false;
    }
    p->pcrs[p->n_pcrs++] = v;
    return true;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sim-dir", 1, NULL, 'd'}, {"out", 1, NULL, 'o'},  {"public-key", 1, NULL, 'k'},
        {"pcr", 1, NULL, 'p'},     {"time", 1, NULL, 't'}, {"age", 1, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *out = NULL, *pub = NULL, *pcrs[VT_NSIM_MAX_PCRS];
    size_t n_pcrs = 0;
    vt_time now = vt_time_now();
    long long age = 0;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        struct vt_diag d;
        vt_diag_init(&d);
        switch (o) {
        case 'd':
            dir = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'k':
            pub = optarg;
            break;
        case 'p':
            if (n_pcrs == VT_NSIM_MAX_PCRS) {
                return usage("too many --pcr");
            }
            pcrs[n_pcrs++] = optarg;
            break;
        case 't':
            if (vt_time_parse_arg(optarg, strlen(optarg), &now, &d) != VT_OK) {
                return usage("--time takes unix seconds or an RFC 3339 time");
            }
            break;
        case 'a':
            errno = 0;
            age = strtoll(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || age < -86400 || age > 86400) {
                return usage("--age takes seconds from -86400 to 86400");
            }
            break;
        default:
            return usage("unknown option");
        }
    }
    if (dir == NULL || out == NULL || optind < argc) {
        return usage("--sim-dir and --out are required");
    }
    struct vt_nsim_pki_params pp;
    vt_nsim_pki_params_default(&pp, now);
    if (!load_root(dir, &pp.root_key, &pp.root_cert)) {
        return 1;
    }
    bool fresh = pp.root_cert == NULL;
    struct vt_nsim_pki *pki = vt_nsim_pki_new(&pp);
    EVP_PKEY_free(pp.root_key);
    X509_free(pp.root_cert);
    if (pki == NULL ||
        (fresh && !save_root(dir, pki->key[VT_NSIM_ROOT], pki->cert[VT_NSIM_ROOT]))) {
        fprintf(stderr, "vt_nitro_doc: cannot make the simulator's certificates\n");
        vt_nsim_pki_free(pki);
        return 1;
    }
    struct vt_nsim_doc_params p;
    vt_nsim_doc_params_default(&p, pki);
    p.timestamp_ms = (uint64_t)(now - age) * 1000u;
    static uint8_t spki[MAX_PUBLIC_KEY];
    size_t spki_len = 0;
    int rc = 1;
    struct vt_sim_blob doc = {0};
    if (pub != NULL) {
        if (!read_public_key(pub, spki, &spki_len)) {
            goto out;
        }
        p.public_key = (struct vt_nsim_opt){VT_NSIM_OPT_BYTES, spki, spki_len};
    }
    for (size_t i = 0; i < n_pcrs; i++) {
        if (!set_pcr(&p, pcrs[i])) {
            rc = usage("--pcr takes N=HEX: N from 0 to 31, 32, 48 or 64 bytes in hex");
            goto out;
        }
    }
    if (!vt_nsim_doc_build(pki, &p, &doc, NULL)) {
        fprintf(stderr, "vt_nitro_doc: the simulator could not make the document\n");
        goto out;
    }
    FILE *f = fopen(out, "wb");
    bool ok = f != NULL && fwrite(doc.data, 1, doc.len, f) == doc.len;
    if (f == NULL || fclose(f) != 0 || !ok) {
        fprintf(stderr, "vt_nitro_doc: cannot write %s\n", out);
        goto out;
    }
    printf("{\"timestamp_ms\":%llu,\"pcrs\":{", (unsigned long long)p.timestamp_ms);
    for (size_t i = 0; i < p.n_pcrs; i++) {
        char hex[2 * VT_NSIM_PCR_MAX_LEN + 1];
        vt_hex_encode(p.pcrs[i].value, p.pcrs[i].len, hex);
        printf("%s\"%llu\":\"%s\"", i ? "," : "", (unsigned long long)p.pcrs[i].index, hex);
    }
    printf("}}\n");
    rc = 0;
out:
    vt_sim_blob_cleanup(&doc);
    vt_nsim_pki_free(pki);
    return rc;
}
