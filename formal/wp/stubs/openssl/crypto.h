/* formal/wp/stubs/openssl/crypto.h - what the proofs assume of libcrypto:
 * only the declaration core/common.c uses, with the contract OpenSSL's
 * manual gives it (CRYPTO_memcmp(3): compares len bytes, no side effects). */
#ifndef FR_FORMAL_STUB_OPENSSL_CRYPTO_H
#define FR_FORMAL_STUB_OPENSSL_CRYPTO_H
#include <stddef.h>
/*@ requires \valid_read((const char *)a + (0 .. len - 1));
    requires \valid_read((const char *)b + (0 .. len - 1));
    assigns \nothing; */
int CRYPTO_memcmp(const void *a, const void *b, size_t len);
#endif
