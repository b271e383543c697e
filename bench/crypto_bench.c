/*
 * crypto_bench.c - measures the primitives ferrule could take from either
 * libcrypto (OpenSSL 3) or libsodium, to choose one library per primitive
 * (docs/crypto-choices.md).  Not part of the library or the test suite.
 *
 *   gcc -O2 -Wall -Wextra -o /tmp/crypto_bench bench/crypto_bench.c -lcrypto -lsodium
 *   /tmp/crypto_bench [seconds-per-item, default 1]
 *   valgrind --tool=callgrind --collect-atstart=no /tmp/crypto_bench --count N 'LABEL'
 *
 * Each item runs its operation in batches until the time budget is spent and
 * prints the rate.  With --count, only the item named LABEL runs, exactly N
 * times, and only those N operations are counted by callgrind (instruction
 * counts, repeatable where the rates are not; divide the summary by N).  The libsodium Ed25519 rows include what ferrule does per
 * call (fetch the raw key out of the EVP_PKEY, expand the seed when
 * signing), so they compare like with like.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sodium.h>
#include <valgrind/callgrind.h>

static double budget = 1.0;
static long count_n;           /* --count: run each selected item exactly this often */
static const char *count_only; /* --count: the item's label */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "failed: %s\n", what);
    exit(1);
}

/* Run BODY in batches of 16 until the budget is spent; print rate * scale. */
#define RUN(label, unit, scale, ...)                                                               \
    do {                                                                                           \
        if (count_n > 0) {                                                                         \
            if (strcmp(label, count_only) != 0) break;                                             \
            CALLGRIND_TOGGLE_COLLECT;                                                              \
            for (long i_ = 0; i_ < count_n; i_++) {                                                \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
            CALLGRIND_TOGGLE_COLLECT;                                                              \
            printf("%-48s %10ld operations counted\n", label, count_n);                          \
            break;                                                                                 \
        }                                                                                          \
        long n_ = 0;                                                                               \
        double t0_ = now(), t_;                                                                    \
        do {                                                                                       \
            for (int i_ = 0; i_ < 16; i_++) {                                                      \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
            n_ += 16;                                                                              \
            t_ = now() - t0_;                                                                      \
        } while (t_ < budget);                                                                     \
        printf("%-48s %10.1f %s\n", label, (double)n_ * (scale) / t_, unit);                     \
    } while (0)

static unsigned char buf[16384], tag[16], key[32], nonce[12];
static const unsigned char aad[5] = {23, 3, 3, 0x40, 0x11};

/* One TLS record's worth of AEAD work through a keyed-once EVP context:
 * new nonce, AAD, 16 KiB in place, tag. */
static void evp_aead(const char *label, const char *cipher) {
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, cipher, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (c == NULL || ctx == NULL || EVP_EncryptInit_ex(ctx, c, NULL, key, NULL) != 1) die(label);
    int outl;
    RUN(label, "MB/s", sizeof(buf) / 1e6, {
        nonce[11]++;
        if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
            EVP_EncryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)) != 1 ||
            EVP_EncryptUpdate(ctx, buf, &outl, buf, sizeof(buf)) != 1 ||
            EVP_EncryptFinal_ex(ctx, buf + outl, &outl) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
            die(label);
    });
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--count") == 0) {
        count_n = atol(argv[2]);
        count_only = argv[3];
        if (count_n <= 0) die("--count N: N > 0");
    } else if (argc > 1) {
        budget = atof(argv[1]);
    }
    if (sodium_init() < 0) die("sodium_init");
    if (RAND_bytes(key, sizeof(key)) != 1) die("RAND_bytes");
    unsigned long long tl;

    printf("== AEAD, 16 KiB records\n");
    evp_aead("libcrypto AES-128-GCM", "AES-128-GCM");
    evp_aead("libcrypto AES-256-GCM", "AES-256-GCM");
    if (crypto_aead_aes256gcm_is_available()) {
        crypto_aead_aes256gcm_state st;
        crypto_aead_aes256gcm_beforenm(&st, key);
        RUN("libsodium AES-256-GCM (precomputed key)", "MB/s", sizeof(buf) / 1e6, {
            nonce[11]++;
            crypto_aead_aes256gcm_encrypt_detached_afternm(buf, tag, &tl, buf, sizeof(buf), aad,
                                                           sizeof(aad), NULL, nonce, &st);
        });
    } else {
        printf("libsodium AES-256-GCM: not available on this CPU\n");
    }
    evp_aead("libcrypto ChaCha20-Poly1305", "ChaCha20-Poly1305");
    RUN("libsodium ChaCha20-Poly1305 (IETF)", "MB/s", sizeof(buf) / 1e6, {
        nonce[11]++;
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, tag, &tl, buf, sizeof(buf), aad,
                                                           sizeof(aad), NULL, nonce, key);
    });

    printf("== X25519\n");
    EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    unsigned char ppub[32], ss[32];
    size_t ppl = sizeof(ppub);
    if (peer == NULL || EVP_PKEY_get_raw_public_key(peer, ppub, &ppl) != 1) die("x25519 peer");
    RUN("libcrypto X25519 keygen (+ raw public key)", "ops/s", 1.0, {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
        unsigned char pub[32];
        size_t pl = sizeof(pub);
        if (k == NULL || EVP_PKEY_get_raw_public_key(k, pub, &pl) != 1) die("keygen");
        EVP_PKEY_free(k);
    });
    EVP_PKEY *mine = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    RUN("libcrypto X25519 derive (+ peer key import)", "ops/s", 1.0, {
        EVP_PKEY *p = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, ppub, 32);
        EVP_PKEY_CTX *d = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
        size_t sl = sizeof(ss);
        if (p == NULL || d == NULL || EVP_PKEY_derive_init(d) != 1 ||
            EVP_PKEY_derive_set_peer(d, p) != 1 || EVP_PKEY_derive(d, ss, &sl) != 1)
            die("derive");
        EVP_PKEY_CTX_free(d);
        EVP_PKEY_free(p);
    });
    RUN("libsodium X25519 keygen", "ops/s", 1.0, {
        unsigned char sk[32], pub[32];
        randombytes_buf(sk, sizeof(sk));
        if (crypto_scalarmult_base(pub, sk) != 0) die("scalarmult_base");
    });
    RUN("libsodium X25519 derive", "ops/s", 1.0, {
        if (crypto_scalarmult(ss, key, ppub) != 0) die("scalarmult");
    });

    printf("== Ed25519 (130-byte CertificateVerify-sized message)\n");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    unsigned char msg[130], sig[64];
    memset(msg, 0x20, sizeof(msg));
    size_t sl = sizeof(sig);
    /* A valid signature for the verify rows, whichever rows run. */
    EVP_MD_CTX *m0 = EVP_MD_CTX_new();
    if (ed == NULL || m0 == NULL ||
        EVP_DigestSignInit_ex(m0, NULL, NULL, NULL, NULL, ed, NULL) != 1 ||
        EVP_DigestSign(m0, sig, &sl, msg, sizeof(msg)) != 1)
        die("ed sign");
    EVP_MD_CTX_free(m0);
    RUN("libcrypto Ed25519 sign", "ops/s", 1.0, {
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        sl = sizeof(sig);
        if (EVP_DigestSignInit_ex(m, NULL, NULL, NULL, NULL, ed, NULL) != 1 ||
            EVP_DigestSign(m, sig, &sl, msg, sizeof(msg)) != 1)
            die("ed sign");
        EVP_MD_CTX_free(m);
    });
    RUN("libcrypto Ed25519 verify", "ops/s", 1.0, {
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        if (EVP_DigestVerifyInit_ex(m, NULL, NULL, NULL, NULL, ed, NULL) != 1 ||
            EVP_DigestVerify(m, sig, sizeof(sig), msg, sizeof(msg)) != 1)
            die("ed verify");
        EVP_MD_CTX_free(m);
    });
    RUN("libsodium Ed25519 sign (raw seed + expand)", "ops/s", 1.0, {
        unsigned char seed[32], pk[32], sk[64];
        size_t l = sizeof(seed);
        if (EVP_PKEY_get_raw_private_key(ed, seed, &l) != 1 ||
            crypto_sign_seed_keypair(pk, sk, seed) != 0 ||
            crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk) != 0)
            die("sodium sign");
        sodium_memzero(sk, sizeof(sk));
        sodium_memzero(seed, sizeof(seed));
    });
    RUN("libsodium Ed25519 verify (raw public key)", "ops/s", 1.0, {
        unsigned char pk[32];
        size_t l = sizeof(pk);
        if (EVP_PKEY_get_raw_public_key(ed, pk, &l) != 1 ||
            crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
            die("sodium verify");
    });
    EVP_PKEY_free(ed);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(peer);
    return 0;
}
