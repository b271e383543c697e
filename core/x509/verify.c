/*
 * verify.c - certification path building and validation (issue 2 subset of
 * RFC 5280 §6; the full engine arrives in issue 3 behind this interface).
 *
 * Path building (RFC 4158 style) is a depth-first search from the leaf:
 * the candidate issuers of the current certificate are the trust anchors,
 * then the peer's other certificates, whose subject equals its issuer
 * (fr_name_equal).  An edge is taken only when the candidate's key verifies
 * the child's signature.  A path ends at an anchor; the whole path is then
 * validated (validity, CA flags, path length, key usage, critical
 * extensions), and on failure the search backtracks to the next candidate.
 *
 * Bounds: no certificate appears twice in one path (loops), at most
 * max_depth non-anchor certificates per path, and at most
 * FR_VERIFY_MAX_SIG_CHECKS signature verifications per call, beyond which
 * the search stops with FERRULE_R_CERT_TOO_MUCH_WORK (a peer sending many
 * cross-signed look-alikes cannot make us do unbounded work).
 *
 * When every path fails, the most relevant failure is reported: a failure of
 * a complete path (it reached an anchor) beats a bad signature from a
 * name-matching issuer, which beats the depth limit, which beats
 * FERRULE_R_CERT_UNKNOWN_ISSUER.
 */
#include "x509.h"

#define DEFAULT_MAX_DEPTH 8
#define MIN_RSA_BITS 2048

/* Ranks of failures (higher = more relevant). */
enum { RANK_NONE = 0, RANK_DEPTH = 1, RANK_EDGE = 2, RANK_PATH = 3 };

typedef struct vctx {
    const fr_trust_store *anchors;
    fr_cert *const *chain;
    size_t n;
    const fr_verify_params *params;
    unsigned max_depth;
    /* path[0] is the leaf; path[len - 1] the anchor once complete */
    const fr_cert *path[FR_VERIFY_MAX_DEPTH + 1];
    fr_verify_stats stats;
    fr_err best;
    int best_rank;
} vctx;

static void note(vctx *v, fr_err e, int rank) {
    if (rank > v->best_rank) {
        v->best = e;
        v->best_rank = rank;
    }
}

static int same_cert(const fr_cert *a, const fr_cert *b) {
    return a == b || (a->der_len == b->der_len && memcmp(a->der, b->der, a->der_len) == 0);
}

static int in_path(const vctx *v, size_t len, const fr_cert *c) {
    for (size_t i = 0; i < len; i++)
        if (same_cert(v->path[i], c)) return 1;
    return 0;
}

static int is_weak(EVP_PKEY *key) {
    int type = fr_pkey_type(key);
    return (type == FR_KEYTYPE_RSA || type == FR_KEYTYPE_RSA_PSS) &&
           fr_pkey_bits(key) < MIN_RSA_BITS;
}

/* Does `issuer` sign `child`?  Counts against the budget. */
static fr_err check_edge(vctx *v, const fr_cert *child, const fr_cert *issuer) {
    FR_ENSURE(child->sig_kind != 0 && issuer->pub != NULL, FERRULE_R_CERT_UNSUPPORTED);
    FR_ENSURE(!is_weak(issuer->pub), FERRULE_R_CERT_WEAK_KEY);
    FR_ENSURE(v->stats.sig_checks < FR_VERIFY_MAX_SIG_CHECKS, FERRULE_R_CERT_TOO_MUCH_WORK);
    v->stats.sig_checks++;
    fr_err e = fr_sig_verify_x509(issuer->pub, child->sig_kind, child->sig_hash, child->tbs,
                                  child->tbs_len, child->sig, child->sig_len);
    switch (e) {
    case FR_OK:
    case FERRULE_R_CERT_WEAK_KEY:
    case FERRULE_R_CERT_UNSUPPORTED:
    case FERRULE_R_OUT_OF_MEMORY:
    case FERRULE_R_MEMORY_LIMIT: return e;
    default: return FERRULE_R_CERT_BAD_SIGNATURE;
    }
}

static fr_err check_validity(const fr_cert *c, int64_t now) {
    /* RFC 5280 §4.1.2.5: valid from notBefore through notAfter inclusive. */
    FR_ENSURE(now >= c->not_before, FERRULE_R_CERT_NOT_YET_VALID);
    FR_ENSURE(now <= c->not_after, FERRULE_R_CERT_EXPIRED);
    return FR_OK;
}

/* Checks of the leaf alone (TLS 1.3 usage). */
static fr_err check_leaf(const fr_cert *leaf, int purpose) {
    FR_ENSURE(leaf->pub != NULL, FERRULE_R_CERT_UNSUPPORTED);
    FR_ENSURE(!is_weak(leaf->pub), FERRULE_R_CERT_WEAK_KEY);
    /* The leaf key signs CertificateVerify (RFC 8446 §4.4.3). */
    FR_ENSURE(!leaf->has_key_usage || (leaf->key_usage & FR_KU_DIGITAL_SIGNATURE),
              FERRULE_R_CERT_KEY_USAGE);
    /* RFC 5280 §4.2.1.12; intermediates' EKU is checked from issue 3. */
    if (leaf->has_eku && purpose != 0) {
        unsigned want = purpose == FR_VERIFY_CLIENT ? FR_EKU_CLIENT : FR_EKU_SERVER;
        FR_ENSURE(leaf->eku & (want | FR_EKU_ANY), FERRULE_R_CERT_EKU);
    }
    return FR_OK;
}

/* Is the issuer at path[idx] (idx >= 1) allowed to issue?  `anchor` says
 * whether it is the trust anchor. */
static fr_err check_issuer(const vctx *v, size_t idx, int anchor) {
    const fr_cert *c = v->path[idx];
    /* RFC 5280 §4.2.1.9: cA must be asserted.  An X.509 v1 self-issued
     * anchor has no extensions at all and is accepted as a CA, as the
     * trust store says so (RFC 5280 §6.1.1 (d): anchors are inputs). */
    int v1_anchor = anchor && c->version == 0 && c->self_issued;
    FR_ENSURE(c->is_ca || v1_anchor, FERRULE_R_CERT_NOT_CA);
    /* RFC 5280 §4.2.1.3: keyCertSign for certificate signatures. */
    FR_ENSURE(!c->has_key_usage || (c->key_usage & FR_KU_KEY_CERT_SIGN), FERRULE_R_CERT_KEY_USAGE);
    /* RFC 5280 §4.2.1.9: pathLenConstraint bounds the non-self-issued
     * intermediates that follow it (leaf excluded). */
    if (c->path_len >= 0) {
        size_t below = 0;
        for (size_t i = 1; i < idx; i++)
            if (!v->path[i]->self_issued) below++;
        FR_ENSURE(below <= (size_t)c->path_len, FERRULE_R_CERT_PATH_LENGTH);
    }
    return FR_OK;
}

/* Validate a complete path path[0..len) whose last element is the anchor
 * and whose signatures were checked while it was built. */
static fr_err check_path(vctx *v, size_t len) {
    v->stats.paths++;
    const int64_t now = v->params->now;
    /* RFC 5280 §4.2: unknown critical extensions reject the certificate. */
    for (size_t i = 0; i < len; i++)
        FR_ENSURE(!v->path[i]->unknown_critical, FERRULE_R_CERT_UNSUPPORTED);
    for (size_t i = 0; i < len; i++) FR_TRY(check_validity(v->path[i], now));
    for (size_t i = 1; i < len; i++) FR_TRY(check_issuer(v, i, i + 1 == len));
    return check_leaf(v->path[0], v->params->purpose);
}

/* Extend the path path[0..len) (no anchor yet).  FR_OK when a valid path
 * was found; TOO_MUCH_WORK or a resource failure ends the search; any
 * other failure has been noted and the caller tries its next candidate. */
static fr_err extend(vctx *v, size_t len) {
    const fr_cert *cur = v->path[len - 1];
    for (size_t i = 0; i < v->anchors->n; i++) {
        const fr_cert *a = v->anchors->certs[i];
        if (!fr_name_equal(a->subject, a->subject_len, cur->issuer, cur->issuer_len)) continue;
        if (in_path(v, len, a)) continue;
        fr_err e = check_edge(v, cur, a);
        if (e == FERRULE_R_CERT_TOO_MUCH_WORK || e == FERRULE_R_OUT_OF_MEMORY ||
            e == FERRULE_R_MEMORY_LIMIT)
            return e;
        if (e != FR_OK) {
            note(v, e, RANK_EDGE);
            continue;
        }
        v->path[len] = a;
        e = check_path(v, len + 1);
        if (e == FR_OK) {
            v->stats.path_len = len + 1;
            return FR_OK;
        }
        note(v, e, RANK_PATH);
    }
    for (size_t i = 1; i < v->n; i++) {
        const fr_cert *c = v->chain[i];
        if (!fr_name_equal(c->subject, c->subject_len, cur->issuer, cur->issuer_len)) continue;
        if (in_path(v, len, c)) continue;
        if (len + 1 > v->max_depth) {
            note(v, FERRULE_R_CERT_PATH_LENGTH, RANK_DEPTH);
            continue;
        }
        fr_err e = check_edge(v, cur, c);
        if (e == FERRULE_R_CERT_TOO_MUCH_WORK || e == FERRULE_R_OUT_OF_MEMORY ||
            e == FERRULE_R_MEMORY_LIMIT)
            return e;
        if (e != FR_OK) {
            note(v, e, RANK_EDGE);
            continue;
        }
        v->path[len] = c;
        e = extend(v, len + 1);
        if (e != FERRULE_R_CERT_UNKNOWN_ISSUER) return e; /* found, or stop */
    }
    return FERRULE_R_CERT_UNKNOWN_ISSUER; /* this branch failed; see v->best */
}

fr_err fr_verify_chain_ex(const fr_trust_store *anchors, fr_cert *const *chain, size_t n,
                          const fr_verify_params *params, fr_verify_stats *stats) {
    FR_ENSURE(anchors != NULL && params != NULL, FERRULE_R_NULL_ARGUMENT);
    FR_ENSURE(n > 0 && chain != NULL, FERRULE_R_CERT_MISSING);
    for (size_t i = 0; i < n; i++) FR_ENSURE(chain[i] != NULL, FERRULE_R_NULL_ARGUMENT);
    vctx v;
    memset(&v, 0, sizeof(v));
    v.anchors = anchors;
    v.chain = chain;
    v.n = n;
    v.params = params;
    v.max_depth = params->max_depth == 0 ? DEFAULT_MAX_DEPTH : params->max_depth;
    if (v.max_depth > FR_VERIFY_MAX_DEPTH) v.max_depth = FR_VERIFY_MAX_DEPTH;
    v.best = FERRULE_R_CERT_UNKNOWN_ISSUER;
    v.path[0] = chain[0];

    fr_err e = FERRULE_R_CERT_UNKNOWN_ISSUER;
    /* A leaf that is itself a trust anchor (byte for byte), e.g. a pinned
     * self-signed server certificate, is trusted directly: only its own
     * validity and usage are checked. */
    for (size_t i = 0; i < anchors->n && e != FR_OK; i++) {
        if (!same_cert(anchors->certs[i], chain[0])) continue;
        e = chain[0]->unknown_critical ? FERRULE_R_CERT_UNSUPPORTED
                                       : check_validity(chain[0], params->now);
        if (e == FR_OK) e = check_leaf(chain[0], params->purpose);
        if (e == FR_OK) v.stats.path_len = 1;
        if (e != FR_OK) note(&v, e, RANK_PATH);
    }
    if (e != FR_OK) e = extend(&v, 1);
    if (e == FR_OK)
        for (size_t i = 0; i < v.stats.path_len; i++) v.stats.path[i] = v.path[i];
    else
        v.stats.path_len = 0;
    if (stats != NULL) *stats = v.stats;
    if (e == FERRULE_R_CERT_UNKNOWN_ISSUER) return v.best;
    FR_TRY(e);
    /* RFC 8446 §4.4.2.2 / RFC 6125: the name is checked last so that trust
     * failures are reported first. */
    if (params->peer_name != NULL)
        FR_ENSURE(fr_cert_matches_name(chain[0], params->peer_name),
                  FERRULE_R_CERT_NAME_MISMATCH);
    return FR_OK;
}

fr_err fr_verify_chain(const fr_trust_store *anchors, fr_cert *const *chain, size_t n,
                       const fr_verify_params *params) {
    return fr_verify_chain_ex(anchors, chain, n, params, NULL);
}

void fr_verify_result_free(ferrule_verify_result *r) {
    if (r == NULL) return;
    fr_mem *m = r->mem;
    for (size_t i = 0; i < r->n; i++) fr_mem_free(m, r->ders[i], r->lens[i]);
    fr_mem_free(m, r, sizeof(*r));
}

fr_err fr_verify_chain_result(const fr_trust_store *anchors, fr_cert *const *chain, size_t n,
                              const fr_verify_params *params, fr_mem *m,
                              ferrule_verify_result **out) {
    *out = NULL;
    fr_verify_stats st;
    fr_err e = fr_verify_chain_ex(anchors, chain, n, params, &st);
    ferrule_verify_result *r = fr_mem_alloc(m, sizeof(*r));
    FR_ENSURE(r != NULL, fr_mem_error(m, sizeof(*r)));
    r->mem = m;
    r->reason = e;
    if (e == FR_OK) {
        /* The name check may fail after a path was found: keep the path
         * only for an accepted chain. */
        for (size_t i = 0; i < st.path_len; i++) {
            const fr_cert *c = st.path[i];
            r->ders[i] = fr_mem_alloc(m, c->der_len);
            if (r->ders[i] == NULL) {
                e = fr_mem_error(m, c->der_len);
                break;
            }
            memcpy(r->ders[i], c->der, c->der_len);
            r->lens[i] = c->der_len;
            r->n = i + 1;
        }
    }
    if (e != FR_OK && r->reason == FR_OK) { /* allocation failed mid-copy */
        fr_verify_result_free(r);
        return e;
    }
    *out = r;
    return e;
}
