/*
 * pkey.c - loading and inspecting certificate / configuration keys.
 * Keys stay opaque libcrypto EVP_PKEY objects.
 */
#include "crypto.h"

#include <limits.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* libcrypto's name of a key family's type. */
static const char *family_name(int family) {
    switch (family) {
    case FR_SPKI_RSA: return "RSA";
    case FR_SPKI_RSA_PSS: return "RSA-PSS";
    case FR_SPKI_EC: return "EC";
    case FR_SPKI_ED25519: return "ED25519";
    default: return NULL;
    }
}

fr_err fr_pkey_from_spki(const uint8_t *der, size_t len, int family, EVP_PKEY **out) {
    *out = NULL;
    const char *type = family_name(family);
    /* Decode only what we support: the decoders of other algorithms (DSA
     * and DH domain parameters, explicit EC curves) are attack surface we
     * never need. */
    FR_ENSURE(type != NULL, FERRULE_R_CERT_UNSUPPORTED);
    FR_ENSURE(len > 0 && len <= LONG_MAX, FERRULE_R_CERT_MALFORMED);
    const unsigned char *p = der;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
    if (key != NULL) {
        /* The SubjectPublicKeyInfo must be the whole input, and of the
         * family its algorithm identifier was checked for. */
        if (p != der + len || !EVP_PKEY_is_a(key, type)) {
            EVP_PKEY_free(key);
            ERR_clear_error();
            return FERRULE_R_CERT_MALFORMED;
        }
        *out = key;
        return FR_OK;
    }
    ERR_clear_error();
    /* Tell "not DER" from "a key libcrypto cannot set up" (e.g. RSA-PSS
     * parameters it refuses): the X509_PUBKEY structure parses even when
     * the key does not decode. */
    p = der;
    X509_PUBKEY *xpk = d2i_X509_PUBKEY(NULL, &p, (long)len);
    fr_err e = xpk != NULL && p == der + len ? FERRULE_R_CERT_UNSUPPORTED
                                             : FERRULE_R_CERT_MALFORMED;
    X509_PUBKEY_free(xpk);
    ERR_clear_error();
    return e;
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
