/*
 * fuzz_x509.c - the strict DER certificate parser (core/x509/cert_parse.c,
 * cert_ext.c, der.c, name.c) and the name matchers (hostname.c) on
 * arbitrary bytes.
 * Checks: no crash, no leak through the fr_mem accounting (used returns to
 * zero), subject string always NUL-terminated within its buffer.
 */
#include "fuzz_common.h"

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fr_mem m;
    fr_mem_init(&m, NULL, 1u << 20);
    fr_cert *c = NULL;
    fr_err e = fr_cert_parse(&m, data, size, &c);
    if (e == FR_OK) {
        FUZZ_CHECK(c != NULL);
        FUZZ_CHECK(c->der_len == size);
        char subj[256];
        memset(subj, 'x', sizeof(subj));
        fr_cert_subject_string(c, subj, sizeof(subj));
        FUZZ_CHECK(memchr(subj, '\0', sizeof(subj)) != NULL);
        char tiny[4];
        fr_cert_subject_string(c, tiny, sizeof(tiny));
        FUZZ_CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL);
        static const char *const names[] = {"localhost", "127.0.0.1", "::1", "a.example.com",
                                            "*.example.com", "", "xn--bcher-kva.example"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            (void)fr_cert_matches_name(c, names[i]);
        (void)fr_name_equal(c->issuer, c->issuer_len, c->subject, c->subject_len);
        fr_cert_free(&m, c);
    } else {
        FUZZ_CHECK(e == FERRULE_R_CERT_MALFORMED || e == FERRULE_R_NULL_ARGUMENT || e == FERRULE_R_MEMORY_LIMIT ||
                   e == FERRULE_R_OUT_OF_MEMORY || e == FERRULE_R_CERT_UNSUPPORTED ||
                   e == FERRULE_R_CERT_WEAK_KEY);
    }
    /* The SAN matcher also takes raw GeneralNames. */
    (void)fr_san_matches_name(data, size, "localhost");
    FUZZ_CHECK(m.used == 0);
    return 0;
}
