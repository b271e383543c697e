/* test_neg_server_hello.c - the client refusing a ServerHello (RFC 8446
 * §4.1.3, §4.1.4, §4.2): version, suite, session id echo, compression,
 * the downgrade sentinels, extensions and key shares.  The man in the
 * middle edits the parsed ServerHello (x->h) of the captured flight; the
 * client has no write keys yet, so its alert must go out in the clear and
 * reach the server.  One row per case, played by support_neg.c. */
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

/* ---- client configs --------------------------------------------------------- */

NEG_CFG(client_aes128_only) {
    ferrule_config *cc = fx_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return NULL;
    const uint16_t one = FERRULE_TLS_AES_128_GCM_SHA256;
    CHECK_EQ(ferrule_config_set_cipher_suites(cc, &one, 1), FERRULE_OK);
    return cc;
}

/* A client offering the one group `g`. */
static ferrule_config *client_one_group(uint16_t g) {
    ferrule_config *cc = fx_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return NULL;
    CHECK_EQ(ferrule_config_set_groups(cc, &g, 1), FERRULE_OK);
    return cc;
}
NEG_CFG(client_x25519_only) { return client_one_group(FERRULE_GROUP_X25519); }
NEG_CFG(client_p256_only) { return client_one_group(FERRULE_GROUP_SECP256R1); }

/* ---- edits of x->h ---------------------------------------------------------- */

NEG_EDIT(suite) {
    /* The client offers only AES-128-GCM; the server "picks" arg. */
    x->h.suites[0] = (uint16_t)arg;
    return fx_sh_deliver(x);
}

NEG_EDIT(session_id_echo) {
    if (arg == 0)
        x->h.sid[31] ^= 1;
    else
        x->h.sid_len = 0;
    return fx_sh_deliver(x);
}

NEG_EDIT(compression) {
    x->h.comp[0] = 1;
    return fx_sh_deliver(x);
}

NEG_EDIT(legacy_version) {
    x->h.version = (uint16_t)arg;
    return fx_sh_deliver(x);
}

NEG_EDIT(supported_versions_tls12) {
    hext *sv = hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    CHECK(sv != NULL && sv->len == 2);
    NEG_REQUIRE(sv != NULL);
    sv->body[1] = 0x03;
    return fx_sh_deliver(x);
}

NEG_EDIT(downgrade_sentinel) {
    static const char *const sentinels[2] = {"DOWNGRD\x01", "DOWNGRD\x00"};
    CHECK(hello_remove(&x->h, FR_EXT_SUPPORTED_VERSIONS));
    memcpy(x->h.random + 24, sentinels[arg], 8);
    return fx_sh_deliver(x);
}

NEG_EDIT(tls12_without_sentinel) {
    CHECK(hello_remove(&x->h, FR_EXT_SUPPORTED_VERSIONS));
    x->h.random[31] = 0x02; /* never a sentinel */
    return fx_sh_deliver(x);
}

NEG_EDIT(key_share_group_not_offered) {
    /* The client offers x25519 only; the answer claims P-256. */
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->body[1] == 0x1d);
    NEG_REQUIRE(ks != NULL);
    ks->body[1] = 0x17;
    return fx_sh_deliver(x);
}

NEG_EDIT(key_share_missing) {
    CHECK(hello_remove(&x->h, FR_EXT_KEY_SHARE));
    return fx_sh_deliver(x);
}

NEG_EDIT(extra_extension) {
    CHECK(hello_add(&x->h, 1, (uint16_t)arg, NULL, 0) != NULL);
    return fx_sh_deliver(x);
}

NEG_EDIT(duplicate_extension) {
    hext copy = *hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    CHECK(hello_add(&x->h, x->h.n_ext, copy.type, copy.body, copy.len) != NULL);
    return fx_sh_deliver(x);
}

NEG_EDIT(trailing_byte) {
    x->h.trailing[0] = 0;
    x->h.n_trailing = 1;
    return fx_sh_deliver(x);
}

NEG_EDIT(hello_retry_request_random) {
    static const uint8_t hrr[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
                                    0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
                                    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
                                    0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
    memcpy(x->h.random, hrr, 32);
    /* A well-formed HelloRetryRequest key_share (selected_group only) for
     * x25519, which the client already sent a share for (RFC 8446 §4.1.4). */
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    NEG_REQUIRE(ks != NULL);
    ks->body[0] = 0x00;
    ks->body[1] = 0x1d;
    ks->len = 2;
    return fx_sh_deliver(x);
}

NEG_EDIT(invalid_x25519_share) {
    /* The all-zero point (low order); with arg 1 also a short share. */
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->len == 36 && ks->body[1] == 0x1d);
    NEG_REQUIRE(ks != NULL);
    memset(ks->body + 4, 0, 32);
    if (arg == 1) {
        ks->body[3] = 31;
        ks->len = 35;
    }
    return fx_sh_deliver(x);
}

NEG_EDIT(invalid_p256_point) {
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->len == 4 + 65 && ks->body[4] == 4);
    NEG_REQUIRE(ks != NULL);
    if (arg == 0)
        ks->body[4 + 64] ^= 1; /* y no longer matches x: off the curve */
    else
        ks->body[4] = 2; /* compressed form is not allowed */
    return fx_sh_deliver(x);
}

/* ---- the table -------------------------------------------------------------- */

#define SH(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
#define ILLEGAL NEG_FAILS(ALERT_SENT, ILLEGAL_PARAMETER, ILLEGAL_PARAMETER), NEG_PEER_WIRE
/* illegal_parameter under finer reasons (BoGo HelloRetryRequest-CipherChange,
 * BadECDHECurve-TLS13). */
#define WRONG_CIPHER NEG_FAILS(ALERT_SENT, WRONG_CIPHER, ILLEGAL_PARAMETER), NEG_PEER_WIRE
#define WRONG_GROUP NEG_FAILS(ALERT_SENT, WRONG_GROUP, ILLEGAL_PARAMETER), NEG_PEER_WIRE
#define VERSION NEG_FAILS(ALERT_SENT, PROTOCOL_VERSION, PROTOCOL_VERSION), NEG_PEER_WIRE
#define BAD_SHARE NEG_FAILS(ALERT_SENT, BAD_KEY_SHARE, ILLEGAL_PARAMETER), NEG_PEER_WIRE
#define UNSUPPORTED                                                                                \
    NEG_FAILS(ALERT_SENT, UNSUPPORTED_EXTENSION, UNSUPPORTED_EXTENSION), NEG_PEER_WIRE

static const neg_row rows[] = {
    {"sh_suite_not_offered", SH(suite, FERRULE_TLS_AES_256_GCM_SHA384), WRONG_CIPHER,
     client_aes128_only},
    {"sh_unknown_suite", SH(suite, 0x1304), WRONG_CIPHER},
    {"sh_session_id_echo_changed/flipped", SH(session_id_echo, 0), ILLEGAL},
    {"sh_session_id_echo_changed/empty", SH(session_id_echo, 1), ILLEGAL},
    {"sh_compression", SH(compression, 0), ILLEGAL},
    /* RFC 8446 §4.1.3: a TLS 1.3 ServerHello has legacy_version 0x0303;
     * Appendix D.5: 0x0300 or lower MUST get protocol_version, and so does
     * any other value (a ServerHello cannot be "newer" on this field). */
    {"sh_legacy_version_not_tls12/0300", SH(legacy_version, 0x0300), VERSION},
    {"sh_legacy_version_not_tls12/0200", SH(legacy_version, 0x0200), VERSION},
    {"sh_legacy_version_not_tls12/0000", SH(legacy_version, 0x0000), VERSION},
    {"sh_legacy_version_not_tls12/0301", SH(legacy_version, 0x0301), VERSION},
    {"sh_legacy_version_not_tls12/0304", SH(legacy_version, 0x0304), VERSION},
    {"sh_supported_versions_tls12", SH(supported_versions_tls12, 0), ILLEGAL},
    {"sh_downgrade_sentinel/tls12", SH(downgrade_sentinel, 0),
     NEG_FAILS(ALERT_SENT, DOWNGRADE, ILLEGAL_PARAMETER), NEG_PEER_WIRE},
    {"sh_downgrade_sentinel/tls11", SH(downgrade_sentinel, 1),
     NEG_FAILS(ALERT_SENT, DOWNGRADE, ILLEGAL_PARAMETER), NEG_PEER_WIRE},
    {"sh_tls12_without_sentinel", SH(tls12_without_sentinel, 0), VERSION},
    {"sh_key_share_group_not_offered", SH(key_share_group_not_offered, 0), WRONG_GROUP,
     client_x25519_only},
    /* RFC 8446 §9.2 missing_extension (BoGo MissingKeyShare-Client-TLS13). */
    {"sh_key_share_missing", SH(key_share_missing, 0),
     NEG_FAILS(ALERT_SENT, MISSING_KEY_SHARE, MISSING_EXTENSION), NEG_PEER_WIRE},
    {"sh_extra_extension/server_name", SH(extra_extension, FR_EXT_SERVER_NAME), UNSUPPORTED},
    {"sh_extra_extension/alpn", SH(extra_extension, FR_EXT_ALPN), UNSUPPORTED},
    {"sh_extra_extension/unknown", SH(extra_extension, 0xfe77), UNSUPPORTED},
    {"sh_duplicate_extension", SH(duplicate_extension, 0),
     NEG_FAILS(ALERT_SENT, DUPLICATE_EXTENSION, ILLEGAL_PARAMETER), NEG_PEER_WIRE},
    {"sh_trailing_byte", SH(trailing_byte, 0), NEG_FAILS(DECODE, DECODE_ERROR, DECODE_ERROR),
     NEG_PEER_WIRE},
    {"sh_hello_retry_request_random", SH(hello_retry_request_random, 0), WRONG_GROUP},
    {"sh_invalid_key_share/zero_point", SH(invalid_x25519_share, 0), BAD_SHARE,
     client_x25519_only},
    {"sh_invalid_key_share/short", SH(invalid_x25519_share, 1), BAD_SHARE, client_x25519_only},
    {"sh_invalid_p256_point/off_curve", SH(invalid_p256_point, 0), BAD_SHARE, client_p256_only},
    {"sh_invalid_p256_point/compressed", SH(invalid_p256_point, 1), BAD_SHARE, client_p256_only},
};

NEG_MAIN("neg_server_hello", rows)
