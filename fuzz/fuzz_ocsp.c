/*
 * fuzz_ocsp.c - the OCSP response parser (core/x509/ocsp.c fr_ocsp_parse,
 * fr_ocsp_next_single) and the staple check behind it (fr_ocsp_check,
 * fr_ocsp_apply_policy) for the embedded leaf and root at FUZZ_NOW.
 * Input: one DER OCSPResponse.
 * Checks: a known reason or success; a parsed response's tbs, responder,
 * signature lie inside the input, and exactly n_responses SingleResponses
 * (at most FR_OCSP_MAX_RESPONSES) read back, each with a known status; the
 * check and the policy give a known reason; no leak through fr_mem.
 */
#include "fuzz_hs.h"

#include "x509/ocsp.h"

static int inside(const uint8_t *base, size_t blen, const uint8_t *p, size_t n) {
    if (p == NULL) return n == 0;
    return p >= base && n <= blen && (size_t)(p - base) <= blen - n;
}

static const uint8_t *root_der(size_t *len) {
    /* The second certificate of FUZZ_LEAF_CHAIN_PEM is the root. */
    static uint8_t der[4096];
    static size_t der_len;
    if (der_len == 0) der_len = fuzz_chain_der(1, der, sizeof(der));
    *len = der_len;
    return der;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fr_mem lm;
    static fr_cert *leaf, *root;
    static const uint8_t *rder;
    static size_t rlen;
    if (leaf == NULL) {
        size_t len;
        const uint8_t *der = fuzz_leaf_der(&len);
        fr_mem_init(&lm, NULL, 1u << 20);
        FUZZ_CHECK(fr_cert_parse(&lm, der, len, &leaf) == FR_OK);
        rder = root_der(&rlen);
        FUZZ_CHECK(fr_cert_parse(&lm, rder, rlen, &root) == FR_OK);
    }
    fr_ocsp_response r;
    fr_err e = fr_ocsp_parse(data, size, &r);
    fuzz_check_reason(e);
    if (e == FR_OK) {
        FUZZ_CHECK(inside(data, size, r.tbs, r.tbs_len) && r.tbs_len > 0);
        FUZZ_CHECK(inside(data, size, r.responder, r.responder_len));
        FUZZ_CHECK(inside(data, size, r.sig, r.sig_len));
        FUZZ_CHECK(r.n_responses <= FR_OCSP_MAX_RESPONSES);
        FUZZ_CHECK(r.n_certs <= FR_OCSP_MAX_CERTS);
        fr_reader it = r.responses;
        for (size_t i = 0; i < r.n_responses; i++) {
            fr_ocsp_single s;
            FUZZ_CHECK(fr_ocsp_next_single(&it, &s) == FR_OK);
            FUZZ_CHECK(s.status == FR_OCSP_GOOD || s.status == FR_OCSP_REVOKED ||
                       s.status == FR_OCSP_UNKNOWN);
            FUZZ_CHECK(inside(data, size, s.serial, s.serial_len));
        }
        FUZZ_CHECK(fr_reader_empty(&it));
    }
    fr_mem m;
    fr_mem_init(&m, NULL, 1u << 20);
    fr_ocsp_info info;
    fr_err c = fr_ocsp_check(&m, data, size, leaf, root, FUZZ_NOW, &info);
    fuzz_check_reason(c);
    if (c == FR_OK) FUZZ_CHECK(e == FR_OK);
    int stapled = -1;
    fr_err p = fr_ocsp_apply_policy(&m, data, size, leaf, rder, rlen, 0, FUZZ_NOW, &stapled);
    fuzz_check_reason(p);
    FUZZ_CHECK(m.used == 0);
    return 0;
}
