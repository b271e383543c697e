/*
 * hash.c - digests, HMAC, the running transcript hash, HKDF (RFC 5869),
 * HKDF-Expand-Label (RFC 8446 §7.1) and the cipher-suite table.
 *
 * All primitives come from libcrypto (see docs/crypto-choices.md).  The
 * EVP_MD / EVP_MAC objects are fetched once (thread-safely, via
 * CRYPTO_THREAD_run_once) because an implicit fetch on every digest init is
 * a measurable cost on the transcript and HKDF paths.  For the same reason
 * every HMAC starts from a duplicate of an unkeyed per-digest template
 * made in that run-once: setting the digest by name on a fresh context
 * fetches it again inside the provider (docs/performance.md).
 */
#include "crypto.h"

#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static CRYPTO_ONCE fetch_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *md_sha256, *md_sha384, *md_sha512;
static EVP_MAC *mac_hmac;
/* HMAC contexts with their digest set and no key, one per FR_HASH_*: only
 * ever read (duplicated) after the run-once, so sharing them between
 * threads is safe.  They hold no secret. */
static EVP_MAC_CTX *hmac_sha256, *hmac_sha384, *hmac_sha512;

static EVP_MAC_CTX *hmac_template(const char *digest) {
    if (mac_hmac == NULL) return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac_hmac);
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx != NULL && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static void fetch_all(void) {
    md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    md_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
    mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    hmac_sha256 = hmac_template("SHA2-256");
    hmac_sha384 = hmac_template("SHA2-384");
    hmac_sha512 = hmac_template("SHA2-512");
    ERR_clear_error();
}

static int fetched(void) {
    if (!CRYPTO_THREAD_run_once(&fetch_once, fetch_all)) return 0;
    return md_sha256 != NULL && md_sha384 != NULL && md_sha512 != NULL && hmac_sha256 != NULL &&
           hmac_sha384 != NULL && hmac_sha512 != NULL;
}

static const EVP_MD *md_for(int hash) {
    if (!fetched()) return NULL;
    switch (hash) {
    case FR_HASH_SHA256: return md_sha256;
    case FR_HASH_SHA384: return md_sha384;
    case FR_HASH_SHA512: return md_sha512;
    default: return NULL;
    }
}

static const EVP_MAC_CTX *hmac_for(int hash) {
    if (!fetched()) return NULL;
    switch (hash) {
    case FR_HASH_SHA256: return hmac_sha256;
    case FR_HASH_SHA384: return hmac_sha384;
    case FR_HASH_SHA512: return hmac_sha512;
    default: return NULL;
    }
}

/* A libcrypto call failed: drop its error queue so it does not surface in a
 * later, unrelated call, and report the given reason. */
static fr_err lib_fail(fr_err e) {
    ERR_clear_error();
    return e;
}

size_t fr_hash_len(int hash) {
    switch (hash) {
    case FR_HASH_SHA256: return 32;
    case FR_HASH_SHA384: return 48;
    case FR_HASH_SHA512: return 64;
    default: return 0;
    }
}

fr_err fr_hash(int hash, const uint8_t *p, size_t n, uint8_t *out) {
    const EVP_MD *md = md_for(hash);
    FR_ENSURE(md != NULL, FERRULE_R_INTERNAL);
    unsigned int outl = 0;
    if (EVP_Digest(p, n, out, &outl, md, NULL) != 1) return lib_fail(FERRULE_R_INTERNAL);
    FR_ENSURE(outl == fr_hash_len(hash), FERRULE_R_INTERNAL);
    return FR_OK;
}

fr_err fr_sha1_id(const uint8_t *p, size_t n, uint8_t out[FR_SHA1_LEN]) {
    /* Fetched per call: used once or twice per OCSP check, never on a
     * record or transcript path. */
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA1", NULL);
    if (md == NULL) return lib_fail(FERRULE_R_INTERNAL);
    unsigned int outl = 0;
    int ok = EVP_Digest(p, n, out, &outl, md, NULL) == 1 && outl == FR_SHA1_LEN;
    EVP_MD_free(md);
    return ok ? FR_OK : lib_fail(FERRULE_R_INTERNAL);
}

/* A new HMAC context for `hash` keyed with `key`, or NULL.  The caller
 * frees it with EVP_MAC_CTX_free, which wipes the key schedule. */
static EVP_MAC_CTX *hmac_keyed(int hash, const uint8_t *key, size_t key_len) {
    const EVP_MAC_CTX *tmpl = hmac_for(hash);
    if (tmpl == NULL) return NULL;
    /* An empty HMAC key is the same as a block of zeros (RFC 2104 §2 pads the
     * key with zeros); libcrypto refuses a zero-length key, so pass one zero
     * byte instead, which pads to the identical block. */
    static const uint8_t zero_key[1] = {0};
    if (key_len == 0) {
        key = zero_key;
        key_len = 1;
    }
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(tmpl);
    if (ctx != NULL && EVP_MAC_init(ctx, key, key_len, NULL) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

fr_err fr_hmac(int hash, const uint8_t *key, size_t key_len, const uint8_t *p, size_t n,
               uint8_t *out) {
    size_t hlen = fr_hash_len(hash);
    FR_ENSURE(hlen != 0, FERRULE_R_INTERNAL);
    EVP_MAC_CTX *ctx = hmac_keyed(hash, key, key_len);
    if (ctx == NULL) return lib_fail(FERRULE_R_INTERNAL);
    size_t outl = 0;
    int ok = EVP_MAC_update(ctx, p, n) == 1 && EVP_MAC_final(ctx, out, &outl, hlen) == 1 &&
             outl == hlen;
    EVP_MAC_CTX_free(ctx);
    return ok ? FR_OK : lib_fail(FERRULE_R_INTERNAL);
}

/* ---- transcript -------------------------------------------------------- */

fr_err fr_transcript_init(fr_transcript *t, int hash) {
    fr_transcript_free(t);
    const EVP_MD *md = md_for(hash);
    FR_ENSURE(md != NULL, FERRULE_R_INTERNAL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return lib_fail(FERRULE_R_INTERNAL);
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return lib_fail(FERRULE_R_INTERNAL);
    }
    t->ctx = ctx;
    t->hash = hash;
    return FR_OK;
}

fr_err fr_transcript_update(fr_transcript *t, const uint8_t *p, size_t n) {
    FR_ENSURE(t->ctx != NULL, FERRULE_R_INTERNAL);
    if (EVP_DigestUpdate((EVP_MD_CTX *)t->ctx, p, n) != 1) return lib_fail(FERRULE_R_INTERNAL);
    return FR_OK;
}

fr_err fr_transcript_current(const fr_transcript *t, uint8_t *out) {
    FR_ENSURE(t->ctx != NULL, FERRULE_R_INTERNAL);
    /* Finalise a copy so the running hash can keep absorbing messages. */
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (copy == NULL) return lib_fail(FERRULE_R_INTERNAL);
    unsigned int outl = 0;
    int ok = EVP_MD_CTX_copy_ex(copy, (const EVP_MD_CTX *)t->ctx) == 1 &&
             EVP_DigestFinal_ex(copy, out, &outl) == 1 && outl == fr_hash_len(t->hash);
    EVP_MD_CTX_free(copy);
    return ok ? FR_OK : lib_fail(FERRULE_R_INTERNAL);
}

fr_err fr_transcript_peek(const fr_transcript *t, const uint8_t *extra, size_t n, uint8_t *out) {
    FR_ENSURE(t->ctx != NULL, FERRULE_R_INTERNAL);
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (copy == NULL) return lib_fail(FERRULE_R_INTERNAL);
    unsigned int outl = 0;
    int ok = EVP_MD_CTX_copy_ex(copy, (const EVP_MD_CTX *)t->ctx) == 1 &&
             (n == 0 || EVP_DigestUpdate(copy, extra, n) == 1) &&
             EVP_DigestFinal_ex(copy, out, &outl) == 1 && outl == fr_hash_len(t->hash);
    EVP_MD_CTX_free(copy);
    return ok ? FR_OK : lib_fail(FERRULE_R_INTERNAL);
}

void fr_transcript_free(fr_transcript *t) {
    if (t->ctx != NULL) EVP_MD_CTX_free((EVP_MD_CTX *)t->ctx);
    t->ctx = NULL;
    t->hash = 0;
}

/* ---- HKDF ----------------------------------------------------------------- */

/* HKDF-Expand (RFC 5869 §2.3), computed as its HMACs:
 *   T(0) = empty, T(i) = HMAC-Hash(PRK, T(i-1) | info | i), OKM = T(1) | T(2) ...
 * The context is keyed with the PRK once; each further block re-initialises
 * it with the same key (EVP_MAC_init with no key keeps the previous one). */
static fr_err hkdf_expand_hmac(int hash, size_t hlen, const uint8_t *prk, const uint8_t *info,
                               size_t info_len, uint8_t *out, size_t out_len) {
    EVP_MAC_CTX *ctx = hmac_keyed(hash, prk, hlen);
    if (ctx == NULL) return lib_fail(FERRULE_R_INTERNAL);
    uint8_t t[FR_MAX_HASH];
    size_t t_len = 0, done = 0;
    int ok = 1;
    for (unsigned i = 1; ok && done < out_len; i++) {
        uint8_t counter = (uint8_t)i; /* i <= 255: out_len <= 255 * hlen */
        size_t outl = 0;
        ok = (i == 1 || EVP_MAC_init(ctx, NULL, 0, NULL) == 1) &&
             (t_len == 0 || EVP_MAC_update(ctx, t, t_len) == 1) &&
             (info_len == 0 || EVP_MAC_update(ctx, info, info_len) == 1) &&
             EVP_MAC_update(ctx, &counter, 1) == 1 &&
             EVP_MAC_final(ctx, t, &outl, sizeof(t)) == 1 && outl == hlen;
        if (!ok) break;
        t_len = hlen;
        size_t take = out_len - done < hlen ? out_len - done : hlen;
        memcpy(out + done, t, take);
        done += take;
    }
    fr_wipe(t, sizeof(t));
    EVP_MAC_CTX_free(ctx);
    if (!ok) {
        fr_wipe(out, out_len);
        return lib_fail(FERRULE_R_INTERNAL);
    }
    return FR_OK;
}

fr_err fr_hkdf_extract(int hash, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                       size_t ikm_len, uint8_t *prk) {
    size_t hlen = fr_hash_len(hash);
    FR_ENSURE(hlen != 0, FERRULE_R_INTERNAL);
    /* RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM), and an absent salt is
     * HashLen zeros.  Extract is exactly one HMAC, so it is computed as one. */
    static const uint8_t zeros[FR_MAX_HASH] = {0};
    if (salt_len == 0) {
        salt = zeros;
        salt_len = hlen;
    }
    return fr_hmac(hash, salt, salt_len, ikm, ikm_len, prk);
}

fr_err fr_hkdf_expand(int hash, const uint8_t *prk, const uint8_t *info, size_t info_len,
                      uint8_t *out, size_t out_len) {
    size_t hlen = fr_hash_len(hash);
    FR_ENSURE(hlen != 0, FERRULE_R_INTERNAL);
    /* RFC 5869 §2.3: L <= 255*HashLen. */
    FR_ENSURE(out_len > 0 && out_len <= 255 * hlen, FERRULE_R_INTERNAL);
    return hkdf_expand_hmac(hash, hlen, prk, info, info_len, out, out_len);
}

fr_err fr_hkdf_expand_label(int hash, const uint8_t *secret, const char *label,
                            const uint8_t *context, size_t context_len, uint8_t *out,
                            size_t out_len) {
    /* RFC 8446 §7.1:
     *   struct {
     *       uint16 length = Length;
     *       opaque label<7..255> = "tls13 " + Label;
     *       opaque context<0..255> = Context;
     *   } HkdfLabel;                                                      */
    static const char prefix[] = "tls13 ";
    size_t label_len = strlen(label);
    FR_ENSURE(label_len <= 255 - (sizeof(prefix) - 1), FERRULE_R_INTERNAL);
    FR_ENSURE(context_len <= 255, FERRULE_R_INTERNAL);
    FR_ENSURE(out_len <= UINT16_MAX, FERRULE_R_INTERNAL);
    uint8_t info[2 + 1 + 255 + 1 + 255];
    fr_writer w;
    fr_writer_init(&w, info, sizeof(info));
    fr_write_u16(&w, (uint16_t)out_len);
    fr_write_open_vec(&w, 1);
    fr_write_bytes(&w, (const uint8_t *)prefix, sizeof(prefix) - 1);
    fr_write_bytes(&w, (const uint8_t *)label, label_len);
    fr_write_close_vec(&w);
    fr_write_open_vec(&w, 1);
    fr_write_bytes(&w, context, context_len);
    fr_write_close_vec(&w);
    FR_TRY(fr_write_finish(&w));
    return fr_hkdf_expand(hash, secret, info, w.len, out, out_len);
}

/* ---- cipher suites (RFC 8446 §B.4) -------------------------------------- */

static const fr_suite_info suites[] = {
    {FERRULE_TLS_AES_128_GCM_SHA256, FR_HASH_SHA256, 16},
    {FERRULE_TLS_AES_256_GCM_SHA384, FR_HASH_SHA384, 32},
    {FERRULE_TLS_CHACHA20_POLY1305_SHA256, FR_HASH_SHA256, 32},
};

const fr_suite_info *fr_suite_lookup(uint16_t suite) {
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        if (suites[i].id == suite) return &suites[i];
    return NULL;
}
