/*
 * test_crypto.c - the libcrypto/libsodium adapter: digests, HMAC, HKDF
 * (RFC 5869), the transcript, AEADs, (EC)DHE, signatures, key loading and
 * randomness.  Positive known-answer tests plus malformed inputs.
 */
#include "testlib.h"

#include "crypto/crypto.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

/* ---- helpers --------------------------------------------------------------- */

static unsigned char *pool[64];
static size_t pool_n;
static const uint8_t *hx(const char *hex, size_t *len) {
    size_t n = 0;
    unsigned char *p = tl_unhex(hex, &n);
    if (pool_n < sizeof(pool) / sizeof(pool[0])) pool[pool_n++] = p;
    if (len != NULL) *len = n;
    return p;
}
static void pool_free(void) {
    for (size_t i = 0; i < pool_n; i++) free(pool[i]);
    pool_n = 0;
}
#define CHECK_HEX(got, hex, n_)                                                                    \
    do {                                                                                           \
        size_t kat_n_;                                                                             \
        const uint8_t *kat_ = hx(hex, &kat_n_);                                                    \
        CHECK_EQ(kat_n_, (n_));                                                                    \
        CHECK_MEM((got), kat_, kat_n_);                                                            \
    } while (0)

static int all_zero(const uint8_t *p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

/* Every failing call must leave OpenSSL's error queue empty. */
#define CHECK_NO_ERRQ() CHECK_EQ(ERR_peek_error(), 0)

/* ---- hashes, HMAC, HKDF ------------------------------------------------------ */

TEST(hash_known_answers) {
    static const uint8_t abc[] = {'a', 'b', 'c'};
    uint8_t out[FR_MAX_HASH];
    CHECK_EQ(fr_hash_len(FR_HASH_SHA256), 32);
    CHECK_EQ(fr_hash_len(FR_HASH_SHA384), 48);
    CHECK_EQ(fr_hash_len(FR_HASH_SHA512), 64);
    CHECK_EQ(fr_hash_len(0), 0);
    CHECK_EQ(fr_hash_len(99), 0);
    CHECK_EQ(fr_hash(FR_HASH_SHA256, abc, 3, out), FR_OK);
    CHECK_HEX(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 32);
    CHECK_EQ(fr_hash(FR_HASH_SHA384, abc, 3, out), FR_OK);
    CHECK_HEX(out,
              "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc23"
              "58baeca134c825a7",
              48);
    CHECK_EQ(fr_hash(FR_HASH_SHA512, abc, 3, out), FR_OK);
    CHECK_HEX(out,
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"
              "36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
              64);
    CHECK_EQ(fr_hash(FR_HASH_SHA256, NULL, 0, out), FR_OK);
    CHECK_HEX(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 32);
    CHECK_EQ(fr_hash(7, abc, 3, out), FERRULE_R_INTERNAL);
    pool_free();
}

TEST(hmac_known_answers) {
    /* RFC 4231 test case 2. */
    static const char data[] = "what do ya want for nothing?";
    const uint8_t *msg = (const uint8_t *)data;
    const uint8_t *key = (const uint8_t *)"Jefe";
    uint8_t out[FR_MAX_HASH];
    CHECK_EQ(fr_hmac(FR_HASH_SHA256, key, 4, msg, 28, out), FR_OK);
    CHECK_HEX(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32);
    CHECK_EQ(fr_hmac(FR_HASH_SHA384, key, 4, msg, 28, out), FR_OK);
    CHECK_HEX(out,
              "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c7"
              "8b3239ecfab21649",
              48);
    CHECK_EQ(fr_hmac(FR_HASH_SHA512, key, 4, msg, 28, out), FR_OK);
    CHECK_HEX(out,
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a"
              "6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
              64);
    /* Empty key (Python hmac.new(b"", b"abc", "sha256")). */
    CHECK_EQ(fr_hmac(FR_HASH_SHA256, NULL, 0, (const uint8_t *)"abc", 3, out), FR_OK);
    CHECK_HEX(out, "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351", 32);
    CHECK_EQ(fr_hmac(0, key, 4, msg, 28, out), FERRULE_R_INTERNAL);
    pool_free();
}

TEST(hkdf_rfc5869_vectors) {
    uint8_t prk[32], okm[82];
    size_t ikm_n, salt_n, info_n;
    /* A.1 */
    const uint8_t *ikm = hx("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", &ikm_n);
    const uint8_t *salt = hx("000102030405060708090a0b0c", &salt_n);
    const uint8_t *info = hx("f0f1f2f3f4f5f6f7f8f9", &info_n);
    CHECK_EQ(fr_hkdf_extract(FR_HASH_SHA256, salt, salt_n, ikm, ikm_n, prk), FR_OK);
    CHECK_HEX(prk, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", 32);
    CHECK_EQ(fr_hkdf_expand(FR_HASH_SHA256, prk, info, info_n, okm, 42), FR_OK);
    CHECK_HEX(okm,
              "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b88718"
              "5865",
              42);
    /* A.2: longer inputs and outputs */
    uint8_t big_ikm[80], big_salt[80], big_info[80];
    for (size_t i = 0; i < 80; i++) {
        big_ikm[i] = (uint8_t)i;
        big_salt[i] = (uint8_t)(0x60 + i);
        big_info[i] = (uint8_t)(0xb0 + i);
    }
    CHECK_EQ(fr_hkdf_extract(FR_HASH_SHA256, big_salt, 80, big_ikm, 80, prk), FR_OK);
    CHECK_HEX(prk, "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244", 32);
    CHECK_EQ(fr_hkdf_expand(FR_HASH_SHA256, prk, big_info, 80, okm, 82), FR_OK);
    CHECK_HEX(okm,
              "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac78272"
              "71cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f"
              "1d87",
              82);
    /* A.3: zero-length salt and info */
    CHECK_EQ(fr_hkdf_extract(FR_HASH_SHA256, NULL, 0, ikm, ikm_n, prk), FR_OK);
    CHECK_HEX(prk, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04", 32);
    CHECK_EQ(fr_hkdf_expand(FR_HASH_SHA256, prk, NULL, 0, okm, 42), FR_OK);
    CHECK_HEX(okm,
              "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a"
              "96c8",
              42);
    pool_free();
}

TEST(hkdf_limits) {
    uint8_t prk[64] = {1}, big[255 * 32 + 1];
    /* RFC 5869 §2.3: L <= 255*HashLen. */
    CHECK_EQ(fr_hkdf_expand(FR_HASH_SHA256, prk, NULL, 0, big, 255 * 32), FR_OK);
    CHECK_EQ(fr_hkdf_expand(FR_HASH_SHA256, prk, NULL, 0, big, 255 * 32 + 1), FERRULE_R_INTERNAL);
    CHECK_EQ(fr_hkdf_expand(FR_HASH_SHA256, prk, NULL, 0, big, 0), FERRULE_R_INTERNAL);
    CHECK_EQ(fr_hkdf_expand(0, prk, NULL, 0, big, 16), FERRULE_R_INTERNAL);
    CHECK_EQ(fr_hkdf_extract(0, NULL, 0, prk, 1, big), FERRULE_R_INTERNAL);
    /* HkdfLabel.length is a uint16. */
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, prk, "x", NULL, 0, big, 65536),
             FERRULE_R_INTERNAL);
    CHECK_NO_ERRQ();
}

TEST(transcript_running_hash) {
    static const uint8_t msg[] = "ClientHello....ServerHello....";
    uint8_t a[FR_MAX_HASH], b[FR_MAX_HASH];
    fr_transcript t = {0};
    CHECK_EQ(fr_transcript_current(&t, a), FERRULE_R_INTERNAL); /* not initialised */
    CHECK_EQ(fr_transcript_update(&t, msg, 3), FERRULE_R_INTERNAL);
    CHECK_EQ(fr_transcript_init(&t, FR_HASH_SHA384), FR_OK);
    CHECK_EQ(fr_transcript_current(&t, a), FR_OK); /* empty transcript */
    CHECK_EQ(fr_hash(FR_HASH_SHA384, NULL, 0, b), FR_OK);
    CHECK_MEM(a, b, 48);
    CHECK_EQ(fr_transcript_update(&t, msg, 10), FR_OK);
    CHECK_EQ(fr_transcript_current(&t, a), FR_OK);
    CHECK_EQ(fr_hash(FR_HASH_SHA384, msg, 10, b), FR_OK);
    CHECK_MEM(a, b, 48);
    /* current() does not end the transcript. */
    CHECK_EQ(fr_transcript_update(&t, msg + 10, sizeof(msg) - 10), FR_OK);
    CHECK_EQ(fr_transcript_current(&t, a), FR_OK);
    CHECK_EQ(fr_transcript_current(&t, b), FR_OK);
    CHECK_MEM(a, b, 48);
    CHECK_EQ(fr_hash(FR_HASH_SHA384, msg, sizeof(msg), b), FR_OK);
    CHECK_MEM(a, b, 48);
    /* Re-initialising resets it (and frees the old context: ASan). */
    CHECK_EQ(fr_transcript_init(&t, FR_HASH_SHA256), FR_OK);
    CHECK_EQ(fr_transcript_current(&t, a), FR_OK);
    CHECK_EQ(fr_hash(FR_HASH_SHA256, NULL, 0, b), FR_OK);
    CHECK_MEM(a, b, 32);
    fr_transcript_free(&t);
    fr_transcript_free(&t); /* idempotent */
    CHECK_EQ(fr_transcript_init(&t, 42), FERRULE_R_INTERNAL);
    CHECK(t.ctx == NULL);
}

TEST(suite_table) {
    const fr_suite_info *s = fr_suite_lookup(0x1301);
    CHECK(s != NULL && s->hash == FR_HASH_SHA256 && s->key_len == 16);
    s = fr_suite_lookup(0x1302);
    CHECK(s != NULL && s->hash == FR_HASH_SHA384 && s->key_len == 32);
    s = fr_suite_lookup(0x1303);
    CHECK(s != NULL && s->hash == FR_HASH_SHA256 && s->key_len == 32);
    CHECK(fr_suite_lookup(0x1304) == NULL); /* AES-128-CCM: not offered */
    CHECK(fr_suite_lookup(0x1305) == NULL);
    CHECK(fr_suite_lookup(0) == NULL);
    CHECK(fr_suite_lookup(0xc02f) == NULL);
}

/* ---- AEAD --------------------------------------------------------------------- */

static const uint16_t all_suites[] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                      FERRULE_TLS_AES_256_GCM_SHA384,
                                      FERRULE_TLS_CHACHA20_POLY1305_SHA256};

static void secret_for(uint8_t *secret, uint8_t seed) {
    for (size_t i = 0; i < FR_MAX_HASH; i++) secret[i] = (uint8_t)(seed + i * 7);
}

TEST(aead_round_trip_all_suites) {
    for (size_t s = 0; s < 3; s++) {
        uint8_t secret[FR_MAX_HASH];
        secret_for(secret, (uint8_t)s);
        fr_aead w = {0}, r = {0};
        CHECK_EQ(fr_aead_init(&w, all_suites[s], secret, 1), FR_OK);
        CHECK_EQ(fr_aead_init(&r, all_suites[s], secret, 0), FR_OK);
        CHECK(fr_aead_active(&w) && fr_aead_active(&r));
        for (size_t rec = 0; rec < 4; rec++) {
            uint8_t pt[300], buf[300], tag[16], aad[5] = {23, 3, 3, 1, 44};
            size_t len = rec * 97; /* includes an empty record */
            for (size_t i = 0; i < len; i++) pt[i] = (uint8_t)(i ^ rec);
            memcpy(buf, pt, len);
            CHECK_EQ(fr_aead_seal(&w, aad, 5, buf, len, tag), FR_OK);
            if (len > 0) CHECK(memcmp(buf, pt, len) != 0);
            CHECK_EQ(fr_aead_open(&r, aad, 5, buf, len, tag), FR_OK);
            CHECK_MEM(buf, pt, len);
        }
        CHECK_EQ(w.seq, 4);
        CHECK_EQ(r.seq, 4);
        /* Direction misuse is a caller bug. */
        uint8_t b[4] = {0}, tag[16] = {0};
        CHECK_EQ(fr_aead_open(&w, NULL, 0, b, 4, tag), FERRULE_R_INTERNAL);
        CHECK_EQ(fr_aead_seal(&r, NULL, 0, b, 4, tag), FERRULE_R_INTERNAL);
        /* Re-initialising keys afresh and resets the sequence. */
        CHECK_EQ(fr_aead_init(&w, all_suites[s], secret, 1), FR_OK);
        CHECK_EQ(w.seq, 0);
        fr_aead_free(&w);
        fr_aead_free(&r);
        CHECK(!fr_aead_active(&w));
        fr_aead_free(&w); /* idempotent */
    }
    fr_aead a = {0};
    uint8_t secret[FR_MAX_HASH] = {0};
    CHECK_EQ(fr_aead_init(&a, 0x1304, secret, 1), FERRULE_R_INTERNAL);
    CHECK(!fr_aead_active(&a));
}

/* Cross-check the nonce construction (RFC 8446 §5.3) and the ciphertext
 * against libsodium's independent implementations, at a sequence number
 * whose every byte is distinct. */
TEST(aead_nonce_matches_libsodium) {
    CHECK(sodium_init() >= 0);
    static const uint16_t suites[2] = {FERRULE_TLS_CHACHA20_POLY1305_SHA256,
                                       FERRULE_TLS_AES_256_GCM_SHA384};
    for (size_t s = 0; s < 2; s++) {
        if (suites[s] == FERRULE_TLS_AES_256_GCM_SHA384 && !crypto_aead_aes256gcm_is_available())
            continue;
        const fr_suite_info *info = fr_suite_lookup(suites[s]);
        uint8_t secret[FR_MAX_HASH], key[32], iv[12], nonce[12];
        secret_for(secret, 9);
        CHECK_EQ(fr_hkdf_expand_label(info->hash, secret, "key", NULL, 0, key, 32), FR_OK);
        CHECK_EQ(fr_hkdf_expand_label(info->hash, secret, "iv", NULL, 0, iv, 12), FR_OK);
        fr_aead a = {0};
        CHECK_EQ(fr_aead_init(&a, suites[s], secret, 1), FR_OK);
        a.seq = 0x0102030405060708ull;
        uint8_t msg[64], buf[64], tag[16], ref[64], reftag[16];
        uint8_t aad[5] = {23, 3, 3, 0, 80};
        for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (uint8_t)i;
        memcpy(buf, msg, sizeof(msg));
        CHECK_EQ(fr_aead_seal(&a, aad, 5, buf, sizeof(buf), tag), FR_OK);
        memcpy(nonce, iv, 12);
        for (size_t i = 0; i < 8; i++) nonce[4 + i] ^= (uint8_t)(i + 1);
        unsigned long long mlen = 0;
        if (s == 0)
            crypto_aead_chacha20poly1305_ietf_encrypt_detached(ref, reftag, &mlen, msg, sizeof(msg),
                                                               aad, 5, NULL, nonce, key);
        else
            crypto_aead_aes256gcm_encrypt_detached(ref, reftag, &mlen, msg, sizeof(msg), aad, 5,
                                                   NULL, nonce, key);
        CHECK_MEM(buf, ref, sizeof(ref));
        CHECK_MEM(tag, reftag, 16);
        fr_aead_free(&a);
    }
}

TEST(aead_tamper_is_bad_record_mac_and_wipes) {
    for (size_t s = 0; s < 3; s++) {
        uint8_t secret[FR_MAX_HASH];
        secret_for(secret, (uint8_t)(40 + s));
        for (int what = 0; what < 4; what++) {
            fr_aead w = {0}, r = {0};
            CHECK_EQ(fr_aead_init(&w, all_suites[s], secret, 1), FR_OK);
            CHECK_EQ(fr_aead_init(&r, all_suites[s], secret, 0), FR_OK);
            uint8_t buf[48], tag[16], aad[5] = {23, 3, 3, 0, 64};
            memset(buf, 0x5c, sizeof(buf));
            CHECK_EQ(fr_aead_seal(&w, aad, 5, buf, sizeof(buf), tag), FR_OK);
            if (what == 0) tag[15] ^= 0x01;
            if (what == 1) buf[0] ^= 0x80;
            if (what == 2) aad[4] ^= 0x01;
            if (what == 3) r.seq = 1; /* replayed / reordered record */
            CHECK_EQ(fr_aead_open(&r, aad, 5, buf, sizeof(buf), tag), FERRULE_R_BAD_RECORD_MAC);
            CHECK(all_zero(buf, sizeof(buf)));
            CHECK_NO_ERRQ();
            fr_aead_free(&w);
            fr_aead_free(&r);
        }
    }
    /* Wrong key entirely. */
    uint8_t s1[FR_MAX_HASH], s2[FR_MAX_HASH];
    secret_for(s1, 1);
    secret_for(s2, 2);
    fr_aead w = {0}, r = {0};
    CHECK_EQ(fr_aead_init(&w, FERRULE_TLS_AES_128_GCM_SHA256, s1, 1), FR_OK);
    CHECK_EQ(fr_aead_init(&r, FERRULE_TLS_AES_128_GCM_SHA256, s2, 0), FR_OK);
    uint8_t buf[16] = {1}, tag[16];
    CHECK_EQ(fr_aead_seal(&w, NULL, 0, buf, sizeof(buf), tag), FR_OK);
    CHECK_EQ(fr_aead_open(&r, NULL, 0, buf, sizeof(buf), tag), FERRULE_R_BAD_RECORD_MAC);
    fr_aead_free(&w);
    fr_aead_free(&r);
}

TEST(aead_sequence_exhaustion) {
    uint8_t secret[FR_MAX_HASH];
    secret_for(secret, 3);
    fr_aead w = {0}, r = {0};
    CHECK_EQ(fr_aead_init(&w, FERRULE_TLS_AES_128_GCM_SHA256, secret, 1), FR_OK);
    CHECK_EQ(fr_aead_init(&r, FERRULE_TLS_AES_128_GCM_SHA256, secret, 0), FR_OK);
    uint8_t buf[8] = {1, 2, 3}, tag[16];
    /* 2^64 - 2 is the last usable sequence number. */
    w.seq = UINT64_MAX - 1;
    r.seq = UINT64_MAX - 1;
    CHECK_EQ(fr_aead_seal(&w, NULL, 0, buf, sizeof(buf), tag), FR_OK);
    CHECK_EQ(fr_aead_open(&r, NULL, 0, buf, sizeof(buf), tag), FR_OK);
    CHECK(w.seq == UINT64_MAX && r.seq == UINT64_MAX);
    CHECK_EQ(fr_aead_seal(&w, NULL, 0, buf, sizeof(buf), tag), FERRULE_R_SEQUENCE_EXHAUSTED);
    CHECK_EQ(fr_aead_open(&r, NULL, 0, buf, sizeof(buf), tag), FERRULE_R_SEQUENCE_EXHAUSTED);
    CHECK(w.seq == UINT64_MAX); /* never wraps to 0 */
    fr_aead_free(&w);
    fr_aead_free(&r);
}

/* ---- (EC)DHE -------------------------------------------------------------------- */

static const uint16_t all_groups[] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1,
                                      FERRULE_GROUP_SECP384R1};

TEST(kex_all_groups_agree) {
    static const size_t pub_lens[] = {32, 65, 97};
    static const size_t ss_lens[] = {32, 32, 48};
    for (size_t g = 0; g < 3; g++) {
        CHECK(fr_group_supported(all_groups[g], 0));
        fr_kex a = {0}, b = {0};
        uint8_t pa[FR_KEX_MAX_PUB], pb[FR_KEX_MAX_PUB], sa[FR_KEX_MAX_SECRET],
            sb[FR_KEX_MAX_SECRET];
        size_t la = 0, lb = 0, na = 0, nb = 0;
        CHECK_EQ(fr_kex_generate(&a, all_groups[g], pa, sizeof(pa), &la), FR_OK);
        CHECK_EQ(fr_kex_generate(&b, all_groups[g], pb, sizeof(pb), &lb), FR_OK);
        CHECK_EQ(la, pub_lens[g]);
        CHECK_EQ(lb, pub_lens[g]);
        if (g > 0) CHECK(pa[0] == 0x04 && pb[0] == 0x04);
        CHECK(memcmp(pa, pb, la) != 0);
        CHECK_EQ(fr_kex_derive(&a, pb, lb, sa, sizeof(sa), &na), FR_OK);
        CHECK_EQ(fr_kex_derive(&b, pa, la, sb, sizeof(sb), &nb), FR_OK);
        CHECK_EQ(na, ss_lens[g]);
        CHECK_EQ(nb, ss_lens[g]);
        CHECK_MEM(sa, sb, na);
        CHECK(!all_zero(sa, na));
        /* Too small an output buffer. */
        CHECK_EQ(fr_kex_derive(&a, pb, lb, sa, ss_lens[g] - 1, &na), FERRULE_R_BUFFER_TOO_SMALL);
        CHECK_EQ(fr_kex_generate(&a, all_groups[g], pa, pub_lens[g] - 1, &la),
                 FERRULE_R_BUFFER_TOO_SMALL);
        CHECK(a.group == 0); /* no key kept */
        fr_kex_free(&a);
        fr_kex_free(&b);
        fr_kex_free(&b); /* idempotent */
    }
    CHECK(!fr_group_supported(0x0019, 1)); /* secp521r1 */
    CHECK(!fr_group_supported(0x001e, 1)); /* x448 */
    fr_kex k = {0};
    uint8_t pub[FR_KEX_MAX_PUB], ss[FR_KEX_MAX_SECRET];
    size_t n;
    CHECK_EQ(fr_kex_generate(&k, 0x0019, pub, sizeof(pub), &n), FERRULE_R_INTERNAL);
    CHECK_EQ(fr_kex_derive(&k, pub, 32, ss, sizeof(ss), &n), FERRULE_R_INTERNAL);
}

TEST(kex_x25519_rfc7748) {
    /* RFC 7748 §6.1 */
    fr_kex a = {0};
    uint8_t pub[FR_KEX_MAX_PUB], ss[FR_KEX_MAX_SECRET];
    size_t n, pn, sn;
    const uint8_t *priv =
        hx("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", &n);
    CHECK_EQ(fr_kex_from_private(&a, FERRULE_GROUP_X25519, priv, n, pub, sizeof(pub), &pn), FR_OK);
    CHECK_HEX(pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", pn);
    const uint8_t *bob = hx("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", &n);
    CHECK_EQ(fr_kex_derive(&a, bob, n, ss, sizeof(ss), &sn), FR_OK);
    CHECK_HEX(ss, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", sn);
    fr_kex_free(&a);
    pool_free();
}

TEST(kex_bad_shares_rejected) {
    /* X25519: wrong lengths and low-order points giving an all-zero secret
     * (RFC 8446 §7.4.2, RFC 7748 §6.1). */
    fr_kex x = {0};
    uint8_t pub[FR_KEX_MAX_PUB], ss[FR_KEX_MAX_SECRET], peer[FR_KEX_MAX_PUB + 1];
    size_t n = 0, sn = 0;
    CHECK_EQ(fr_kex_generate(&x, FERRULE_GROUP_X25519, pub, sizeof(pub), &n), FR_OK);
    CHECK_EQ(fr_kex_derive(&x, pub, 31, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
    memcpy(peer, pub, 32);
    peer[32] = 0;
    CHECK_EQ(fr_kex_derive(&x, peer, 33, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
    CHECK_EQ(fr_kex_derive(&x, peer, 0, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
    static const char *low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
        size_t ln;
        const uint8_t *lo = hx(low_order[i], &ln);
        memset(ss, 0x77, sizeof(ss));
        CHECK_EQ(fr_kex_derive(&x, lo, ln, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
        CHECK(all_zero(ss, sizeof(ss)));
        CHECK_NO_ERRQ();
    }
    /* The private scalar lives in the struct: freeing wipes it, and a
     * freed key derives nothing. */
    CHECK(!all_zero(x.k.x25519, sizeof(x.k.x25519)));
    fr_kex_free(&x);
    CHECK(all_zero(x.k.x25519, sizeof(x.k.x25519)));
    CHECK_EQ(fr_kex_derive(&x, pub, 32, ss, sizeof(ss), &sn), FERRULE_R_INTERNAL);

    /* NIST curves. */
    static const size_t lens[] = {65, 97};
    for (size_t g = 0; g < 2; g++) {
        fr_kex k = {0}, other = {0};
        uint16_t group = all_groups[g + 1];
        size_t L = lens[g];
        CHECK_EQ(fr_kex_generate(&k, group, pub, sizeof(pub), &n), FR_OK);
        CHECK_EQ(fr_kex_generate(&other, group, peer, sizeof(peer), &n), FR_OK);
        CHECK_EQ(fr_kex_derive(&k, peer, L, ss, sizeof(ss), &sn), FR_OK); /* sanity */
        /* Wrong lengths. */
        CHECK_EQ(fr_kex_derive(&k, peer, L - 1, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
        CHECK_EQ(fr_kex_derive(&k, peer, 32, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
        /* The other curve's share. */
        CHECK_EQ(fr_kex_derive(&k, pub, lens[1 - g], ss, sizeof(ss), &sn),
                 FERRULE_R_BAD_KEY_SHARE);
        /* Compressed form: correct compressed length and padded to full. */
        uint8_t comp[FR_KEX_MAX_PUB + 1];
        comp[0] = (uint8_t)(0x02 | (peer[L - 1] & 1));
        memcpy(comp + 1, peer + 1, (L - 1) / 2);
        CHECK_EQ(fr_kex_derive(&k, comp, 1 + (L - 1) / 2, ss, sizeof(ss), &sn),
                 FERRULE_R_BAD_KEY_SHARE);
        memcpy(comp, peer, L);
        comp[0] = 0x02;
        CHECK_EQ(fr_kex_derive(&k, comp, L, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
        comp[0] = 0x06; /* hybrid form */
        CHECK_EQ(fr_kex_derive(&k, comp, L, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
        /* Point not on the curve: perturb y. */
        memcpy(comp, peer, L);
        comp[L - 1] ^= 0x01;
        CHECK_EQ(fr_kex_derive(&k, comp, L, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
        /* (0, 0) and all-0xff coordinates. */
        memset(comp, 0, L);
        comp[0] = 0x04;
        CHECK_EQ(fr_kex_derive(&k, comp, L, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
        memset(comp + 1, 0xff, L - 1);
        CHECK_EQ(fr_kex_derive(&k, comp, L, ss, sizeof(ss), &sn), FERRULE_R_BAD_KEY_SHARE);
        CHECK_NO_ERRQ();
        fr_kex_free(&k);
        fr_kex_free(&other);
    }
    pool_free();
}

/* ---- signatures --------------------------------------------------------------- */

typedef struct keyset {
    EVP_PKEY *p256, *p384, *p521, *rsa, *rsa_pss, *ed25519, *rsa1024, *x25519;
} keyset;

static keyset keys;
static void keys_free(void);

/* id-RSASSA-PSS key without parameter restrictions. */
static EVP_PKEY *rsa_pss_keygen(unsigned bits) {
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    EVP_PKEY *k = NULL;
    if (c == NULL || EVP_PKEY_keygen_init(c) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits) != 1 || EVP_PKEY_generate(c, &k) != 1)
        k = NULL;
    EVP_PKEY_CTX_free(c);
    return k;
}

/* Generated once per run (RSA generation is slow), freed at exit. */
static void keys_load(void) {
    if (keys.p256 != NULL) return;
    atexit(keys_free);
    keys.p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    keys.p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    keys.p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    keys.rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    keys.rsa_pss = rsa_pss_keygen(2048);
    keys.ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    keys.rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    keys.x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
}

static void keys_free(void) {
    EVP_PKEY **all[] = {&keys.p256, &keys.p384,    &keys.p521,    &keys.rsa,
                        &keys.rsa_pss, &keys.ed25519, &keys.rsa1024, &keys.x25519};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        EVP_PKEY_free(*all[i]);
        *all[i] = NULL;
    }
}

TEST(pkey_type_and_bits) {
    keys_load();
    CHECK(keys.p256 && keys.p384 && keys.p521 && keys.rsa && keys.rsa_pss && keys.ed25519 &&
          keys.rsa1024 && keys.x25519);
    CHECK_EQ(fr_pkey_type(keys.p256), FR_KEYTYPE_EC_P256);
    CHECK_EQ(fr_pkey_type(keys.p384), FR_KEYTYPE_EC_P384);
    CHECK_EQ(fr_pkey_type(keys.p521), FR_KEYTYPE_OTHER);
    CHECK_EQ(fr_pkey_type(keys.rsa), FR_KEYTYPE_RSA);
    CHECK_EQ(fr_pkey_type(keys.rsa_pss), FR_KEYTYPE_RSA_PSS);
    CHECK_EQ(fr_pkey_type(keys.ed25519), FR_KEYTYPE_ED25519);
    CHECK_EQ(fr_pkey_type(keys.x25519), FR_KEYTYPE_OTHER);
    CHECK_EQ(fr_pkey_type(NULL), FR_KEYTYPE_OTHER);
    CHECK_EQ(fr_pkey_bits(keys.p256), 256);
    CHECK_EQ(fr_pkey_bits(keys.p384), 384);
    CHECK_EQ(fr_pkey_bits(keys.rsa), 2048);
    CHECK_EQ(fr_pkey_bits(keys.rsa_pss), 2048);
    CHECK_EQ(fr_pkey_bits(keys.rsa1024), 1024);
    CHECK_EQ(fr_pkey_bits(NULL), 0);
    CHECK_NO_ERRQ();
}

typedef struct scheme_case {
    uint16_t scheme;
    EVP_PKEY **key;
    EVP_PKEY **wrong; /* a key that must not be accepted for this scheme */
} scheme_case;

TEST(sig_sign_verify_every_scheme) {
    keys_load();
    const scheme_case cases[] = {
        {FERRULE_SIG_ECDSA_SECP256R1_SHA256, &keys.p256, &keys.p384},
        {FERRULE_SIG_ECDSA_SECP384R1_SHA384, &keys.p384, &keys.p256},
        {FERRULE_SIG_RSA_PSS_RSAE_SHA256, &keys.rsa, &keys.rsa_pss},
        {FERRULE_SIG_RSA_PSS_RSAE_SHA384, &keys.rsa, &keys.p256},
        {FERRULE_SIG_RSA_PSS_RSAE_SHA512, &keys.rsa, &keys.ed25519},
        {FERRULE_SIG_RSA_PSS_PSS_SHA256, &keys.rsa_pss, &keys.rsa},
        {FERRULE_SIG_RSA_PSS_PSS_SHA384, &keys.rsa_pss, &keys.rsa},
        {FERRULE_SIG_RSA_PSS_PSS_SHA512, &keys.rsa_pss, &keys.p384},
        {FERRULE_SIG_ED25519, &keys.ed25519, &keys.p256},
        {FERRULE_SIG_RSA_PKCS1_SHA256, &keys.rsa, &keys.rsa_pss},
        {FERRULE_SIG_RSA_PKCS1_SHA384, &keys.rsa, &keys.p384},
        {FERRULE_SIG_RSA_PKCS1_SHA512, &keys.rsa, &keys.ed25519},
    };
    uint8_t msg[130];
    memset(msg, 0x20, 64);
    memcpy(msg + 64, "TLS 1.3, server CertificateVerify", 34);
    memset(msg + 98, 0xab, 32);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const scheme_case *c = &cases[i];
        uint8_t sig[512];
        size_t sig_len = 0;
        CHECK(fr_sig_key_matches(*c->key, c->scheme));
        CHECK(!fr_sig_key_matches(*c->wrong, c->scheme));
        CHECK_EQ(fr_sig_sign(*c->key, c->scheme, msg, sizeof(msg), sig, sizeof(sig), &sig_len),
                 FR_OK);
        CHECK(sig_len > 0);
        CHECK_EQ(fr_sig_verify(*c->key, c->scheme, msg, sizeof(msg), sig, sig_len), FR_OK);
        /* A flipped bit anywhere in the signature, or in the message. */
        sig[sig_len / 2] ^= 0x04;
        CHECK_EQ(fr_sig_verify(*c->key, c->scheme, msg, sizeof(msg), sig, sig_len),
                 FERRULE_R_BAD_SIGNATURE);
        sig[sig_len / 2] ^= 0x04;
        msg[0] ^= 1;
        CHECK_EQ(fr_sig_verify(*c->key, c->scheme, msg, sizeof(msg), sig, sig_len),
                 FERRULE_R_BAD_SIGNATURE);
        msg[0] ^= 1;
        /* Truncated / empty / trailing byte. */
        CHECK_EQ(fr_sig_verify(*c->key, c->scheme, msg, sizeof(msg), sig, sig_len - 1),
                 FERRULE_R_BAD_SIGNATURE);
        CHECK_EQ(fr_sig_verify(*c->key, c->scheme, msg, sizeof(msg), sig, 0),
                 FERRULE_R_BAD_SIGNATURE);
        sig[sig_len] = 0;
        CHECK_EQ(fr_sig_verify(*c->key, c->scheme, msg, sizeof(msg), sig, sig_len + 1),
                 FERRULE_R_BAD_SIGNATURE);
        /* Scheme not matching the key. */
        CHECK_EQ(fr_sig_verify(*c->wrong, c->scheme, msg, sizeof(msg), sig, sig_len),
                 FERRULE_R_ILLEGAL_PARAMETER);
        CHECK_EQ(fr_sig_sign(*c->wrong, c->scheme, msg, sizeof(msg), sig, sizeof(sig), &sig_len),
                 FERRULE_R_ILLEGAL_PARAMETER);
        /* Output buffer too small. */
        CHECK_EQ(fr_sig_sign(*c->key, c->scheme, msg, sizeof(msg), sig, 8, &sig_len),
                 FERRULE_R_BUFFER_TOO_SMALL);
        CHECK_NO_ERRQ();
        if (tl_failures_in_test) fprintf(stderr, "  (scheme 0x%04x)\n", c->scheme);
    }
    /* Unknown schemes. */
    uint8_t sig[8] = {0};
    size_t n;
    CHECK_EQ(fr_sig_verify(keys.p256, 0x0203, msg, 1, sig, 8), FERRULE_R_ILLEGAL_PARAMETER);
    CHECK_EQ(fr_sig_sign(keys.p256, 0x0203, msg, 1, sig, 8, &n), FERRULE_R_ILLEGAL_PARAMETER);
    CHECK(!fr_sig_key_matches(keys.p256, 0x0203));
    CHECK(!fr_sig_key_matches(keys.p521, 0x0603)); /* ecdsa_secp521r1: not offered */
    CHECK(!fr_sig_key_matches(NULL, FERRULE_SIG_ED25519));
    CHECK_EQ(fr_sig_verify(NULL, FERRULE_SIG_ED25519, msg, 1, sig, 8),
             FERRULE_R_ILLEGAL_PARAMETER);
}

/* An id-RSASSA-PSS key whose parameters pin the hash and MGF1 hash. */
static EVP_PKEY *restricted_pss_key(const char *md, const char *mgf1) {
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    EVP_PKEY *k = NULL;
    if (c == NULL || EVP_PKEY_keygen_init(c) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_keygen_md_name(c, md, NULL) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_keygen_mgf1_md_name(c, mgf1) != 1 ||
        EVP_PKEY_generate(c, &k) != 1)
        k = NULL;
    EVP_PKEY_CTX_free(c);
    return k;
}

TEST(sig_rsa_pss_key_parameters) {
    EVP_PKEY *k = restricted_pss_key("SHA256", "SHA256");
    CHECK(k != NULL);
    static const uint8_t msg[] = "m";
    uint8_t sig[512];
    size_t n = 0;
    CHECK(fr_sig_key_matches(k, FERRULE_SIG_RSA_PSS_PSS_SHA256));
    CHECK(!fr_sig_key_matches(k, FERRULE_SIG_RSA_PSS_PSS_SHA384));
    CHECK(!fr_sig_key_matches(k, FERRULE_SIG_RSA_PSS_PSS_SHA512));
    CHECK_EQ(fr_sig_sign(k, FERRULE_SIG_RSA_PSS_PSS_SHA256, msg, 1, sig, sizeof(sig), &n), FR_OK);
    CHECK_EQ(fr_sig_verify(k, FERRULE_SIG_RSA_PSS_PSS_SHA256, msg, 1, sig, n), FR_OK);
    CHECK_EQ(fr_sig_sign(k, FERRULE_SIG_RSA_PSS_PSS_SHA384, msg, 1, sig, sizeof(sig), &n),
             FERRULE_R_ILLEGAL_PARAMETER);
    CHECK_EQ(fr_sig_verify(k, FERRULE_SIG_RSA_PSS_PSS_SHA384, msg, 1, sig, n),
             FERRULE_R_ILLEGAL_PARAMETER);
    CHECK_NO_ERRQ();
    EVP_PKEY_free(k);
    /* MGF1 pinned to SHA-1: unusable with any TLS scheme. */
    k = restricted_pss_key("SHA256", "SHA1");
    CHECK(k != NULL);
    CHECK(!fr_sig_key_matches(k, FERRULE_SIG_RSA_PSS_PSS_SHA256));
    CHECK_EQ(fr_sig_sign(k, FERRULE_SIG_RSA_PSS_PSS_SHA256, msg, 1, sig, sizeof(sig), &n),
             FERRULE_R_ILLEGAL_PARAMETER);
    CHECK_NO_ERRQ();
    EVP_PKEY_free(k);
}

/* Sign with raw libcrypto using explicit PSS parameters. */
static size_t pss_sign_raw(EVP_PKEY *key, const char *md, const char *mgf1, int saltlen,
                           const uint8_t *msg, size_t n, uint8_t *sig, size_t cap) {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    size_t len = cap;
    int ok = EVP_DigestSignInit_ex(m, &p, md, NULL, NULL, key, NULL) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(p, saltlen) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md_name(p, mgf1, NULL) == 1 &&
             EVP_DigestSign(m, sig, &len, msg, n) == 1;
    EVP_MD_CTX_free(m);
    return ok ? len : 0;
}

TEST(sig_rsa_pss_parameters_enforced) {
    /* RFC 8446 §4.2.3: salt length = digest length, MGF1 with the same hash. */
    keys_load();
    static const uint8_t msg[] = "content";
    uint8_t sig[512];
    size_t n = pss_sign_raw(keys.rsa, "SHA256", "SHA256", 32, msg, sizeof(msg), sig, sizeof(sig));
    CHECK(n == 256);
    CHECK_EQ(fr_sig_verify(keys.rsa, FERRULE_SIG_RSA_PSS_RSAE_SHA256, msg, sizeof(msg), sig, n),
             FR_OK);
    /* The same signature is not valid under a different hash. */
    CHECK_EQ(fr_sig_verify(keys.rsa, FERRULE_SIG_RSA_PSS_RSAE_SHA384, msg, sizeof(msg), sig, n),
             FERRULE_R_BAD_SIGNATURE);
    CHECK_EQ(fr_sig_verify(keys.rsa, FERRULE_SIG_RSA_PKCS1_SHA256, msg, sizeof(msg), sig, n),
             FERRULE_R_BAD_SIGNATURE);
    n = pss_sign_raw(keys.rsa, "SHA256", "SHA256", 0, msg, sizeof(msg), sig, sizeof(sig));
    CHECK(n == 256);
    CHECK_EQ(fr_sig_verify(keys.rsa, FERRULE_SIG_RSA_PSS_RSAE_SHA256, msg, sizeof(msg), sig, n),
             FERRULE_R_BAD_SIGNATURE);
    n = pss_sign_raw(keys.rsa, "SHA256", "SHA1", 32, msg, sizeof(msg), sig, sizeof(sig));
    CHECK(n == 256);
    CHECK_EQ(fr_sig_verify(keys.rsa, FERRULE_SIG_RSA_PSS_RSAE_SHA256, msg, sizeof(msg), sig, n),
             FERRULE_R_BAD_SIGNATURE);
    CHECK_NO_ERRQ();
}

TEST(sig_ed25519_interop_with_libcrypto) {
    keys_load();
    /* RFC 8032 §7.1 TEST 1 (empty message). */
    size_t n;
    const uint8_t *seed =
        hx("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", &n);
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, seed, n);
    CHECK(k != NULL);
    uint8_t sig[64];
    size_t sl = 0;
    CHECK_EQ(fr_sig_sign(k, FERRULE_SIG_ED25519, (const uint8_t *)"", 0, sig, sizeof(sig), &sl),
             FR_OK);
    CHECK_HEX(sig,
              "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
              "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
              sl);
    CHECK_EQ(fr_sig_verify(k, FERRULE_SIG_ED25519, (const uint8_t *)"", 0, sig, sl), FR_OK);
    EVP_PKEY_free(k);

    /* libcrypto signs, we verify (and vice versa). */
    static const uint8_t msg[] = "interop";
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    sl = sizeof(sig);
    CHECK(EVP_DigestSignInit_ex(m, NULL, NULL, NULL, NULL, keys.ed25519, NULL) == 1 &&
          EVP_DigestSign(m, sig, &sl, msg, sizeof(msg)) == 1);
    EVP_MD_CTX_free(m);
    CHECK_EQ(fr_sig_verify(keys.ed25519, FERRULE_SIG_ED25519, msg, sizeof(msg), sig, sl), FR_OK);
    CHECK_EQ(fr_sig_sign(keys.ed25519, FERRULE_SIG_ED25519, msg, sizeof(msg), sig, sizeof(sig),
                         &sl),
             FR_OK);
    m = EVP_MD_CTX_new();
    CHECK(EVP_DigestVerifyInit_ex(m, NULL, NULL, NULL, NULL, keys.ed25519, NULL) == 1 &&
          EVP_DigestVerify(m, sig, sl, msg, sizeof(msg)) == 1);
    EVP_MD_CTX_free(m);
    /* Non-canonical S (S + L) must be rejected. */
    static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                  0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                  0,    0,    0,    0,    0,    0,    0,    0,
                                  0,    0,    0,    0,    0,    0,    0,    0x10};
    unsigned carry = 0;
    for (size_t i = 0; i < 32; i++) {
        unsigned v = sig[32 + i] + L[i] + carry;
        sig[32 + i] = (uint8_t)v;
        carry = v >> 8;
    }
    CHECK_EQ(fr_sig_verify(keys.ed25519, FERRULE_SIG_ED25519, msg, sizeof(msg), sig, sl),
             FERRULE_R_BAD_SIGNATURE);
    pool_free();
}

/* Sign with raw libcrypto (any digest) for the X.509 path. */
static size_t raw_sign(EVP_PKEY *key, const char *md, int pkcs1, const uint8_t *msg, size_t n,
                       uint8_t *sig, size_t cap) {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    size_t len = cap;
    int ok = EVP_DigestSignInit_ex(m, &p, md, NULL, NULL, key, NULL) == 1 &&
             (!pkcs1 || EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PADDING) == 1) &&
             EVP_DigestSign(m, sig, &len, msg, n) == 1;
    EVP_MD_CTX_free(m);
    return ok ? len : 0;
}

TEST(sig_verify_x509) {
    keys_load();
    static const uint8_t tbs[] = "tbsCertificate bytes";
    uint8_t sig[512];
    size_t n;
    /* ECDSA: any curve with any hash. */
    n = raw_sign(keys.p384, "SHA256", 0, tbs, sizeof(tbs), sig, sizeof(sig));
    CHECK_EQ(fr_sig_verify_x509(keys.p384, FR_SIGKIND_ECDSA, FR_HASH_SHA256, tbs, sizeof(tbs), sig,
                                n),
             FR_OK);
    CHECK_EQ(fr_sig_verify_x509(keys.p384, FR_SIGKIND_ECDSA, FR_HASH_SHA384, tbs, sizeof(tbs), sig,
                                n),
             FERRULE_R_CERT_BAD_SIGNATURE);
    n = raw_sign(keys.p521, "SHA512", 0, tbs, sizeof(tbs), sig, sizeof(sig));
    CHECK_EQ(fr_sig_verify_x509(keys.p521, FR_SIGKIND_ECDSA, FR_HASH_SHA512, tbs, sizeof(tbs), sig,
                                n),
             FR_OK);
    sig[n - 1] ^= 1;
    CHECK_EQ(fr_sig_verify_x509(keys.p521, FR_SIGKIND_ECDSA, FR_HASH_SHA512, tbs, sizeof(tbs), sig,
                                n),
             FERRULE_R_CERT_BAD_SIGNATURE);
    /* RSA PKCS#1 v1.5 */
    n = raw_sign(keys.rsa, "SHA256", 1, tbs, sizeof(tbs), sig, sizeof(sig));
    CHECK_EQ(fr_sig_verify_x509(keys.rsa, FR_SIGKIND_RSA_PKCS1, FR_HASH_SHA256, tbs, sizeof(tbs),
                                sig, n),
             FR_OK);
    CHECK_EQ(fr_sig_verify_x509(keys.rsa, FR_SIGKIND_RSA_PSS, FR_HASH_SHA256, tbs, sizeof(tbs),
                                sig, n),
             FERRULE_R_CERT_BAD_SIGNATURE);
    /* RSA-PSS with both key types. */
    n = pss_sign_raw(keys.rsa, "SHA384", "SHA384", 48, tbs, sizeof(tbs), sig, sizeof(sig));
    CHECK_EQ(fr_sig_verify_x509(keys.rsa, FR_SIGKIND_RSA_PSS, FR_HASH_SHA384, tbs, sizeof(tbs),
                                sig, n),
             FR_OK);
    n = pss_sign_raw(keys.rsa_pss, "SHA256", "SHA256", 32, tbs, sizeof(tbs), sig, sizeof(sig));
    CHECK_EQ(fr_sig_verify_x509(keys.rsa_pss, FR_SIGKIND_RSA_PSS, FR_HASH_SHA256, tbs, sizeof(tbs),
                                sig, n),
             FR_OK);
    /* A PSS-only key cannot carry a PKCS#1 v1.5 signature. */
    CHECK_EQ(fr_sig_verify_x509(keys.rsa_pss, FR_SIGKIND_RSA_PKCS1, FR_HASH_SHA256, tbs,
                                sizeof(tbs), sig, n),
             FERRULE_R_CERT_BAD_SIGNATURE);
    /* Ed25519 */
    CHECK_EQ(fr_sig_sign(keys.ed25519, FERRULE_SIG_ED25519, tbs, sizeof(tbs), sig, sizeof(sig),
                         &n),
             FR_OK);
    CHECK_EQ(fr_sig_verify_x509(keys.ed25519, FR_SIGKIND_ED25519, 0, tbs, sizeof(tbs), sig, n),
             FR_OK);
    /* Kind not matching the key. */
    CHECK_EQ(fr_sig_verify_x509(keys.ed25519, FR_SIGKIND_ECDSA, FR_HASH_SHA256, tbs, sizeof(tbs),
                                sig, n),
             FERRULE_R_CERT_BAD_SIGNATURE);
    CHECK_EQ(fr_sig_verify_x509(keys.p256, FR_SIGKIND_ED25519, 0, tbs, sizeof(tbs), sig, n),
             FERRULE_R_CERT_BAD_SIGNATURE);
    CHECK_EQ(fr_sig_verify_x509(keys.p256, FR_SIGKIND_RSA_PKCS1, FR_HASH_SHA256, tbs, sizeof(tbs),
                                sig, n),
             FERRULE_R_CERT_BAD_SIGNATURE);
    CHECK_EQ(fr_sig_verify_x509(keys.p256, 99, FR_HASH_SHA256, tbs, sizeof(tbs), sig, n),
             FERRULE_R_CERT_UNSUPPORTED);
    CHECK_EQ(fr_sig_verify_x509(NULL, FR_SIGKIND_ECDSA, FR_HASH_SHA256, tbs, sizeof(tbs), sig, n),
             FERRULE_R_CERT_BAD_SIGNATURE);
    CHECK_NO_ERRQ();
}

TEST(sig_weak_rsa_refused) {
    keys_load();
    static const uint8_t msg[] = "m";
    uint8_t sig[512];
    size_t n = raw_sign(keys.rsa1024, "SHA256", 1, msg, sizeof(msg), sig, sizeof(sig));
    CHECK(n == 128);
    CHECK_EQ(fr_sig_verify_x509(keys.rsa1024, FR_SIGKIND_RSA_PKCS1, FR_HASH_SHA256, msg,
                                sizeof(msg), sig, n),
             FERRULE_R_CERT_WEAK_KEY);
    n = pss_sign_raw(keys.rsa1024, "SHA256", "SHA256", 32, msg, sizeof(msg), sig, sizeof(sig));
    CHECK(n == 128);
    CHECK_EQ(fr_sig_verify(keys.rsa1024, FERRULE_SIG_RSA_PSS_RSAE_SHA256, msg, sizeof(msg), sig,
                           n),
             FERRULE_R_ILLEGAL_PARAMETER);
    CHECK_NO_ERRQ();
}

/* ---- keys ------------------------------------------------------------------------ */

/* PEM-encode a private key (PKCS#8, or traditional, optionally encrypted). */
static char *to_pem(EVP_PKEY *k, int traditional, int encrypt, size_t *len) {
    BIO *b = BIO_new(BIO_s_mem());
    int ok;
    if (encrypt)
        ok = PEM_write_bio_PrivateKey(b, k, EVP_aes_128_cbc(), (unsigned char *)"pw", 2, NULL,
                                      NULL);
    else if (traditional)
        ok = PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL);
    else
        ok = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *copy = NULL;
    *len = 0;
    if (ok == 1 && n > 0) {
        copy = malloc((size_t)n + 1); /* NUL-terminated for strstr */
        memcpy(copy, data, (size_t)n);
        copy[n] = '\0';
        *len = (size_t)n;
    }
    BIO_free(b);
    return copy;
}

/* DER SubjectPublicKeyInfo of a key. */
static uint8_t *to_spki(EVP_PKEY *k, size_t *len) {
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    *len = n > 0 ? (size_t)n : 0;
    return der;
}

TEST(pkey_pem_parsing) {
    keys_load();
    EVP_PKEY *all[] = {keys.p256, keys.p384, keys.rsa, keys.rsa_pss, keys.ed25519};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        /* Traditional ("BEGIN EC/RSA PRIVATE KEY") exists only for those. */
        int has_trad = fr_pkey_type(all[i]) != FR_KEYTYPE_ED25519 &&
                       fr_pkey_type(all[i]) != FR_KEYTYPE_RSA_PSS;
        for (int trad = 0; trad <= has_trad; trad++) {
            size_t n;
            char *pem = to_pem(all[i], trad, 0, &n);
            CHECK(pem != NULL);
            if (pem == NULL) continue;
            EVP_PKEY *k = NULL;
            CHECK_EQ(fr_pkey_from_pem((const uint8_t *)pem, n, &k), FR_OK);
            CHECK_EQ(fr_pkey_type(k), fr_pkey_type(all[i]));
            CHECK(fr_pkey_pair_matches(k, all[i]));
            /* Truncated: the END line is missing. */
            EVP_PKEY *bad = (EVP_PKEY *)&bad;
            CHECK_EQ(fr_pkey_from_pem((const uint8_t *)pem, n - 30, &bad),
                     FERRULE_R_CONFIG_INVALID);
            CHECK(bad == NULL);
            /* Corrupted base64 body. */
            pem[40] = pem[40] == 'A' ? 'B' : 'A';
            pem[41] = '*';
            CHECK_EQ(fr_pkey_from_pem((const uint8_t *)pem, n, &bad), FERRULE_R_CONFIG_INVALID);
            fr_pkey_free(k);
            free(pem);
            CHECK_NO_ERRQ();
        }
    }
    /* Encrypted keys are refused without prompting. */
    size_t n;
    char *pem = to_pem(keys.p256, 0, 1, &n);
    CHECK(pem != NULL && strstr(pem, "ENCRYPTED") != NULL);
    EVP_PKEY *k = NULL;
    CHECK_EQ(fr_pkey_from_pem((const uint8_t *)pem, n, &k), FERRULE_R_CONFIG_INVALID);
    free(pem);
    /* Garbage, empty, a public key / certificate instead of a private key. */
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    CHECK_EQ(fr_pkey_from_pem((const uint8_t *)garbage, strlen(garbage), &k),
             FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(fr_pkey_from_pem((const uint8_t *)"hello", 5, &k), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(fr_pkey_from_pem((const uint8_t *)"", 0, &k), FERRULE_R_CONFIG_INVALID);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, keys.p256);
    char *data = NULL;
    long bn = BIO_get_mem_data(b, &data);
    CHECK_EQ(fr_pkey_from_pem((const uint8_t *)data, (size_t)bn, &k), FERRULE_R_CONFIG_INVALID);
    BIO_free(b);
    CHECK(k == NULL);
    CHECK_NO_ERRQ();

    /* Mismatched pairs. */
    CHECK(!fr_pkey_pair_matches(keys.p256, keys.p384));
    CHECK(!fr_pkey_pair_matches(keys.rsa, keys.rsa_pss));
    CHECK(!fr_pkey_pair_matches(keys.p256, NULL));
    EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    CHECK(!fr_pkey_pair_matches(other, keys.p256));
    EVP_PKEY_free(other);
    CHECK_NO_ERRQ();
}

TEST(pkey_test_pki_keys) {
    /* When run under ctest, the generated PKI's leaf keys load as the
     * expected types.  Without FERRULE_TEST_PKI there is nothing to load. */
    const char *dir = getenv("FERRULE_TEST_PKI");
    if (dir == NULL) return;
    static const struct {
        const char *file;
        int type;
    } want[] = {{"ecdsa-p256.key", FR_KEYTYPE_EC_P256}, {"ecdsa-p384.key", FR_KEYTYPE_EC_P384},
                {"rsa.key", FR_KEYTYPE_RSA},           {"rsa-pss.key", FR_KEYTYPE_RSA_PSS},
                {"ed25519.key", FR_KEYTYPE_ED25519}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, want[i].file);
        FILE *f = fopen(path, "rb");
        CHECK(f != NULL);
        if (f == NULL) continue;
        static uint8_t buf[16384];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        EVP_PKEY *k = NULL;
        CHECK_EQ(fr_pkey_from_pem(buf, n, &k), FR_OK);
        CHECK_EQ(fr_pkey_type(k), want[i].type);
        fr_pkey_free(k);
    }
}

TEST(pkey_spki_parsing) {
    keys_load();
    EVP_PKEY *all[] = {keys.p256, keys.p384, keys.p521, keys.rsa, keys.rsa_pss, keys.ed25519};
    const int fam[] = {FR_SPKI_EC,  FR_SPKI_EC,      FR_SPKI_EC,
                       FR_SPKI_RSA, FR_SPKI_RSA_PSS, FR_SPKI_ED25519};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        size_t n;
        uint8_t *der = to_spki(all[i], &n);
        CHECK(der != NULL && n > 0);
        EVP_PKEY *k = NULL;
        /* Only the family the caller checked the algorithm for; nothing
         * at all without one. */
        CHECK_EQ(fr_pkey_from_spki(der, n, 0, &k), FERRULE_R_CERT_UNSUPPORTED);
        CHECK(k == NULL);
        int other = fam[i] == FR_SPKI_EC ? FR_SPKI_ED25519 : FR_SPKI_EC;
        CHECK_EQ(fr_pkey_from_spki(der, n, other, &k), FERRULE_R_CERT_MALFORMED);
        CHECK(k == NULL);
        CHECK_EQ(fr_pkey_from_spki(der, n, fam[i], &k), FR_OK);
        CHECK_EQ(fr_pkey_type(k), fr_pkey_type(all[i]));
        CHECK(fr_pkey_pair_matches(all[i], k));
        CHECK_EQ(fr_pkey_bits(k), fr_pkey_bits(all[i]));
        fr_pkey_free(k);
        /* Truncated, trailing garbage. */
        CHECK_EQ(fr_pkey_from_spki(der, n - 1, fam[i], &k), FERRULE_R_CERT_MALFORMED);
        CHECK(k == NULL);
        uint8_t *longer = malloc(n + 1);
        memcpy(longer, der, n);
        longer[n] = 0;
        CHECK_EQ(fr_pkey_from_spki(longer, n + 1, fam[i], &k), FERRULE_R_CERT_MALFORMED);
        free(longer);
        OPENSSL_free(der);
        CHECK_NO_ERRQ();
    }
    EVP_PKEY *k = NULL;
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    CHECK_EQ(fr_pkey_from_spki(junk, sizeof(junk), FR_SPKI_EC, &k), FERRULE_R_CERT_MALFORMED);
    CHECK_EQ(fr_pkey_from_spki(junk, 0, FR_SPKI_EC, &k), FERRULE_R_CERT_MALFORMED);
    /* Well-formed SPKI with an unknown algorithm (OID 1.2.3.4). */
    static const uint8_t unknown[] = {0x30, 0x0c, 0x30, 0x05, 0x06, 0x03, 0x2a,
                                      0x03, 0x04, 0x03, 0x03, 0x00, 0x01, 0x02};
    CHECK_EQ(fr_pkey_from_spki(unknown, sizeof(unknown), 0, &k), FERRULE_R_CERT_UNSUPPORTED);
    CHECK(k == NULL);
    CHECK_EQ(fr_pkey_from_spki(unknown, sizeof(unknown), FR_SPKI_RSA, &k),
             FERRULE_R_CERT_UNSUPPORTED);
    CHECK(k == NULL);
    CHECK_NO_ERRQ();
}

/* The components behind the SPKI's BIT STRING are imported directly
 * (pkey.c), so their checks are ours: point forms, sizes, INTEGER rules. */
/* A DER length (short form or two octets). */
static size_t der_length(uint8_t *p, size_t n) {
    if (n < 128) return p[0] = (uint8_t)n, 1;
    p[0] = 0x82, p[1] = (uint8_t)(n >> 8), p[2] = (uint8_t)n;
    return 3;
}

static fr_err spki_with_key(const uint8_t *alg, size_t alg_len, const uint8_t *key, size_t n,
                            unsigned unused, int family, EVP_PKEY **k) {
    uint8_t bits[600], der[700];
    size_t b = 0, o = 0;
    bits[b++] = 0x03;
    b += der_length(bits + b, 1 + n);
    bits[b++] = (uint8_t)unused;
    memcpy(bits + b, key, n), b += n;
    der[o++] = 0x30;
    o += der_length(der + o, alg_len + b);
    memcpy(der + o, alg, alg_len), o += alg_len;
    memcpy(der + o, bits, b), o += b;
    *k = NULL;
    return fr_pkey_from_spki(der, o, family, k);
}

TEST(pkey_spki_components) {
    keys_load();
    static const uint8_t ec_alg[] = {0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                     0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
                                     0x3d, 0x03, 0x01, 0x07};
    uint8_t pt[65];
    CHECK_EQ(EVP_PKEY_get_octet_string_param(keys.p256, "encoded-pub-key", pt, sizeof(pt), NULL), 1);
    EVP_PKEY *k;
    CHECK_EQ(spki_with_key(ec_alg, sizeof(ec_alg), pt, 65, 0, FR_SPKI_EC, &k), FR_OK);
    CHECK(fr_pkey_pair_matches(keys.p256, k));
    fr_pkey_free(k);
    /* Compressed form (SEC 1 §2.3.3), the same key. */
    uint8_t cpt[33];
    cpt[0] = (uint8_t)(0x02 | (pt[64] & 1));
    memcpy(cpt + 1, pt + 1, 32);
    CHECK_EQ(spki_with_key(ec_alg, sizeof(ec_alg), cpt, 33, 0, FR_SPKI_EC, &k), FR_OK);
    CHECK(fr_pkey_pair_matches(keys.p256, k));
    fr_pkey_free(k);
    /* Off the curve; the point at infinity; hybrid form; wrong sizes. */
    uint8_t bad[65];
    memcpy(bad, pt, 65);
    bad[64] ^= 1;
    CHECK_EQ(spki_with_key(ec_alg, sizeof(ec_alg), bad, 65, 0, FR_SPKI_EC, &k),
             FERRULE_R_CERT_UNSUPPORTED);
    CHECK(k == NULL);
    static const uint8_t inf[] = {0x00};
    CHECK_EQ(spki_with_key(ec_alg, sizeof(ec_alg), inf, 1, 0, FR_SPKI_EC, &k),
             FERRULE_R_CERT_UNSUPPORTED);
    memcpy(bad, pt, 65);
    bad[0] = 0x06;
    CHECK_EQ(spki_with_key(ec_alg, sizeof(ec_alg), bad, 65, 0, FR_SPKI_EC, &k),
             FERRULE_R_CERT_UNSUPPORTED);
    CHECK_EQ(spki_with_key(ec_alg, sizeof(ec_alg), pt, 64, 0, FR_SPKI_EC, &k),
             FERRULE_R_CERT_UNSUPPORTED);
    CHECK_EQ(spki_with_key(ec_alg, sizeof(ec_alg), pt, 0, 0, FR_SPKI_EC, &k),
             FERRULE_R_CERT_MALFORMED);
    /* A key is whole octets: unused bits are malformed. */
    CHECK_EQ(spki_with_key(ec_alg, sizeof(ec_alg), pt, 65, 1, FR_SPKI_EC, &k),
             FERRULE_R_CERT_MALFORMED);
    CHECK(k == NULL);

    static const uint8_t ed_alg[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};
    uint8_t ed[32];
    size_t ed_len = sizeof(ed);
    CHECK_EQ(EVP_PKEY_get_raw_public_key(keys.ed25519, ed, &ed_len), 1);
    CHECK_EQ(spki_with_key(ed_alg, sizeof(ed_alg), ed, 32, 0, FR_SPKI_ED25519, &k), FR_OK);
    CHECK(fr_pkey_pair_matches(keys.ed25519, k));
    fr_pkey_free(k);
    CHECK_EQ(spki_with_key(ed_alg, sizeof(ed_alg), ed, 31, 0, FR_SPKI_ED25519, &k),
             FERRULE_R_CERT_MALFORMED);
    CHECK(k == NULL);

    /* RSAPublicKey with a modulus n and exponent e of the test key. */
    static const uint8_t rsa_alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                      0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    BIGNUM *n = NULL;
    CHECK_EQ(EVP_PKEY_get_bn_param(keys.rsa, "n", &n), 1);
    int nb = BN_num_bytes(n);
    CHECK(nb > 100 && nb <= 512);
    uint8_t rk[540];
    size_t o = 0;
    size_t body = 4 + 1 + (size_t)nb + 5;
    rk[o++] = 0x30, rk[o++] = 0x82, rk[o++] = (uint8_t)(body >> 8), rk[o++] = (uint8_t)body;
    rk[o++] = 0x02, rk[o++] = 0x82, rk[o++] = (uint8_t)((nb + 1) >> 8), rk[o++] = (uint8_t)(nb + 1);
    rk[o++] = 0x00;
    size_t mod_at = o;
    BN_bn2bin(n, rk + o), o += (size_t)nb;
    BN_free(n);
    size_t e_at = o;
    rk[o++] = 0x02, rk[o++] = 0x03, rk[o++] = 0x01, rk[o++] = 0x00, rk[o++] = 0x01;
    CHECK_EQ(spki_with_key(rsa_alg, sizeof(rsa_alg), rk, o, 0, FR_SPKI_RSA, &k), FR_OK);
    CHECK(fr_pkey_pair_matches(keys.rsa, k));
    fr_pkey_free(k);
    /* A negative modulus (the 0x00 dropped), a non-minimal exponent, a
     * zero exponent: DER INTEGER rules (X.690 §8.3.2), malformed. */
    uint8_t neg[540];
    memcpy(neg, rk, o);
    neg[7] = (uint8_t)nb, neg[6] = (uint8_t)(nb >> 8);
    memmove(neg + mod_at - 1, rk + mod_at, o - mod_at);
    neg[3] = (uint8_t)(body - 1), neg[2] = (uint8_t)((body - 1) >> 8);
    CHECK_EQ(spki_with_key(rsa_alg, sizeof(rsa_alg), neg, o - 1, 0, FR_SPKI_RSA, &k),
             FERRULE_R_CERT_MALFORMED);
    memcpy(neg, rk, o);
    static const uint8_t e_padded[] = {0x02, 0x03, 0x00, 0x00, 0x03};
    memcpy(neg + e_at, e_padded, 5);
    CHECK_EQ(spki_with_key(rsa_alg, sizeof(rsa_alg), neg, o, 0, FR_SPKI_RSA, &k),
             FERRULE_R_CERT_MALFORMED);
    static const uint8_t e_zero[] = {0x02, 0x01, 0x00};
    memcpy(neg + e_at, e_zero, 3);
    neg[3] = (uint8_t)(body - 2), neg[2] = (uint8_t)((body - 2) >> 8);
    CHECK_EQ(spki_with_key(rsa_alg, sizeof(rsa_alg), neg, o - 2, 0, FR_SPKI_RSA, &k),
             FERRULE_R_CERT_MALFORMED);
    /* rsaEncryption without its NULL parameters. */
    static const uint8_t rsa_noparam[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                          0xf7, 0x0d, 0x01, 0x01, 0x01};
    CHECK_EQ(spki_with_key(rsa_noparam, sizeof(rsa_noparam), rk, o, 0, FR_SPKI_RSA, &k),
             FERRULE_R_CERT_MALFORMED);
    CHECK(k == NULL);
    CHECK_NO_ERRQ();
}

TEST(random_bytes) {
    uint8_t a[32] = {0}, b[32] = {0};
    CHECK_EQ(fr_random(a, sizeof(a)), FR_OK);
    CHECK_EQ(fr_random(b, sizeof(b)), FR_OK);
    CHECK(!all_zero(a, sizeof(a)));
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    CHECK_EQ(fr_random(a, 0), FR_OK);
}

TEST_MAIN("crypto", TL_CASE(hash_known_answers), TL_CASE(hmac_known_answers),
          TL_CASE(hkdf_rfc5869_vectors), TL_CASE(hkdf_limits), TL_CASE(transcript_running_hash),
          TL_CASE(suite_table), TL_CASE(aead_round_trip_all_suites),
          TL_CASE(aead_nonce_matches_libsodium), TL_CASE(aead_tamper_is_bad_record_mac_and_wipes),
          TL_CASE(aead_sequence_exhaustion), TL_CASE(kex_all_groups_agree),
          TL_CASE(kex_x25519_rfc7748), TL_CASE(kex_bad_shares_rejected),
          TL_CASE(pkey_type_and_bits), TL_CASE(sig_sign_verify_every_scheme),
          TL_CASE(sig_rsa_pss_parameters_enforced), TL_CASE(sig_rsa_pss_key_parameters),
          TL_CASE(sig_ed25519_interop_with_libcrypto),
          TL_CASE(sig_verify_x509), TL_CASE(sig_weak_rsa_refused), TL_CASE(pkey_pem_parsing),
          TL_CASE(pkey_test_pki_keys), TL_CASE(pkey_spki_parsing), TL_CASE(pkey_spki_components), TL_CASE(random_bytes))
