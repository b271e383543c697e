/*
 * kex.c - ephemeral (EC)DHE for TLS 1.3 key_share (RFC 8446 §4.2.8,
 * §7.4): X25519 through libsodium (its private scalar drawn from the one
 * RNG, fr_random), secp256r1 and secp384r1 through libcrypto EVP_PKEY,
 * and the X25519MLKEM768 hybrid (draft-ietf-tls-ecdhe-mlkem): libcrypto's
 * ML-KEM-768 (OpenSSL 3.5 and later, detected at run time) with the same
 * X25519.  Why libsodium for X25519: docs/crypto-choices.md; the hybrid:
 * docs/mlkem.md.
 */
#include "crypto.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

static fr_err lib_fail(fr_err e) {
    ERR_clear_error();
    return e;
}

/* Per-group facts: the libcrypto curve name for EC groups and the exact
 * key_share length (RFC 8446 §4.2.8.2: X25519 32 bytes; an uncompressed
 * SEC1 point is 1 + 2*coordinate_length). */
#define KIND_X25519 1
#define KIND_EC 2
#define KIND_HYBRID 3 /* X25519MLKEM768 */
typedef struct group_info {
    uint16_t group;
    int kind;
    const char *ec_curve; /* EC groups only */
    size_t share_len;     /* the client's share (for ECDH groups also the server's) */
    size_t secret_len;
} group_info;

static const group_info groups[] = {
    {FERRULE_GROUP_X25519, KIND_X25519, NULL, 32, 32},
    {FERRULE_GROUP_SECP256R1, KIND_EC, "P-256", 65, 32},
    {FERRULE_GROUP_SECP384R1, KIND_EC, "P-384", 97, 48},
    {FERRULE_GROUP_X25519MLKEM768, KIND_HYBRID, NULL, FR_HYBRID_CLIENT_SHARE_LEN,
     FR_MLKEM768_SS_LEN + 32},
};

/* libcrypto's name of the KEM (its key management and KEM algorithms). */
#define MLKEM_NAME "ML-KEM-768"

static const group_info *group_lookup(uint16_t group) {
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (groups[i].group == group) return &groups[i];
    return NULL;
}

int fr_kex_mlkem_available(void) {
    EVP_KEYMGMT *km = EVP_KEYMGMT_fetch(NULL, MLKEM_NAME, NULL);
    if (km == NULL) {
        ERR_clear_error(); /* OpenSSL 3.0-3.4: unsupported, not a failure */
        return 0;
    }
    EVP_KEYMGMT_free(km);
    return 1;
}

int fr_group_known(uint16_t group) { return group_lookup(group) != NULL; }

int fr_group_supported(uint16_t group, int mlkem) {
    const group_info *g = group_lookup(group);
    return g != NULL && (g->kind != KIND_HYBRID || mlkem);
}

/* Our public share of an EC key in wire form. */
static fr_err export_share(EVP_PKEY *key, const group_info *g, uint8_t *pub, size_t pub_cap,
                           size_t *pub_len) {
    FR_ENSURE(pub_cap >= g->share_len, FERRULE_R_BUFFER_TOO_SMALL);
    size_t n = 0;
    /* The default point format of an EC key is uncompressed. */
    int ok = EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                             pub_cap, &n) == 1;
    if (!ok || n != g->share_len) return lib_fail(FERRULE_R_INTERNAL);
    *pub_len = n;
    return FR_OK;
}

/* X25519 from a private scalar: the public share is scalar * base point
 * (RFC 7748 §6.1).  libsodium clamps the scalar itself. */
static fr_err x25519_public(const uint8_t priv[32], uint8_t *pub, size_t pub_cap, size_t *pub_len) {
    FR_ENSURE(pub_cap >= 32, FERRULE_R_BUFFER_TOO_SMALL);
    FR_ENSURE(fr_sodium_ready(), FERRULE_R_INTERNAL);
    FR_ENSURE(crypto_scalarmult_base(pub, priv) == 0, FERRULE_R_INTERNAL);
    *pub_len = 32;
    return FR_OK;
}

static fr_err x25519_set(fr_kex *k, const uint8_t priv[32], uint8_t *pub, size_t pub_cap,
                         size_t *pub_len) {
    FR_TRY(x25519_public(priv, pub, pub_cap, pub_len));
    memcpy(k->k.x25519, priv, 32);
    k->group = FERRULE_GROUP_X25519;
    return FR_OK;
}

/* ---- X25519MLKEM768 ------------------------------------------------------ */

/* Client: a fresh ML-KEM-768 key pair and X25519 scalar; the share is
 * encapsulation key || X25519 public. */
static fr_err hybrid_generate(fr_kex *k, uint8_t *pub, size_t pub_cap, size_t *pub_len) {
    FR_ENSURE(pub_cap >= FR_HYBRID_CLIENT_SHARE_LEN, FERRULE_R_BUFFER_TOO_SMALL);
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, MLKEM_NAME, NULL);
    int ok = ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_generate(ctx, &key) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(key);
        return lib_fail(FERRULE_R_INTERNAL);
    }
    uint8_t priv[32];
    fr_err e = fr_random(priv, sizeof(priv));
    size_t xn = 0;
    if (e == FR_OK)
        e = x25519_public(priv, pub + FR_MLKEM768_EK_LEN, pub_cap - FR_MLKEM768_EK_LEN, &xn);
    if (e == FR_OK) {
        memcpy(k->k.x25519, priv, 32);
        k->k.priv = key;
        k->group = FERRULE_GROUP_X25519MLKEM768;
        key = NULL;
        size_t n = 0;
        e = EVP_PKEY_get_octet_string_param(k->k.priv, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                            FR_MLKEM768_EK_LEN, &n) == 1 &&
                    n == FR_MLKEM768_EK_LEN
                ? FR_OK
                : lib_fail(FERRULE_R_INTERNAL);
    }
    fr_wipe(priv, sizeof(priv));
    EVP_PKEY_free(key);
    if (e != FR_OK) {
        fr_kex_free(k);
        return e;
    }
    *pub_len = FR_HYBRID_CLIENT_SHARE_LEN;
    return FR_OK;
}

static fr_err hybrid_public(const fr_kex *k, uint8_t *pub, size_t pub_cap, size_t *pub_len) {
    FR_ENSURE(pub_cap >= FR_HYBRID_CLIENT_SHARE_LEN, FERRULE_R_BUFFER_TOO_SMALL);
    size_t n = 0, xn = 0;
    int ok = EVP_PKEY_get_octet_string_param(k->k.priv, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                             FR_MLKEM768_EK_LEN, &n) == 1 &&
             n == FR_MLKEM768_EK_LEN;
    if (!ok) return lib_fail(FERRULE_R_INTERNAL);
    FR_TRY(x25519_public(k->k.x25519, pub + FR_MLKEM768_EK_LEN, pub_cap - FR_MLKEM768_EK_LEN,
                         &xn));
    *pub_len = FR_HYBRID_CLIENT_SHARE_LEN;
    return FR_OK;
}

/* X25519 with the all-zero check (RFC 8446 §7.4.2), into out[0..32). */
static fr_err x25519_shared(const uint8_t priv[32], const uint8_t peer[32], uint8_t out[32]) {
    int r = crypto_scalarmult(out, priv, peer);
    uint8_t acc = 0;
    for (size_t i = 0; i < 32; i++) acc |= out[i];
    if (r != 0 || acc == 0) {
        fr_wipe(out, 32);
        return FERRULE_R_BAD_KEY_SHARE;
    }
    return FR_OK;
}

/* Server: encapsulate to the client's ML-KEM-768 key and answer its X25519
 * share with a fresh scalar.  Share: ciphertext || X25519 public; secret:
 * ML-KEM secret || X25519 secret. */
static fr_err hybrid_encapsulate(const uint8_t *peer, size_t peer_len, uint8_t *pub,
                                 size_t pub_cap, size_t *pub_len, uint8_t *secret,
                                 size_t secret_cap, size_t *secret_len) {
    /* draft-ietf-tls-ecdhe-mlkem: a share of the wrong length is
     * illegal_parameter. */
    FR_ENSURE(peer_len == FR_HYBRID_CLIENT_SHARE_LEN, FERRULE_R_KEM_SHARE_LENGTH);
    FR_ENSURE(pub_cap >= FR_HYBRID_SERVER_SHARE_LEN, FERRULE_R_BUFFER_TOO_SMALL);
    FR_ENSURE(secret_cap >= FR_KEX_MAX_SECRET, FERRULE_R_BUFFER_TOO_SMALL);
    FR_ENSURE(fr_sodium_ready(), FERRULE_R_INTERNAL);
    /* Importing the encapsulation key runs FIPS 203's input check (every
     * coefficient below q); a key it refuses is the peer's fault. */
    EVP_PKEY *ek = EVP_PKEY_new_raw_public_key_ex(NULL, MLKEM_NAME, NULL, peer,
                                                  FR_MLKEM768_EK_LEN);
    if (ek == NULL) return lib_fail(FERRULE_R_KEM_BAD_KEY);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek, NULL);
    size_t ct_len = FR_MLKEM768_CT_LEN, ss_len = FR_MLKEM768_SS_LEN;
    int ok = ctx != NULL && EVP_PKEY_encapsulate_init(ctx, NULL) == 1 &&
             EVP_PKEY_encapsulate(ctx, pub, &ct_len, secret, &ss_len) == 1 &&
             ct_len == FR_MLKEM768_CT_LEN && ss_len == FR_MLKEM768_SS_LEN;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(ek);
    if (!ok) {
        fr_wipe(secret, secret_cap);
        return lib_fail(FERRULE_R_INTERNAL);
    }
    uint8_t priv[32];
    size_t xn = 0;
    fr_err e = fr_random(priv, sizeof(priv));
    if (e == FR_OK)
        e = x25519_public(priv, pub + FR_MLKEM768_CT_LEN, pub_cap - FR_MLKEM768_CT_LEN, &xn);
    if (e == FR_OK)
        e = x25519_shared(priv, peer + FR_MLKEM768_EK_LEN, secret + FR_MLKEM768_SS_LEN);
    fr_wipe(priv, sizeof(priv));
    if (e != FR_OK) {
        fr_wipe(secret, secret_cap);
        return e;
    }
    *pub_len = FR_HYBRID_SERVER_SHARE_LEN;
    *secret_len = FR_MLKEM768_SS_LEN + 32;
    return FR_OK;
}

/* Client: the server's ciphertext || X25519 public.  ML-KEM decapsulation
 * of a well-sized ciphertext does not fail (FIPS 203 implicit rejection: a
 * tampered one yields an unrelated secret and the Finished check fails). */
static fr_err hybrid_decapsulate(fr_kex *k, const uint8_t *peer, size_t peer_len,
                                 uint8_t *secret, size_t secret_cap, size_t *secret_len) {
    FR_ENSURE(peer_len == FR_HYBRID_SERVER_SHARE_LEN, FERRULE_R_KEM_SHARE_LENGTH);
    FR_ENSURE(secret_cap >= FR_KEX_MAX_SECRET, FERRULE_R_BUFFER_TOO_SMALL);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->k.priv, NULL);
    size_t ss_len = FR_MLKEM768_SS_LEN;
    int ok = ctx != NULL && EVP_PKEY_decapsulate_init(ctx, NULL) == 1 &&
             EVP_PKEY_decapsulate(ctx, secret, &ss_len, peer, FR_MLKEM768_CT_LEN) == 1 &&
             ss_len == FR_MLKEM768_SS_LEN;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        fr_wipe(secret, secret_cap);
        return lib_fail(FERRULE_R_INTERNAL);
    }
    fr_err e = x25519_shared(k->k.x25519, peer + FR_MLKEM768_CT_LEN, secret + FR_MLKEM768_SS_LEN);
    if (e != FR_OK) {
        fr_wipe(secret, secret_cap);
        return e;
    }
    *secret_len = FR_MLKEM768_SS_LEN + 32;
    return FR_OK;
}

fr_err fr_kex_generate(fr_kex *k, uint16_t group, uint8_t *pub, size_t pub_cap,
                       size_t *pub_len) {
    fr_kex_free(k);
    const group_info *g = group_lookup(group);
    FR_ENSURE(g != NULL, FERRULE_R_INTERNAL);
    if (g->kind == KIND_X25519) {
        uint8_t priv[32];
        fr_err e = fr_random(priv, sizeof(priv));
        if (e == FR_OK) e = x25519_set(k, priv, pub, pub_cap, pub_len);
        fr_wipe(priv, sizeof(priv));
        return e;
    }
    if (g->kind == KIND_HYBRID) return hybrid_generate(k, pub, pub_cap, pub_len);
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", g->ec_curve);
    if (key == NULL) return lib_fail(FERRULE_R_INTERNAL);
    fr_err e = export_share(key, g, pub, pub_cap, pub_len);
    if (e != FR_OK) {
        EVP_PKEY_free(key);
        return e;
    }
    k->k.priv = key;
    k->group = group;
    return FR_OK;
}

fr_err fr_kex_from_private(fr_kex *k, uint16_t group, const uint8_t *priv, size_t priv_len,
                           uint8_t *pub, size_t pub_cap, size_t *pub_len) {
    fr_kex_free(k);
    const group_info *g = group_lookup(group);
    /* X25519's raw private key is all the known-answer tests need. */
    FR_ENSURE(g != NULL && g->kind == KIND_X25519 && priv_len == 32, FERRULE_R_INTERNAL);
    return x25519_set(k, priv, pub, pub_cap, pub_len);
}

fr_err fr_kex_public(const fr_kex *k, uint8_t *pub, size_t pub_cap, size_t *pub_len) {
    const group_info *g = group_lookup(k->group);
    FR_ENSURE(g != NULL, FERRULE_R_INTERNAL);
    /* X25519: computed again (only a second ClientHello that keeps its
     * share asks, rarely; the connection keeps 32 bytes, not 64). */
    if (g->kind == KIND_X25519) return x25519_public(k->k.x25519, pub, pub_cap, pub_len);
    FR_ENSURE(k->k.priv != NULL, FERRULE_R_INTERNAL);
    if (g->kind == KIND_HYBRID) return hybrid_public(k, pub, pub_cap, pub_len);
    return export_share(k->k.priv, g, pub, pub_cap, pub_len);
}

/* Build the peer's EC public key from its key_share, validating it. */
static fr_err import_peer(const group_info *g, const uint8_t *peer, size_t peer_len,
                          EVP_PKEY **out) {
    FR_ENSURE(peer_len == g->share_len, FERRULE_R_BAD_KEY_SHARE);
    /* RFC 8446 §4.2.8.2: only the uncompressed form (legacy_form = 4) is
     * allowed, and peers MUST validate that the point is on the curve. */
    FR_ENSURE(peer[0] == 0x04, FERRULE_R_BAD_KEY_SHARE);
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)g->ec_curve, 0);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)peer, peer_len);
    params[2] = OSSL_PARAM_construct_end();
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *fctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    int ok = fctx != NULL && EVP_PKEY_fromdata_init(fctx) == 1 &&
             EVP_PKEY_fromdata(fctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(fctx);
    if (ok) {
        /* Decoding already refuses off-curve points; the explicit check also
         * covers the point at infinity and the subgroup order. */
        EVP_PKEY_CTX *cctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        ok = cctx != NULL && EVP_PKEY_public_check(cctx) == 1;
        EVP_PKEY_CTX_free(cctx);
    }
    if (!ok) {
        EVP_PKEY_free(key);
        return lib_fail(FERRULE_R_BAD_KEY_SHARE);
    }
    *out = key;
    return FR_OK;
}

/* X25519 (RFC 7748 §6.1): any 32-byte string is a valid share; RFC 8446
 * §7.4.2: the peer MUST abort if the shared secret is all zeros (a
 * low-order point was sent).  libsodium refuses that result too; the
 * check here does not depend on it and has no early exit. */
static fr_err x25519_derive(fr_kex *k, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                            size_t secret_cap, size_t *secret_len) {
    FR_ENSURE(peer_len == 32, FERRULE_R_BAD_KEY_SHARE);
    FR_ENSURE(secret_cap >= 32, FERRULE_R_BUFFER_TOO_SMALL);
    if (x25519_shared(k->k.x25519, peer, secret) != FR_OK) {
        fr_wipe(secret, secret_cap);
        return FERRULE_R_BAD_KEY_SHARE;
    }
    *secret_len = 32;
    return FR_OK;
}

fr_err fr_kex_derive(fr_kex *k, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                     size_t secret_cap, size_t *secret_len) {
    const group_info *g = group_lookup(k->group);
    FR_ENSURE(g != NULL, FERRULE_R_INTERNAL);
    if (g->kind == KIND_X25519)
        return x25519_derive(k, peer, peer_len, secret, secret_cap, secret_len);
    FR_ENSURE(k->k.priv != NULL, FERRULE_R_INTERNAL);
    if (g->kind == KIND_HYBRID)
        return hybrid_decapsulate(k, peer, peer_len, secret, secret_cap, secret_len);
    FR_ENSURE(secret_cap >= g->secret_len, FERRULE_R_BUFFER_TOO_SMALL);
    EVP_PKEY *pk = NULL;
    FR_TRY(import_peer(g, peer, peer_len, &pk));

    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->k.priv, NULL);
    size_t n = secret_cap;
    int ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
             EVP_PKEY_derive_set_peer(ctx, pk) == 1 && EVP_PKEY_derive(ctx, secret, &n) == 1 &&
             n == g->secret_len;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
    if (!ok) {
        fr_wipe(secret, secret_cap);
        /* Any derive failure here is caused by the peer's share. */
        return lib_fail(FERRULE_R_BAD_KEY_SHARE);
    }
    *secret_len = n;
    return FR_OK;
}

/* Server: answer an ECDH share with a fresh key pair of ours. */
static fr_err ecdh_respond(uint16_t group, const uint8_t *peer, size_t peer_len, uint8_t *pub,
                           size_t pub_cap, size_t *pub_len, uint8_t *secret, size_t secret_cap,
                           size_t *secret_len) {
    fr_kex k = {0};
    fr_err e = fr_kex_generate(&k, group, pub, pub_cap, pub_len);
    if (e == FR_OK) e = fr_kex_derive(&k, peer, peer_len, secret, secret_cap, secret_len);
    fr_kex_free(&k);
    return e;
}

fr_err fr_kex_respond(uint16_t group, const uint8_t *peer, size_t peer_len, uint8_t *pub,
                      size_t pub_cap, size_t *pub_len, uint8_t *secret, size_t secret_cap,
                      size_t *secret_len) {
    const group_info *g = group_lookup(group);
    FR_ENSURE(g != NULL, FERRULE_R_INTERNAL);
    if (g->kind == KIND_HYBRID)
        return hybrid_encapsulate(peer, peer_len, pub, pub_cap, pub_len, secret, secret_cap,
                                  secret_len);
    return ecdh_respond(group, peer, peer_len, pub, pub_cap, pub_len, secret, secret_cap,
                        secret_len);
}

void fr_kex_free(fr_kex *k) {
    /* EVP_PKEY_free cleanses the EC private scalar and the ML-KEM
     * decapsulation key; the X25519 scalar is wiped here. */
    if (k->group != 0 && k->group != FERRULE_GROUP_X25519 && k->k.priv != NULL)
        EVP_PKEY_free(k->k.priv);
    fr_wipe(&k->k, sizeof(k->k));
    k->group = 0;
}
