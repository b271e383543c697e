/* test_neg_client_hello.c - the server refusing a ClientHello (RFC 8446
 * §4.1.2, §4.2): its structure, its extensions block, the mandatory
 * extensions, and the messages that may not come in its place.  The man in
 * the middle edits the parsed hello (x->h); the server must fail as the
 * row says and the client receive the alert.  One row per case, played by
 * support_neg.c; the variations a server must tolerate are in
 * test_neg_client_hello_tolerated.c. */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

/* ---- edits of x->h, then the hello to the server ---------------------------- */

static int deliver(fx *x) { return fx_ch_deliver(x, 0); }

/* For the cases that edit an x25519 first share (any build). */
NEG_CFG(client_classic) { return fx_client_classic_config(); }

NEG_EDIT(drop_ext) {
    CHECK(hello_remove(&x->h, (uint16_t)arg));
    return deliver(x);
}

NEG_EDIT(versions_without_tls13) {
    hext *sv = hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    NEG_REQUIRE(sv != NULL);
    static const uint16_t v[2] = {0x0303, 0x0302};
    sv->len = u16_vec(sv->body, 1, v, 2);
    return deliver(x);
}

NEG_EDIT(no_extensions) {
    /* A TLS 1.2-style ClientHello without an extensions block at all. */
    x->h.has_exts = 0;
    x->h.n_ext = 0;
    return deliver(x);
}

NEG_EDIT(duplicate_supported_groups) {
    size_t i = hello_index(&x->h, FR_EXT_SUPPORTED_GROUPS);
    NEG_REQUIRE(i < x->h.n_ext);
    hext copy = x->h.ext[i];
    CHECK(hello_add(&x->h, x->h.n_ext, copy.type, copy.body, copy.len) != NULL);
    return deliver(x);
}

NEG_EDIT(duplicate_unknown) {
    static const uint8_t body[3] = {1, 2, 3};
    CHECK(hello_add(&x->h, 0, 0xfe77, body, 3) != NULL);
    CHECK(hello_add(&x->h, x->h.n_ext, 0xfe77, body, 1) != NULL);
    return deliver(x);
}

/* A well-formed pre_shared_key body: one identity "id" with age 0
 * (identities<7..>), one 32-byte binder (binders<33..>). */
static size_t psk_body(uint8_t *psk) {
    static const uint8_t head[13] = {0, 8, 0, 2, 'i', 'd', 0, 0, 0, 0, 0, 33, 32};
    memcpy(psk, head, sizeof(head));
    memset(psk + sizeof(head), 0x5a, 32);
    return sizeof(head) + 32;
}

NEG_EDIT(psk_not_last) {
    /* Well formed, but followed by other extensions. */
    uint8_t psk[64];
    size_t n = psk_body(psk);
    CHECK(hello_add(&x->h, 0, FR_EXT_PRE_SHARED_KEY, psk, n) != NULL);
    return deliver(x);
}

NEG_EDIT(psk_binder_count) {
    /* A well-formed offer of one identity with two 32-byte binders, last. */
    uint8_t psk[96];
    static const uint8_t head[13] = {0, 8, 0, 2, 'i', 'd', 0, 0, 0, 0, 0, 66, 32};
    memcpy(psk, head, sizeof(head));
    memset(psk + sizeof(head), 0x5a, 32);
    psk[sizeof(head) + 32] = 32;
    memset(psk + sizeof(head) + 33, 0x5b, 32);
    CHECK(hello_add(&x->h, x->h.n_ext, FR_EXT_PRE_SHARED_KEY, psk, sizeof(head) + 65) != NULL);
    return deliver(x);
}

NEG_EDIT(psk_without_kex_modes) {
    CHECK(hello_remove(&x->h, FR_EXT_PSK_KEY_EXCHANGE_MODES));
    uint8_t psk[64];
    size_t n = psk_body(psk);
    CHECK(hello_add(&x->h, x->h.n_ext, FR_EXT_PRE_SHARED_KEY, psk, n) != NULL);
    return deliver(x);
}

NEG_EDIT(compression) {
    /* arg: {1, 0}, {0, 1}, {0, 0}; 3: the empty list. */
    static const uint8_t bad[3][2] = {{1, 0}, {0, 1}, {0, 0}};
    static const size_t len[4] = {1, 2, 2, 0};
    memcpy(x->h.comp, bad[arg < 3 ? arg : 0], len[arg]);
    x->h.n_comp = len[arg];
    return deliver(x);
}

NEG_EDIT(no_common_suite) {
    /* TLS_AES_128_CCM_SHA256 and a TLS 1.2 suite only. */
    x->h.suites[0] = 0x1304;
    x->h.suites[1] = 0xc02b;
    x->h.n_suites = 2;
    return deliver(x);
}

NEG_EDIT(empty_or_odd_suites) {
    /* Built by hand: the u16 list cannot express an odd length (arg 1). */
    x->h.n_suites = 0;
    uint8_t *m = x->f->r[0].data;
    size_t n = hello_encode(&x->h, m, MITM_REC_CAP);
    CHECK(n > 0);
    /* Suites vector sits after version(2) random(32) sid(1+32). */
    size_t at = 4 + 2 + 32 + 1 + x->h.sid_len;
    CHECK(m[at] == 0 && m[at + 1] == 0);
    if (arg) {
        memmove(m + at + 3, m + at + 2, n - at - 2);
        m[at + 1] = 1;
        m[at + 2] = 0x13;
        n++;
        size_t body = n - 4;
        m[1] = (uint8_t)(body >> 16);
        m[2] = (uint8_t)(body >> 8);
        m[3] = (uint8_t)body;
    }
    x->f->r[0].len = n;
    return fx_to_server(x);
}

NEG_EDIT(key_share_group_not_listed) {
    hext *sg = hello_find(&x->h, FR_EXT_SUPPORTED_GROUPS);
    NEG_REQUIRE(sg != NULL);
    /* The x25519 share remains; x25519 is no longer listed. */
    static const uint16_t g[2] = {FERRULE_GROUP_SECP256R1, FERRULE_GROUP_SECP384R1};
    sg->len = u16_vec(sg->body, 2, g, 2);
    return deliver(x);
}

NEG_EDIT(duplicate_key_share_group) {
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->len >= 2 + 4 + 32);
    NEG_REQUIRE(ks != NULL);
    /* The first (only) entry is x25519 (2 + 2 + 32 bytes): append it again. */
    CHECK(ks->body[2] == 0x00 && ks->body[3] == 0x1d);
    memcpy(ks->body + ks->len, ks->body + 2, 36);
    ks->len += 36;
    size_t list = ks->len - 2;
    ks->body[0] = (uint8_t)(list >> 8);
    ks->body[1] = (uint8_t)list;
    return deliver(x);
}

NEG_EDIT(truncated) {
    /* Cut the body at offset number arg, with the lengths of the handshake
     * header and record made consistent: every cut is decode_error
     * (BAD_CLIENT_HELLO: the extension block's framing is cut too). */
    size_t full = x->f->r[0].len - 4;
    size_t comp_end = 2 + 32 + 1 + x->h.sid_len + 2 + 2 * x->h.n_suites + 1 + x->h.n_comp;
    const size_t cuts[16] = {0,  1,  2,  20, 34, 35, 50, 67, 69, comp_end - 1, comp_end + 1,
                             comp_end + 2, comp_end + 5, full / 2, full - 40, full - 1};
    size_t cut = cuts[arg];
    uint8_t *m = x->f->r[0].data;
    m[1] = (uint8_t)(cut >> 16);
    m[2] = (uint8_t)(cut >> 8);
    m[3] = (uint8_t)cut;
    x->f->r[0].len = 4 + cut;
    int st = fx_to_server(x);
    if (st != FERRULE_DECODE) fprintf(stderr, "  cut at %zu of %zu\n", cut, full);
    return st;
}

NEG_EDIT(trailing_byte) {
    x->h.trailing[0] = 0;
    x->h.n_trailing = 1;
    return deliver(x);
}

NEG_EDIT(trailing_byte_in_versions) {
    /* supported_versions with a byte after its list. */
    hext *sv = hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    NEG_REQUIRE(sv != NULL);
    sv->body[sv->len++] = 0;
    return deliver(x);
}

NEG_EDIT(session_id_33) {
    x->h.sid_len = 33;
    return deliver(x);
}

NEG_EDIT(early_data_not_empty) {
    /* RFC 8446 §4.2.10: early_data in a ClientHello has an empty body. */
    static const uint8_t body[4] = {0, 0, 0x40, 0};
    CHECK(hello_add(&x->h, 0, FR_EXT_EARLY_DATA, body, sizeof(body)) != NULL);
    return deliver(x);
}

NEG_EDIT(legacy_version) {
    x->h.version = (uint16_t)arg;
    return deliver(x);
}

NEG_EDIT(invalid_key_share) {
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    CHECK(ks != NULL && ks->body[3] == 0x1d && ks->body[5] == 32);
    NEG_REQUIRE(ks != NULL);
    memset(ks->body + 6, 0, 32); /* x25519 all-zero (low order) point */
    return deliver(x);
}

NEG_EDIT(empty_key_share_entry) {
    hext *ks = hello_find(&x->h, FR_EXT_KEY_SHARE);
    NEG_REQUIRE(ks != NULL);
    static const uint8_t body[6] = {0, 4, 0, 0x1d, 0, 0};
    memcpy(ks->body, body, sizeof(body));
    ks->len = sizeof(body);
    return deliver(x);
}

NEG_EDIT(alpn_empty_protocol) {
    /* RFC 7301 §3.1: empty protocol names MUST NOT be included. */
    static const uint8_t alpn[6] = {0, 4, 2, 'h', '2', 0};
    CHECK(hello_add(&x->h, 1, FR_EXT_ALPN, alpn, sizeof(alpn)) != NULL);
    return deliver(x);
}

NEG_EDIT(no_common_signature_scheme) {
    /* Only schemes that may not sign TLS 1.3 handshakes: no certificate of
     * ours can answer. */
    hext *sa = hello_find(&x->h, FR_EXT_SIGNATURE_ALGORITHMS);
    NEG_REQUIRE(sa != NULL);
    static const uint16_t v[2] = {FERRULE_SIG_RSA_PKCS1_SHA256, 0x0203 /* ecdsa_sha1 */};
    sa->len = u16_vec(sa->body, 2, v, 2);
    return deliver(x);
}

NEG_EDIT(post_handshake_auth_not_empty) {
    /* RFC 8446 §4.2.6: its extension_data is zero length.  Found by
     * fuzz/fuzz_diff_hello (OpenSSL: decode_error; ferrule accepted it),
     * docs/fuzzing.md "Differential fuzzing". */
    static const uint8_t body[2] = {0, 0};
    CHECK(hello_add(&x->h, 1, FR_EXT_POST_HANDSHAKE_AUTH, body, sizeof(body)) != NULL);
    return deliver(x);
}

NEG_EDIT(certificate_authorities_malformed) {
    /* RFC 8446 §4.2.4: authorities<3..2^16-1> of DistinguishedName
     * <1..2^16-1>; here the one name's length runs past the list.  Found
     * by fuzz/fuzz_diff_hello (OpenSSL: decode_error; ferrule ignored the
     * body), docs/fuzzing.md "Differential fuzzing". */
    static const uint8_t body[7] = {0, 5, 0, 9, 0x30, 0, 0};
    CHECK(hello_add(&x->h, 1, FR_EXT_CERTIFICATE_AUTHORITIES, body, sizeof(body)) != NULL);
    return deliver(x);
}

NEG_EDIT(empty_supported_versions) {
    hext *sv = hello_find(&x->h, FR_EXT_SUPPORTED_VERSIONS);
    NEG_REQUIRE(sv != NULL);
    sv->body[0] = 0;
    sv->len = 1;
    return deliver(x);
}

/* ---- what may not come as, or after, the ClientHello ----------------------- */

NEG_EDIT(second_hello_separate_record) {
    CHECK(mf_insert_copy(x->f, 1, 0) != NULL);
    return fx_to_server(x);
}

NEG_EDIT(second_hello_same_record) {
    mrec *r = &x->f->r[0];
    memcpy(r->data + r->len, r->data, r->len);
    r->len *= 2;
    return fx_to_server(x);
}

/* The hello goes through; then `msg` under the client handshake keys. */
static int after_hello_protected(fx *x, const uint8_t *msg, size_t len) {
    CHECK(mf_send(x->f, SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_WANT_READ);
    memset(x->f, 0, offsetof(mflight, r));
    x->f->suite = ferrule_conn_cipher_suite(SV(x));
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, msg, len, SEC(x, SERVER, CHS)) != NULL);
    return fx_to_server(x);
}

NEG_EDIT(second_hello_protected) {
    /* After the flight: a ClientHello under the client handshake keys. */
    mrec saved = x->f->r[0];
    return after_hello_protected(x, saved.data, saved.len);
}

NEG_EDIT(end_of_early_data_without_0rtt) {
    /* RFC 8446 §4.5: EndOfEarlyData only after accepted 0-RTT; here under
     * the client handshake keys of an ordinary handshake. */
    static const uint8_t eoed[4] = {FR_HS_END_OF_EARLY_DATA, 0, 0, 0};
    return after_hello_protected(x, eoed, sizeof(eoed));
}

NEG_EDIT(finished_first) {
    /* The first message is a Finished. */
    static const uint8_t rec[5 + 4 + 32] = {22, 3, 1, 0, 36, FR_HS_FINISHED, 0, 0, 32};
    return fx_server_gets(x, rec, sizeof(rec));
}

/* ---- the table -------------------------------------------------------------- */

#define CH(edit, arg) NEG_CLIENT_HELLO, edit, arg, NEG_SERVER
#define VERSION NEG_FAILS(ALERT_SENT, PROTOCOL_VERSION, PROTOCOL_VERSION)
#define DUPLICATE NEG_FAILS(ALERT_SENT, DUPLICATE_EXTENSION, ILLEGAL_PARAMETER)
#define ILLEGAL NEG_FAILS(ALERT_SENT, ILLEGAL_PARAMETER, ILLEGAL_PARAMETER)
#define BAD_COMPRESSION NEG_FAILS(ALERT_SENT, BAD_COMPRESSION_LIST, ILLEGAL_PARAMETER)
#define MISSING NEG_FAILS(ALERT_SENT, MISSING_EXTENSION, MISSING_EXTENSION)
#define DECODE_ERR NEG_FAILS(DECODE, DECODE_ERROR, DECODE_ERROR)
/* The fixed fields or the framing of the extension block (BoGo
 * Server-TooLongSessionID-TLS13, TrailingMessageData-TLS13-ClientHello). */
#define BAD_HELLO NEG_FAILS(DECODE, BAD_CLIENT_HELLO, DECODE_ERROR)
/* An extension's own body (BoGo ALPNServer-EmptyProtocolName-TLS-TLS13). */
#define BAD_EXT NEG_FAILS(DECODE, BAD_EXTENSION, DECODE_ERROR)
#define UNEXPECTED NEG_FAILS(ALERT_SENT, UNEXPECTED_MESSAGE, UNEXPECTED_MESSAGE)
#define CUT(i) {"ch_truncated/" #i, CH(truncated, i), BAD_HELLO, NEG_PEER_ALERT}

static const neg_row rows[] = {
    {"ch_missing_supported_versions", CH(drop_ext, FR_EXT_SUPPORTED_VERSIONS), VERSION,
     NEG_PEER_ALERT},
    {"ch_supported_versions_without_tls13", CH(versions_without_tls13, 0), VERSION,
     NEG_PEER_ALERT},
    {"ch_no_extensions", CH(no_extensions, 0), VERSION, NEG_PEER_ALERT},
    {"ch_duplicate_extension", CH(duplicate_supported_groups, 0), DUPLICATE, NEG_PEER_ALERT},
    {"ch_duplicate_unknown_extension", CH(duplicate_unknown, 0), DUPLICATE, NEG_PEER_ALERT},
    /* RFC 8446 §4.2.11 (BoGo Resume-Server-PSKBinderFirstExtension). */
    {"ch_pre_shared_key_not_last", CH(psk_not_last, 0),
     NEG_FAILS(ALERT_SENT, PSK_NOT_LAST, ILLEGAL_PARAMETER), NEG_PEER_ALERT},
    /* One identity, two binders (BoGo Resume-Server-ExtraPSKBinder). */
    {"ch_psk_binder_count", CH(psk_binder_count, 0),
     NEG_FAILS(ALERT_SENT, PSK_BINDER_COUNT, ILLEGAL_PARAMETER), NEG_PEER_ALERT},
    /* RFC 8446 §4.1.2: illegal_parameter (BoGo NoNullCompression-TLS13,
     * ExtraCompressionMethods-TLS13). */
    {"ch_compression_methods/null_missing", CH(compression, 0), BAD_COMPRESSION, NEG_PEER_ALERT},
    {"ch_compression_methods/extra_method", CH(compression, 1), BAD_COMPRESSION, NEG_PEER_ALERT},
    {"ch_compression_methods/null_twice", CH(compression, 2), BAD_COMPRESSION, NEG_PEER_ALERT},
    {"ch_empty_compression_methods", CH(compression, 3), BAD_HELLO, NEG_PEER_ALERT},
    {"ch_no_common_cipher_suite", CH(no_common_suite, 0),
     NEG_FAILS(POLICY, NO_SHARED_PARAMS, HANDSHAKE_FAILURE), NEG_PEER_ALERT},
    {"ch_empty_or_odd_cipher_suites/empty", CH(empty_or_odd_suites, 0), BAD_HELLO,
     NEG_PEER_ALERT},
    {"ch_empty_or_odd_cipher_suites/odd", CH(empty_or_odd_suites, 1), BAD_HELLO,
     NEG_PEER_ALERT},
    {"ch_missing_signature_algorithms", CH(drop_ext, FR_EXT_SIGNATURE_ALGORITHMS), MISSING,
     NEG_PEER_ALERT},
    /* RFC 8446 §9.2: missing_extension, under finer reasons (BoGo
     * MissingKeyShare-Server-TLS13, NoSupportedCurves-TLS13). */
    {"ch_missing_key_share", CH(drop_ext, FR_EXT_KEY_SHARE),
     NEG_FAILS(ALERT_SENT, MISSING_KEY_SHARE, MISSING_EXTENSION), NEG_PEER_ALERT},
    {"ch_missing_supported_groups", CH(drop_ext, FR_EXT_SUPPORTED_GROUPS),
     NEG_FAILS(ALERT_SENT, MISSING_GROUPS, MISSING_EXTENSION), NEG_PEER_ALERT},
    {"ch_key_share_group_not_in_supported_groups", CH(key_share_group_not_listed, 0), ILLEGAL,
     NEG_PEER_ALERT},
    /* BoGo DuplicateKeyShares-TLS13. */
    {"ch_duplicate_key_share_group", CH(duplicate_key_share_group, 0),
     NEG_FAILS(ALERT_SENT, DUPLICATE_KEY_SHARE, ILLEGAL_PARAMETER), NEG_PEER_ALERT,
     client_classic},
    CUT(0), CUT(1), CUT(2), CUT(3), CUT(4), CUT(5), CUT(6), CUT(7), CUT(8), CUT(9), CUT(10),
    CUT(11), CUT(12), CUT(13), CUT(14), CUT(15),
    {"ch_trailing_byte", CH(trailing_byte, 0), BAD_HELLO, NEG_PEER_ALERT},
    {"ch_trailing_byte_inside_extension", CH(trailing_byte_in_versions, 0), DECODE_ERR,
     NEG_PEER_ALERT},
    {"ch_session_id_33_bytes", CH(session_id_33, 0), BAD_HELLO, NEG_PEER_ALERT},
    /* RFC 8446 §4.2.9: "If clients offer 'pre_shared_key' without a
     * 'psk_key_exchange_modes' extension, servers MUST abort the
     * handshake"; §9.2 names the alert: missing_extension. */
    {"ch_psk_without_kex_modes", CH(psk_without_kex_modes, 0), MISSING, NEG_PEER_ALERT},
    {"ch_early_data_not_empty", CH(early_data_not_empty, 0), DECODE_ERR, NEG_PEER_ALERT},
    /* RFC 8446 Appendix D.5: a ClientHello with legacy_version 0x0300 MUST
     * be refused with protocol_version, supported_versions or not.  Values
     * below it name no TLS version: the same (docs/rfc8446-matrix.md). */
    {"ch_legacy_version_ssl3_or_lower/0300", CH(legacy_version, 0x0300), VERSION, NEG_PEER_ALERT},
    {"ch_legacy_version_ssl3_or_lower/02ff", CH(legacy_version, 0x02ff), VERSION, NEG_PEER_ALERT},
    {"ch_legacy_version_ssl3_or_lower/0200", CH(legacy_version, 0x0200), VERSION, NEG_PEER_ALERT},
    {"ch_legacy_version_ssl3_or_lower/0000", CH(legacy_version, 0x0000), VERSION, NEG_PEER_ALERT},
    {"ch_invalid_key_share", CH(invalid_key_share, 0),
     NEG_FAILS(ALERT_SENT, BAD_KEY_SHARE, ILLEGAL_PARAMETER), NEG_PEER_ALERT, client_classic},
    {"ch_empty_key_share_entry", CH(empty_key_share_entry, 0), DECODE_ERR, NEG_PEER_ALERT},
    {"ch_alpn_empty_protocol", CH(alpn_empty_protocol, 0), BAD_EXT, NEG_PEER_ALERT},
    {"ch_no_common_signature_scheme", CH(no_common_signature_scheme, 0),
     NEG_FAILS(POLICY, UNSUPPORTED_CERT, HANDSHAKE_FAILURE), NEG_PEER_ALERT},
    {"ch_empty_supported_versions", CH(empty_supported_versions, 0), DECODE_ERR, NEG_PEER_ALERT},
    {"ch_certificate_authorities_malformed", CH(certificate_authorities_malformed, 0), BAD_EXT,
     NEG_PEER_ALERT},
    {"ch_post_handshake_auth_not_empty", CH(post_handshake_auth_not_empty, 0), DECODE_ERR,
     NEG_PEER_ALERT},
    {"ch_second_client_hello_separate_record", CH(second_hello_separate_record, 0),
     NEG_FAILS(DECODE, BAD_OUTER_TYPE, UNEXPECTED_MESSAGE), NEG_PEER_NONE},
    {"ch_second_client_hello_same_record", CH(second_hello_same_record, 0),
     NEG_FAILS(ALERT_SENT, UNALIGNED_HANDSHAKE, UNEXPECTED_MESSAGE), NEG_PEER_NONE},
    {"ch_second_client_hello_protected", CH(second_hello_protected, 0), UNEXPECTED,
     NEG_PEER_NONE},
    {"end_of_early_data_without_0rtt", CH(end_of_early_data_without_0rtt, 0), UNEXPECTED,
     NEG_PEER_NONE},
    {"ch_not_a_client_hello", NEG_SERVER_FRESH, finished_first, 0, NEG_SERVER, UNEXPECTED,
     NEG_PEER_ALERT},
};

NEG_MAIN("neg_client_hello", rows)
