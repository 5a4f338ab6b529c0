/* Every size cap in veritee, in one place. Inputs beyond these are rejected with VT_E_TOO_LARGE. */
#ifndef VERITEE_LIMITS_H
#define VERITEE_LIMITS_H

/* Largest evidence file accepted (quotes are ~5 KB; real files carry up to 8 KB of padding). */
#define VT_MAX_EVIDENCE_SIZE (1024u * 1024u)
/* Largest collateral document (TCB info JSON with many levels is ~30 KB). */
#define VT_MAX_COLLATERAL_SIZE (1024u * 1024u)
/* Largest CRL accepted (Intel's PCK CRLs are a few KB; a CRL may list many serials). */
#define VT_MAX_CRL_SIZE (4u * 1024u * 1024u)
/* Certificates in one PEM bundle or chain. */
#define VT_MAX_CHAIN_DEPTH 8
/* Largest DER certificate. */
#define VT_MAX_CERT_SIZE (16u * 1024u)
/* Largest PKCS#10 certificate request (DER, or its PEM text) a broker reads: an RSA-8192 one
 * is about 2.2 KB. */
#define VT_MAX_CSR_SIZE (8u * 1024u)
/* JSON nesting depth accepted by the collateral parsers. */
#define VT_MAX_JSON_DEPTH 16
/* TCB levels in one TCB info, and levels in one identity. */
#define VT_MAX_TCB_LEVELS 256
/* TDX module identities in one TCB info. */
#define VT_MAX_MODULE_IDENTITIES 32
/* Advisory IDs attached to one level or one result, and the length of one ID. */
#define VT_MAX_ADVISORIES 128
#define VT_ADVISORY_ID_MAX 32
/* QE authentication data bytes (real quotes carry 32). */
#define VT_MAX_QE_AUTH_DATA 4096
/* Memory for the precomputed tables of P-384 keys that verify more than once (a Nitro leaf, an
 * SNP VCEK or VLEK; src/crypto/p384_fast.c), all verifiers of the process together: 195 KiB a
 * key, so 64 MiB hold 336 keys. Keys past it verify with nettle (about 4 times slower). */
#define VT_P384_TABLE_BUDGET ((size_t)64u * 1024u * 1024u)
/* Verified PCK chains, and verified QE reports, cached by one DCAP verifier (each). */
#define VT_DCAP_PCK_CACHE_SIZE 8

/* CBOR (RFC 8949) read by veritee (Nitro attestation documents): containers nested inside one
 * item, and data items in one item skipped whole (a real Nitro payload holds about 60). */
#define VT_MAX_CBOR_DEPTH 16
#define VT_MAX_CBOR_ITEMS 4096
/* Keys of unknown name in one Nitro attestation payload (each is checked against the others for
 * duplicates; NSM writes none). */
#define VT_NITRO_MAX_UNKNOWN_KEYS 32

/* HTTP/1.1 requests read by the veritee services: the request line and header fields together, the
 * header fields in one request, query arguments in one target, and a chunked body's trailer
 * section (its fields are read and dropped). Beyond them: 431 (head) or 400 (query, trailer). */
#define VT_HTTP_MAX_HEAD (16u * 1024u)
#define VT_HTTP_MAX_FIELDS 64
#define VT_HTTP_MAX_ARGS 32
#define VT_HTTP_MAX_TRAILER (4u * 1024u)

/* AWS Signature Version 4 requests checked by the KMS service (src/kms/sigv4.c, docs/kms.md):
 * header fields considered, one field's name and value, every field's name and value together,
 * the path, the query and the parameters in it, the Authorization value, and the names in one
 * SignedHeaders list. Beyond them a request is refused (IncompleteSignatureException). */
#define VT_SIGV4_MAX_HEADERS 64
#define VT_SIGV4_MAX_HEADER_NAME 128
#define VT_SIGV4_MAX_HEADER_VALUE (8u * 1024u)
#define VT_SIGV4_MAX_HEADER_BYTES (32u * 1024u)
#define VT_SIGV4_MAX_PATH (8u * 1024u)
#define VT_SIGV4_MAX_QUERY (8u * 1024u)
#define VT_SIGV4_MAX_PARAMS 64
#define VT_SIGV4_MAX_AUTH (4u * 1024u)
#define VT_SIGV4_MAX_SIGNED 64

#endif
