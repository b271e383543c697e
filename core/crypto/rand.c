/*
 * rand.c - randomness from libcrypto's DRBG.  Key generation inside
 * libcrypto already draws from the same DRBG, so there is one RNG to seed,
 * reason about and (for fuzzing) replace.
 */
#include "crypto.h"

#include <limits.h>

#include <openssl/err.h>
#include <openssl/rand.h>

fr_err fr_random(uint8_t *out, size_t n) {
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(out, chunk) != 1) {
            ERR_clear_error();
            return FERRULE_R_INTERNAL;
        }
        out += chunk;
        n -= (size_t)chunk;
    }
    return FR_OK;
}
