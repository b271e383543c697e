/*
 * pkey.c - loading and inspecting certificate / configuration keys.
 * Keys stay opaque libcrypto EVP_PKEY objects.
 */
#include "crypto.h"
#include "../x509/der.h"

#include <limits.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* ---- public keys from a SubjectPublicKeyInfo ------------------------------
 *
 * Peer and anchor keys are imported from their raw components (EC point,
 * Ed25519 bytes, RSA modulus and exponent) with EVP_PKEY_fromdata, not with
 * d2i_PUBKEY: OpenSSL 3's generic decoder builds a decoder context (a search
 * over every provider's decoders) for each key, which cost more than an
 * ECDSA verify per handshake (docs/performance.md).  The SPKI structure is
 * parsed here with the same DER reader as the certificate; libcrypto still
 * validates the key itself (the point is on the curve, RSA sizes). */

/* The algorithm OIDs of the families (RFC 3279 §2.3.1, RFC 4055 §1.2,
 * RFC 5480 §2.1.1, RFC 8410 §3). */
static const uint8_t OID_RSA_ENC[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t OID_RSA_PSS[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const uint8_t OID_EC_PUBKEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};

/* The family (FR_SPKI_*) of an algorithm OID, 0 for any other. */
static int oid_family(const fr_der_tlv *oid) {
    if (FR_DER_OID_IS(oid, OID_EC_PUBKEY)) return FR_SPKI_EC;
    if (FR_DER_OID_IS(oid, OID_RSA_ENC)) return FR_SPKI_RSA;
    if (FR_DER_OID_IS(oid, OID_ED25519)) return FR_SPKI_ED25519;
    if (FR_DER_OID_IS(oid, OID_RSA_PSS)) return FR_SPKI_RSA_PSS;
    return 0;
}

static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t OID_P521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};

/* The curves we accept (RFC 5480 §2.1.1.1): libcrypto's group name and
 * the size of one coordinate. */
typedef struct fr_curve {
    const uint8_t *oid;
    size_t oid_len;
    const char *group;
    size_t coord;
} fr_curve;

static const fr_curve curves[] = {
    {OID_P256, sizeof(OID_P256), "prime256v1", 32},
    {OID_P384, sizeof(OID_P384), "secp384r1", 48},
    {OID_P521, sizeof(OID_P521), "secp521r1", 66},
};
#define N_CURVES (sizeof(curves) / sizeof(curves[0]))

static const fr_curve *curve_of(const fr_der_tlv *oid) {
    for (size_t i = 0; i < N_CURVES; i++)
        if (fr_der_oid_is(oid, curves[i].oid, curves[i].oid_len)) return &curves[i];
    return NULL;
}

/* One key per curve holding only its domain parameters, made once per
 * process: a peer's EC key is a copy of it with the point set.  Building
 * the group from its name for every key (EVP_PKEY_fromdata) costs about
 * four times as much as the copy (BN_MONT_CTX set-up, the generator);
 * docs/performance.md.  The templates are immutable once made and only
 * ever copied, so threads share them safely. */
static CRYPTO_ONCE curves_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_PKEY *curve_domain[N_CURVES];

static void curves_setup(void) {
    for (size_t i = 0; i < N_CURVES; i++) {
        OSSL_PARAM p[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curves[i].group, 0),
            OSSL_PARAM_construct_end(),
        };
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &curve_domain[i], EVP_PKEY_KEY_PARAMETERS, p) != 1)
            curve_domain[i] = NULL; /* fr_pkey_from_spki then takes the slow way */
        EVP_PKEY_CTX_free(ctx);
    }
    ERR_clear_error();
}

/* Build a public key of libcrypto type `type` from `params`. */
static fr_err key_fromdata(const char *type, OSSL_PARAM *params, EVP_PKEY **out) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    int ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    if (ok) return FR_OK;
    *out = NULL;
    /* Well-formed DER whose value libcrypto refuses (a point off the
     * curve, an RSA modulus it will not take): the certificate parses and
     * fails with CERT_UNSUPPORTED where its key would be used. */
    return FERRULE_R_CERT_UNSUPPORTED;
}

/* id-ecPublicKey: the namedCurve parameter (already checked by the caller's
 * algorithm parse, re-read for the group) and an uncompressed (0x04) or
 * compressed (0x02/0x03) point of the curve's size (SEC 1 §2.3.3).  The
 * point at infinity and hybrid forms are refused. */
static fr_err ec_key(fr_reader params, const uint8_t *pt, size_t n, EVP_PKEY **out) {
    fr_der_tlv oid;
    FR_TRY(fr_der_read_oid(&params, &oid));
    FR_TRY(fr_der_done(&params));
    const fr_curve *cv = curve_of(&oid);
    FR_ENSURE(cv != NULL, FERRULE_R_CERT_UNSUPPORTED);
    FR_ENSURE(n >= 1, FERRULE_R_CERT_MALFORMED);
    int ok = (pt[0] == 0x04 && n == 1 + 2 * cv->coord) ||
             ((pt[0] == 0x02 || pt[0] == 0x03) && n == 1 + cv->coord);
    FR_ENSURE(ok, FERRULE_R_CERT_UNSUPPORTED);
    EVP_PKEY *domain = CRYPTO_THREAD_run_once(&curves_once, curves_setup)
                           ? curve_domain[cv - curves]
                           : NULL;
    if (domain != NULL) {
        /* Setting the point decodes it and refuses one off the curve. */
        EVP_PKEY *key = EVP_PKEY_dup(domain);
        if (key != NULL && EVP_PKEY_set1_encoded_public_key(key, pt, n) == 1) {
            *out = key;
            return FR_OK;
        }
        EVP_PKEY_free(key);
        ERR_clear_error();
        return FERRULE_R_CERT_UNSUPPORTED;
    }
    OSSL_PARAM params_out[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)cv->group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, n),
        OSSL_PARAM_construct_end(),
    };
    return key_fromdata("EC", params_out, out);
}

/* id-Ed25519: no parameters, 32 bytes of key (RFC 8410 §3, §4). */
static fr_err ed25519_key(fr_reader params, const uint8_t *k, size_t n, EVP_PKEY **out) {
    FR_TRY(fr_der_done(&params));
    FR_ENSURE(n == 32, FERRULE_R_CERT_MALFORMED);
    *out = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, k, n);
    ERR_clear_error();
    return *out != NULL ? FR_OK : FERRULE_R_CERT_UNSUPPORTED;
}

/* One positive INTEGER in minimal form (X.690 §8.3.2), its magnitude. */
static fr_err read_positive(fr_reader *r, const uint8_t **p, size_t *n) {
    fr_der_tlv t;
    FR_TRY(fr_der_read(r, FR_DER_INTEGER, &t));
    const uint8_t *v = t.content.p;
    size_t len = fr_der_len(&t);
    FR_ENSURE(len >= 1 && (v[0] & 0x80) == 0, FERRULE_R_CERT_MALFORMED);
    if (len >= 2 && v[0] == 0x00) {
        FR_ENSURE((v[1] & 0x80) != 0, FERRULE_R_CERT_MALFORMED);
        v++, len--;
    }
    FR_ENSURE(len > 1 || v[0] != 0, FERRULE_R_CERT_MALFORMED); /* zero */
    *p = v;
    *n = len;
    return FR_OK;
}

/* rsaEncryption: NULL parameters and RSAPublicKey ::= SEQUENCE { modulus
 * INTEGER, publicExponent INTEGER } (RFC 8017 §A.1.1, RFC 3279 §2.3.1). */
static fr_err rsa_key(fr_reader params, const uint8_t *k, size_t n, EVP_PKEY **out) {
    fr_der_tlv null, seq;
    FR_TRY(fr_der_read(&params, FR_DER_NULL, &null));
    FR_ENSURE(fr_der_len(&null) == 0, FERRULE_R_CERT_MALFORMED);
    FR_TRY(fr_der_done(&params));
    fr_reader r = fr_reader_init(k, n);
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &seq));
    FR_TRY(fr_der_done(&r));
    const uint8_t *mod, *exp;
    size_t mod_len, exp_len;
    FR_TRY(read_positive(&seq.content, &mod, &mod_len));
    FR_TRY(read_positive(&seq.content, &exp, &exp_len));
    FR_TRY(fr_der_done(&seq.content));
    /* Bounds libcrypto's RSA import would refuse anyway, checked before the
     * big-number work: at most 16384-bit moduli, exponents under 2^64. */
    FR_ENSURE(mod_len <= 2048 && exp_len <= 8, FERRULE_R_CERT_UNSUPPORTED);
    fr_err e = FERRULE_R_INTERNAL;
    BIGNUM *bn_n = BN_bin2bn(mod, (int)mod_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(exp, (int)exp_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *p = NULL;
    if (bn_n != NULL && bn_e != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1)
        p = OSSL_PARAM_BLD_to_param(bld);
    if (p != NULL) e = key_fromdata("RSA", p, out);
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    ERR_clear_error();
    return e;
}

/* id-RSASSA-PSS keys carry hash/MGF/salt restrictions (RFC 4055 §3.1)
 * whose checks belong to libcrypto: these rare keys take its decoder. */
static fr_err decoded_key(const uint8_t *der, size_t len, const char *type, EVP_PKEY **out) {
    FR_ENSURE(len <= LONG_MAX, FERRULE_R_CERT_MALFORMED);
    const unsigned char *p = der;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
    ERR_clear_error();
    if (key == NULL) return FERRULE_R_CERT_UNSUPPORTED; /* the SPKI parsed: a value refused */
    if (p != der + len || !EVP_PKEY_is_a(key, type)) {
        EVP_PKEY_free(key);
        return FERRULE_R_CERT_MALFORMED;
    }
    *out = key;
    return FR_OK;
}

fr_err fr_pkey_from_spki(const uint8_t *der, size_t len, int family, EVP_PKEY **out) {
    *out = NULL;
    /* Decode only what we support: the decoders of other algorithms (DSA
     * and DH domain parameters, explicit EC curves) are attack surface we
     * never need. */
    FR_ENSURE(family >= FR_SPKI_RSA && family <= FR_SPKI_ED25519, FERRULE_R_CERT_UNSUPPORTED);
    /* SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
     * subjectPublicKey BIT STRING } (RFC 5280 §4.1), the whole input. */
    fr_reader r = fr_reader_init(der, len);
    fr_der_tlv spki, alg, oid;
    FR_TRY(fr_der_read(&r, FR_DER_SEQUENCE, &spki));
    FR_TRY(fr_der_done(&r));
    FR_TRY(fr_der_read(&spki.content, FR_DER_SEQUENCE, &alg));
    FR_TRY(fr_der_read_oid(&alg.content, &oid));
    const uint8_t *bits;
    size_t n;
    unsigned unused;
    FR_TRY(fr_der_read_bits(&spki.content, &bits, &n, &unused));
    FR_TRY(fr_der_done(&spki.content));
    FR_ENSURE(unused == 0, FERRULE_R_CERT_MALFORMED); /* keys are whole octets */
    /* A key of an algorithm we do not know is unsupported; one of another
     * family than the caller checked is a malformed input. */
    int actual = oid_family(&oid);
    FR_ENSURE(actual != 0, FERRULE_R_CERT_UNSUPPORTED);
    FR_ENSURE(actual == family, FERRULE_R_CERT_MALFORMED);
    fr_reader params = alg.content;
    switch (family) {
    case FR_SPKI_EC: return ec_key(params, bits, n, out);
    case FR_SPKI_ED25519: return ed25519_key(params, bits, n, out);
    case FR_SPKI_RSA: return rsa_key(params, bits, n, out);
    default: return decoded_key(der, len, "RSA-PSS", out);
    }
}

/* Never prompt on a terminal for a passphrase: encrypted keys are refused. */
static int no_password(char *buf, int size, int rwflag, void *u) {
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

fr_err fr_pkey_from_pem(const uint8_t *pem, size_t len, EVP_PKEY **out) {
    *out = NULL;
    FR_ENSURE(len > 0 && len <= INT_MAX, FERRULE_R_CONFIG_INVALID);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) {
        ERR_clear_error();
        return FERRULE_R_INTERNAL;
    }
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    if (key == NULL) {
        ERR_clear_error();
        return FERRULE_R_CONFIG_INVALID;
    }
    *out = key;
    return FR_OK;
}

size_t fr_pkey_bits(EVP_PKEY *key) {
    if (key == NULL) return 0;
    int bits = EVP_PKEY_get_bits(key);
    return bits > 0 ? (size_t)bits : 0;
}

static int ec_curve_nid(EVP_PKEY *key) {
    char name[64];
    size_t n = 0;
    if (EVP_PKEY_get_group_name(key, name, sizeof(name), &n) != 1) {
        ERR_clear_error();
        return NID_undef;
    }
    int nid = OBJ_txt2nid(name);
    if (nid == NID_undef) nid = EC_curve_nist2nid(name);
    ERR_clear_error();
    return nid;
}

int fr_pkey_type(EVP_PKEY *key) {
    if (key == NULL) return FR_KEYTYPE_OTHER;
    if (EVP_PKEY_is_a(key, "RSA")) return FR_KEYTYPE_RSA;
    if (EVP_PKEY_is_a(key, "RSA-PSS")) return FR_KEYTYPE_RSA_PSS;
    if (EVP_PKEY_is_a(key, "ED25519")) return FR_KEYTYPE_ED25519;
    if (EVP_PKEY_is_a(key, "EC")) {
        switch (ec_curve_nid(key)) {
        case NID_X9_62_prime256v1: return FR_KEYTYPE_EC_P256;
        case NID_secp384r1: return FR_KEYTYPE_EC_P384;
        default: return FR_KEYTYPE_OTHER;
        }
    }
    return FR_KEYTYPE_OTHER;
}

int fr_pkey_pair_matches(EVP_PKEY *priv, EVP_PKEY *pub) {
    if (priv == NULL || pub == NULL) return 0;
    int r = EVP_PKEY_eq(priv, pub);
    ERR_clear_error();
    return r == 1;
}

void fr_pkey_free(EVP_PKEY *key) { EVP_PKEY_free(key); }
