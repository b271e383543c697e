/*
 * aead.c - record protection AEADs (RFC 8446 §5.2, §5.3) over libcrypto's
 * EVP_CIPHER_CTX: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
 *
 * The context is keyed once per key in fr_aead_init (the key schedule
 * expansion is done then and the raw key wiped), and re-keyed in place for
 * the next key of the same direction; each record only installs a fresh
 * nonce.
 * Sealing reads the plaintext where the caller has it and writes the
 * ciphertext straight into the record (fr_aead_seal_parts); opening is in
 * place.  Neither allocates: the record path makes no libcrypto
 * allocation (tests/c/test_memory.c counts them).
 */
#include "crypto.h"

#include <limits.h>

#include <openssl/err.h>
#include <openssl/evp.h>

static fr_err lib_fail(fr_err e) {
    ERR_clear_error();
    return e;
}

static const char *cipher_name(uint16_t suite) {
    switch (suite) {
    case FERRULE_TLS_AES_128_GCM_SHA256: return "AES-128-GCM";
    case FERRULE_TLS_AES_256_GCM_SHA384: return "AES-256-GCM";
    case FERRULE_TLS_CHACHA20_POLY1305_SHA256: return "ChaCha20-Poly1305";
    default: return NULL;
    }
}

/* A new context for `name`, keyed; NULL on failure. */
static EVP_CIPHER_CTX *new_ctx(const char *name, const uint8_t *key, size_t key_len, int enc) {
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = cipher != NULL && ctx != NULL &&
             (size_t)EVP_CIPHER_get_key_length(cipher) == key_len &&
             EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, enc) == 1 &&
             EVP_CIPHER_CTX_get_iv_length(ctx) == FR_AEAD_IV_LEN;
    EVP_CIPHER_free(cipher); /* the context holds its own reference */
    if (ok) return ctx;
    EVP_CIPHER_CTX_free(ctx);
    return NULL;
}

fr_err fr_aead_init(fr_aead *a, uint16_t suite, const uint8_t *traffic_secret, int encrypt) {
    const fr_suite_info *info = fr_suite_lookup(suite);
    const char *name = cipher_name(suite);
    /* The next key of the same cipher and direction (handshake to
     * application keys, a KeyUpdate) re-keys the context in place: one
     * context per direction for the connection's life, no new one (and no
     * allocation) per key. */
    int rekey = a->ctx != NULL && a->suite == suite && a->encrypt == (encrypt ? 1 : 0);
    if (!rekey) fr_aead_free(a);
    fr_err e = info != NULL && name != NULL ? FR_OK : FERRULE_R_INTERNAL;

    /* RFC 8446 §7.3: [sender]_write_key = HKDF-Expand-Label(Secret, "key",
     * "", key_length); [sender]_write_iv = HKDF-Expand-Label(Secret, "iv",
     * "", iv_length). */
    uint8_t key[32];
    if (e == FR_OK)
        e = fr_hkdf_expand_label(info->hash, traffic_secret, "key", NULL, 0, key, info->key_len);
    if (e == FR_OK)
        e = fr_hkdf_expand_label(info->hash, traffic_secret, "iv", NULL, 0, a->iv,
                                 FR_AEAD_IV_LEN);
    if (e == FR_OK && rekey) {
        /* The old key schedule is overwritten by the new one. */
        if (EVP_CipherInit_ex((EVP_CIPHER_CTX *)a->ctx, NULL, NULL, key, NULL, a->encrypt) != 1)
            e = lib_fail(FERRULE_R_INTERNAL);
    } else if (e == FR_OK) {
        a->ctx = new_ctx(name, key, info->key_len, encrypt ? 1 : 0);
        if (a->ctx == NULL) e = lib_fail(FERRULE_R_INTERNAL);
    }
    fr_wipe(key, sizeof(key));
    if (e != FR_OK) {
        fr_aead_free(a); /* wipes the iv; never half re-keyed */
        return e;
    }
    a->suite = suite;
    a->seq = 0;
    a->encrypt = encrypt ? 1 : 0;
    return FR_OK;
}

/* RFC 8446 §5.3: the 64-bit record sequence number, big-endian, left-padded
 * with zeros to iv_length, XORed with the static iv.  RFC 8446 §5.5: the
 * sequence number must not wrap, so 2^64-1 itself is never used (the next
 * record would need 2^64). */
static fr_err set_nonce(fr_aead *a) {
    FR_ENSURE(a->seq != UINT64_MAX, FERRULE_R_SEQUENCE_EXHAUSTED);
    uint8_t nonce[FR_AEAD_IV_LEN];
    memcpy(nonce, a->iv, sizeof(nonce));
    for (size_t i = 0; i < 8; i++)
        nonce[FR_AEAD_IV_LEN - 1 - i] ^= (uint8_t)(a->seq >> (8 * i));
    int ok = EVP_CipherInit_ex((EVP_CIPHER_CTX *)a->ctx, NULL, NULL, NULL, nonce, -1) == 1;
    fr_wipe(nonce, sizeof(nonce));
    return ok ? FR_OK : lib_fail(FERRULE_R_INTERNAL);
}

fr_err fr_aead_seal_parts(fr_aead *a, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                         size_t in_len, uint8_t *out, size_t tail_len, uint8_t *tag_out) {
    FR_ENSURE(a->ctx != NULL && a->encrypt, FERRULE_R_INTERNAL);
    FR_ENSURE(in_len <= INT_MAX && tail_len <= INT_MAX - in_len && aad_len <= INT_MAX,
              FERRULE_R_INTERNAL);
    FR_TRY(set_nonce(a));
    EVP_CIPHER_CTX *ctx = (EVP_CIPHER_CTX *)a->ctx;
    int outl = 0, taill = 0, finl = 0;
    /* GCM and ChaCha20-Poly1305 are stream modes: each update returns its
     * whole input encrypted, so the two parts need no staging copy. */
    int ok = EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) == 1 &&
             (in_len == 0 ||
              (EVP_CipherUpdate(ctx, out, &outl, in, (int)in_len) == 1 && (size_t)outl == in_len)) &&
             (tail_len == 0 || (EVP_CipherUpdate(ctx, out + in_len, &taill, out + in_len,
                                                 (int)tail_len) == 1 &&
                                (size_t)taill == tail_len)) &&
             EVP_CipherFinal_ex(ctx, out + in_len + tail_len, &finl) == 1 && finl == 0 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, FR_AEAD_TAG_LEN, tag_out) == 1;
    if (!ok) {
        /* Never leave a half-encrypted record behind. */
        fr_wipe(out, in_len + tail_len);
        return lib_fail(FERRULE_R_INTERNAL);
    }
    a->seq++;
    return FR_OK;
}

fr_err fr_aead_seal(fr_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                    uint8_t *tag_out) {
    return fr_aead_seal_parts(a, aad, aad_len, buf, len, buf, 0, tag_out);
}

fr_err fr_aead_open(fr_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                    const uint8_t *tag) {
    FR_ENSURE(a->ctx != NULL && !a->encrypt, FERRULE_R_INTERNAL);
    FR_ENSURE(len <= INT_MAX && aad_len <= INT_MAX, FERRULE_R_INTERNAL);
    FR_TRY(set_nonce(a));
    EVP_CIPHER_CTX *ctx = (EVP_CIPHER_CTX *)a->ctx;
    uint8_t tagcopy[FR_AEAD_TAG_LEN]; /* the ctrl takes a non-const pointer */
    memcpy(tagcopy, tag, sizeof(tagcopy));
    int outl = 0, finl = 0;
    int ok = EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) == 1 &&
             EVP_CipherUpdate(ctx, buf, &outl, buf, (int)len) == 1 && (size_t)outl == len &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, FR_AEAD_TAG_LEN, tagcopy) == 1 &&
             EVP_CipherFinal_ex(ctx, buf + len, &finl) == 1 && finl == 0;
    if (!ok) {
        /* RFC 8446 §5.2: a record that fails to deprotect is bad_record_mac;
         * the unauthenticated plaintext must never be visible. */
        fr_wipe(buf, len);
        return lib_fail(FERRULE_R_BAD_RECORD_MAC);
    }
    a->seq++;
    return FR_OK;
}

int fr_aead_active(const fr_aead *a) { return a->ctx != NULL; }

void fr_aead_free(fr_aead *a) {
    /* EVP_CIPHER_CTX_free cleanses the expanded key schedule. */
    if (a->ctx != NULL) EVP_CIPHER_CTX_free((EVP_CIPHER_CTX *)a->ctx);
    fr_wipe(a->iv, sizeof(a->iv));
    a->ctx = NULL;
    a->suite = 0;
    a->seq = 0;
    a->encrypt = 0;
}
