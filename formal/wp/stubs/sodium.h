/* formal/wp/stubs/sodium.h - what the proofs assume of libsodium: only
 * sodium_memzero, with the contract its manual gives it (zeroes len bytes). */
#ifndef FR_FORMAL_STUB_SODIUM_H
#define FR_FORMAL_STUB_SODIUM_H
#include <stddef.h>
/*@ requires \valid((char *)pnt + (0 .. len - 1));
    assigns ((char *)pnt)[0 .. len - 1];
    ensures \forall integer i; 0 <= i < len ==> ((char *)pnt)[i] == 0; */
void sodium_memzero(void *pnt, size_t len);
#endif
