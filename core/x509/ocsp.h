/*
 * ocsp.h - OCSP responses (RFC 6960) as stapled in TLS 1.3 (RFC 8446
 * §4.4.2.1, RFC 6066 §8): a strict DER parser for OCSPResponse /
 * BasicOCSPResponse, the validation of a staple against the leaf and its
 * issuer, and the stapling policy the handshake applies.
 *
 * Every malformed, unverifiable, stale or non-matching response is
 * FERRULE_R_CERT_BAD_OCSP; a valid response saying "revoked" is
 * FERRULE_R_CERT_REVOKED.  See docs/ocsp.md.
 */
#ifndef FR_X509_OCSP_H
#define FR_X509_OCSP_H

#include "x509.h"

/* Clock skew tolerated between us and the responder, both ways (seconds). */
#define FR_OCSP_SKEW 300
/* A response without nextUpdate ("newer information is always available",
 * RFC 6960 §4.2.2.1) is accepted for at most this long after thisUpdate. */
#define FR_OCSP_MAX_AGE_WITHOUT_NEXT (7 * 86400)
/* Bounds on the work one response may cause. */
#define FR_OCSP_MAX_RESPONSES 32 /* SingleResponses */
#define FR_OCSP_MAX_CERTS 4      /* certificates in BasicOCSPResponse.certs */

/* CertStatus (RFC 6960 §4.2.1). */
#define FR_OCSP_GOOD 0
#define FR_OCSP_REVOKED 1
#define FR_OCSP_UNKNOWN 2

/* CertID hash algorithms: FR_HASH_* values, plus SHA-1 (identifiers only). */
#define FR_OCSP_HASH_SHA1 100

/* One SingleResponse; slices point into the parsed response. */
typedef struct fr_ocsp_single {
    int hash; /* FR_OCSP_HASH_SHA1 / FR_HASH_SHA256..512, 0 = unsupported */
    const uint8_t *name_hash;
    size_t name_hash_len;
    const uint8_t *key_hash;
    size_t key_hash_len;
    const uint8_t *serial; /* INTEGER content, as fr_cert.serial */
    size_t serial_len;
    int status; /* FR_OCSP_GOOD / REVOKED / UNKNOWN */
    int64_t revocation_time;
    int64_t this_update;
    int has_next_update;
    int64_t next_update;
} fr_ocsp_single;

/* A successful id-pkix-ocsp-basic response; slices point into the input. */
typedef struct fr_ocsp_response {
    const uint8_t *tbs; /* ResponseData TLV: the signed bytes */
    size_t tbs_len;
    int responder_by_key;     /* ResponderID: 0 byName, 1 byKey */
    const uint8_t *responder; /* byName: Name TLV; byKey: the SHA-1 key hash */
    size_t responder_len;
    int64_t produced_at;
    fr_reader responses; /* content of `responses`; every entry validated */
    size_t n_responses;
    int sig_kind, sig_hash; /* FR_SIGKIND_* (0 = unsupported), FR_HASH_* */
    const uint8_t *sig;     /* signature bits */
    size_t sig_len;
    fr_reader certs; /* content of `certs` (empty when absent) */
    size_t n_certs;
} fr_ocsp_response;

/* Parse a DER OCSPResponse (strict DER, no trailing bytes).  Anything but a
 * well-formed successful id-pkix-ocsp-basic response is CERT_BAD_OCSP, as
 * is an unknown critical extension in the response or a SingleResponse. */
FR_MUST_CHECK fr_err fr_ocsp_parse(const uint8_t *der, size_t len, fr_ocsp_response *out);
/* Next SingleResponse of out->responses (already validated by
 * fr_ocsp_parse, so this fails only past the end). */
FR_MUST_CHECK fr_err fr_ocsp_next_single(fr_reader *responses, fr_ocsp_single *out);

/* What fr_ocsp_check found (for tests and diagnostics). */
typedef struct fr_ocsp_info {
    int delegated; /* signed by a delegated responder (not the issuer) */
    int status;    /* FR_OCSP_* of the matching SingleResponse */
} fr_ocsp_info;

/* Validate a stapled response for `leaf`, whose issuer (from the validated
 * path) is `issuer`, at time `now` (Unix seconds):
 *  - exactly one SingleResponse has a CertID (SHA-1 or SHA-2) naming the
 *    leaf: issuerNameHash over the leaf's issuer Name, issuerKeyHash over
 *    the issuer's subjectPublicKey, the leaf's serial (RFC 6960 §4.1.1);
 *  - the responder is the issuer itself, or a certificate from `certs`
 *    that the issuer signed directly, with id-kp-OCSPSigning, valid at
 *    `now` (RFC 6960 §4.2.2.2), identified by the ResponderID;
 *  - the signature over tbsResponseData verifies with the responder key;
 *  - producedAt and thisUpdate are not after now + FR_OCSP_SKEW; nextUpdate
 *    (if present) is not before now - FR_OCSP_SKEW; without nextUpdate,
 *    thisUpdate is at most FR_OCSP_MAX_AGE_WITHOUT_NEXT (+ skew) old.
 * FR_OK for good; CERT_REVOKED for revoked; CERT_BAD_OCSP for unknown and
 * every other failure; a memory reason if parsing a certificate ran out.
 * `info` may be NULL. */
FR_MUST_CHECK fr_err fr_ocsp_check(fr_mem *m, const uint8_t *resp, size_t len,
                                   const fr_cert *leaf, const fr_cert *issuer, int64_t now,
                                   fr_ocsp_info *info);

/* The handshake's stapling policy (FERRULE_OCSP_* in ferrule.h), applied
 * after the chain validated.  `staple` is the peer's response or NULL;
 * `issuer_der` the leaf's issuer from the validated path (NULL when the
 * leaf itself is the trust anchor and not self-issued: a staple cannot be
 * checked then and fails).  A staple, when present, must be valid and
 * good; without one the handshake fails only if `require` or the leaf is
 * must-staple (RFC 7633).  *stapled = 1 when a good staple was validated. */
FR_MUST_CHECK fr_err fr_ocsp_apply_policy(fr_mem *m, const uint8_t *staple, size_t staple_len,
                                          const fr_cert *leaf, const uint8_t *issuer_der,
                                          size_t issuer_len, int require, int64_t now,
                                          int *stapled);

#endif
