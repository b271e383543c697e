#include <ctype.h>

#include "testlib.h"

int tl_failures_in_test;
long tl_checks, tl_expects;

int tl_selected(const char *name) {
    const char *only = getenv("TL_ONLY");
    return only == NULL || strcmp(only, name) == 0;
}

void tl_begin(void) {
    tl_failures_in_test = 0;
    tl_checks = 0;
    tl_expects = 0;
}

int tl_end(const char *suite, const char *name) {
    if (getenv("TL_COUNT") != NULL)
        printf("count %s %ld checks %ld expects\n", name, tl_checks, tl_expects);
    if (tl_failures_in_test == 0) return 1;
    fprintf(stderr, "FAIL %s/%s\n", suite, name);
    return 0;
}

int tl_summary(const char *suite, size_t passed, size_t failed) {
    printf("%s: %zu passed, %zu failed\n", suite, passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

int tl_run(const char *suite, const tl_case *cases, size_t n) {
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tl_selected(cases[i].name)) continue;
        tl_begin();
        cases[i].fn();
        if (tl_end(suite, cases[i].name))
            passed++;
        else
            failed++;
    }
    return tl_summary(suite, passed, failed);
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
