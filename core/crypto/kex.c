/*
 * kex.c - ephemeral (EC)DHE for TLS 1.3 key_share (RFC 8446 §4.2.8,
 * §7.4): X25519 through libsodium (its private scalar drawn from the one
 * RNG, fr_random), secp256r1 and secp384r1 through libcrypto EVP_PKEY.
 * Why libsodium for X25519: docs/crypto-choices.md.
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
typedef struct group_info {
    uint16_t group;
    const char *ec_curve; /* NULL for X25519 */
    size_t share_len;
    size_t secret_len;
} group_info;

static const group_info groups[] = {
    {FERRULE_GROUP_X25519, NULL, 32, 32},
    {FERRULE_GROUP_SECP256R1, "P-256", 65, 32},
    {FERRULE_GROUP_SECP384R1, "P-384", 97, 48},
};

static const group_info *group_lookup(uint16_t group) {
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (groups[i].group == group) return &groups[i];
    return NULL;
}

int fr_group_supported(uint16_t group) { return group_lookup(group) != NULL; }

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

fr_err fr_kex_generate(fr_kex *k, uint16_t group, uint8_t *pub, size_t pub_cap,
                       size_t *pub_len) {
    fr_kex_free(k);
    const group_info *g = group_lookup(group);
    FR_ENSURE(g != NULL, FERRULE_R_INTERNAL);
    if (g->ec_curve == NULL) {
        uint8_t priv[32];
        fr_err e = fr_random(priv, sizeof(priv));
        if (e == FR_OK) e = x25519_set(k, priv, pub, pub_cap, pub_len);
        fr_wipe(priv, sizeof(priv));
        return e;
    }
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
    FR_ENSURE(g != NULL && g->ec_curve == NULL && priv_len == 32, FERRULE_R_INTERNAL);
    return x25519_set(k, priv, pub, pub_cap, pub_len);
}

fr_err fr_kex_public(const fr_kex *k, uint8_t *pub, size_t pub_cap, size_t *pub_len) {
    const group_info *g = group_lookup(k->group);
    FR_ENSURE(g != NULL, FERRULE_R_INTERNAL);
    /* X25519: computed again (only a second ClientHello that keeps its
     * share asks, rarely; the connection keeps 32 bytes, not 64). */
    if (g->ec_curve == NULL) return x25519_public(k->k.x25519, pub, pub_cap, pub_len);
    FR_ENSURE(k->k.priv != NULL, FERRULE_R_INTERNAL);
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
    int r = crypto_scalarmult(secret, k->k.x25519, peer);
    uint8_t acc = 0;
    for (size_t i = 0; i < 32; i++) acc |= secret[i];
    if (r != 0 || acc == 0) {
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
    if (g->ec_curve == NULL) return x25519_derive(k, peer, peer_len, secret, secret_cap, secret_len);
    FR_ENSURE(k->k.priv != NULL, FERRULE_R_INTERNAL);
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

void fr_kex_free(fr_kex *k) {
    /* EVP_PKEY_free cleanses the EC private scalar; ours is wiped here. */
    if (k->group != 0 && k->group != FERRULE_GROUP_X25519 && k->k.priv != NULL)
        EVP_PKEY_free(k->k.priv);
    fr_wipe(&k->k, sizeof(k->k));
    k->group = 0;
}
