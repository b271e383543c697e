/*
 * sig.c - TLS 1.3 signature schemes (RFC 8446 §4.2.3) for CertificateVerify
 * and X.509 certificate signatures.
 *
 * RSA and ECDSA go through libcrypto's EVP_DigestSign/Verify.  Ed25519 goes
 * through libsodium (measured ~2.4x faster to verify on this machine, see
 * docs/crypto-choices.md); the key itself stays an EVP_PKEY and only its raw
 * 32-byte public key / seed is handed to libsodium.
 */
#include "crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

static fr_err lib_fail(fr_err e) {
    ERR_clear_error();
    return e;
}

/* How a signature is computed, independent of where it is used. */
#define ALG_ECDSA 1
#define ALG_RSA_PSS 2
#define ALG_RSA_PKCS1 3
#define ALG_ED25519 4

typedef struct scheme_info {
    uint16_t scheme;
    int alg;
    int hash;    /* FR_HASH_*, 0 for Ed25519 (PureEdDSA) */
    int keytype; /* required FR_KEYTYPE_* */
} scheme_info;

/* RFC 8446 §4.2.3.  The ECDSA schemes name the curve; rsa_pss_rsae_* need
 * an rsaEncryption key and rsa_pss_pss_* an id-RSASSA-PSS key. */
static const scheme_info schemes[] = {
    {FERRULE_SIG_ECDSA_SECP256R1_SHA256, ALG_ECDSA, FR_HASH_SHA256, FR_KEYTYPE_EC_P256},
    {FERRULE_SIG_ECDSA_SECP384R1_SHA384, ALG_ECDSA, FR_HASH_SHA384, FR_KEYTYPE_EC_P384},
    {FERRULE_SIG_RSA_PSS_RSAE_SHA256, ALG_RSA_PSS, FR_HASH_SHA256, FR_KEYTYPE_RSA},
    {FERRULE_SIG_RSA_PSS_RSAE_SHA384, ALG_RSA_PSS, FR_HASH_SHA384, FR_KEYTYPE_RSA},
    {FERRULE_SIG_RSA_PSS_RSAE_SHA512, ALG_RSA_PSS, FR_HASH_SHA512, FR_KEYTYPE_RSA},
    {FERRULE_SIG_RSA_PSS_PSS_SHA256, ALG_RSA_PSS, FR_HASH_SHA256, FR_KEYTYPE_RSA_PSS},
    {FERRULE_SIG_RSA_PSS_PSS_SHA384, ALG_RSA_PSS, FR_HASH_SHA384, FR_KEYTYPE_RSA_PSS},
    {FERRULE_SIG_RSA_PSS_PSS_SHA512, ALG_RSA_PSS, FR_HASH_SHA512, FR_KEYTYPE_RSA_PSS},
    {FERRULE_SIG_ED25519, ALG_ED25519, 0, FR_KEYTYPE_ED25519},
    {FERRULE_SIG_RSA_PKCS1_SHA256, ALG_RSA_PKCS1, FR_HASH_SHA256, FR_KEYTYPE_RSA},
    {FERRULE_SIG_RSA_PKCS1_SHA384, ALG_RSA_PKCS1, FR_HASH_SHA384, FR_KEYTYPE_RSA},
    {FERRULE_SIG_RSA_PKCS1_SHA512, ALG_RSA_PKCS1, FR_HASH_SHA512, FR_KEYTYPE_RSA},
};

static const scheme_info *scheme_lookup(uint16_t scheme) {
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (schemes[i].scheme == scheme) return &schemes[i];
    return NULL;
}

static const char *md_name(int hash) {
    switch (hash) {
    case FR_HASH_SHA256: return "SHA2-256";
    case FR_HASH_SHA384: return "SHA2-384";
    case FR_HASH_SHA512: return "SHA2-512";
    default: return NULL;
    }
}

/* Policy (TLS sets no minimum): RSA keys below 2048 bits are refused. */
#define MIN_RSA_BITS 2048

static int is_rsa(int keytype) {
    return keytype == FR_KEYTYPE_RSA || keytype == FR_KEYTYPE_RSA_PSS;
}

/* ---- libsodium Ed25519 ---------------------------------------------------- */

static CRYPTO_ONCE sodium_once = CRYPTO_ONCE_STATIC_INIT;
static int sodium_ready;
static void sodium_setup(void) { sodium_ready = sodium_init() >= 0; }
int fr_sodium_ready(void) {
    return CRYPTO_THREAD_run_once(&sodium_once, sodium_setup) && sodium_ready;
}

/* 1 valid, 0 invalid, -1 internal error. */
static int ed25519_verify(EVP_PKEY *pub, const uint8_t *msg, size_t msg_len,
                          const uint8_t *sig, size_t sig_len) {
    if (!fr_sodium_ready()) return -1;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    size_t pk_len = sizeof(pk);
    if (EVP_PKEY_get_raw_public_key(pub, pk, &pk_len) != 1 || pk_len != sizeof(pk)) {
        ERR_clear_error();
        return -1;
    }
    if (sig_len != crypto_sign_BYTES) return 0;
    return crypto_sign_verify_detached(sig, msg, msg_len, pk) == 0 ? 1 : 0;
}

static fr_err ed25519_sign(EVP_PKEY *priv, const uint8_t *msg, size_t msg_len, uint8_t *sig,
                           size_t sig_cap, size_t *sig_len) {
    FR_ENSURE(fr_sodium_ready(), FERRULE_R_INTERNAL);
    FR_ENSURE(sig_cap >= crypto_sign_BYTES, FERRULE_R_BUFFER_TOO_SMALL);
    uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES],
        sk[crypto_sign_SECRETKEYBYTES];
    size_t seed_len = sizeof(seed);
    fr_err e = FR_OK;
    if (EVP_PKEY_get_raw_private_key(priv, seed, &seed_len) != 1 || seed_len != sizeof(seed)) {
        e = lib_fail(FERRULE_R_INTERNAL);
    } else if (crypto_sign_seed_keypair(pk, sk, seed) != 0 ||
               crypto_sign_detached(sig, NULL, msg, msg_len, sk) != 0) {
        e = FERRULE_R_INTERNAL;
    } else {
        *sig_len = crypto_sign_BYTES;
    }
    fr_wipe(seed, sizeof(seed));
    fr_wipe(sk, sizeof(sk));
    return e;
}

/* ---- libcrypto RSA / ECDSA ------------------------------------------------- */

/* Padding and PSS parameters on a sign/verify context.  RFC 8446 §4.2.3:
 * RSASSA-PSS with the salt length equal to the digest length and MGF1 with
 * the same hash.  On verification RSA_PSS_SALTLEN_DIGEST also demands that
 * exact salt length. */
static int set_padding(EVP_PKEY_CTX *pctx, int alg, const char *mdname) {
    if (alg == ALG_RSA_PSS)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
               EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
               EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mdname, NULL) == 1;
    if (alg == ALG_RSA_PKCS1) return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    return 1;
}

/* 1 valid, 0 invalid, -1 internal error (e.g. context set-up refused). */
static int evp_verify(EVP_PKEY *pub, int alg, int hash, const uint8_t *msg, size_t msg_len,
                      const uint8_t *sig, size_t sig_len) {
    if (alg == ALG_ED25519) return ed25519_verify(pub, msg, msg_len, sig, sig_len);
    const char *mdname = md_name(hash);
    if (mdname == NULL) return -1;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int r = -1;
    if (mctx != NULL && EVP_DigestVerifyInit_ex(mctx, &pctx, mdname, NULL, NULL, pub, NULL) == 1 &&
        set_padding(pctx, alg, mdname)) {
        /* 1 = valid; 0 or a negative value = invalid signature encoding or
         * value, which is the peer's fault, not ours. */
        r = EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) == 1 ? 1 : 0;
    }
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    return r;
}

static int md_is(const char *name, int hash) {
    EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
    int ok = md != NULL && EVP_MD_is_a(md, md_name(hash));
    EVP_MD_free(md);
    return ok;
}

/* An id-RSASSA-PSS key may carry parameters (RFC 4055 §3.1) that pin its
 * hash and MGF1 hash; the TLS schemes need both to be the scheme's hash
 * (RFC 8446 §4.2.3), so such a key fits at most one rsa_pss_pss_* scheme. */
static int pss_params_allow(EVP_PKEY *key, int hash) {
    char name[64];
    size_t n = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_RSA_DIGEST, name, sizeof(name), &n) !=
        1) {
        ERR_clear_error();
        return 1; /* unrestricted key */
    }
    int ok = md_is(name, hash);
    if (ok) {
        /* The MGF1 restriction is only visible on an operation context. */
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        ok = c != NULL && EVP_PKEY_verify_init(c) == 1 &&
             EVP_PKEY_CTX_get_rsa_mgf1_md_name(c, name, sizeof(name)) == 1 && md_is(name, hash);
        EVP_PKEY_CTX_free(c);
    }
    ERR_clear_error();
    return ok;
}

/* RFC 8446 §4.4.3: the scheme must be one the key can produce. */
static int key_fits(EVP_PKEY *key, const scheme_info *s) {
    if (fr_pkey_type(key) != s->keytype) return 0;
    /* RFC 8017 §9.1.1: an RSASSA-PSS signature with a salt as long as the
     * hash (RFC 8446 §4.2.3) needs a modulus of at least 2 * hLen + 2
     * bytes: RSA-1024 cannot carry rsa_pss_*_sha512. */
    if (s->alg == ALG_RSA_PSS && EVP_PKEY_get_size(key) < 2 * (int)fr_hash_len(s->hash) + 2)
        return 0;
    return s->keytype != FR_KEYTYPE_RSA_PSS || pss_params_allow(key, s->hash);
}

/* ---- public API ------------------------------------------------------------- */

int fr_sig_key_matches(EVP_PKEY *key, uint16_t scheme) {
    const scheme_info *s = scheme_lookup(scheme);
    if (s == NULL || key == NULL) return 0;
    return key_fits(key, s);
}

fr_err fr_sig_verify(EVP_PKEY *pub, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                     const uint8_t *sig, size_t sig_len) {
    const scheme_info *s = scheme_lookup(scheme);
    FR_ENSURE(s != NULL && pub != NULL, FERRULE_R_ILLEGAL_PARAMETER);
    /* RFC 8446 §4.4.3: the scheme must match the certificate's key. */
    FR_ENSURE(key_fits(pub, s), FERRULE_R_ILLEGAL_PARAMETER);
    FR_ENSURE(!is_rsa(s->keytype) || fr_pkey_bits(pub) >= MIN_RSA_BITS,
              FERRULE_R_ILLEGAL_PARAMETER);
    int r = evp_verify(pub, s->alg, s->hash, msg, msg_len, sig, sig_len);
    /* r < 0: libcrypto would not set the key up for this scheme, e.g. an
     * id-RSASSA-PSS key whose parameters pin a different hash. */
    FR_ENSURE(r >= 0, FERRULE_R_ILLEGAL_PARAMETER);
    return r == 1 ? FR_OK : FERRULE_R_BAD_SIGNATURE;
}

fr_err fr_sig_sign(EVP_PKEY *priv, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                   uint8_t *sig, size_t sig_cap, size_t *sig_len) {
    const scheme_info *s = scheme_lookup(scheme);
    FR_ENSURE(s != NULL && priv != NULL, FERRULE_R_ILLEGAL_PARAMETER);
    FR_ENSURE(key_fits(priv, s), FERRULE_R_ILLEGAL_PARAMETER);
    if (s->alg == ALG_ED25519) return ed25519_sign(priv, msg, msg_len, sig, sig_cap, sig_len);

    const char *mdname = md_name(s->hash);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t need = 0;
    fr_err e = FERRULE_R_INTERNAL;
    if (mctx != NULL && EVP_DigestSignInit_ex(mctx, &pctx, mdname, NULL, NULL, priv, NULL) == 1 &&
        set_padding(pctx, s->alg, mdname) &&
        EVP_DigestSign(mctx, NULL, &need, msg, msg_len) == 1) {
        if (need > sig_cap) {
            e = FERRULE_R_BUFFER_TOO_SMALL;
        } else {
            size_t n = sig_cap;
            if (EVP_DigestSign(mctx, sig, &n, msg, msg_len) == 1) {
                *sig_len = n;
                e = FR_OK;
            }
        }
    }
    EVP_MD_CTX_free(mctx);
    if (e != FR_OK) ERR_clear_error();
    return e;
}

fr_err fr_sig_verify_x509(EVP_PKEY *pub, int kind, int hash, const uint8_t *msg, size_t msg_len,
                          const uint8_t *sig, size_t sig_len) {
    FR_ENSURE(pub != NULL, FERRULE_R_CERT_BAD_SIGNATURE);
    int t = fr_pkey_type(pub);
    int alg;
    int key_ok;
    switch (kind) {
    case FR_SIGKIND_RSA_PKCS1:
        alg = ALG_RSA_PKCS1;
        key_ok = t == FR_KEYTYPE_RSA;
        break;
    case FR_SIGKIND_RSA_PSS:
        /* RFC 4055: an rsaEncryption key may also produce PSS signatures. */
        alg = ALG_RSA_PSS;
        key_ok = is_rsa(t);
        break;
    case FR_SIGKIND_ECDSA:
        /* Any curve with any hash: a P-384 CA may sign with SHA-256, and a
         * chain may contain curves TLS itself never negotiates. */
        alg = ALG_ECDSA;
        key_ok = EVP_PKEY_is_a(pub, "EC");
        break;
    case FR_SIGKIND_ED25519:
        alg = ALG_ED25519;
        key_ok = t == FR_KEYTYPE_ED25519;
        break;
    default: return FERRULE_R_CERT_UNSUPPORTED;
    }
    FR_ENSURE(alg == ALG_ED25519 || md_name(hash) != NULL, FERRULE_R_CERT_UNSUPPORTED);
    FR_ENSURE(key_ok, FERRULE_R_CERT_BAD_SIGNATURE);
    FR_ENSURE(!is_rsa(t) || fr_pkey_bits(pub) >= MIN_RSA_BITS, FERRULE_R_CERT_WEAK_KEY);
    int r = evp_verify(pub, alg, hash, msg, msg_len, sig, sig_len);
    /* A key libcrypto refuses to set up for this algorithm (e.g. a PSS key
     * restricted to another hash) is a bad signature for the chain. */
    return r == 1 ? FR_OK : FERRULE_R_CERT_BAD_SIGNATURE;
}
