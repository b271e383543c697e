/* Self-check of `make check-clang-asan` (docs/sanitizers.md): adding 0 to a
 * null pointer is undefined in C (C11 6.5.6p8 defines pointer arithmetic
 * only within an array object), and clang's UBSan (pointer-overflow)
 * reports it where gcc's does not.  Built with the suite's flags, this
 * program must die with "applying zero offset to null pointer"; if it
 * exits 0, the build no longer catches the bug class the suite is for. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    /* volatile: the compiler may not fold the arithmetic away. */
    const uint8_t *volatile base = NULL;
    volatile size_t n = 0;
    const uint8_t *p = base + n;
    printf("not reported: %p\n", (const void *)p);
    return 0;
}
