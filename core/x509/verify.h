/*
 * verify.h - the path builder's state, private to core/x509/: path.c
 * builds candidate paths and owns the work budgets, policy.c holds the
 * rules a certificate and a path must satisfy (RFC 5280 §6 and the
 * profile of docs/x509.md).
 */
#ifndef FR_X509_VERIFY_H
#define FR_X509_VERIFY_H

#include "der.h"
#include "x509.h"

#define MALFORMED FERRULE_R_CERT_MALFORMED

/* Position of a certificate in a path. */
enum { POS_LEAF, POS_INTER, POS_ANCHOR };

typedef struct fr_vctx {
    const fr_trust_store *anchors;
    fr_cert *const *chain;
    size_t n;
    const fr_verify_params *params;
    unsigned max_depth;
    /* path[0] is the leaf; path[len - 1] the anchor once complete */
    const fr_cert *path[FR_VERIFY_MAX_DEPTH + 1];
    fr_verify_stats stats;
    fr_err best;
    unsigned best_score;
    unsigned nc_budget;
    unsigned steps;    /* candidate edges examined */
    int out_of_budget; /* a work budget ended the search */
    /* Signature checks done: (certificate, key) -> result. */
    struct {
        const fr_cert *child;
        const uint8_t *spki;
        size_t spki_len;
        fr_err result;
    } memo[FR_VERIFY_MAX_SIG_CHECKS];
    size_t n_memo;
} fr_vctx;

static inline int fr_ids_equal(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    return an == bn && memcmp(a, b, an) == 0;
}

/* ---- path.c: budgets and signatures ----------------------------------- */
/* Count one signature verification against the budget. */
FR_MUST_CHECK fr_err fr_path_charge_sig(fr_vctx *v);
/* A work budget ran out: the search ends with CERT_TOO_MUCH_WORK. */
FR_MUST_CHECK fr_err fr_path_out_of_budget(fr_vctx *v);
/* A signature check's result as a path reason: any verification failure
 * is CERT_BAD_SIGNATURE; a weak or unsupported key and resource failures
 * are themselves. */
FR_MUST_CHECK fr_err fr_path_sig_result(fr_err e);

/* ---- policy.c: the rules ----------------------------------------------- */
/* The key is one we accept, of an acceptable size. */
FR_MUST_CHECK fr_err fr_policy_key(const fr_cert *c);
/* Valid at `now` (RFC 5280 §4.1.2.5). */
FR_MUST_CHECK fr_err fr_policy_validity(const fr_cert *c, int64_t now);
/* Profile rules for a certificate at `pos` of a path (pinned: the leaf is
 * itself a trust anchor; self_signed: self-issued, or verifying under its
 * own key). */
FR_MUST_CHECK fr_err fr_policy_profile(const fr_cert *c, int pos, int pinned, int self_signed);
/* The leaf's usage for TLS 1.3 (key usage, EKU, the CN rule on request). */
FR_MUST_CHECK fr_err fr_policy_leaf(const fr_cert *leaf, const fr_verify_params *params,
                                    int pinned);
/* May the certificate at v->path[idx] (idx >= 1) issue what is below it? */
FR_MUST_CHECK fr_err fr_policy_issuer(const fr_vctx *v, size_t idx, int anchor);
/* Certificate policies (RFC 5280 §6.1, simplified) over path[0..len). */
FR_MUST_CHECK fr_err fr_policy_policies(const fr_vctx *v, size_t len);
/* Revocation by the CRLs of the parameters (RFC 5280 §6.3, simplified). */
FR_MUST_CHECK fr_err fr_policy_crls(fr_vctx *v, size_t len);
/* Name constraints of every CA of path[0..len) (RFC 5280 §6.1.3 (b), (c)). */
FR_MUST_CHECK fr_err fr_policy_name_constraints(fr_vctx *v, size_t len);

#endif
