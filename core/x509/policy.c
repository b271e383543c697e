/*
 * policy.c - the rules of path validation (RFC 5280 §6, with the stricter
 * profile of webpki / CA/B Forum where noted; every policy decision is
 * listed in docs/x509.md): a certificate's profile, validity, key and
 * usage, what an issuer may issue, certificate policies, CRLs and name
 * constraints.  path.c applies them to the paths it builds.
 */
#include "verify.h"

#define MIN_RSA_BITS 2048
#define MAX_POLICY_SET 64

/* ---- one certificate ---------------------------------------------------- */

/* Keys: the webpki set (see parse_spki_alg in cert_parse.c); RSA moduli of at
 * least 2048 bits and a whole number of octets (CA/B BR 6.1.5). */
fr_err fr_policy_key(const fr_cert *c) {
    EVP_PKEY *key;
    FR_TRY(fr_cert_key(c, &key)); /* an anchor's is decoded here, at first use */
    if (c->key_kind == FR_CERT_KEY_RSA || c->key_kind == FR_CERT_KEY_RSA_PSS)
        FR_ENSURE(c->key_bits >= MIN_RSA_BITS && c->key_bits % 8 == 0, FERRULE_R_CERT_WEAK_KEY);
    return FR_OK;
}


fr_err fr_policy_validity(const fr_cert *c, int64_t now) {
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
fr_err fr_policy_profile(const fr_cert *c, int pos, int pinned, int self_signed) {
    const unsigned crit = c->ext_critical, present = c->ext_present;
    /* RFC 5280 §4.2: an unrecognised critical extension rejects. */
    FR_ENSURE(!c->unknown_critical, FERRULE_R_CERT_UNSUPPORTED);
    FR_TRY(fr_policy_key(c));
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
                FR_ENSURE(fr_ids_equal(c->aki_keyid, c->aki_keyid_len, c->ski, c->ski_len),
                          MALFORMED);
        }
    }
    return FR_OK;
}

/* Checks of the leaf alone (TLS 1.3 usage). */
fr_err fr_policy_leaf(const fr_cert *leaf, const fr_verify_params *params, int pinned) {
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
fr_err fr_policy_issuer(const fr_vctx *v, size_t idx, int anchor) {
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
        if (fr_ids_equal(s->p[i], s->len[i], p, n)) return 1;
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
            if (!fr_ids_equal(a.content.p, fr_der_len(&a), set->p[i], set->len[i])) continue;
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
fr_err fr_policy_policies(const fr_vctx *v, size_t len) {
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
fr_err fr_policy_crls(fr_vctx *v, size_t len) {
    const fr_verify_params *p = v->params;
    for (size_t i = 0; i + 1 < len; i++) {
        const fr_cert *c = v->path[i], *issuer = v->path[i + 1];
        for (size_t k = 0; k < p->n_crls; k++) {
            const fr_crl *crl = p->crls[k];
            if (crl == NULL) continue;
            if (!fr_name_equal(crl->issuer, crl->issuer_len, issuer->subject, issuer->subject_len))
                continue;
            if (crl->aki_keyid != NULL && issuer->ski != NULL &&
                !fr_ids_equal(crl->aki_keyid, crl->aki_keyid_len, issuer->ski, issuer->ski_len))
                continue;
            FR_ENSURE(crl->sig_kind != 0, FERRULE_R_CERT_UNSUPPORTED);
            EVP_PKEY *key;
            FR_TRY(fr_cert_key(issuer, &key));
            FR_TRY(fr_path_charge_sig(v));
            FR_TRY(fr_path_sig_result(fr_sig_verify_x509(key, crl->sig_kind, crl->sig_hash,
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

/* ---- name constraints --------------------------------------------------- */

/* RFC 5280 §6.1.3 (b), (c): each CA's constraints apply to every later
 * certificate, except self-issued intermediates. */
fr_err fr_policy_name_constraints(fr_vctx *v, size_t len) {
    for (size_t i = len; i-- > 1;) {
        const fr_cert *ca = v->path[i];
        if (ca->nc == NULL) continue;
        for (size_t j = i; j-- > 0;) {
            if (j != 0 && v->path[j]->self_issued) continue;
            fr_err e = fr_nc_check(ca, v->path[j], j == 0, &v->nc_budget);
            if (e == FERRULE_R_CERT_TOO_MUCH_WORK) return fr_path_out_of_budget(v);
            FR_TRY(e);
        }
    }
    return FR_OK;
}

