/*
 * crypto.h - the one thin adapter over libcrypto and libsodium.
 * No other core file includes OpenSSL or libsodium headers except through
 * the opaque EVP_PKEY pointer used for certificate keys.
 * Every function returns FR_OK or a FERRULE_R_* reason.
 */
#ifndef FR_CRYPTO_H
#define FR_CRYPTO_H

#include "../common.h"

typedef struct evp_pkey_st EVP_PKEY; /* opaque libcrypto key */

/* ---- hashes ----------------------------------------------------------- */
#define FR_HASH_SHA256 1
#define FR_HASH_SHA384 2
#define FR_HASH_SHA512 3
#define FR_MAX_HASH 64 /* largest digest we ever handle */

size_t fr_hash_len(int hash); /* 0 for unknown */
FR_MUST_CHECK fr_err fr_hash(int hash, const uint8_t *p, size_t n, uint8_t *out);
/* SHA-1, for identifiers only (OCSP CertID and ResponderID key hashes,
 * RFC 6960 §4.1.1, §4.2.1), never for signatures: it is deliberately not
 * an FR_HASH_* value, so no signature path can select it. */
#define FR_SHA1_LEN 20
FR_MUST_CHECK fr_err fr_sha1_id(const uint8_t *p, size_t n, uint8_t out[FR_SHA1_LEN]);
FR_MUST_CHECK fr_err fr_hmac(int hash, const uint8_t *key, size_t key_len, const uint8_t *p,
                             size_t n, uint8_t *out);

/* Running transcript hash (RFC 8446 §4.4.1). */
typedef struct fr_transcript {
    void *ctx; /* EVP_MD_CTX */
    int hash;
} fr_transcript;
FR_MUST_CHECK fr_err fr_transcript_init(fr_transcript *t, int hash);
FR_MUST_CHECK fr_err fr_transcript_update(fr_transcript *t, const uint8_t *p, size_t n);
/* Hash of everything so far, without ending the transcript. */
FR_MUST_CHECK fr_err fr_transcript_current(const fr_transcript *t, uint8_t *out);
/* Hash of the transcript followed by `extra` (not absorbed). */
FR_MUST_CHECK fr_err fr_transcript_peek(const fr_transcript *t, const uint8_t *extra, size_t n,
                                        uint8_t *out);
void fr_transcript_free(fr_transcript *t);

/* ---- HKDF (RFC 5869) and TLS 1.3 labels (RFC 8446 §7.1) ----------------- */
FR_MUST_CHECK fr_err fr_hkdf_extract(int hash, const uint8_t *salt, size_t salt_len,
                                     const uint8_t *ikm, size_t ikm_len, uint8_t *prk);
FR_MUST_CHECK fr_err fr_hkdf_expand(int hash, const uint8_t *prk, const uint8_t *info,
                                    size_t info_len, uint8_t *out, size_t out_len);
/* HKDF-Expand-Label(secret, "tls13 " + label, context, out_len);
 * `secret` is fr_hash_len(hash) bytes. */
FR_MUST_CHECK fr_err fr_hkdf_expand_label(int hash, const uint8_t *secret, const char *label,
                                          const uint8_t *context, size_t context_len,
                                          uint8_t *out, size_t out_len);

/* ---- cipher suites ------------------------------------------------------ */
typedef struct fr_suite_info {
    uint16_t id;
    int hash;       /* FR_HASH_* */
    size_t key_len; /* 16 or 32 */
} fr_suite_info;
/* NULL for an unsupported suite. */
const fr_suite_info *fr_suite_lookup(uint16_t suite);

/* ---- AEAD record protection (RFC 8446 §5.2, §5.3) ----------------------- */
#define FR_AEAD_TAG_LEN 16
#define FR_AEAD_IV_LEN 12
typedef struct fr_aead {
    void *ctx; /* EVP_CIPHER_CTX, keyed once */
    uint16_t suite;
    uint8_t iv[FR_AEAD_IV_LEN];
    uint64_t seq;
    int encrypt;
} fr_aead;
/* Derive key and iv from a traffic secret ("key", "iv" labels) and key the
 * context.  Resets seq to 0.  Re-initialising an initialised fr_aead with
 * the same suite and direction re-keys its context in place (no new
 * context); otherwise the old state is freed first.  On failure the
 * fr_aead is left freed (inactive). */
FR_MUST_CHECK fr_err fr_aead_init(fr_aead *a, uint16_t suite, const uint8_t *traffic_secret,
                                  int encrypt);
/* In place: buf[0..len) becomes ciphertext, tag written to tag_out.
 * Nonce = iv XOR seq; seq is incremented.  FERRULE_R_SEQUENCE_EXHAUSTED if
 * seq reached 2^64-1. */
FR_MUST_CHECK fr_err fr_aead_seal(fr_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *buf,
                                  size_t len, uint8_t *tag_out);
/* Out of place, in two parts: in[0..in_len) followed by the tail_len bytes
 * already at out[in_len..] are encrypted into out[0..in_len+tail_len) (the
 * tail in place), tag written to tag_out.  `in` is either `out` itself or
 * disjoint from out[0..in_len+tail_len).  On failure out[0..in_len+tail_len)
 * is wiped.  Nonce and seq as for fr_aead_seal. */
FR_MUST_CHECK fr_err fr_aead_seal_parts(fr_aead *a, const uint8_t *aad, size_t aad_len,
                                        const uint8_t *in, size_t in_len, uint8_t *out,
                                        size_t tail_len, uint8_t *tag_out);
/* In place: buf[0..len) ciphertext (without tag) becomes plaintext.
 * FERRULE_R_BAD_RECORD_MAC on failure, and then buf is wiped. */
FR_MUST_CHECK fr_err fr_aead_open(fr_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *buf,
                                  size_t len, const uint8_t *tag);
int fr_aead_active(const fr_aead *a);
void fr_aead_free(fr_aead *a); /* wipes */

/* ---- (EC)DHE and the X25519MLKEM768 hybrid ------------------------------ */
/* X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem, docs/mlkem.md): the ML-KEM
 * part first in every field.  Client share: ML-KEM-768 encapsulation key
 * (1184) || X25519 public (32); server share: ML-KEM-768 ciphertext (1088)
 * || X25519 public (32); shared secret: ML-KEM secret (32) || X25519
 * secret (32). */
#define FR_MLKEM768_EK_LEN 1184
#define FR_MLKEM768_CT_LEN 1088
#define FR_MLKEM768_SS_LEN 32
#define FR_HYBRID_CLIENT_SHARE_LEN (FR_MLKEM768_EK_LEN + 32)
#define FR_HYBRID_SERVER_SHARE_LEN (FR_MLKEM768_CT_LEN + 32)
#define FR_KEX_MAX_PUB FR_HYBRID_CLIENT_SHARE_LEN        /* the largest share we write */
#define FR_KEX_MAX_SECRET (FR_MLKEM768_SS_LEN + 32)     /* hybrid; P-384's is 48 */
typedef struct fr_kex {
    uint16_t group; /* 0: no key; it says which members below hold it */
    struct {
        /* secp256r1 / secp384r1: the EC key; X25519MLKEM768: the ML-KEM-768
         * decapsulation key (EVP_PKEY_free cleanses both). */
        EVP_PKEY *priv;
        uint8_t x25519[32]; /* X25519 private scalar (libsodium), x25519 and
                             * the hybrid; wiped on free */
    } k;
} fr_kex;
/* Whether libcrypto provides ML-KEM-768 (OpenSSL 3.5 and later): fetches
 * its key management from the default library context.  The caller keeps
 * the answer (one fetch per configuration, fr_cfg_new); the core has no
 * globals. */
int fr_kex_mlkem_available(void);
/* A group this build can use: x25519, secp256r1, secp384r1 always,
 * X25519MLKEM768 only when `mlkem` (fr_kex_mlkem_available). */
int fr_group_supported(uint16_t group, int mlkem);
/* A group ferrule knows at all (named, may be unavailable). */
int fr_group_known(uint16_t group);
/* Client: generate an ephemeral key pair; write our public share (X25519
 * raw 32 bytes, uncompressed SEC1 point, or the hybrid client share) to
 * pub. */
FR_MUST_CHECK fr_err fr_kex_generate(fr_kex *k, uint16_t group, uint8_t *pub, size_t pub_cap,
                                     size_t *pub_len);
/* Our public share of a generated key pair, again (as fr_kex_generate
 * wrote it). */
FR_MUST_CHECK fr_err fr_kex_public(const fr_kex *k, uint8_t *pub, size_t pub_cap, size_t *pub_len);
/* Client: shared secret from the server's share.  Rejects malformed
 * shares, points not on the curve, an all-zero X25519 result
 * (FERRULE_R_BAD_KEY_SHARE) and a hybrid share of the wrong length
 * (FERRULE_R_KEM_SHARE_LENGTH). */
FR_MUST_CHECK fr_err fr_kex_derive(fr_kex *k, const uint8_t *peer, size_t peer_len,
                                   uint8_t *secret, size_t secret_cap, size_t *secret_len);
/* Server: answer the client's share for `group` in one step: our share
 * to pub (for ECDH groups a fresh key pair's public value, for the hybrid
 * the ML-KEM ciphertext || our X25519 public) and the shared secret.  A
 * hybrid client share of the wrong length is FERRULE_R_KEM_SHARE_LENGTH,
 * an encapsulation key libcrypto refuses FERRULE_R_KEM_BAD_KEY (both
 * illegal_parameter).  Nothing secret is left anywhere but in `secret`. */
FR_MUST_CHECK fr_err fr_kex_respond(uint16_t group, const uint8_t *peer, size_t peer_len,
                                    uint8_t *pub, size_t pub_cap, size_t *pub_len,
                                    uint8_t *secret, size_t secret_cap, size_t *secret_len);
void fr_kex_free(fr_kex *k);
/* 1 once libsodium is initialised (sodium_init, run once per process). */
int fr_sodium_ready(void);
/* Deterministic key loading: tests and fuzzing only.  Like fr_kex_generate
 * but from a given raw private key (X25519 only: 32 bytes). */
FR_MUST_CHECK fr_err fr_kex_from_private(fr_kex *k, uint16_t group, const uint8_t *priv,
                                         size_t priv_len, uint8_t *pub, size_t pub_cap,
                                         size_t *pub_len);

/* ---- signatures ---------------------------------------------------------- */
/* TLS SignatureScheme code points (FERRULE_SIG_*).  fr_sig_verify accepts
 * the rsa_pkcs1_* schemes too (used for certificate signatures); the TLS
 * layer decides which schemes are allowed where.  For the ecdsa_secpXXX
 * schemes the key's curve must match the scheme. */
FR_MUST_CHECK fr_err fr_sig_verify(EVP_PKEY *pub, uint16_t scheme, const uint8_t *msg,
                                   size_t msg_len, const uint8_t *sig, size_t sig_len);
FR_MUST_CHECK fr_err fr_sig_sign(EVP_PKEY *priv, uint16_t scheme, const uint8_t *msg,
                                 size_t msg_len, uint8_t *sig, size_t sig_cap, size_t *sig_len);
/* 1 if `key` can produce/verify `scheme` (type, curve, rsae vs pss). */
int fr_sig_key_matches(EVP_PKEY *key, uint16_t scheme);
/* Verify an X.509 signature: `kind` FR_SIGKIND_*, `hash` FR_HASH_*; any
 * ECDSA curve is allowed with any hash here. For RSA-PSS the salt length is
 * the digest length and MGF1 uses the same hash. */
#define FR_SIGKIND_RSA_PKCS1 1
#define FR_SIGKIND_RSA_PSS 2
#define FR_SIGKIND_ECDSA 3
#define FR_SIGKIND_ED25519 4
FR_MUST_CHECK fr_err fr_sig_verify_x509(EVP_PKEY *pub, int kind, int hash, const uint8_t *msg,
                                        size_t msg_len, const uint8_t *sig, size_t sig_len);

/* ---- keys ---------------------------------------------------------------- */
/* Key families fr_pkey_from_spki decodes.  The caller has checked the
 * SubjectPublicKeyInfo's algorithm identifier first (cert_parse.c: the OID, NULL
 * or absent parameters, a supported namedCurve): keys of any other
 * algorithm (DSA, DH, X25519, explicit-curve EC ...) must never reach
 * libcrypto's decoders. */
#define FR_SPKI_RSA 1     /* rsaEncryption */
#define FR_SPKI_RSA_PSS 2 /* id-RSASSA-PSS */
#define FR_SPKI_EC 3      /* id-ecPublicKey, named curve */
#define FR_SPKI_ED25519 4 /* id-Ed25519 */
/* Decode a DER SubjectPublicKeyInfo of `family` (FR_SPKI_*).
 * FERRULE_R_CERT_UNSUPPORTED for another family (nothing is decoded) or a
 * well-formed SPKI libcrypto cannot set up; FERRULE_R_CERT_MALFORMED when
 * the encoding is bad or the key is not of `family`. */
FR_MUST_CHECK fr_err fr_pkey_from_spki(const uint8_t *der, size_t len, int family,
                                       EVP_PKEY **out);
/* Parse a PEM private key (PKCS#8, traditional RSA/EC).  CONFIG_INVALID on
 * failure. */
FR_MUST_CHECK fr_err fr_pkey_from_pem(const uint8_t *pem, size_t len, EVP_PKEY **out);
/* Key bits (RSA modulus size, EC curve size), 0 if unknown. */
size_t fr_pkey_bits(EVP_PKEY *key);
#define FR_KEYTYPE_RSA 1
#define FR_KEYTYPE_RSA_PSS 2
#define FR_KEYTYPE_EC_P256 3
#define FR_KEYTYPE_EC_P384 4
#define FR_KEYTYPE_ED25519 5
#define FR_KEYTYPE_OTHER 0
int fr_pkey_type(EVP_PKEY *key);
/* 1 if the private key belongs to the public key. */
int fr_pkey_pair_matches(EVP_PKEY *priv, EVP_PKEY *pub);
void fr_pkey_free(EVP_PKEY *key);

/* ---- randomness ---------------------------------------------------------- */
FR_MUST_CHECK fr_err fr_random(uint8_t *out, size_t n);

#endif
