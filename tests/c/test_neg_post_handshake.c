/* test_neg_post_handshake.c - after the handshake (RFC 8446 §4.6, §6):
 * NewSessionTicket (lifetime, empty ticket, early_data, unknown and
 * duplicate extensions, from a client), KeyUpdate (value, length, spanning
 * its own key change, the requested round trip, old keys refused),
 * messages that do not belong after the handshake, and alerts.  The man in
 * the middle seals records with the application secrets; the default
 * server sends no tickets, so its records start at sequence number 0.  One
 * row per case, played by support_neg.c. */
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

/* A NewSessionTicket with `lifetime`, a ticket of `ticket_len` bytes and
 * no extensions. */
static size_t nst(uint8_t *out, uint32_t lifetime, size_t ticket_len) {
    size_t n = 0;
    out[n++] = FR_HS_NEW_SESSION_TICKET;
    size_t body = 4 + 4 + 1 + 4 + 2 + ticket_len + 2;
    out[n++] = 0;
    out[n++] = (uint8_t)(body >> 8);
    out[n++] = (uint8_t)body;
    for (int s = 24; s >= 0; s -= 8) out[n++] = (uint8_t)(lifetime >> s);
    memcpy(out + n, "\x12\x34\x56\x78", 4); /* ticket_age_add */
    n += 4;
    out[n++] = 4; /* nonce */
    memcpy(out + n, "\x00\x00\x00\x01", 4);
    n += 4;
    out[n++] = (uint8_t)(ticket_len >> 8);
    out[n++] = (uint8_t)ticket_len;
    memset(out + n, 0x7e, ticket_len);
    n += ticket_len;
    out[n++] = 0; /* extensions */
    out[n++] = 0;
    return n;
}

/* A NewSessionTicket carrying early_data with `ext_len` bytes of body. */
static size_t nst_with_early_data(uint8_t *m, size_t ext_len) {
    size_t n = 0;
    m[n++] = FR_HS_NEW_SESSION_TICKET;
    size_t body_at = n;
    n += 3;
    static const uint8_t fixed[] = {0, 0, 0x0e, 0x10,  /* lifetime 3600 */
                                    1, 2, 3,    4,     /* ticket_age_add */
                                    1, 0,              /* ticket_nonce */
                                    0, 2, 0xaa, 0xbb}; /* ticket */
    memcpy(m + n, fixed, sizeof(fixed));
    n += sizeof(fixed);
    m[n++] = 0;
    m[n++] = (uint8_t)(4 + ext_len);
    m[n++] = 0;
    m[n++] = FR_EXT_EARLY_DATA;
    m[n++] = 0;
    m[n++] = (uint8_t)ext_len;
    for (size_t i = 0; i < ext_len; i++) m[n++] = (uint8_t)(i == ext_len - 1 ? 0x40 : 0);
    size_t body = n - 4;
    m[body_at] = 0;
    m[body_at + 1] = (uint8_t)(body >> 8);
    m[body_at + 2] = (uint8_t)body;
    return n;
}

/* The server injects one handshake message; the client reads. */
static int inject(fx *x, const uint8_t *m, size_t n) {
    CHECK(fx_server_injects(x, m, n));
    return fx_read(CL(x));
}

/* ---- NewSessionTicket -------------------------------------------------------- */

NEG_EDIT(ticket_early_data) {
    /* RFC 8446 §4.2.10: in a NewSessionTicket, early_data is exactly a
     * uint32 max_early_data_size (arg: its body length). */
    uint8_t m[64];
    return inject(x, m, nst_with_early_data(m, (size_t)arg));
}

NEG_POST(early_data_kept) {
    /* A well-formed early_data (max 64) is stored with the session. */
    uint8_t blob[8192];
    size_t len = 0;
    CHECK_EQ(ferrule_conn_session(CL(x), blob, sizeof(blob), &len), FERRULE_OK);
    /* The blob ends with the ticket's max_early_data_size. */
    CHECK(len > 4 && blob[len - 4] == 0 && blob[len - 3] == 0 && blob[len - 2] == 0 &&
          blob[len - 1] == 0x40);
}

/* arg: lifetime << 8 | ticket length. */
NEG_EDIT(ticket) {
    uint8_t m[64];
    return inject(x, m, nst(m, (uint32_t)arg >> 8, (size_t)arg & 0xff));
}

NEG_POST(data_flows_after_ticket) {
    CHECK_EQ(ferrule_conn_status(CL(x)), FERRULE_OK);
    /* The injected record used the server's sequence number 0. */
    SV(x)->wr.seq++;
    EXCHANGE(SV(x), CL(x), "after ticket");
    EXCHANGE(CL(x), SV(x), "and back");
}

NEG_EDIT(ticket_many_unknown_extensions) {
    /* RFC 8446 §4.6.1: unknown NewSessionTicket extensions are ignored,
     * however many (1,000: beyond the old cap of 64); with arg 1 the last
     * repeats the first: a duplicate among them is still refused. */
    uint8_t m[64 + 4 * 1000];
    size_t n = nst(m, 3600, 16);
    size_t exts = 4 * 1000;
    m[n - 2] = (uint8_t)(exts >> 8);
    m[n - 1] = (uint8_t)exts;
    for (unsigned i = 0; i < 1000; i++) {
        unsigned t = arg && i == 999 ? 0x6000 : 0x6000 + i;
        m[n++] = (uint8_t)(t >> 8);
        m[n++] = (uint8_t)t;
        m[n++] = 0;
        m[n++] = 0;
    }
    size_t body = n - 4;
    m[1] = (uint8_t)(body >> 16);
    m[2] = (uint8_t)(body >> 8);
    m[3] = (uint8_t)body;
    return inject(x, m, n);
}

NEG_EDIT(ticket_misplaced_extension) {
    /* A ticket whose extensions are one empty extension of type `arg`: one
     * ferrule knows but that RFC 8446 §4.2 does not place in a
     * NewSessionTicket. */
    uint8_t m[64];
    size_t n = nst(m, 3600, 16);
    m[n - 1] = 4;
    m[n++] = (uint8_t)(arg >> 8);
    m[n++] = (uint8_t)arg;
    m[n++] = 0;
    m[n++] = 0;
    size_t body = n - 4;
    m[1] = (uint8_t)(body >> 16);
    m[2] = (uint8_t)(body >> 8);
    m[3] = (uint8_t)body;
    return inject(x, m, n);
}

NEG_POST(session_available) {
    CHECK_EQ(ferrule_conn_status(CL(x)), FERRULE_OK);
    uint8_t blob[8192];
    size_t len = 0;
    CHECK_EQ(ferrule_conn_session(CL(x), blob, sizeof(blob), &len), FERRULE_OK);
}

NEG_EDIT(ticket_from_client) {
    /* Only servers send tickets. */
    uint8_t m[64];
    size_t n = nst(m, 3600, 8);
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, m, n, SEC(x, CLIENT, CAP)) != NULL);
    CHECK(mf_send(x->f, SV(x)));
    return fx_read(SV(x));
}

NEG_EDIT(ticket_split_across_records) {
    /* A post-handshake message fragmented over two records. */
    uint8_t m[64];
    size_t n = nst(m, 3600, 20);
    const uint8_t *k = SEC(x, SERVER, SAP);
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, m, 3, k) != NULL);
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, m + 3, n - 3, k) != NULL);
    return fx_client_reads(x);
}

NEG_POST(data_flows_after_two_records) {
    SV(x)->wr.seq += 2;
    EXCHANGE(SV(x), CL(x), "after split ticket");
}

/* ---- KeyUpdate and other messages -------------------------------------------- */

static const uint8_t ku_bad_value[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, 2};
static const uint8_t ku_bad_length[6] = {FR_HS_KEY_UPDATE, 0, 0, 2, 0, 0};
/* Two KeyUpdates in one record: the second would span the change. */
static const uint8_t ku_twice[10] = {FR_HS_KEY_UPDATE, 0, 0, 1, 0, FR_HS_KEY_UPDATE, 0, 0, 1, 0};
/* A second server Finished after the handshake. */
static const uint8_t finished[4 + 32] = {FR_HS_FINISHED, 0, 0, 32};
/* RFC 8446 §4.6.2: a post-handshake CertificateRequest (context 0x01,
 * signature_algorithms ecdsa_secp256r1_sha256) to a client that never
 * offered post_handshake_auth, which ferrule does not implement. */
static const uint8_t post_handshake_cr[4 + 12] = {
    FR_HS_CERTIFICATE_REQUEST, 0, 0, 12, 1, 1, 0, 8, 0, 13, 0, 4, 0, 2, 0x04, 0x03};
static const struct {
    const uint8_t *p;
    size_t n;
} msgs[] = {
    {ku_bad_value, sizeof(ku_bad_value)},
    {ku_bad_length, sizeof(ku_bad_length)},
    {ku_twice, sizeof(ku_twice)},
    {finished, sizeof(finished)},
    {post_handshake_cr, sizeof(post_handshake_cr)},
};

NEG_EDIT(message) { return inject(x, msgs[arg].p, msgs[arg].n); }

NEG_EDIT(key_update_requested) {
    /* The server asks for an update; the client updates its read keys and
     * (answering) its write keys. */
    EXCHANGE(SV(x), CL(x), "before");
    uint8_t old_c[FR_MAX_HASH], old_s[FR_MAX_HASH];
    memcpy(old_c, CL(x)->ks.client_ap, sizeof(old_c));
    memcpy(old_s, CL(x)->ks.server_ap, sizeof(old_s));
    unsigned epoch = CL(x)->rd_epoch;
    CHECK_EQ(fr_send_key_update(SV(x), 1), FR_OK);
    CHECK(mitm_pass(SV(x), CL(x)));
    int st = fx_read(CL(x));
    CHECK_EQ(CL(x)->rd_epoch, epoch + 1);
    CHECK(memcmp(old_s, CL(x)->ks.server_ap, sizeof(old_s)) != 0);
    CHECK(memcmp(old_c, CL(x)->ks.client_ap, sizeof(old_c)) != 0);
    return st;
}

NEG_POST(key_update_answered) {
    /* The answer: one record holding KeyUpdate(update_not_requested). */
    mflight *g = mf_new();
    g->suite = x->f->suite;
    CHECK(mf_take(g, CL(x)));
    CHECK_EQ(g->n, 1);
    CHECK_EQ(mf_open(g, 0, 1, SEC(x, CLIENT, CAP)), 1);
    static const uint8_t answer[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, 0};
    CHECK(g->r[0].inner == FR_CT_HANDSHAKE && g->r[0].len == 5 &&
          memcmp(g->r[0].data, answer, 5) == 0);
    CHECK(mf_send(g, SV(x)));
    mf_free(g);
    CHECK_EQ(fx_read(SV(x)), FERRULE_WANT_READ);
    /* The server must not answer an update_not_requested. */
    CHECK_EQ(ferrule_conn_pending_output(SV(x)), 0);
    CHECK(memcmp(SV(x)->ks.client_ap, CL(x)->ks.client_ap, FR_MAX_HASH) == 0);
    EXCHANGE(SV(x), CL(x), "after update, server to client");
    EXCHANGE(CL(x), SV(x), "after update, client to server");
    /* Another round, initiated by the client without a request. */
    CHECK_EQ(fr_send_key_update(CL(x), 0), FR_OK);
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(fx_read(SV(x)), FERRULE_WANT_READ);
    CHECK_EQ(ferrule_conn_pending_output(SV(x)), 0);
    EXCHANGE(CL(x), SV(x), "second generation");
    EXCHANGE(SV(x), CL(x), "unchanged server keys");
}

NEG_EDIT(old_keys_after_key_update) {
    /* After the client processed a KeyUpdate, a record under the old server
     * keys fails authentication. */
    static const uint8_t ku[5] = {FR_HS_KEY_UPDATE, 0, 0, 1, 0};
    CHECK(mf_add_prot(x->f, FR_CT_HANDSHAKE, ku, 5, SEC(x, SERVER, SAP)) != NULL);
    CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"old", 3,
                      SEC(x, SERVER, SAP)) != NULL);
    return fx_client_reads(x);
}

/* ---- alerts ------------------------------------------------------------------ */

NEG_EDIT(data_after_close_notify) {
    static const uint8_t cn[2] = {1, 0};
    const uint8_t *k = SEC(x, SERVER, SAP);
    mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"last", 4, k);
    mf_add_prot(x->f, FR_CT_ALERT, cn, 2, k);
    mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"ghost", 5, k);
    CHECK(mf_send(x->f, CL(x)));
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_read(CL(x), buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 4 && memcmp(buf, "last", 4) == 0);
    int st = ferrule_conn_read(CL(x), buf, sizeof(buf), &n);
    CHECK_EQ(n, 0);
    return st;
}

NEG_POST(still_closed) { CHECK_EQ(fx_read(CL(x)), FERRULE_CLOSED); }

NEG_EDIT(protected_alert) {
    /* arg: level << 8 | description. */
    const uint8_t al[2] = {(uint8_t)(arg >> 8), (uint8_t)arg};
    CHECK(mf_add_prot(x->f, FR_CT_ALERT, al, 2, SEC(x, SERVER, SAP)) != NULL);
    return fx_client_reads(x);
}

NEG_EDIT(user_canceled_run) {
    /* arg: (after << 8) | before: `before` user_canceled alerts, then, if
     * `after` > 0, one application data record and `after` more; the
     * client reads once per run. */
    static const uint8_t uc[2] = {1, FERRULE_ALERT_USER_CANCELED};
    const uint8_t *k = SEC(x, SERVER, SAP);
    int before = arg & 0xff, after = arg >> 8;
    for (int i = 0; i < before; i++) CHECK(mf_add_prot(x->f, FR_CT_ALERT, uc, 2, k) != NULL);
    if (after == 0) return fx_client_reads(x);
    CHECK(mf_add_prot(x->f, FR_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, k) != NULL);
    for (int i = 0; i < after; i++) CHECK(mf_add_prot(x->f, FR_CT_ALERT, uc, 2, k) != NULL);
    int st = fx_client_reads(x);
    if (st != FERRULE_OK) return st;
    return fx_read(CL(x));
}

#define POST(edit, arg) NEG_CONNECTED, edit, arg, NEG_CLIENT
#define DECODE_ERR NEG_FAILS(DECODE, DECODE_ERROR, DECODE_ERROR)
#define ILLEGAL NEG_FAILS(ALERT_SENT, ILLEGAL_PARAMETER, ILLEGAL_PARAMETER)
#define UNEXPECTED NEG_FAILS(ALERT_SENT, UNEXPECTED_MESSAGE, UNEXPECTED_MESSAGE)
#define TICKET(lifetime, len) ((lifetime) << 8 | (len))

static const neg_row rows[] = {
    {"post_ticket_early_data_bad_length/0", POST(ticket_early_data, 0), DECODE_ERR,
     NEG_PEER_NONE},
    {"post_ticket_early_data_bad_length/3", POST(ticket_early_data, 3), DECODE_ERR,
     NEG_PEER_NONE},
    {"post_ticket_early_data_bad_length/5", POST(ticket_early_data, 5), DECODE_ERR,
     NEG_PEER_NONE},
    {"post_ticket_early_data_is_kept", POST(ticket_early_data, 4), NEG_GIVES(WANT_READ),
     NEG_PEER_NONE, .post = early_data_kept},
    {"post_key_update_bad_value", POST(message, 0),
     NEG_FAILS(ALERT_SENT, BAD_KEY_UPDATE, ILLEGAL_PARAMETER), NEG_PEER_ALERT},
    {"post_key_update_bad_length", POST(message, 1), DECODE_ERR, NEG_PEER_ALERT},
    {"post_key_update_spans_key_change", POST(message, 2),
     NEG_FAILS(ALERT_SENT, UNALIGNED_HANDSHAKE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"post_new_session_ticket_lifetime", POST(ticket, TICKET(604801, 16)), ILLEGAL,
     NEG_PEER_ALERT},
    {"post_new_session_ticket_empty_ticket", POST(ticket, TICKET(3600, 0)), DECODE_ERR,
     NEG_PEER_ALERT},
    /* Boundary: exactly seven days is allowed; data keeps flowing. */
    {"post_new_session_ticket_valid_is_accepted", POST(ticket, TICKET(604800, 16)),
     NEG_GIVES(WANT_READ), NEG_PEER_NONE, .post = data_flows_after_ticket},
    {"post_new_session_ticket_many_unknown_extensions/unique",
     POST(ticket_many_unknown_extensions, 0), NEG_GIVES(WANT_READ), NEG_PEER_NONE,
     .post = session_available},
    {"post_new_session_ticket_many_unknown_extensions/duplicate",
     POST(ticket_many_unknown_extensions, 1),
     NEG_FAILS(ALERT_SENT, DUPLICATE_EXTENSION, ILLEGAL_PARAMETER), NEG_PEER_NONE},
    /* RFC 8446 §4.2: recognised, not for this message: illegal_parameter
     * (they were ignored like unknown ones). */
    {"post_new_session_ticket_misplaced_extension/pre_shared_key",
     POST(ticket_misplaced_extension, FR_EXT_PRE_SHARED_KEY), ILLEGAL, NEG_PEER_ALERT},
    {"post_new_session_ticket_misplaced_extension/server_name",
     POST(ticket_misplaced_extension, FR_EXT_SERVER_NAME), ILLEGAL, NEG_PEER_ALERT},
    {"post_new_session_ticket_misplaced_extension/key_share",
     POST(ticket_misplaced_extension, FR_EXT_KEY_SHARE), ILLEGAL, NEG_PEER_ALERT},
    {"post_new_session_ticket_from_client", NEG_CONNECTED, ticket_from_client, 0, NEG_SERVER,
     UNEXPECTED, NEG_PEER_ALERT},
    {"post_handshake_message_after_handshake", POST(message, 3), UNEXPECTED, NEG_PEER_NONE},
    {"post_certificate_request_without_post_handshake_auth", POST(message, 4), UNEXPECTED,
     NEG_PEER_NONE},
    {"post_key_update_requested_round_trip", POST(key_update_requested, 0), NEG_GIVES(WANT_READ),
     NEG_PEER_NONE, .post = key_update_answered},
    {"post_old_keys_rejected_after_key_update", POST(old_keys_after_key_update, 0),
     NEG_FAILS(DECODE, BAD_RECORD_MAC, BAD_RECORD_MAC), NEG_PEER_NONE},
    {"post_data_after_close_notify_is_ignored", POST(data_after_close_notify, 0),
     NEG_GIVES(CLOSED), NEG_PEER_NONE, .post = still_closed},
    /* A protected fatal alert after the handshake: reported; nothing is
     * sent in reply. */
    {"post_fatal_alert_received", POST(protected_alert, 2 << 8 | FERRULE_ALERT_INTERNAL_ERROR),
     NEG_FAILS(ALERT_RECEIVED, PEER_ALERT, INTERNAL_ERROR), NEG_PEER_SILENT},
    /* RFC 8446 §6: the level is ignored; every alert but close_notify and
     * user_canceled ends the connection. */
    {"post_warning_level_alert_is_fatal",
     POST(protected_alert, 1 << 8 | FERRULE_ALERT_HANDSHAKE_FAILURE),
     NEG_FAILS(ALERT_RECEIVED, PEER_ALERT, HANDSHAKE_FAILURE), NEG_PEER_NONE},
    /* RFC 8446 §6.1: user_canceled is a closure alert, not an error
     * alert; it is ignored (close_notify should follow), after the
     * handshake too, up to FR_MAX_USER_CANCELED in a row. */
    {"post_user_canceled_is_ignored", POST(user_canceled_run, FR_MAX_USER_CANCELED),
     NEG_GIVES(WANT_READ), NEG_PEER_NONE},
    {"post_user_canceled_run_too_long", POST(user_canceled_run, FR_MAX_USER_CANCELED + 1),
     NEG_FAILS(ALERT_SENT, TOO_MANY_WARNINGS, UNEXPECTED_MESSAGE), NEG_PEER_ALERT},
    {"post_user_canceled_run_reset_by_data",
     POST(user_canceled_run, FR_MAX_USER_CANCELED << 8 | FR_MAX_USER_CANCELED),
     NEG_GIVES(WANT_READ), NEG_PEER_NONE},
    /* An AlertLevel that is neither warning nor fatal: illegal_parameter. */
    {"post_alert_level_unknown",
     POST(protected_alert, 0x42 << 8 | FERRULE_ALERT_UNEXPECTED_MESSAGE),
     NEG_FAILS(ALERT_SENT, BAD_ALERT_LEVEL, ILLEGAL_PARAMETER), NEG_PEER_ALERT},
    {"post_ticket_split_across_records", POST(ticket_split_across_records, 0),
     NEG_GIVES(WANT_READ), NEG_PEER_NONE, .post = data_flows_after_two_records},
};

NEG_MAIN("neg_post_handshake", rows)
