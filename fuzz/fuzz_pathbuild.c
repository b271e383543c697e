/*
 * fuzz_pathbuild.c - chain verification (core/x509/path.c, policy.c): path
 * building over untrusted intermediates, signature checks, validity,
 * basicConstraints / keyUsage / EKU, name matching, the work budget.
 *
 * Input: byte 0 = flags (bit 0: check the name "localhost", bit 1:
 * clientAuth instead of serverAuth purpose, bits 2-6: max_depth 0..31),
 * then blobs, each a 2-byte big-endian length and that many DER bytes (at
 * most 16 blobs).  The first blob that parses is the trust anchor (added
 * with fr_trust_add_der), the following ones that parse are the chain,
 * leaf first.  Time is fixed (FUZZ_PATH_NOW, inside the validity of the
 * tools/gen-pki.sh certificates the seeds come from).
 * Checks: no crash, a documented CERT_* reason, bounded work.
 */
#include "fuzz_common.h"

#include "x509/x509.h"

/* 2026-11-22T12:00:00Z: the seeds' gen-pki.sh run was on 2026-11-22 and
 * its leaves are valid from the day before for 825 days. */
#define FUZZ_PATH_NOW ((int64_t)1795348800)
#define MAX_BLOBS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = data[0];
    fr_mem m;
    fr_mem_init(&m, NULL, 8u << 20);
    fr_trust_store anchors;
    fr_trust_init(&anchors);
    fr_cert *chain[MAX_BLOBS];
    size_t n = 0;
    size_t off = 1;
    for (int blob = 0; blob < MAX_BLOBS && size - off >= 2; blob++) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off) len = size - off;
        const uint8_t *der = data + off;
        off += len;
        if (anchors.n == 0) {
            /* A blob that does not parse just leaves the anchor slot open. */
            fr_err ae = fr_trust_add_der(&m, &anchors, der, len);
            FUZZ_CHECK(ae == FR_OK || anchors.n == 0);
            continue;
        }
        fr_cert *c = NULL;
        if (fr_cert_parse(&m, der, len, &c) == FR_OK) chain[n++] = c;
    }
    if (n > 0) {
        fr_verify_params p;
        memset(&p, 0, sizeof(p));
        p.now = FUZZ_PATH_NOW;
        p.peer_name = (flags & 1) ? "localhost" : NULL;
        p.purpose = (flags & 2) ? FR_VERIFY_CLIENT : FR_VERIFY_SERVER;
        p.max_depth = (unsigned)((flags >> 2) & 31);
        fr_verify_stats st;
        memset(&st, 0, sizeof(st));
        fr_err e = fr_verify_chain_ex(&anchors, chain, n, &p, &st);
        FUZZ_CHECK(e == FR_OK || (e >= FERRULE_R_CERT_EXPIRED && e <= FERRULE_R_CERT_REJECTED) ||
                   e == FERRULE_R_MEMORY_LIMIT || e == FERRULE_R_OUT_OF_MEMORY);
        /* The budget is what keeps hostile chains fast. */
        FUZZ_CHECK(st.sig_checks <= FR_VERIFY_MAX_SIG_CHECKS);
    }
    for (size_t i = 0; i < n; i++) fr_cert_free(&m, chain[i]);
    fr_trust_free(&m, &anchors);
    FUZZ_CHECK(m.used == 0);
    return 0;
}
