/* test_mlkem.c - X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem, docs/mlkem.md).
 *
 * Which cases run depends on the libcrypto the binary runs with, and the
 * build says which one it expects: CMake sets FERRULE_EXPECT_MLKEM to 1 when
 * it configured against OpenSSL 3.5 or later (build-ossl35/, make
 * check-mlkem), to 0 otherwise (Debian's 3.0, build/).  A libcrypto that does
 * not match fails the run; the case list printed first says which set ran.
 *
 * With ML-KEM: the share layout and secret order checked against libcrypto
 * and libsodium directly, the default groups, both shares in our ClientHello,
 * handshakes (plain, HRR to and from the hybrid), and the negative cases
 * through the man in the middle: wrong share lengths both ways, an
 * encapsulation key libcrypto refuses, an all-zero X25519 half, a tampered
 * ciphertext (implicit rejection: the handshake fails at the first record).
 * Without ML-KEM: the group is neither offered nor accepted, and setting it
 * is FERRULE_USAGE / group_unavailable.  In both: a ClientHello that offers
 * the hybrid first (as Go's crypto/tls does) gets x25519 from a server that
 * does not take the hybrid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "conn.h"
#include "crypto/crypto.h"
#include "record.h"
#include "support_fx.h"
#include "support_pair.h"
#include "testlib.h"

#define HYB FERRULE_GROUP_X25519MLKEM768
#define X25519 FERRULE_GROUP_X25519

/* ---- key_share bodies ------------------------------------------------------- */

typedef struct ks_entry {
    uint16_t group;
    size_t len;
    uint8_t key[1400];
} ks_entry;

/* A ClientHello key_share (u16 list) or a ServerHello one (one entry). */
static size_t ks_parse(const hext *ks, int server, ks_entry *out, size_t cap) {
    size_t off = server ? 0 : 2, n = 0;
    if (!server && (ks->len < 2 || (size_t)(ks->body[0] << 8 | ks->body[1]) != ks->len - 2))
        return 0;
    while (off + 4 <= ks->len && n < cap) {
        out[n].group = (uint16_t)(ks->body[off] << 8 | ks->body[off + 1]);
        out[n].len = (size_t)(ks->body[off + 2] << 8 | ks->body[off + 3]);
        if (off + 4 + out[n].len > ks->len || out[n].len > sizeof(out[n].key)) return 0;
        memcpy(out[n].key, ks->body + off + 4, out[n].len);
        off += 4 + out[n].len;
        n++;
    }
    return off == ks->len ? n : 0;
}

static int ks_build(hext *ks, int server, const ks_entry *e, size_t n) {
    size_t off = server ? 0 : 2;
    for (size_t i = 0; i < n; i++) {
        if (off + 4 + e[i].len > HELLO_EXT_CAP) return 0;
        ks->body[off] = (uint8_t)(e[i].group >> 8);
        ks->body[off + 1] = (uint8_t)e[i].group;
        ks->body[off + 2] = (uint8_t)(e[i].len >> 8);
        ks->body[off + 3] = (uint8_t)e[i].len;
        memcpy(ks->body + off + 4, e[i].key, e[i].len);
        off += 4 + e[i].len;
    }
    if (!server) {
        ks->body[0] = (uint8_t)((off - 2) >> 8);
        ks->body[1] = (uint8_t)(off - 2);
    }
    ks->len = off;
    return 1;
}

/* supported_groups of a parsed ClientHello, as values. */
static size_t groups_of(hello *h, uint16_t *out, size_t cap) {
    hext *sg = hello_find(h, FR_EXT_SUPPORTED_GROUPS);
    if (sg == NULL || sg->len < 2) return 0;
    size_t n = 0;
    for (size_t off = 2; off + 1 < sg->len && n < cap; off += 2)
        out[n++] = (uint16_t)(sg->body[off] << 8 | sg->body[off + 1]);
    return n;
}

static ferrule_config *client_groups(const uint16_t *g, size_t n) {
    ferrule_config *cc = fx_client_config();
    if (cc != NULL && ferrule_config_set_groups(cc, g, n) != FERRULE_OK) {
        ferrule_config_free(cc);
        return NULL;
    }
    return cc;
}

static ferrule_config *server_groups(const uint16_t *g, size_t n) {
    ferrule_config *sc = fx_server_config();
    if (sc != NULL && ferrule_config_set_groups(sc, g, n) != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

static const uint16_t CLASSIC[3] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1,
                                    FERRULE_GROUP_SECP384R1};

/* ---- both builds ------------------------------------------------------------ */

/* A ClientHello like Go's default one: X25519MLKEM768 first in
 * supported_groups and a (here random) 1216-byte hybrid share before the
 * x25519 one.  A server that does not take the hybrid answers x25519. */
static void go_like_hello_gets_x25519(ferrule_config *sc) {
    fx *x = fx_ch_begin(fx_client_config(), sc);
    REQUIRE(x != NULL);
    hext *sg = hello_find(&x->h, FR_EXT_SUPPORTED_GROUPS);
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    REQUIRE(sg != NULL && ks != NULL);
    uint16_t g[8];
    size_t ng = groups_of(&x->h, g, 8);
    REQUIRE(ng > 0 && ng < 8);
    ks_entry e[3];
    size_t ne = ks_parse(ks, 0, e, 3);
    REQUIRE(ne >= 1);
    /* Make it [X25519MLKEM768, x25519, ...] with shares [hybrid, x25519]. */
    uint16_t g2[9] = {HYB};
    size_t n2 = 1;
    for (size_t i = 0; i < ng; i++)
        if (g[i] != HYB) g2[n2++] = g[i];
    sg->len = u16_vec(sg->body, 2, g2, n2);
    ks_entry e2[2];
    e2[0].group = HYB;
    e2[0].len = FR_HYBRID_CLIENT_SHARE_LEN;
    randombytes_buf(e2[0].key, e2[0].len);
    size_t xi = ne;
    for (size_t i = 0; i < ne; i++)
        if (e[i].group == X25519) xi = i;
    REQUIRE(xi < ne);
    e2[1] = e[xi];
    REQUIRE(ks_build(ks, 0, e2, 2));
    CHECK_EQ(FX_CH_SUCCEED(x), FERRULE_OK);
    CHECK_EQ(ferrule_conn_group(SV(x)), X25519);
    CHECK_EQ(ferrule_conn_group(CL(x)), X25519);
    EXCHANGE(CL(x), SV(x), "over x25519");
    fx_free(x);
}

TEST(go_like_hello_to_classic_server_gets_x25519) {
    go_like_hello_gets_x25519(server_groups(CLASSIC, 3));
}

TEST(names) {
    uint16_t v = 0;
    CHECK_EQ(ferrule_group_from_name("X25519MLKEM768", &v), FERRULE_OK);
    CHECK_EQ(v, 0x11ec);
    CHECK(strcmp(ferrule_group_name(HYB), "X25519MLKEM768") == 0);
    CHECK(fr_group_known(HYB));
    CHECK(!fr_group_supported(HYB, 0));
    CHECK(fr_group_supported(HYB, 1));
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_GROUP_UNAVAILABLE), "group_unavailable") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_KEM_SHARE_LENGTH), "kem_share_length") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_KEM_BAD_KEY), "kem_bad_key") == 0);
}

/* ---- without ML-KEM ---------------------------------------------------------- */

TEST(unavailable_group_refused) {
    CHECK(!fr_kex_mlkem_available());
    ferrule_config *cc = fx_client_config();
    REQUIRE(cc != NULL);
    const uint16_t only = HYB, mixed[2] = {X25519, HYB};
    CHECK_EQ(ferrule_config_set_groups(cc, &only, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cc), FERRULE_R_GROUP_UNAVAILABLE);
    CHECK_EQ(ferrule_config_set_groups(cc, mixed, 2), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cc), FERRULE_R_GROUP_UNAVAILABLE);
    /* An unknown group is still config_invalid. */
    const uint16_t x448 = 0x001e;
    CHECK_EQ(ferrule_config_set_groups(cc, &x448, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cc), FERRULE_R_CONFIG_INVALID);
    ferrule_config_free(cc);
}

TEST(default_hello_without_hybrid) {
    fx *x = fx_ch_begin(fx_client_config(), fx_server_config());
    REQUIRE(x != NULL);
    uint16_t g[8];
    size_t ng = groups_of(&x->h, g, 8);
    CHECK_EQ(ng, 3);
    for (size_t i = 0; i < ng; i++) CHECK(g[i] != HYB);
    ks_entry e[3];
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    REQUIRE(ks != NULL);
    CHECK_EQ(ks_parse(ks, 0, e, 3), 1);
    CHECK_EQ(e[0].group, X25519);
    fx_free(x);
}

TEST(go_like_hello_to_default_server_gets_x25519) {
    go_like_hello_gets_x25519(fx_server_config());
}

/* ---- with ML-KEM: primitives --------------------------------------------------- */

/* The layout and the order of the secret halves, checked with libcrypto and
 * libsodium directly (not through kex.c). */
TEST(share_layout_and_secret_order) {
    CHECK(fr_kex_mlkem_available());
    fr_kex c = {0};
    uint8_t cpub[FR_KEX_MAX_PUB], spub[FR_KEX_MAX_PUB], cs[FR_KEX_MAX_SECRET],
        ss[FR_KEX_MAX_SECRET], again[FR_KEX_MAX_PUB];
    size_t cl = 0, sl = 0, csl = 0, ssl = 0, al = 0;
    CHECK_EQ(fr_kex_generate(&c, HYB, cpub, sizeof(cpub), &cl), FR_OK);
    CHECK_EQ(cl, 1216);
    CHECK_EQ(fr_kex_respond(HYB, cpub, cl, spub, sizeof(spub), &sl, ss, sizeof(ss), &ssl),
             FR_OK);
    CHECK_EQ(sl, 1120);
    CHECK_EQ(ssl, 64);
    CHECK_EQ(fr_kex_derive(&c, spub, sl, cs, sizeof(cs), &csl), FR_OK);
    CHECK_EQ(csl, 64);
    CHECK_MEM(cs, ss, 64);
    /* The share again (a cookie-only HelloRetryRequest). */
    CHECK_EQ(fr_kex_public(&c, again, sizeof(again), &al), FR_OK);
    CHECK_EQ(al, cl);
    CHECK_MEM(again, cpub, cl);
    /* X25519 half: the client's public is its scalar times the base point,
     * and the secret's second half is X25519(client scalar, server half). */
    uint8_t xp[32], xs[32];
    CHECK_EQ(crypto_scalarmult_base(xp, c.k.x25519), 0);
    CHECK_MEM(cpub + 1184, xp, 32);
    CHECK_EQ(crypto_scalarmult(xs, c.k.x25519, spub + 1088), 0);
    CHECK_MEM(cs + 32, xs, 32);
    /* ML-KEM half: libcrypto's own decapsulation of the first 1088 bytes
     * with the client's key gives the first half; and its encoded public
     * key is the first 1184 bytes of the client share. */
    uint8_t ek[1184], k1[32];
    size_t ekl = 0, k1l = sizeof(k1);
    CHECK_EQ(EVP_PKEY_get_octet_string_param(c.k.priv, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, ek, sizeof(ek), &ekl),
             1);
    CHECK_EQ(ekl, 1184);
    CHECK_MEM(ek, cpub, 1184);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, c.k.priv, NULL);
    REQUIRE(ctx != NULL);
    CHECK_EQ(EVP_PKEY_decapsulate_init(ctx, NULL), 1);
    CHECK_EQ(EVP_PKEY_decapsulate(ctx, k1, &k1l, spub, 1088), 1);
    EVP_PKEY_CTX_free(ctx);
    CHECK_EQ(k1l, 32);
    CHECK_MEM(cs, k1, 32);
    /* Fresh keys every time. */
    fr_kex d = {0};
    uint8_t dpub[FR_KEX_MAX_PUB];
    size_t dl = 0;
    CHECK_EQ(fr_kex_generate(&d, HYB, dpub, sizeof(dpub), &dl), FR_OK);
    CHECK(memcmp(dpub, cpub, 1184) != 0 && memcmp(dpub + 1184, cpub + 1184, 32) != 0);
    fr_kex_free(&d);
    fr_kex_free(&c);
    CHECK(c.group == 0 && c.k.priv == NULL);
    fr_kex_free(&c); /* idempotent */
}

TEST(bad_shares_rejected) {
    fr_kex c = {0};
    uint8_t cpub[FR_KEX_MAX_PUB + 1], spub[FR_KEX_MAX_PUB + 1], sec[FR_KEX_MAX_SECRET];
    size_t cl = 0, sl = 0, n = 0;
    CHECK_EQ(fr_kex_generate(&c, HYB, cpub, sizeof(cpub), &cl), FR_OK);
    /* Client share of the wrong length: one byte short or long, x25519-sized. */
    static const size_t bad_client[] = {1215, 1217, 32, 1184, 0};
    for (size_t i = 0; i < sizeof(bad_client) / sizeof(bad_client[0]); i++) {
        memset(sec, 0xaa, sizeof(sec));
        CHECK_EQ(fr_kex_respond(HYB, cpub, bad_client[i], spub, sizeof(spub), &sl, sec,
                                sizeof(sec), &n),
                 FERRULE_R_KEM_SHARE_LENGTH);
    }
    /* Encapsulation key with a coefficient >= q (the first 12 bits 0xfff):
     * FIPS 203's modulus check fails in libcrypto. */
    uint8_t bad[FR_KEX_MAX_PUB];
    memcpy(bad, cpub, cl);
    bad[0] = 0xff;
    bad[1] |= 0x0f;
    CHECK_EQ(fr_kex_respond(HYB, bad, cl, spub, sizeof(spub), &sl, sec, sizeof(sec), &n),
             FERRULE_R_KEM_BAD_KEY);
    /* All-zero X25519 half: the X25519 secret would be zero (RFC 8446
     * §7.4.2); the ML-KEM half already in the buffer is wiped. */
    memcpy(bad, cpub, cl);
    memset(bad + 1184, 0, 32);
    memset(sec, 0xaa, sizeof(sec));
    CHECK_EQ(fr_kex_respond(HYB, bad, cl, spub, sizeof(spub), &sl, sec, sizeof(sec), &n),
             FERRULE_R_BAD_KEY_SHARE);
    uint8_t zero[FR_KEX_MAX_SECRET] = {0};
    CHECK_MEM(sec, zero, sizeof(sec));
    /* Server share of the wrong length, and with a zero X25519 half. */
    CHECK_EQ(fr_kex_respond(HYB, cpub, cl, spub, sizeof(spub), &sl, sec, sizeof(sec), &n),
             FR_OK);
    static const size_t bad_server[] = {1119, 1121, 1088, 32, 1216};
    for (size_t i = 0; i < sizeof(bad_server) / sizeof(bad_server[0]); i++)
        CHECK_EQ(fr_kex_derive(&c, spub, bad_server[i], sec, sizeof(sec), &n),
                 FERRULE_R_KEM_SHARE_LENGTH);
    memset(spub + 1088, 0, 32);
    memset(sec, 0xaa, sizeof(sec));
    CHECK_EQ(fr_kex_derive(&c, spub, sl, sec, sizeof(sec), &n), FERRULE_R_BAD_KEY_SHARE);
    CHECK_MEM(sec, zero, sizeof(sec));
    /* Buffers too small. */
    CHECK_EQ(fr_kex_derive(&c, spub, sl, sec, 63, &n), FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(fr_kex_respond(HYB, cpub, cl, spub, 1119, &sl, sec, sizeof(sec), &n),
             FERRULE_R_BUFFER_TOO_SMALL);
    fr_kex_free(&c);
    CHECK_EQ(fr_kex_generate(&c, HYB, cpub, 1215, &cl), FERRULE_R_BUFFER_TOO_SMALL);
    CHECK(c.group == 0 && c.k.priv == NULL);
}

/* ---- with ML-KEM: configuration and handshakes ----------------------------------- */

TEST(default_hello_offers_hybrid_first_with_x25519_share) {
    fx *x = fx_ch_begin(fx_client_config(), fx_server_config());
    REQUIRE(x != NULL);
    uint16_t g[8];
    size_t ng = groups_of(&x->h, g, 8);
    CHECK_EQ(ng, 4);
    CHECK_EQ(g[0], HYB);
    CHECK_EQ(g[1], X25519);
    ks_entry e[3];
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    REQUIRE(ks != NULL);
    CHECK_EQ(ks_parse(ks, 0, e, 3), 2);
    CHECK_EQ(e[0].group, HYB);
    CHECK_EQ(e[0].len, 1216);
    CHECK_EQ(e[1].group, X25519);
    CHECK_EQ(e[1].len, 32);
    fx_free(x);
    /* Without x25519 in the list: the hybrid share alone. */
    const uint16_t hp[2] = {HYB, FERRULE_GROUP_SECP256R1};
    x = fx_ch_begin(client_groups(hp, 2), fx_server_config());
    REQUIRE(x != NULL);
    ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    REQUIRE(ks != NULL);
    CHECK_EQ(ks_parse(ks, 0, e, 3), 1);
    CHECK_EQ(e[0].group, HYB);
    fx_free(x);
}

/* A full handshake; returns the group both sides agreed on (0 on failure),
 * *hrr 1 when the server sent a HelloRetryRequest. */
static uint16_t handshake(ferrule_config *cc, ferrule_config *sc, int *hrr) {
    pair p;
    *hrr = -1;
    memset(&p, 0, sizeof(p));
    if (cc == NULL || sc == NULL || !pair_new(&p, cc, sc, NULL)) {
        fprintf(stderr, "  handshake: no configs or connections\n");
        tl_failures_in_test++;
        pair_free(&p);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
        return 0;
    }
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    uint16_t g = 0;
    if (ferrule_conn_handshake(p.client) == FERRULE_WANT_READ) {
        pair_move(p.client, p.server);
        int st = ferrule_conn_handshake(p.server);
        *hrr = st == FERRULE_WANT_READ &&
               ferrule_conn_handshake_state(p.server) == FERRULE_HS_WAIT_SECOND_CLIENT_HELLO;
        pair_move(p.server, p.client);
        int cs = 0, ss = 0;
        if (pair_handshake(&p, &cs, &ss) &&
            ferrule_conn_group(p.client) == ferrule_conn_group(p.server)) {
            g = ferrule_conn_group(p.client);
            /* What each side reports agrees with what the server did. */
            CHECK_EQ(ferrule_conn_hrr(p.client), *hrr);
            CHECK_EQ(ferrule_conn_hrr(p.server), *hrr);
            EXCHANGE(p.client, p.server, "client to server");
            EXCHANGE(p.server, p.client, "server to client");
        } else {
            fprintf(stderr, "  handshake: client %s (%s), server %s (%s)\n",
                    ferrule_status_name(cs), ferrule_reason_name(ferrule_conn_reason(p.client)),
                    ferrule_status_name(ss), ferrule_reason_name(ferrule_conn_reason(p.server)));
        }
    }
    pair_free(&p);
    return g;
}

TEST(handshakes) {
    int hrr = 0;
    /* Defaults both sides: the hybrid, at once. */
    CHECK_EQ(handshake(fx_client_config(), fx_server_config(), &hrr), HYB);
    CHECK_EQ(hrr, 0);
    /* Hybrid-only both sides. */
    const uint16_t only = HYB;
    CHECK_EQ(handshake(client_groups(&only, 1), server_groups(&only, 1), &hrr), HYB);
    CHECK_EQ(hrr, 0);
    /* A default client to a server without the hybrid: its x25519 share,
     * no HelloRetryRequest. */
    CHECK_EQ(handshake(fx_client_config(), server_groups(CLASSIC, 3), &hrr), X25519);
    CHECK_EQ(hrr, 0);
    /* HRR to the hybrid: the client's first (only) share is x25519, the
     * server takes only the hybrid. */
    const uint16_t xh[2] = {X25519, HYB};
    CHECK_EQ(handshake(client_groups(xh, 2), server_groups(&only, 1), &hrr), HYB);
    CHECK_EQ(hrr, 1);
    /* HRR from the hybrid: one hybrid share, the server wants secp256r1. */
    const uint16_t hp[2] = {HYB, FERRULE_GROUP_SECP256R1}, p256 = FERRULE_GROUP_SECP256R1;
    CHECK_EQ(handshake(client_groups(hp, 2), server_groups(&p256, 1), &hrr),
             FERRULE_GROUP_SECP256R1);
    CHECK_EQ(hrr, 1);
    /* Both shares of a default client unusable: HRR for P-384, the second
     * ClientHello carries that one share only. */
    const uint16_t p384 = FERRULE_GROUP_SECP384R1;
    CHECK_EQ(handshake(fx_client_config(), server_groups(&p384, 1), &hrr),
             FERRULE_GROUP_SECP384R1);
    CHECK_EQ(hrr, 1);
    /* A server preferring x25519 over the hybrid takes the x25519 share. */
    const uint16_t pref[2] = {X25519, HYB};
    CHECK_EQ(handshake(fx_client_config(), server_groups(pref, 2), &hrr), X25519);
    CHECK_EQ(hrr, 0);
}

/* Resumption (psk_dhe_ke, RFC 8446 §4.2.9): the resumed handshake runs a
 * fresh hybrid exchange too.  pair_server_config sends tickets. */
TEST(resumption_with_hybrid) {
    ferrule_config *cc = fx_client_config(), *sc = pair_server_config("ecdsa-p256");
    REQUIRE(cc != NULL && sc != NULL);
    static uint8_t blob[16384];
    size_t n = pair_session(cc, sc, blob, sizeof(blob));
    CHECK(n > 0);
    pair p;
    memset(&p, 0, sizeof(p));
    if (n > 0 && pair_new(&p, cc, sc, NULL)) {
        CHECK_EQ(ferrule_conn_set_session(p.client, blob, n), FERRULE_OK);
        int cs = 0, ss = 0;
        CHECK(pair_handshake(&p, &cs, &ss));
        CHECK(ferrule_conn_resumed(p.client) && ferrule_conn_resumed(p.server));
        CHECK_EQ(ferrule_conn_group(p.client), HYB);
        CHECK_EQ(ferrule_conn_group(p.server), HYB);
        EXCHANGE(p.client, p.server, "resumed over the hybrid");
    }
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* ---- with ML-KEM: edited hellos ------------------------------------------------- */

/* The default ClientHello with its hybrid share edited by `edit`. */
static void client_share_refused(void (*edit)(ks_entry *e), uint32_t reason) {
    fx *x = fx_ch_begin(fx_client_config(), fx_server_config());
    REQUIRE(x != NULL);
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    REQUIRE(ks != NULL);
    ks_entry e[3];
    size_t n = ks_parse(ks, 0, e, 3);
    REQUIRE(n == 2 && e[0].group == HYB);
    edit(&e[0]);
    REQUIRE(ks_build(ks, 0, e, n));
    int got = fx_ch_deliver(x, 0);
    EXPECT_FAIL(SV(x), got, FERRULE_ALERT_SENT, reason, FERRULE_ALERT_ILLEGAL_PARAMETER);
    EXPECT_PEER_ALERT(SV(x), CL(x), FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

static void cut_one(ks_entry *e) { e->len = 1215; }
static void add_one(ks_entry *e) { e->key[e->len++] = 0; }
static void x25519_sized(ks_entry *e) { e->len = 32; }
static void coefficient_q_or_more(ks_entry *e) {
    e->key[0] = 0xff;
    e->key[1] |= 0x0f;
}
static void last_coefficient_q(ks_entry *e) {
    /* The last coefficient of the 768 (ByteEncode12: two per three bytes,
     * the second in the high nibble of byte 1150 and all of byte 1151)
     * set to q = 3329 = 0xd01, the smallest value out of range. */
    e->key[1150] = (uint8_t)((e->key[1150] & 0x0f) | 0x10);
    e->key[1151] = 0xd0;
}
static void zero_x25519_half(ks_entry *e) { memset(e->key + 1184, 0, 32); }

TEST(client_share_wrong_length) {
    client_share_refused(cut_one, FERRULE_R_KEM_SHARE_LENGTH);
    client_share_refused(add_one, FERRULE_R_KEM_SHARE_LENGTH);
    client_share_refused(x25519_sized, FERRULE_R_KEM_SHARE_LENGTH);
}

TEST(client_share_malformed_encapsulation_key) {
    client_share_refused(coefficient_q_or_more, FERRULE_R_KEM_BAD_KEY);
    client_share_refused(last_coefficient_q, FERRULE_R_KEM_BAD_KEY);
}

TEST(client_share_zero_x25519_half) {
    client_share_refused(zero_x25519_half, FERRULE_R_BAD_KEY_SHARE);
}

/* The server's hybrid ServerHello share edited by `edit`, delivered to the
 * client.  Returns the client's status. */
static int server_share_edited(void (*edit)(ks_entry *e), fx **out) {
    fx *x = fx_flight_begin(fx_client_config(), fx_server_config());
    *out = x;
    if (x == NULL) return -1;
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    ks_entry e[1];
    if (ks == NULL || ks_parse(ks, 1, e, 1) != 1 || e[0].group != HYB || e[0].len != 1120) {
        fprintf(stderr, "  ServerHello key_share is not one X25519MLKEM768 share of 1120\n");
        tl_failures_in_test++;
        return -1;
    }
    edit(&e[0]);
    if (!ks_build(ks, 1, e, 1)) return -1;
    return fx_sh_deliver(x);
}

static void sh_cut_one(ks_entry *e) { e->len = 1119; }
static void sh_add_one(ks_entry *e) { e->key[e->len++] = 0; }
static void sh_client_sized(ks_entry *e) {
    memset(e->key + 1120, 0, 96);
    e->len = 1216;
}
static void sh_zero_x25519_half(ks_entry *e) { memset(e->key + 1088, 0, 32); }
static void sh_flip_ciphertext(ks_entry *e) { e->key[17] ^= 0x01; }

TEST(server_share_wrong_length) {
    void (*edits[3])(ks_entry *) = {sh_cut_one, sh_add_one, sh_client_sized};
    for (size_t i = 0; i < 3; i++) {
        fx *x = NULL;
        int got = server_share_edited(edits[i], &x);
        REQUIRE(x != NULL);
        EXPECT_FAIL(CL(x), got, FERRULE_ALERT_SENT, FERRULE_R_KEM_SHARE_LENGTH,
                    FERRULE_ALERT_ILLEGAL_PARAMETER);
        EXPECT_WIRE_ALERT(CL(x), SV(x), FERRULE_ALERT_ILLEGAL_PARAMETER);
        fx_free(x);
    }
}

TEST(server_share_zero_x25519_half) {
    fx *x = NULL;
    int got = server_share_edited(sh_zero_x25519_half, &x);
    REQUIRE(x != NULL);
    EXPECT_FAIL(CL(x), got, FERRULE_ALERT_SENT, FERRULE_R_BAD_KEY_SHARE,
                FERRULE_ALERT_ILLEGAL_PARAMETER);
    EXPECT_WIRE_ALERT(CL(x), SV(x), FERRULE_ALERT_ILLEGAL_PARAMETER);
    fx_free(x);
}

/* FIPS 203 implicit rejection: a changed ciphertext decapsulates to an
 * unrelated secret without an error, so the client's handshake keys differ
 * from the server's and the first protected record does not authenticate. */
TEST(server_share_tampered_ciphertext) {
    fx *x = NULL;
    int got = server_share_edited(sh_flip_ciphertext, &x);
    REQUIRE(x != NULL);
    EXPECT_FAIL(CL(x), got, FERRULE_DECODE, FERRULE_R_BAD_RECORD_MAC,
                FERRULE_ALERT_BAD_RECORD_MAC);
    fx_free(x);
}

/* ---- main ------------------------------------------------------------------------- */

int main(void) {
    int have = fr_kex_mlkem_available();
    const char *want = getenv("FERRULE_EXPECT_MLKEM");
    printf("test_mlkem: libcrypto %s (%s ML-KEM-768), FERRULE_EXPECT_MLKEM=%s\n",
           OpenSSL_version(OPENSSL_VERSION), have ? "with" : "without", want ? want : "(unset)");
    if (want != NULL && atoi(want) != have) {
        printf("test_mlkem: this build expects %s ML-KEM-768: 0 passed, 1 failed\n",
               atoi(want) ? "" : "no");
        return 1;
    }
    static const tl_case with[] = {
        TL_CASE(names),
        TL_CASE(share_layout_and_secret_order),
        TL_CASE(bad_shares_rejected),
        TL_CASE(default_hello_offers_hybrid_first_with_x25519_share),
        TL_CASE(handshakes),
        TL_CASE(resumption_with_hybrid),
        TL_CASE(client_share_wrong_length),
        TL_CASE(client_share_malformed_encapsulation_key),
        TL_CASE(client_share_zero_x25519_half),
        TL_CASE(server_share_wrong_length),
        TL_CASE(server_share_zero_x25519_half),
        TL_CASE(server_share_tampered_ciphertext),
        TL_CASE(go_like_hello_to_classic_server_gets_x25519),
    };
    static const tl_case without[] = {
        TL_CASE(names),
        TL_CASE(unavailable_group_refused),
        TL_CASE(default_hello_without_hybrid),
        TL_CASE(go_like_hello_to_default_server_gets_x25519),
        TL_CASE(go_like_hello_to_classic_server_gets_x25519),
    };
    if (have) return tl_run("mlkem", with, sizeof(with) / sizeof(with[0]));
    return tl_run("mlkem-unavailable", without, sizeof(without) / sizeof(without[0]));
}
