/* testlib.h - a minimal test harness.  Each test binary defines its tests
 * with TEST(name) and lists them in TEST_MAIN(...).  It prints one line per
 * failure and ends with "<binary>: N passed, N failed". */
#ifndef FR_TESTLIB_H
#define FR_TESTLIB_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int tl_failures_in_test;
/* Assertions evaluated in the current case: tl_checks counts CHECK*,
 * REQUIRE; tl_expects counts compound expectations (support_fx.h).  With
 * TL_COUNT set, tl_run prints both per case, so that a refactoring of the
 * tests can show every case still evaluates what it did. */
extern long tl_checks, tl_expects;
#define TEST(name) static void name(void)
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        tl_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);            \
            tl_failures_in_test++;                                                                 \
        }                                                                                          \
    } while (0)
/* Like CHECK, but ends the test at once: for a precondition that later
 * steps depend on (they would read what it failed to produce). */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        tl_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);          \
            tl_failures_in_test++;                                                                 \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long tl_a_ = (long long)(a), tl_b_ = (long long)(b);                                  \
        tl_checks++;                                                                               \
        if (tl_a_ != tl_b_) {                                                                      \
            fprintf(stderr, "  %s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__,        \
                    __LINE__, #a, tl_a_, #b, tl_b_);                                               \
            tl_failures_in_test++;                                                                 \
        }                                                                                          \
    } while (0)
#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

typedef struct tl_case {
    const char *name;
    void (*fn)(void);
} tl_case;
int tl_run(const char *suite, const tl_case *cases, size_t n);
/* The pieces of tl_run, for runners of other case shapes (support_neg.c):
 * whether case `name` is selected (TL_ONLY), start a case, end it (1 if it
 * passed; prints the FAIL line and, with TL_COUNT, the counts). */
int tl_selected(const char *name);
void tl_begin(void);
int tl_end(const char *suite, const char *name);
/* Print the "<suite>: N passed, N failed" line; the exit status. */
int tl_summary(const char *suite, size_t passed, size_t failed);
#define TL_CASE(fn) {#fn, fn}
#define TEST_MAIN(suite, ...)                                                                      \
    int main(void) {                                                                               \
        static const tl_case cases_[] = {__VA_ARGS__};                                             \
        return tl_run(suite, cases_, sizeof(cases_) / sizeof(cases_[0]));                          \
    }

/* Hex helper: decode hex (whitespace ignored) into a malloc'd buffer. */
unsigned char *tl_unhex(const char *hex, size_t *len);
#endif
