/*
 * x509.h - certificates, trust stores and chain verification.
 *
 * Issue 2 scope: parse what validation needs, build a path from the leaf
 * through the peer's intermediates to a trust anchor, check signatures,
 * validity, basicConstraints, and the hostname (SAN dNSName / iPAddress).
 * Issue 3 replaces the internals with the full RFC 5280 engine behind the
 * same interface.
 */
#ifndef FR_X509_H
#define FR_X509_H

#include "../common.h"
#include "../crypto/crypto.h"

/* A parsed certificate.  Owns a copy of its DER; all slices point into it. */
typedef struct fr_cert {
    uint8_t *der;
    size_t der_len;
    /* slices into der */
    const uint8_t *tbs;       size_t tbs_len;      /* full TBSCertificate TLV */
    const uint8_t *issuer;    size_t issuer_len;   /* Name TLV */
    const uint8_t *subject;   size_t subject_len;  /* Name TLV */
    const uint8_t *spki;      size_t spki_len;     /* SubjectPublicKeyInfo TLV */
    const uint8_t *sig;       size_t sig_len;      /* signature bits (no unused-bits byte) */
    const uint8_t *san;       size_t san_len;      /* GeneralNames TLV or NULL */
    int64_t not_before, not_after;                  /* Unix seconds */
    int sig_kind, sig_hash;                         /* FR_SIGKIND_*, FR_HASH_* (outer == TBS) */
    int is_ca;                                      /* basicConstraints cA */
    int path_len;                                   /* -1 = none */
    int has_key_usage; uint16_t key_usage;          /* bit 0 = digitalSignature ... */
    EVP_PKEY *pub;
    /* Additions (issue 2). */
    int version;                                    /* 0 = v1 ... 2 = v3 */
    const uint8_t *serial;    size_t serial_len;   /* INTEGER content */
    int self_issued;                                /* issuer == subject (fr_name_equal) */
    int has_eku; unsigned eku;                      /* FR_EKU_* bits */
    /* Well formed but not usable; checked when the cert is used in a path:
     * sig_kind == 0 means an unsupported signature algorithm (FR_OK for an
     * anchor, whose own signature is never checked); pub == NULL means an
     * unsupported key; unknown_critical is set by a critical extension we do
     * not implement (RFC 5280 §4.2). */
    int unknown_critical;
} fr_cert;

#define FR_EKU_SERVER 1u /* id-kp-serverAuth */
#define FR_EKU_CLIENT 2u /* id-kp-clientAuth */
#define FR_EKU_ANY 4u    /* anyExtendedKeyUsage */
#define FR_EKU_OTHER 8u  /* some other purpose */

/* keyUsage bits (RFC 5280 §4.2.1.3): bit n of the BIT STRING = 1 << n. */
#define FR_KU_DIGITAL_SIGNATURE (1u << 0)
#define FR_KU_KEY_CERT_SIGN (1u << 5)

/* Parse one DER certificate (strict DER).  FERRULE_R_CERT_MALFORMED for
 * any encoding error.  A well-formed certificate with an unsupported
 * signature algorithm, key type or critical extension still parses (see
 * the fields above) so that, e.g., SHA-1 self-signed roots remain usable
 * anchors; fr_verify_chain reports FERRULE_R_CERT_UNSUPPORTED when such a
 * certificate would have to be relied on. */
FR_MUST_CHECK fr_err fr_cert_parse(fr_mem *m, const uint8_t *der, size_t len, fr_cert **out);
void fr_cert_free(fr_mem *m, fr_cert *c);
/* Subject distinguished name as a short one-line string ("CN=foo,O=bar")
 * into out (truncated, always NUL-terminated). */
void fr_cert_subject_string(const fr_cert *c, char *out, size_t cap);

/* Name comparison used for chaining.  Issue 2: exact DER equality (the
 * simplification RFC 5280 §7.1 allows when issuers encode names
 * consistently); issue 3 replaces this one function with the RFC 4518
 * comparison (case-insensitive PrintableString/UTF8String). */
int fr_name_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

/* A set of trust anchors. */
typedef struct fr_trust_store {
    fr_cert **certs;
    size_t n, cap;
} fr_trust_store;
void fr_trust_init(fr_trust_store *t);
void fr_trust_free(fr_mem *m, fr_trust_store *t);
FR_MUST_CHECK fr_err fr_trust_add_der(fr_mem *m, fr_trust_store *t, const uint8_t *der, size_t len);
/* Every CERTIFICATE block of a PEM buffer; CONFIG_INVALID if none parses. */
FR_MUST_CHECK fr_err fr_trust_add_pem(fr_mem *m, fr_trust_store *t, const uint8_t *pem, size_t len);
FR_MUST_CHECK fr_err fr_trust_add_file(fr_mem *m, fr_trust_store *t, const char *path);
FR_MUST_CHECK fr_err fr_trust_add_dir(fr_mem *m, fr_trust_store *t, const char *path);
/* Search order documented in ferrule.h (ferrule_config_add_trust_system). */
FR_MUST_CHECK fr_err fr_trust_add_system(fr_mem *m, fr_trust_store *t);

/* Decode every CERTIFICATE block of a PEM buffer into DER (for our own
 * chains): calls cb for each, in order, and stops at its first error.
 * CONFIG_INVALID on bad base64, a missing END line, or no block at all.
 * Text outside the blocks (and other PEM types) is ignored. */
FR_MUST_CHECK fr_err fr_pem_each_cert(const uint8_t *pem, size_t len,
                                      fr_err (*cb)(void *ctx, const uint8_t *der, size_t len),
                                      void *ctx);

/* Same, allocating the decode buffer through m (fr_pem_each_cert uses a
 * private libc-backed fr_mem because its signature carries none). */
FR_MUST_CHECK fr_err fr_pem_each_cert_m(fr_mem *m, const uint8_t *pem, size_t len,
                                        fr_err (*cb)(void *ctx, const uint8_t *der, size_t len),
                                        void *ctx);

#define FR_VERIFY_SERVER 1 /* serverAuth purpose */
#define FR_VERIFY_CLIENT 2 /* clientAuth purpose */

typedef struct fr_verify_params {
    int64_t now;            /* Unix seconds */
    const char *peer_name;  /* DNS name or IP literal; NULL = no name check */
    int purpose;            /* FR_VERIFY_SERVER / FR_VERIFY_CLIENT */
    unsigned max_depth;     /* most certificates in a path below the trust
                               anchor, leaf included (1 = leaf signed by an
                               anchor); 0 = default (8), capped at
                               FR_VERIFY_MAX_DEPTH */
} fr_verify_params;

/* Verify `chain` (chain[0] is the leaf, the rest untrusted intermediates in
 * any order) against the anchors.  FR_OK or a FERRULE_R_CERT_* reason. */
FR_MUST_CHECK fr_err fr_verify_chain(const fr_trust_store *anchors, fr_cert *const *chain,
                                     size_t n, const fr_verify_params *params);

#define FR_VERIFY_MAX_SIG_CHECKS 64 /* budget per call: CERT_TOO_MUCH_WORK */
#define FR_VERIFY_MAX_DEPTH 32      /* hard cap on params->max_depth */

/* What one verification did and found (for tests, diagnostics, and the
 * validated path reported to applications). */
typedef struct fr_verify_stats {
    unsigned sig_checks; /* signature verifications attempted */
    unsigned paths;      /* complete candidate paths evaluated */
    /* On success: the validated path, leaf first, trust anchor last. */
    const fr_cert *path[FR_VERIFY_MAX_DEPTH + 1];
    size_t path_len;
} fr_verify_stats;

/* fr_verify_chain that also reports the work done (stats may be NULL). */
FR_MUST_CHECK fr_err fr_verify_chain_ex(const fr_trust_store *anchors, fr_cert *const *chain,
                                        size_t n, const fr_verify_params *params,
                                        fr_verify_stats *stats);

/* The public result object (ferrule.h): the reason and, when valid, copies
 * of the validated path's DER (leaf first, anchor last). */
struct ferrule_verify_result {
    fr_mem *mem;
    uint32_t reason;
    size_t n;
    uint8_t *ders[FR_VERIFY_MAX_DEPTH + 1];
    size_t lens[FR_VERIFY_MAX_DEPTH + 1];
};
/* Verify and build a result object from `m` (*out is NULL only when the
 * allocation itself failed).  Returns the verification reason. */
FR_MUST_CHECK fr_err fr_verify_chain_result(const fr_trust_store *anchors, fr_cert *const *chain,
                                            size_t n, const fr_verify_params *params, fr_mem *m,
                                            ferrule_verify_result **out);
void fr_verify_result_free(ferrule_verify_result *r);

/* RFC 6125 name match of a leaf against a DNS name or IP literal.
 * Only subjectAltName is consulted: no fallback to the subject CN
 * (RFC 6125 §6.4.4 allows it only without SAN; we never do it). */
int fr_cert_matches_name(const fr_cert *leaf, const char *name);
/* The same match against a GeneralNames DER (the SAN extension value);
 * 0 for a malformed buffer. */
int fr_san_matches_name(const uint8_t *san, size_t san_len, const char *name);

#endif
