/* test_neg_client_hello_tolerated.c - ClientHello variations a server must
 * accept (RFC 8446 §4.1.2, §4.2; RFC 8701 GREASE): the edited hello is
 * adopted by the client too, so that both transcripts agree, and the
 * handshake must complete and carry data.  One row per case, played by
 * support_neg.c (the refusals are in test_neg_client_hello.c). */
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

/* The row's expected status is the server's final one: FERRULE_OK. */
static int succeed(fx *x) { return FX_CH_SUCCEED(x); }

/* For the cases that rewrite supported_groups around an x25519 share. */
NEG_CFG(client_classic) { return fx_client_classic_config(); }

NEG_POST(tolerated) { EXCHANGE(CL(x), SV(x), "tolerated"); }

/* Insert a GREASE value first in a u16 list with a 2-byte prefix. */
static void grease_first(hext *e, uint8_t g) {
    memmove(e->body + 4, e->body + 2, e->len - 2);
    e->body[2] = g;
    e->body[3] = g;
    e->len += 2;
    e->body[0] = (uint8_t)((e->len - 2) >> 8);
    e->body[1] = (uint8_t)(e->len - 2);
}

NEG_EDIT(grease) {
    hello *h = &x->h;
    /* RFC 8701: GREASE cipher suite first. */
    memmove(h->suites + 1, h->suites, h->n_suites * sizeof(uint16_t));
    h->suites[0] = 0x0a0a;
    h->n_suites++;
    /* GREASE group listed first, with a one-byte GREASE key share. */
    hext *sg = hello_find(h, FR_EXT_SUPPORTED_GROUPS);
    hext *ks = hello_find(h, FR_EXT_KEY_SHARE);
    hext *sa = hello_find(h, FR_EXT_SIGNATURE_ALGORITHMS);
    hext *sv = hello_find(h, FR_EXT_SUPPORTED_VERSIONS);
    NEG_REQUIRE(sg != NULL && ks != NULL && sa != NULL && sv != NULL);
    static const uint16_t groups[4] = {0x1a1a, FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1,
                                       FERRULE_GROUP_SECP384R1};
    sg->len = u16_vec(sg->body, 2, groups, 4);
    memmove(ks->body + 2 + 5, ks->body + 2, ks->len - 2);
    ks->body[2] = 0x1a;
    ks->body[3] = 0x1a;
    ks->body[4] = 0;
    ks->body[5] = 1;
    ks->body[6] = 0;
    ks->len += 5;
    ks->body[0] = (uint8_t)((ks->len - 2) >> 8);
    ks->body[1] = (uint8_t)(ks->len - 2);
    /* GREASE signature scheme and version. */
    grease_first(sa, 0x0a);
    static const uint16_t versions[2] = {0x3a3a, FERRULE_TLS13};
    sv->len = u16_vec(sv->body, 1, versions, 2);
    /* A GREASE extension with a random body, first and last. */
    uint8_t body[17];
    for (size_t i = 0; i < sizeof(body); i++) body[i] = (uint8_t)(i * 37 + 11);
    CHECK(hello_add(h, 0, 0x1a1a, body, sizeof(body)) != NULL);
    CHECK(hello_add(h, h->n_ext, 0xfafa, NULL, 0) != NULL);
    return succeed(x);
}

NEG_POST(grease_ignored) {
    EXCHANGE(CL(x), SV(x), "tolerated");
    CHECK_EQ(ferrule_conn_cipher_suite(SV(x)), FERRULE_TLS_AES_128_GCM_SHA256);
    CHECK_EQ(ferrule_conn_group(SV(x)), FERRULE_GROUP_X25519);
}

NEG_EDIT(unknown_extensions) {
    static const uint8_t body[4] = {0xde, 0xad, 0xbe, 0xef};
    CHECK(hello_add(&x->h, 1, 0xfe77, body, sizeof(body)) != NULL);
    /* Extensions the server does not implement (signed_certificate_timestamp,
     * padding).  (status_request is implemented, and our client sends it.) */
    CHECK(hello_add(&x->h, 2, FR_EXT_SCT, NULL, 0) != NULL);
    static const uint8_t pad[40] = {0};
    CHECK(hello_add(&x->h, x->h.n_ext, FR_EXT_PADDING, pad, sizeof(pad)) != NULL);
    return succeed(x);
}

NEG_EDIT(certificate_authorities) {
    /* A well-formed certificate_authorities (RFC 8446 §4.2.4) passes its
     * syntax check and is not used (the check came with fuzz_diff_hello,
     * docs/fuzzing.md); two names, the second a bare SEQUENCE. */
    static const uint8_t body[12] = {0, 10, 0, 4, 0x30, 2, 0x31, 0, 0, 2, 0x30, 0};
    CHECK(hello_add(&x->h, 1, FR_EXT_CERTIFICATE_AUTHORITIES, body, sizeof(body)) != NULL);
    return succeed(x);
}

NEG_EDIT(early_data_without_psk) {
    /* early_data without a PSK cannot be accepted; the handshake goes on
     * in 1-RTT (RFC 8446 §4.2.10). */
    CHECK(hello_add(&x->h, 0, FR_EXT_EARLY_DATA, NULL, 0) != NULL);
    return succeed(x);
}

NEG_EDIT(psk_declined) {
    /* An offered PSK the server cannot use is declined and a full
     * handshake follows (RFC 8446 §4.2.11).  Our client's hello carries
     * psk_dhe_ke already. */
    hext *modes = hello_find(&x->h, FR_EXT_PSK_KEY_EXCHANGE_MODES);
    CHECK(modes != NULL && modes->len == 2 && modes->body[0] == 1 && modes->body[1] == 1);
    /* One identity "id" with age 0, one 32-byte binder. */
    uint8_t psk[64] = {0, 8, 0, 2, 'i', 'd', 0, 0, 0, 0, 0, 33, 32};
    memset(psk + 13, 0x5a, 32);
    CHECK(hello_add(&x->h, x->h.n_ext, FR_EXT_PRE_SHARED_KEY, psk, 13 + 32) != NULL);
    return succeed(x);
}

NEG_POST(not_resumed) {
    EXCHANGE(CL(x), SV(x), "tolerated");
    CHECK_EQ(ferrule_conn_resumed(SV(x)), 0);
}

NEG_EDIT(legacy_version) {
    /* RFC 8446 §4.2.1: with supported_versions present the server MUST NOT
     * use legacy_version for negotiation; above 0x0300 it plays no part. */
    x->h.version = (uint16_t)arg;
    return succeed(x);
}

NEG_POST(tls13) {
    EXCHANGE(CL(x), SV(x), "tolerated");
    CHECK_EQ(ferrule_conn_version(SV(x)), FERRULE_TLS13);
}

NEG_EDIT(empty_session_id) {
    /* A client not in middlebox-compatibility mode (empty
     * legacy_session_id) gets no change_cipher_spec (RFC 8446 D.4). */
    x->h.sid_len = 0;
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    CHECK(n > 0);
    x->f->r[0].len = n;
    CHECK(mitm_client_adopt_hello(CL(x), x->f->r[0].data, n));
    CL(x)->session_id_len = 0;
    CHECK(mf_send(x->f, SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_WANT_READ);
    mflight *g = mf_new();
    CHECK(mf_take(g, SV(x)));
    for (size_t i = 0; i < g->n; i++) CHECK(g->r[i].type != FR_CT_CHANGE_CIPHER_SPEC);
    CHECK(mf_send(g, CL(x)));
    CHECK_EQ(ferrule_conn_handshake(CL(x)), FERRULE_OK);
    memset(g, 0, offsetof(mflight, r));
    CHECK(mf_take(g, CL(x)));
    for (size_t i = 0; i < g->n; i++) CHECK(g->r[i].type != FR_CT_CHANGE_CIPHER_SPEC);
    CHECK(mf_send(g, SV(x)));
    mf_free(g);
    return ferrule_conn_handshake(SV(x));
}

NEG_POST(no_ccs) { EXCHANGE(CL(x), SV(x), "no ccs"); }

NEG_EDIT(long_list) {
    /* Lists longer than any fixed copy (RFC 8446 §4.2.1, §4.2.3, §4.2.7
     * allow up to 2^16 bytes): the useful entries come after 70 unknown
     * ones and must still be found.  arg: the extension. */
    static const uint16_t groups[3] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1,
                                       FERRULE_GROUP_SECP384R1};
    static const uint16_t scheme = FERRULE_SIG_ECDSA_SECP256R1_SHA256, version = FERRULE_TLS13;
    hext *e = hello_find(&x->h, (uint16_t)arg);
    NEG_REQUIRE(e != NULL);
    uint16_t v[80];
    size_t n = 0;
    for (; n < 70; n++) v[n] = (uint16_t)(0x0a0a + 0x1000 * (n % 16) + (n / 16)); /* unknown */
    if (arg == FR_EXT_SUPPORTED_GROUPS)
        for (size_t i = 0; i < 3; i++) v[n++] = groups[i];
    else
        v[n++] = arg == FR_EXT_SIGNATURE_ALGORITHMS ? scheme : version;
    e->len = u16_vec(e->body, arg == FR_EXT_SUPPORTED_VERSIONS ? 1 : 2, v, n);
    return succeed(x);
}

#define CH(edit, arg) NEG_CLIENT_HELLO, edit, arg, NEG_SERVER, NEG_GIVES(OK), NEG_PEER_NONE

static const neg_row rows[] = {
    {"ch_grease_is_ignored", CH(grease, 0), .client_cfg = client_classic, .post = grease_ignored},
    {"ch_unknown_extension_is_ignored", CH(unknown_extensions, 0), .post = tolerated},
    {"ch_certificate_authorities_accepted", CH(certificate_authorities, 0), .post = tolerated},
    {"ch_early_data_without_psk_is_ignored", CH(early_data_without_psk, 0), .post = tolerated},
    {"ch_psk_declined_full_handshake", CH(psk_declined, 0), .post = not_resumed},
    {"ch_legacy_version_ignored", CH(legacy_version, 0x0301), .post = tls13},
    {"ch_legacy_version_ssl3_or_lower/above_0302", CH(legacy_version, 0x0302), .post = tls13},
    {"ch_legacy_version_ssl3_or_lower/above_0304", CH(legacy_version, 0x0304), .post = tls13},
    {"ch_legacy_version_ssl3_or_lower/above_7f7f", CH(legacy_version, 0x7f7f), .post = tls13},
    {"ch_empty_session_id", CH(empty_session_id, 0), .post = no_ccs},
    {"ch_long_lists_are_read_completely/supported_groups", CH(long_list, FR_EXT_SUPPORTED_GROUPS),
     .client_cfg = client_classic, .post = tolerated},
    {"ch_long_lists_are_read_completely/signature_algorithms",
     CH(long_list, FR_EXT_SIGNATURE_ALGORITHMS), .post = tolerated},
    {"ch_long_lists_are_read_completely/supported_versions",
     CH(long_list, FR_EXT_SUPPORTED_VERSIONS), .post = tolerated},
};

NEG_MAIN("neg_client_hello_tolerated", rows)
