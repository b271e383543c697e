#include <ctype.h>

#include "testlib.h"

int tl_failures_in_test;

int tl_run(const char *suite, const tl_case *cases, size_t n) {
    size_t passed = 0, failed = 0;
    const char *only = getenv("TL_ONLY");
    for (size_t i = 0; i < n; i++) {
        if (only != NULL && strcmp(only, cases[i].name) != 0) continue;
        tl_failures_in_test = 0;
        cases[i].fn();
        if (tl_failures_in_test == 0) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL %s/%s\n", suite, cases[i].name);
        }
    }
    printf("%s: %zu passed, %zu failed\n", suite, passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

unsigned char *tl_unhex(const char *hex, size_t *len) {
    size_t cap = strlen(hex) / 2 + 1, n = 0;
    unsigned char *out = malloc(cap);
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (isspace((unsigned char)*p)) continue;
        int v = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    *len = n;
    return out;
}
