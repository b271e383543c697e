/*
 * verify.c - certification path building and validation (RFC 5280 §6,
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
 */
#include "der.h"
#include "x509.h"

#define DEFAULT_MAX_DEPTH 8
#define MIN_RSA_BITS 2048
#define MAX_POLICY_SET 64

#define MALFORMED FERRULE_R_CERT_MALFORMED

/* Ranks of failures (higher = more relevant).  A bad signature from a
 * candidate whose SKI contradicts the child's AKI is the least telling.
 * Within a rank the deeper path wins: score = rank * RANK_SCALE + depth. */
enum { RANK_NONE = 0, RANK_EDGE_MISMATCH = 1, RANK_DEPTH = 2, RANK_EDGE = 3, RANK_PATH = 4 };
#define RANK_SCALE 64u /* > the longest path (FR_VERIFY_MAX_DEPTH + 1) */
/* Position of a certificate in a path. */
enum { POS_LEAF, POS_INTER, POS_ANCHOR };

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
} vctx;

/* Remember failure e of a path of `depth` certificates if it is the most
 * relevant so far. */
static void note(vctx *v, fr_err e, int rank, size_t depth) {
    unsigned score = (unsigned)rank * RANK_SCALE + (unsigned)depth;
    if (score > v->best_score) {
        v->best = e;
        v->best_score = score;
    }
}

/* The search ends on an exhausted work budget or a resource failure; any
 * other failure is one path's, and the search goes on. */
static int stop_search(const vctx *v, fr_err e) {
    return v->out_of_budget || e == FERRULE_R_OUT_OF_MEMORY || e == FERRULE_R_MEMORY_LIMIT;
}

static fr_err out_of_budget(vctx *v) {
    v->out_of_budget = 1;
    return FERRULE_R_CERT_TOO_MUCH_WORK;
}

static int same_cert(const fr_cert *a, const fr_cert *b) {
    return a == b || (a->der_len == b->der_len && memcmp(a->der, b->der, a->der_len) == 0);
}

static int ids_equal(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    return an == bn && memcmp(a, b, an) == 0;
}

/* Is c, or a certificate of the same subject and public key, in
 * path[0..len)?  (Go's path builder prunes the same way.) */
static int in_path(const vctx *v, size_t len, const fr_cert *c) {
    for (size_t i = 0; i < len; i++) {
        const fr_cert *p = v->path[i];
        if (same_cert(p, c)) return 1;
        if (ids_equal(p->spki, p->spki_len, c->spki, c->spki_len) &&
            fr_name_equal(p->subject, p->subject_len, c->subject, c->subject_len))
            return 1;
    }
    return 0;
}

/* Keys: the webpki set (see parse_spki_alg in cert.c); RSA moduli of at
 * least 2048 bits and a whole number of octets (CA/B BR 6.1.5). */
static fr_err check_key(const fr_cert *c) {
    FR_ENSURE(c->pub != NULL && c->key_kind != 0, FERRULE_R_CERT_UNSUPPORTED);
    if (c->key_kind == FR_CERT_KEY_RSA || c->key_kind == FR_CERT_KEY_RSA_PSS)
        FR_ENSURE(c->key_bits >= MIN_RSA_BITS && c->key_bits % 8 == 0, FERRULE_R_CERT_WEAK_KEY);
    return FR_OK;
}

static fr_err charge_sig(vctx *v) {
    if (v->stats.sig_checks >= FR_VERIFY_MAX_SIG_CHECKS) return out_of_budget(v);
    v->stats.sig_checks++;
    return FR_OK;
}

static fr_err charge_step(vctx *v) {
    if (v->steps >= FR_VERIFY_MAX_STEPS) return out_of_budget(v);
    v->steps++;
    return FR_OK;
}

static fr_err map_sig_error(fr_err e) {
    switch (e) {
    case FR_OK:
    case FERRULE_R_CERT_WEAK_KEY:
    case FERRULE_R_CERT_UNSUPPORTED:
    case FERRULE_R_OUT_OF_MEMORY:
    case FERRULE_R_MEMORY_LIMIT: return e;
    default: return FERRULE_R_CERT_BAD_SIGNATURE;
    }
}

/* Does the key of `signer` (decoded) verify child's signature?  One
 * signature check of the budget per certificate and key: the answer is
 * remembered, as a mesh of cross-certificates reaches the same edge along
 * many paths, through certificates that share a key. */
static fr_err verify_sig(vctx *v, const fr_cert *child, const fr_cert *signer) {
    for (size_t i = 0; i < v->n_memo; i++)
        if (v->memo[i].child == child &&
            ids_equal(v->memo[i].spki, v->memo[i].spki_len, signer->spki, signer->spki_len))
            return v->memo[i].result;
    FR_TRY(charge_sig(v));
    fr_err e = map_sig_error(fr_sig_verify_x509(signer->pub, child->sig_kind, child->sig_hash,
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
static fr_err check_edge(vctx *v, const fr_cert *child, const fr_cert *issuer) {
    FR_TRY(charge_step(v));
    FR_ENSURE(child->sig_kind != 0, FERRULE_R_CERT_UNSUPPORTED);
    FR_TRY(check_key(issuer));
    return verify_sig(v, child, issuer);
}

static fr_err check_validity(const fr_cert *c, int64_t now) {
    /* RFC 5280 §4.1.2.5: valid from notBefore through notAfter inclusive. */
    FR_ENSURE(now >= c->not_before, FERRULE_R_CERT_NOT_YET_VALID);
    FR_ENSURE(now <= c->not_after, FERRULE_R_CERT_EXPIRED);
    return FR_OK;
}

/* RFC 5280 §4.1.2.2: a positive INTEGER (zero is not positive). */
static int serial_ok(const fr_cert *c) {
    if (c->serial_len == 0 || (c->serial[0] & 0x80) != 0) return 0;
    for (size_t i = 0; i < c->serial_len; i++)
        if (c->serial[i] != 0) return 1;
    return 0;
}

/* Profile rules for a certificate at `pos` of a path (pinned: the leaf is
 * itself a trust anchor; self_signed: see self_signed_by_key). */
static fr_err check_profile(const fr_cert *c, int pos, int pinned, int self_signed) {
    const unsigned crit = c->ext_critical, present = c->ext_present;
    /* RFC 5280 §4.2: an unrecognised critical extension rejects. */
    FR_ENSURE(!c->unknown_critical, FERRULE_R_CERT_UNSUPPORTED);
    FR_TRY(check_key(c));
    /* RFC 5280 §4.2.1.1, §4.2.1.2, §4.2.2.1: MUST NOT be critical. */
    FR_ENSURE((crit & (FR_EXT_AKI | FR_EXT_SKI | FR_EXT_AIA)) == 0, MALFORMED);
    /* CA/B BR 7.1.2.7.10 / 7.1.2.10.6: extKeyUsage is not critical. */
    FR_ENSURE((crit & FR_EXT_EKU) == 0, FERRULE_R_CERT_EKU);
    /* RFC 5280 §4.2.1.11, §4.2.1.14: MUST be critical. */
    FR_ENSURE((present & FR_EXT_PC) == 0 || (crit & FR_EXT_PC), MALFORMED);
    FR_ENSURE((present & FR_EXT_IAP) == 0 || (crit & FR_EXT_IAP), MALFORMED);
    /* RFC 5280 §4.2.1.10: only in CA certificates, and critical. */
    if (c->nc != NULL) {
        FR_ENSURE(c->is_ca, FERRULE_R_CERT_NAME_CONSTRAINTS);
        FR_ENSURE(crit & FR_EXT_NC, FERRULE_R_CERT_NAME_CONSTRAINTS);
    }
    /* RFC 5280 §4.1.2.6: an empty subject requires a critical SAN; CA/B BR
     * 7.1.2.7.12: otherwise the SAN is not critical. */
    const int empty_subject = c->subject_len <= 2;
    if (empty_subject)
        FR_ENSURE(c->san != NULL && (crit & FR_EXT_SAN), MALFORMED);
    else
        FR_ENSURE((crit & FR_EXT_SAN) == 0, MALFORMED);
    if (pos != POS_ANCHOR || pinned) {
        /* Rules on what a CA issues: not applied to configured anchors. */
        FR_ENSURE(serial_ok(c), MALFORMED);
        FR_ENSURE(!c->time_encoding_bad, MALFORMED);
    }
    /* RFC 5280 §4.2.1.1: the AKI keyIdentifier MUST be present in every
     * certificate except a self-signed one (self-issued, or verifying
     * under its own key: see self_signed_by_key). */
    if (!self_signed && !pinned) FR_ENSURE(present & FR_EXT_AKI, MALFORMED);
    if (pos != POS_LEAF && c->is_ca) {
        /* RFC 5280 §4.1.2.6: a CA's subject is not empty; §4.2.1.2: CA
         * certificates carry an SKI; §4.2.1.9: basicConstraints critical. */
        FR_ENSURE(!empty_subject, MALFORMED);
        FR_ENSURE(c->ski != NULL, MALFORMED);
        FR_ENSURE(crit & FR_EXT_BC, MALFORMED);
        /* CA/B BR 7.1.2.1.3, 7.1.2.11.1: a CA's AKI holds the keyIdentifier
         * only; a self-signed root's equals its own SKI. */
        if (present & FR_EXT_AKI) {
            FR_ENSURE(c->aki_keyid != NULL && !c->aki_issuer_serial, MALFORMED);
            if (pos == POS_ANCHOR && c->self_issued)
                FR_ENSURE(ids_equal(c->aki_keyid, c->aki_keyid_len, c->ski, c->ski_len),
                          MALFORMED);
        }
    }
    return FR_OK;
}

/* Checks of the leaf alone (TLS 1.3 usage). */
static fr_err check_leaf(const fr_cert *leaf, const fr_verify_params *params, int pinned) {
    const int purpose = params->purpose;
    unsigned want = purpose == FR_VERIFY_CLIENT ? FR_EKU_CLIENT : FR_EKU_SERVER;
    /* The leaf key signs CertificateVerify (RFC 8446 §4.4.3). */
    FR_ENSURE(!leaf->has_key_usage || (leaf->key_usage & FR_KU_DIGITAL_SIGNATURE),
              FERRULE_R_CERT_KEY_USAGE);
    if (pinned) {
        /* A pinned certificate is trusted as configured: RFC 5280 rules
         * only (no EKU allows every purpose). */
        if (leaf->has_eku && purpose != 0)
            FR_ENSURE(leaf->eku & (want | FR_EKU_ANY), FERRULE_R_CERT_EKU);
        return FR_OK;
    }
    /* CA/B BR 7.1.2.7.8, 7.1.2.7.11: a subscriber certificate is not a CA
     * and cannot sign certificates (RFC 5280 §4.2.1.3: keyCertSign
     * requires cA). */
    FR_ENSURE(!leaf->is_ca, FERRULE_R_CERT_KEY_USAGE);
    FR_ENSURE(!leaf->has_key_usage || !(leaf->key_usage & FR_KU_KEY_CERT_SIGN),
              FERRULE_R_CERT_KEY_USAGE);
    if (purpose != 0) {
        /* CA/B BR 7.1.2.7.10: EKU present and listing the purpose;
         * anyExtendedKeyUsage alone does not do (docs/x509.md). */
        FR_ENSURE(leaf->has_eku && (leaf->eku & want), FERRULE_R_CERT_EKU);
        /* CA/B BR 7.1.2.7.10: anyExtendedKeyUsage MUST NOT be present. */
        FR_ENSURE(!(leaf->eku & FR_EKU_ANY), FERRULE_R_CERT_EKU);
    }
    /* CA/B BR 7.1.4.3 (the subject CN repeats a SAN entry), when asked
     * for: it binds CAs, and no widely used relying party enforces it. */
    if (purpose == FR_VERIFY_SERVER && params->cn_in_san)
        FR_ENSURE(fr_cert_cn_consistent(leaf), FERRULE_R_CERT_NAME_MISMATCH);
    return FR_OK;
}

/* Is the issuer at path[idx] (idx >= 1) allowed to issue?  `anchor` says
 * whether it is the trust anchor. */
static fr_err check_issuer(const vctx *v, size_t idx, int anchor) {
    const fr_cert *c = v->path[idx];
    unsigned want = v->params->purpose == FR_VERIFY_CLIENT ? FR_EKU_CLIENT : FR_EKU_SERVER;
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
    if (v->params->purpose != 0 && c->has_eku) {
        /* CA/B BR 7.1.2.1.2: a root carries no EKU.  Intermediates: an
         * EKU constrains the purposes below it (Chrome, webpki). */
        FR_ENSURE(!(anchor && c->self_issued), FERRULE_R_CERT_EKU);
        FR_ENSURE(c->eku & (want | FR_EKU_ANY), FERRULE_R_CERT_EKU);
    }
    return FR_OK;
}

/* ---- certificate policies (simplified RFC 5280 §6.1) ------------------- */

/* The valid policy set: `any` (anyPolicy) or a list of OIDs (content). */
typedef struct pset {
    int any;
    size_t n;
    const uint8_t *p[MAX_POLICY_SET];
    size_t len[MAX_POLICY_SET];
} pset;

static const uint8_t OID_ANY_POLICY[] = {0x55, 0x1d, 0x20, 0x00};

static int pset_has(const pset *s, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < s->n; i++)
        if (ids_equal(s->p[i], s->len[i], p, n)) return 1;
    return 0;
}

static fr_err pset_add(pset *s, const uint8_t *p, size_t n) {
    if (pset_has(s, p, n)) return FR_OK;
    /* A valid-policy set this large is refused as a policy failure of the
     * path (CERT_TOO_MUCH_WORK is kept for a search the budget ended). */
    FR_ENSURE(s->n < MAX_POLICY_SET, FERRULE_R_CERT_POLICY);
    s->p[s->n] = p;
    s->len[s->n++] = n;
    return FR_OK;
}

/* RFC 5280 §6.1.3 (d), (e): intersect the set with cert c's policies. */
static fr_err policies_step(pset *set, const fr_cert *c, int any_allowed) {
    pset out;
    memset(&out, 0, sizeof(out));
    if (c->policies != NULL) {
        fr_reader r = fr_reader_init(c->policies, c->policies_len);
        fr_der_tlv seq;
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &seq));
        int cert_any = 0;
        while (!fr_reader_empty(&seq.content)) {
            fr_der_tlv pi, oid;
            FR_TRY(fr_der_read(&seq.content, FR_DER_SEQUENCE, &pi));
            FR_TRY(fr_der_read_oid(&pi.content, &oid));
            if (FR_DER_OID_IS(&oid, OID_ANY_POLICY)) {
                cert_any = 1;
                continue;
            }
            if (set->any || pset_has(set, oid.content.p, fr_der_len(&oid)))
                FR_TRY(pset_add(&out, oid.content.p, fr_der_len(&oid)));
        }
        if (cert_any && any_allowed) {
            /* anyPolicy keeps every policy the set already had. */
            if (set->any) out.any = 1;
            for (size_t i = 0; i < set->n; i++) FR_TRY(pset_add(&out, set->p[i], set->len[i]));
        }
    }
    *set = out;
    return FR_OK;
}

/* RFC 5280 §6.1.4 (b): policy mappings replace issuer-domain policies by
 * subject-domain ones (or delete them when mapping is inhibited). */
static fr_err mappings_step(pset *set, const fr_cert *c, int mapping_allowed) {
    if (c->mappings == NULL || set->any) return FR_OK;
    pset out;
    memset(&out, 0, sizeof(out));
    for (size_t i = 0; i < set->n; i++) {
        int mapped = 0;
        fr_reader r = fr_reader_init(c->mappings, c->mappings_len);
        fr_der_tlv seq;
        FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &seq));
        while (!fr_reader_empty(&seq.content)) {
            fr_der_tlv m, a, b;
            FR_TRY(fr_der_read(&seq.content, FR_DER_SEQUENCE, &m));
            FR_TRY(fr_der_read_oid(&m.content, &a));
            FR_TRY(fr_der_read_oid(&m.content, &b));
            if (!ids_equal(a.content.p, fr_der_len(&a), set->p[i], set->len[i])) continue;
            mapped = 1;
            if (mapping_allowed) FR_TRY(pset_add(&out, b.content.p, fr_der_len(&b)));
        }
        if (!mapped) FR_TRY(pset_add(&out, set->p[i], set->len[i]));
    }
    *set = out;
    return FR_OK;
}

static int min_int(int a, int b) { return a < b ? a : b; }

/* The policy part of RFC 5280 §6.1 over path[0..len) (anchor last): the
 * explicit_policy, inhibit_anyPolicy and policy_mapping counters and a
 * flat valid-policy set instead of the policy tree (the set is what the
 * tree's leaves would hold; qualifiers are not reported).  Initial inputs:
 * any-policy, explicit policy not required, mapping and anyPolicy allowed. */
static fr_err check_policies(const vctx *v, size_t len) {
    const size_t n = len - 1; /* certificates below the anchor */
    int explicit_p = (int)n + 1, inhibit_any = (int)n + 1, mapping = (int)n + 1;
    pset set;
    memset(&set, 0, sizeof(set));
    set.any = 1;
    for (size_t k = n; k-- > 0;) { /* from below the anchor to the leaf */
        const fr_cert *c = v->path[k];
        const int leaf = k == 0;
        FR_TRY(policies_step(&set, c, inhibit_any > 0 || (!leaf && c->self_issued)));
        if (!leaf) {
            FR_TRY(mappings_step(&set, c, mapping > 0));
            if (!c->self_issued) {
                if (explicit_p > 0) explicit_p--;
                if (mapping > 0) mapping--;
                if (inhibit_any > 0) inhibit_any--;
            }
            if (c->require_explicit >= 0) explicit_p = min_int(explicit_p, c->require_explicit);
            if (c->inhibit_mapping >= 0) mapping = min_int(mapping, c->inhibit_mapping);
            if (c->inhibit_any >= 0) inhibit_any = min_int(inhibit_any, c->inhibit_any);
        } else {
            /* §6.1.5 (a), (b) */
            if (explicit_p > 0) explicit_p--;
            if (c->require_explicit == 0) explicit_p = 0;
        }
        /* §6.1.3 (f): explicit policy required and none left. */
        FR_ENSURE(explicit_p > 0 || set.any || set.n > 0, FERRULE_R_CERT_POLICY);
    }
    return FR_OK;
}

/* ---- revocation --------------------------------------------------------- */

/* RFC 5280 §6.3 (simplified: complete CRLs only, no distribution points):
 * every CRL whose issuer is the issuer of a non-anchor certificate of the
 * path (same name and, when both carry one, AKI = SKI) must be valid --
 * signed by that issuer's key, issuer with cRLSign when keyUsage is present,
 * current at the verification time, no unsupported critical extension --
 * and must not list the certificate's serial number. */
static fr_err check_crls(vctx *v, size_t len) {
    const fr_verify_params *p = v->params;
    for (size_t i = 0; i + 1 < len; i++) {
        const fr_cert *c = v->path[i], *issuer = v->path[i + 1];
        for (size_t k = 0; k < p->n_crls; k++) {
            const fr_crl *crl = p->crls[k];
            if (crl == NULL) continue;
            if (!fr_name_equal(crl->issuer, crl->issuer_len, issuer->subject, issuer->subject_len))
                continue;
            if (crl->aki_keyid != NULL && issuer->ski != NULL &&
                !ids_equal(crl->aki_keyid, crl->aki_keyid_len, issuer->ski, issuer->ski_len))
                continue;
            FR_ENSURE(crl->sig_kind != 0, FERRULE_R_CERT_UNSUPPORTED);
            FR_TRY(charge_sig(v));
            FR_TRY(map_sig_error(fr_sig_verify_x509(issuer->pub, crl->sig_kind, crl->sig_hash,
                                                    crl->tbs, crl->tbs_len, crl->sig,
                                                    crl->sig_len)));
            FR_TRY(crl->problem);
            /* RFC 5280 §6.3.3 (f): cRLSign when keyUsage is present. */
            FR_ENSURE(!issuer->has_key_usage || (issuer->key_usage & FR_KU_CRL_SIGN),
                      FERRULE_R_CERT_KEY_USAGE);
            FR_ENSURE(p->now >= crl->this_update, FERRULE_R_CERT_NOT_YET_VALID);
            FR_ENSURE(p->now <= crl->next_update, FERRULE_R_CERT_EXPIRED);
            FR_ENSURE(!fr_crl_lists(crl, c), FERRULE_R_CERT_REVOKED);
        }
    }
    return FR_OK;
}

/* ---- paths -------------------------------------------------------------- */

/* RFC 5280 §6.1.3 (b), (c): each CA's constraints apply to every later
 * certificate, except self-issued intermediates. */
static fr_err check_name_constraints(vctx *v, size_t len) {
    for (size_t i = len; i-- > 1;) {
        const fr_cert *ca = v->path[i];
        if (ca->nc == NULL) continue;
        for (size_t j = i; j-- > 0;) {
            if (j != 0 && v->path[j]->self_issued) continue;
            fr_err e = fr_nc_check(ca, v->path[j], j == 0, &v->nc_budget);
            if (e == FERRULE_R_CERT_TOO_MUCH_WORK) return out_of_budget(v);
            FR_TRY(e);
        }
    }
    return FR_OK;
}

/* Self-signed for the AKI rule: self-issued, or -- only asked of a
 * certificate without an AKI -- its signature verifies under its own key
 * (a root whose issuer name differs from its subject).  Costs a signature
 * check from the budget. */
static fr_err self_signed_by_key(vctx *v, const fr_cert *c, int *out) {
    *out = c->self_issued;
    if (*out || (c->ext_present & FR_EXT_AKI) || c->sig_kind == 0 || c->pub == NULL)
        return FR_OK;
    fr_err e = verify_sig(v, c, c);
    if (stop_search(v, e)) return e;
    *out = e == FR_OK;
    return FR_OK;
}

/* The leaf's own rules (profile, validity, key usage, EKU): the same on
 * every path, so checked once, before the search; a defect here is the
 * reason, not whatever some candidate path also has wrong. */
static fr_err check_leaf_alone(vctx *v) {
    const fr_cert *leaf = v->path[0];
    int self_signed;
    FR_TRY(self_signed_by_key(v, leaf, &self_signed));
    FR_TRY(check_profile(leaf, POS_LEAF, 0, self_signed));
    FR_TRY(check_validity(leaf, v->params->now));
    return check_leaf(leaf, v->params, 0);
}

/* Validate a complete path path[0..len) whose last element is the anchor,
 * whose signatures were checked while it was built and whose leaf passed
 * check_leaf_alone. */
static fr_err check_path(vctx *v, size_t len) {
    v->stats.paths++;
    const int64_t now = v->params->now;
    for (size_t i = 1; i < len; i++) {
        int self_signed;
        FR_TRY(self_signed_by_key(v, v->path[i], &self_signed));
        FR_TRY(check_profile(v->path[i], i + 1 == len ? POS_ANCHOR : POS_INTER, 0, self_signed));
    }
    for (size_t i = 1; i < len; i++) FR_TRY(check_validity(v->path[i], now));
    for (size_t i = 1; i < len; i++) FR_TRY(check_issuer(v, i, i + 1 == len));
    FR_TRY(check_name_constraints(v, len));
    FR_TRY(check_policies(v, len));
    return check_crls(v, len);
}

/* 0: the candidate's SKI matches the child's AKI; 1: no identifiers to
 * compare; 2: they differ. */
static int key_id_rank(const fr_cert *child, const fr_cert *cand) {
    if (child->aki_keyid == NULL || cand->ski == NULL) return 1;
    return ids_equal(child->aki_keyid, child->aki_keyid_len, cand->ski, cand->ski_len) ? 0 : 2;
}

/* Certificates below the anchor that count against max_depth if `next`
 * is appended to path[0..len): the leaf and the non-self-issued
 * intermediates. */
static unsigned logical_depth(const vctx *v, size_t len, const fr_cert *next) {
    unsigned d = 1;
    for (size_t i = 1; i < len; i++)
        if (!v->path[i]->self_issued) d++;
    if (next != NULL && !next->self_issued) d++;
    return d;
}

/* Extend the path path[0..len) (no anchor yet).  FR_OK when a valid path
 * was found; TOO_MUCH_WORK or a resource failure ends the search; any
 * other failure has been noted and the caller tries its next candidate. */
static fr_err extend(vctx *v, size_t len) {
    const fr_cert *cur = v->path[len - 1];
    for (int rank = 0; rank <= 2; rank++) {
        for (size_t i = 0; i < v->anchors->n; i++) {
            const fr_cert *a = v->anchors->certs[i];
            if (key_id_rank(cur, a) != rank) continue;
            if (!fr_name_equal(a->subject, a->subject_len, cur->issuer, cur->issuer_len)) continue;
            if (in_path(v, len, a)) continue;
            fr_err e = check_edge(v, cur, a);
            if (stop_search(v, e)) return e;
            if (e != FR_OK) {
                note(v, e, rank == 2 ? RANK_EDGE_MISMATCH : RANK_EDGE, len + 1);
                continue;
            }
            v->path[len] = a;
            e = check_path(v, len + 1);
            if (e == FR_OK) {
                v->stats.path_len = len + 1;
                return FR_OK;
            }
            if (stop_search(v, e)) return e;
            note(v, e, RANK_PATH, len + 1);
        }
    }
    for (int rank = 0; rank <= 2; rank++) {
        for (size_t i = 1; i < v->n; i++) {
            const fr_cert *c = v->chain[i];
            if (key_id_rank(cur, c) != rank) continue;
            if (!fr_name_equal(c->subject, c->subject_len, cur->issuer, cur->issuer_len)) continue;
            if (in_path(v, len, c)) continue;
            /* path[len] = c, and the anchor still to come. */
            if (len + 1 > FR_VERIFY_MAX_DEPTH || logical_depth(v, len, c) > v->max_depth) {
                note(v, FERRULE_R_CERT_PATH_LENGTH, RANK_DEPTH, len + 1);
                continue;
            }
            fr_err e = check_edge(v, cur, c);
            if (stop_search(v, e)) return e;
            if (e != FR_OK) {
                note(v, e, rank == 2 ? RANK_EDGE_MISMATCH : RANK_EDGE, len + 1);
                continue;
            }
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
    vctx v;
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
    for (size_t i = 0; i < anchors->n && e != FR_OK; i++) {
        if (!same_cert(anchors->certs[i], chain[0])) continue;
        pinned = 1;
        e = check_profile(chain[0], POS_LEAF, 1, chain[0]->self_issued);
        if (e == FR_OK) e = check_validity(chain[0], params->now);
        if (e == FR_OK) e = check_leaf(chain[0], params, 1);
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
