/*
 * path.c - certification path building and validation (RFC 5280 §6,
 * with the stricter profile of webpki / CA/B Forum where noted; every
 * policy decision is listed in docs/x509.md).
 *
 * Path building (RFC 4158 style) is a depth-first search from the leaf:
 * the candidate issuers of the current certificate are the trust anchors,
 * then the peer's other certificates, whose subject equals its issuer
 * (fr_name_equal, RFC 5280 §7.1).  Within each group, candidates whose
 * subjectKeyIdentifier equals the child's authorityKeyIdentifier come
 * first, those without key identifiers next, mismatching ones last (a
 * mismatch is not an error: the signature decides).  An edge is taken only
 * when the candidate's key verifies the child's signature.  A path ends at
 * an anchor; the whole path is then validated (profile rules, validity, CA
 * flags, path length, key usage, EKU, name constraints, policies, CRLs),
 * and on failure the search backtracks to the next candidate.
 *
 * Bounds: no certificate appears twice in one path, nor two certificates
 * of the same subject and key (loops: a path through one subject and key
 * twice has a shorter equivalent without the loop; this is what keeps
 * bridge-CA meshes and same-subject sets small); at most max_depth
 * certificates below the anchor, self-issued intermediates not counted, and
 * never more than FR_VERIFY_MAX_DEPTH in all.  Work budgets per call:
 * FR_VERIFY_MAX_SIG_CHECKS signature verifications (certificates and CRLs;
 * the answer for a certificate and a key is remembered, so an edge reached
 * along several paths costs one), FR_VERIFY_MAX_STEPS candidate edges
 * examined, FR_NC_BUDGET name-constraint comparisons.  A budget that runs
 * out ends the search with FERRULE_R_CERT_TOO_MUCH_WORK, and only that
 * gives this reason.
 *
 * Reported failure: the leaf's own defects (profile, validity, key usage,
 * EKU -- the same on every path) are checked once before the search and,
 * when present, are the reason.  Otherwise, when every path fails, the most
 * relevant failure: a failure of a complete path (it reached an anchor)
 * beats a bad signature from a name-matching issuer, which beats the depth
 * limit, which beats a bad signature from an issuer whose SKI contradicts
 * the AKI, which beats FERRULE_R_CERT_UNKNOWN_ISSUER; between two failures
 * of the same kind, the deeper path's (the first found on a tie).
 *
 * The rules a path must satisfy are in policy.c.
 */
#include "verify.h"
#include "../engine.h"

#define DEFAULT_MAX_DEPTH 8

/* Ranks of failures (higher = more relevant).  A bad signature from a
 * candidate whose SKI contradicts the child's AKI is the least telling.
 * Within a rank the deeper path wins: score = rank * RANK_SCALE + depth. */
enum { RANK_NONE = 0, RANK_EDGE_MISMATCH = 1, RANK_DEPTH = 2, RANK_EDGE = 3, RANK_PATH = 4 };
#define RANK_SCALE 64u /* > the longest path (FR_VERIFY_MAX_DEPTH + 1) */

/* Remember failure e of a path of `depth` certificates if it is the most
 * relevant so far. */
static void note(fr_vctx *v, fr_err e, int rank, size_t depth) {
    unsigned score = (unsigned)rank * RANK_SCALE + (unsigned)depth;
    if (score > v->best_score) {
        v->best = e;
        v->best_score = score;
    }
}

/* The search ends on an exhausted work budget or a resource failure; any
 * other failure is one path's, and the search goes on. */
static int stop_search(const fr_vctx *v, fr_err e) {
    return v->out_of_budget || e == FERRULE_R_OUT_OF_MEMORY || e == FERRULE_R_MEMORY_LIMIT;
}

fr_err fr_path_out_of_budget(fr_vctx *v) {
    v->out_of_budget = 1;
    return FERRULE_R_CERT_TOO_MUCH_WORK;
}

static int same_cert(const fr_cert *a, const fr_cert *b) {
    return a == b || (a->der_len == b->der_len && memcmp(a->der, b->der, a->der_len) == 0);
}

/* Is c, or a certificate of the same subject and public key, in
 * path[0..len)?  (Go's path builder prunes the same way.) */
static int in_path(const fr_vctx *v, size_t len, const fr_cert *c) {
    for (size_t i = 0; i < len; i++) {
        const fr_cert *p = v->path[i];
        if (same_cert(p, c)) return 1;
        if (fr_ids_equal(p->spki, p->spki_len, c->spki, c->spki_len) &&
            p->subject_hash == c->subject_hash &&
            fr_name_equal(p->subject, p->subject_len, c->subject, c->subject_len))
            return 1;
    }
    return 0;
}

fr_err fr_path_charge_sig(fr_vctx *v) {
    if (v->stats.sig_checks >= FR_VERIFY_MAX_SIG_CHECKS) return fr_path_out_of_budget(v);
    v->stats.sig_checks++;
    return FR_OK;
}

static fr_err charge_step(fr_vctx *v) {
    if (v->steps >= FR_VERIFY_MAX_STEPS) return fr_path_out_of_budget(v);
    v->steps++;
    return FR_OK;
}

fr_err fr_path_sig_result(fr_err e) {
    switch (e) {
    case FR_OK:
    case FERRULE_R_CERT_WEAK_KEY:
    case FERRULE_R_CERT_UNSUPPORTED:
    case FERRULE_R_OUT_OF_MEMORY:
    case FERRULE_R_MEMORY_LIMIT: return e;
    default: return FERRULE_R_CERT_BAD_SIGNATURE;
    }
}

/* Does the key of `signer` verify child's signature?  One
 * signature check of the budget per certificate and key: the answer is
 * remembered, as a mesh of cross-certificates reaches the same edge along
 * many paths, through certificates that share a key. */
static fr_err verify_sig(fr_vctx *v, const fr_cert *child, const fr_cert *signer) {
    for (size_t i = 0; i < v->n_memo; i++)
        if (v->memo[i].child == child &&
            fr_ids_equal(v->memo[i].spki, v->memo[i].spki_len, signer->spki, signer->spki_len))
            return v->memo[i].result;
    EVP_PKEY *key;
    FR_TRY(fr_cert_key(signer, &key));
    FR_TRY(fr_path_charge_sig(v));
    fr_err e = fr_path_sig_result(fr_sig_verify_x509(key, child->sig_kind, child->sig_hash,
                                                child->tbs, child->tbs_len, child->sig,
                                                child->sig_len));
    if (v->n_memo < FR_VERIFY_MAX_SIG_CHECKS) {
        v->memo[v->n_memo].child = child;
        v->memo[v->n_memo].spki = signer->spki;
        v->memo[v->n_memo].spki_len = signer->spki_len;
        v->memo[v->n_memo++].result = e;
    }
    return e;
}

/* Does `issuer` sign `child`?  Counts against the budgets. */
static fr_err check_edge(fr_vctx *v, const fr_cert *child, const fr_cert *issuer) {
    FR_TRY(charge_step(v));
    FR_ENSURE(child->sig_kind != 0, FERRULE_R_CERT_UNSUPPORTED);
    FR_TRY(fr_policy_key(issuer));
    return verify_sig(v, child, issuer);
}

/* Self-signed for the AKI rule: self-issued, or -- only asked of a
 * certificate without an AKI -- its signature verifies under its own key
 * (a root whose issuer name differs from its subject).  Costs a signature
 * check from the budget. */
static fr_err self_signed_by_key(fr_vctx *v, const fr_cert *c, int *out) {
    *out = c->self_issued;
    if (*out || (c->ext_present & FR_EXT_AKI) || c->sig_kind == 0) return FR_OK;
    EVP_PKEY *key;
    fr_err e = fr_cert_key(c, &key);
    /* No usable key: not self-signed (the key is refused where it is used). */
    if (e != FR_OK) return fr_err_is_resource(e) ? e : FR_OK;
    e = verify_sig(v, c, c);
    if (stop_search(v, e)) return e;
    *out = e == FR_OK;
    return FR_OK;
}

/* The leaf's own rules (profile, validity, key usage, EKU): the same on
 * every path, so checked once, before the search; a defect here is the
 * reason, not whatever some candidate path also has wrong. */
static fr_err check_leaf_alone(fr_vctx *v) {
    const fr_cert *leaf = v->path[0];
    int self_signed;
    FR_TRY(self_signed_by_key(v, leaf, &self_signed));
    FR_TRY(fr_policy_profile(leaf, POS_LEAF, 0, self_signed));
    FR_TRY(fr_policy_validity(leaf, v->params->now));
    return fr_policy_leaf(leaf, v->params, 0);
}

/* Validate a complete path path[0..len) whose last element is the anchor,
 * whose signatures were checked while it was built and whose leaf passed
 * check_leaf_alone. */
static fr_err check_path(fr_vctx *v, size_t len) {
    v->stats.paths++;
    const int64_t now = v->params->now;
    for (size_t i = 1; i < len; i++) {
        int self_signed;
        FR_TRY(self_signed_by_key(v, v->path[i], &self_signed));
        FR_TRY(fr_policy_profile(v->path[i], i + 1 == len ? POS_ANCHOR : POS_INTER, 0, self_signed));
    }
    for (size_t i = 1; i < len; i++) FR_TRY(fr_policy_validity(v->path[i], now));
    for (size_t i = 1; i < len; i++) FR_TRY(fr_policy_issuer(v, i, i + 1 == len));
    FR_TRY(fr_policy_name_constraints(v, len));
    FR_TRY(fr_policy_policies(v, len));
    return fr_policy_crls(v, len);
}

/* 0: the candidate's SKI matches the child's AKI; 1: no identifiers to
 * compare; 2: they differ. */
static int key_id_rank(const fr_cert *child, const fr_cert *cand) {
    if (child->aki_keyid == NULL || cand->ski == NULL) return 1;
    return fr_ids_equal(child->aki_keyid, child->aki_keyid_len, cand->ski, cand->ski_len) ? 0 : 2;
}

/* Certificates below the anchor that count against max_depth if `next`
 * is appended to path[0..len): the leaf and the non-self-issued
 * intermediates. */
static unsigned logical_depth(const fr_vctx *v, size_t len, const fr_cert *next) {
    unsigned d = 1;
    for (size_t i = 1; i < len; i++)
        if (!v->path[i]->self_issued) d++;
    if (next != NULL && !next->self_issued) d++;
    return d;
}

/* Is c a candidate issuer of cur, in the key-identifier group `rank`,
 * that path[0..len) does not hold yet?  The name hashes first: unequal
 * hashes are unequal names (fr_name_hash). */
static int candidate(fr_vctx *v, size_t len, const fr_cert *cur, const fr_cert *c, int rank) {
    v->stats.candidates++;
    if (key_id_rank(cur, c) != rank || c->subject_hash != cur->issuer_hash) return 0;
    return fr_name_equal(c->subject, c->subject_len, cur->issuer, cur->issuer_len) &&
           !in_path(v, len, c);
}

/* Does c sign cur?  *ok says so; a failed edge is noted (the search goes
 * on); an error return ends the search. */
static fr_err try_edge(fr_vctx *v, size_t len, const fr_cert *cur, const fr_cert *c, int rank,
                       int *ok) {
    *ok = 0;
    fr_err e = check_edge(v, cur, c);
    if (stop_search(v, e)) return e;
    *ok = e == FR_OK;
    if (!*ok) note(v, e, rank == 2 ? RANK_EDGE_MISMATCH : RANK_EDGE, len + 1);
    return FR_OK;
}

/* Anchor a as the issuer of path[len - 1], in key-identifier group `rank`:
 * FR_OK and a valid path, UNKNOWN_ISSUER to try the next candidate
 * (failures noted), anything else ends the search. */
static fr_err try_anchor(fr_vctx *v, size_t len, const fr_cert *a, int rank) {
    const fr_cert *cur = v->path[len - 1];
    int ok;
    if (!candidate(v, len, cur, a, rank)) return FERRULE_R_CERT_UNKNOWN_ISSUER;
    FR_TRY(try_edge(v, len, cur, a, rank, &ok));
    if (!ok) return FERRULE_R_CERT_UNKNOWN_ISSUER;
    v->path[len] = a;
    fr_err e = check_path(v, len + 1);
    if (e == FR_OK) {
        v->stats.path_len = len + 1;
        return FR_OK;
    }
    if (stop_search(v, e)) return e;
    note(v, e, RANK_PATH, len + 1);
    return FERRULE_R_CERT_UNKNOWN_ISSUER;
}

/* Close path[0..len) with a trust anchor that issued its last
 * certificate, and validate it.  FR_OK: a valid path; UNKNOWN_ISSUER: no
 * anchor gave one (failures noted); anything else ends the search.  The
 * candidates come from the store's index, in the order they were added:
 * those whose SKI is the child's AKI (the SKI chain), then the others of
 * the issuer's name (the subject chain, filtered by rank) -- the anchors,
 * in the order, a walk of the whole store would have tried. */
static fr_err try_anchors(fr_vctx *v, size_t len) {
    const fr_trust_store *t = v->anchors;
    const fr_cert *cur = v->path[len - 1];
    fr_err e;
    for (uint32_t i = fr_trust_first_by_ski(t, cur->aki_keyid, cur->aki_keyid_len);
         i != FR_TRUST_END; i = fr_trust_next_by_ski(t, i))
        if ((e = try_anchor(v, len, t->certs[i], 0)) != FERRULE_R_CERT_UNKNOWN_ISSUER) return e;
    for (int rank = 1; rank <= 2; rank++)
        for (uint32_t i = fr_trust_first_by_subject(t, cur->issuer_hash); i != FR_TRUST_END;
             i = fr_trust_next_by_subject(t, i))
            if ((e = try_anchor(v, len, t->certs[i], rank)) != FERRULE_R_CERT_UNKNOWN_ISSUER)
                return e;
    return FERRULE_R_CERT_UNKNOWN_ISSUER;
}

/* Extend the path path[0..len) (no anchor yet).  FR_OK when a valid path
 * was found; TOO_MUCH_WORK or a resource failure ends the search; any
 * other failure has been noted and the caller tries its next candidate. */
static fr_err extend(fr_vctx *v, size_t len) {
    fr_err e = try_anchors(v, len);
    if (e != FERRULE_R_CERT_UNKNOWN_ISSUER) return e;
    const fr_cert *cur = v->path[len - 1];
    for (int rank = 0; rank <= 2; rank++) {
        for (size_t i = 1; i < v->n; i++) {
            const fr_cert *c = v->chain[i];
            int ok;
            if (!candidate(v, len, cur, c, rank)) continue;
            /* path[len] = c, and the anchor still to come. */
            if (len + 1 > FR_VERIFY_MAX_DEPTH || logical_depth(v, len, c) > v->max_depth) {
                note(v, FERRULE_R_CERT_PATH_LENGTH, RANK_DEPTH, len + 1);
                continue;
            }
            FR_TRY(try_edge(v, len, cur, c, rank, &ok));
            if (!ok) continue;
            v->path[len] = c;
            e = extend(v, len + 1);
            if (e != FERRULE_R_CERT_UNKNOWN_ISSUER) return e; /* found, or stop */
        }
    }
    return FERRULE_R_CERT_UNKNOWN_ISSUER; /* this branch failed; see v->best */
}

fr_err fr_verify_chain_ex(const fr_trust_store *anchors, fr_cert *const *chain, size_t n,
                          const fr_verify_params *params, fr_verify_stats *stats) {
    FR_ENSURE(anchors != NULL && params != NULL, FERRULE_R_NULL_ARGUMENT);
    FR_ENSURE(n > 0 && chain != NULL, FERRULE_R_CERT_MISSING);
    for (size_t i = 0; i < n; i++) FR_ENSURE(chain[i] != NULL, FERRULE_R_NULL_ARGUMENT);
    FR_ENSURE(params->n_crls == 0 || params->crls != NULL, FERRULE_R_NULL_ARGUMENT);
    fr_vctx v;
    memset(&v, 0, sizeof(v));
    v.anchors = anchors;
    v.chain = chain;
    v.n = n;
    v.params = params;
    v.max_depth = params->max_depth == 0 ? DEFAULT_MAX_DEPTH : params->max_depth;
    if (v.max_depth > FR_VERIFY_MAX_DEPTH) v.max_depth = FR_VERIFY_MAX_DEPTH;
    v.best = FERRULE_R_CERT_UNKNOWN_ISSUER;
    v.nc_budget = FR_NC_BUDGET;
    v.path[0] = chain[0];

    fr_err e = FERRULE_R_CERT_UNKNOWN_ISSUER;
    int pinned = 0;
    /* A leaf that is itself a trust anchor (byte for byte), e.g. a pinned
     * self-signed server certificate, is trusted directly: only its own
     * profile, validity and usage are checked. */
    for (uint32_t i = fr_trust_first_by_subject(anchors, chain[0]->subject_hash);
         i != FR_TRUST_END && e != FR_OK; i = fr_trust_next_by_subject(anchors, i)) {
        if (!same_cert(anchors->certs[i], chain[0])) continue;
        pinned = 1;
        e = fr_policy_profile(chain[0], POS_LEAF, 1, chain[0]->self_issued);
        if (e == FR_OK) e = fr_policy_validity(chain[0], params->now);
        if (e == FR_OK) e = fr_policy_leaf(chain[0], params, 1);
        if (e == FR_OK) v.stats.path_len = 1;
    }
    if (e != FR_OK) {
        /* The leaf's own defect, else the search.  The rules for a pinned
         * leaf are a subset of these: when it failed as pinned, that is
         * its defect. */
        fr_err leaf_e = check_leaf_alone(&v);
        if (leaf_e != FR_OK)
            e = pinned ? e : leaf_e;
        else
            e = extend(&v, 1);
    }
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
    if (r != NULL) fr_mem_free(r->mem, r, r->size);
}

uint32_t fr_verify_result_reason(const ferrule_verify_result *r) { return r->reason; }
size_t fr_verify_result_path_length(const ferrule_verify_result *r) { return r->n; }

int fr_verify_result_path_cert(const ferrule_verify_result *r, size_t i, const uint8_t **der,
                               size_t *len) {
    if (i >= r->n) return 0;
    *der = r->ders[i];
    *len = r->lens[i];
    return 1;
}

/* Where path element `c` can be borrowed from, if anywhere: a chain
 * element's kept DER (der_of), or an anchor's own DER when the caller's
 * chain DER is kept (a connection: its config, and so its trust store,
 * outlives it). */
static int borrowable(const fr_cert *c, fr_cert *const *chain, size_t n, fr_chain_der_fn der_of,
                      const void *ctx, const uint8_t **der, size_t *len) {
    if (der_of == NULL) return 0;
    for (size_t j = 0; j < n; j++)
        if (chain[j] == c) return der_of(ctx, j, der, len) && *len == c->der_len;
    *der = c->der; /* an anchor of the store */
    *len = c->der_len;
    return 1;
}

fr_err fr_verify_chain_result(const fr_trust_store *anchors, fr_cert *const *chain, size_t n,
                              const fr_verify_params *params, fr_mem *m, fr_chain_der_fn der_of,
                              const void *der_ctx, ferrule_verify_result **out) {
    *out = NULL;
    fr_verify_stats st;
    fr_err e = fr_verify_chain_ex(anchors, chain, n, params, &st);
    /* The name check may fail after a path was found: keep the path only
     * for an accepted chain. */
    size_t k = e == FR_OK ? st.path_len : 0, copied = 0;
    const uint8_t *der;
    size_t len;
    for (size_t i = 0; i < k; i++)
        if (!borrowable(st.path[i], chain, n, der_of, der_ctx, &der, &len)) copied += st.path[i]->der_len;
    size_t size = sizeof(ferrule_verify_result) + k * (sizeof(uint8_t *) + sizeof(size_t)) + copied;
    ferrule_verify_result *r = fr_mem_alloc(m, size);
    FR_ENSURE(r != NULL, fr_mem_error(m, size));
    r->mem = m;
    r->reason = e;
    r->size = size;
    r->n = k;
    r->ders = (const uint8_t **)(r + 1);
    r->lens = (size_t *)(r->ders + k);
    uint8_t *copy = (uint8_t *)(r->lens + k);
    for (size_t i = 0; i < k; i++) {
        const fr_cert *c = st.path[i];
        if (!borrowable(c, chain, n, der_of, der_ctx, &der, &len)) {
            memcpy(copy, c->der, c->der_len);
            der = copy;
            len = c->der_len;
            copy += len;
        }
        r->ders[i] = der;
        r->lens[i] = len;
    }
    *out = r;
    return e;
}

