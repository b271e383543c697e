/*
 * fuzz_crl.c - the CRL parser (core/x509/crl.c fr_crl_parse) and the
 * revoked-serial lookup (fr_crl_lists) against the embedded leaf.
 * Input: one DER CRL.
 * Checks: a known reason or success; a parsed CRL owns a copy of exactly
 * the input, its tbs / issuer / signature / revoked list lie inside it,
 * thisUpdate <= nextUpdate is not assumed (only that the fields were read);
 * no leak through fr_mem (used returns to zero).
 */
#include "fuzz_hs.h"

#include "x509/x509.h"

static int inside(const fr_crl *c, const uint8_t *p, size_t n) {
    if (p == NULL) return n == 0;
    return p >= c->der && n <= c->der_len && (size_t)(p - c->der) <= c->der_len - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fr_mem lm;
    static fr_cert *leaf;
    if (leaf == NULL) {
        size_t len;
        const uint8_t *der = fuzz_leaf_der(&len);
        fr_mem_init(&lm, NULL, 1u << 20);
        FUZZ_CHECK(fr_cert_parse(&lm, der, len, &leaf) == FR_OK);
    }
    fr_mem m;
    fr_mem_init(&m, NULL, 1u << 20);
    fr_crl *crl = NULL;
    fr_err e = fr_crl_parse(&m, data, size, &crl);
    fuzz_check_reason(e);
    if (e == FR_OK) {
        FUZZ_CHECK(crl != NULL && crl->der_len == size && memcmp(crl->der, data, size) == 0);
        FUZZ_CHECK(inside(crl, crl->tbs, crl->tbs_len) && crl->tbs_len > 0);
        FUZZ_CHECK(inside(crl, crl->issuer, crl->issuer_len) && crl->issuer_len > 0);
        FUZZ_CHECK(inside(crl, crl->sig, crl->sig_len));
        FUZZ_CHECK(inside(crl, crl->revoked, crl->revoked_len));
        FUZZ_CHECK(inside(crl, crl->aki_keyid, crl->aki_keyid_len));
        fuzz_check_reason(crl->problem);
        int l = fr_crl_lists(crl, leaf);
        FUZZ_CHECK(l == 0 || l == 1);
        if (crl->revoked == NULL) FUZZ_CHECK(l == 0);
        fr_crl_free(&m, crl);
    } else {
        FUZZ_CHECK(crl == NULL);
    }
    FUZZ_CHECK(m.used == 0);
    return 0;
}
