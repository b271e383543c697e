/* test_neg_certificate.c - the client refusing the server's Certificate
 * (RFC 8446 §4.4.2): a malformed leaf, unsolicited entry extensions, a
 * request context where none belongs, an empty list, a list length that
 * does not add up, and the cap on certificates taken from a peer.  The man
 * in the middle edits the message in the server's protected flight; the
 * server receives the client's alert.  One row per case, played by
 * support_neg.c. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "conn.h"
#include "record.h"
#include "support_neg.h"

NEG_EDIT(malformed_leaf) {
    mrec *r = &x->f->r[3];
    /* body: context(1) list<3>; first entry: cert_data<3> starting 0x30. */
    CHECK_EQ(r->data[11], 0x30);
    r->data[11] = 0x31;
    return fx_flight_deliver(x);
}

NEG_EDIT(entry_extension_unsolicited) {
    /* An SCT entry extension, though the client asked for none
     * (RFC 8446 §4.4.2: entry extensions must answer ClientHello ones). */
    mrec *r = &x->f->r[3];
    size_t cert_len = (size_t)r->data[8] << 16 | (size_t)r->data[9] << 8 | r->data[10];
    size_t at = 11 + cert_len; /* the entry's extensions<2> */
    CHECK(r->data[at] == 0 && r->data[at + 1] == 0);
    static const uint8_t ext[6] = {0, 4, 0, FR_EXT_SCT, 0, 0};
    memmove(r->data + at + 6, r->data + at + 2, r->len - at - 2);
    memcpy(r->data + at, ext, 6);
    r->len += 4;
    size_t body = r->len - 4, list = body - 4;
    r->data[1] = (uint8_t)(body >> 16);
    r->data[2] = (uint8_t)(body >> 8);
    r->data[3] = (uint8_t)body;
    r->data[5] = (uint8_t)(list >> 16);
    r->data[6] = (uint8_t)(list >> 8);
    r->data[7] = (uint8_t)list;
    return fx_flight_deliver(x);
}

NEG_EDIT(nonempty_request_context) {
    mrec *r = &x->f->r[3];
    uint8_t *body = malloc(r->len + 8);
    size_t blen = r->len - 4;
    body[0] = 2;
    body[1] = 0xab;
    body[2] = 0xcd;
    memcpy(body + 3, r->data + 4 + 1, blen - 1);
    fx_set_msg(r, FR_HS_CERTIFICATE, body, blen + 2);
    free(body);
    return fx_flight_deliver(x);
}

NEG_EDIT(empty_list) {
    static const uint8_t body[4] = {0, 0, 0, 0};
    fx_set_msg(&x->f->r[3], FR_HS_CERTIFICATE, body, sizeof(body));
    return fx_flight_deliver(x);
}

NEG_EDIT(list_length_mismatch) {
    x->f->r[3].data[4 + 1 + 2] ^= 1; /* low byte of certificate_list length */
    return fx_flight_deliver(x);
}

/* ---- the peer chain cap ----------------------------------------------------- */

/* Replace the server's Certificate (record 3) by one whose list is the
 * leaf followed by `copies` copies of the next certificate, spread over
 * as many protected records as it takes. */
static int long_certificate(fx *x, size_t copies) {
    mrec *r = &x->f->r[3];
    fr_reader body = fr_reader_init(r->data + 4, r->len - 4), ctx, list, leaf, next, ext;
    if (fr_read_vec8(&body, &ctx) != FR_OK || fr_read_vec24(&body, &list) != FR_OK) return 0;
    const uint8_t *leaf_at = list.p;
    if (fr_read_vec24(&list, &leaf) != FR_OK || fr_read_vec16(&list, &ext) != FR_OK) return 0;
    size_t leaf_entry = (size_t)(list.p - leaf_at);
    const uint8_t *next_at = list.p;
    if (fr_read_vec24(&list, &next) != FR_OK || fr_read_vec16(&list, &ext) != FR_OK) return 0;
    size_t next_entry = (size_t)(list.p - next_at);
    size_t list_len = leaf_entry + copies * next_entry, len = 4 + 1 + 3 + list_len;
    uint8_t *msg = malloc(len);
    if (msg == NULL) return 0;
    size_t n = 0;
    msg[n++] = FR_HS_CERTIFICATE;
    msg[n++] = (uint8_t)((len - 4) >> 16);
    msg[n++] = (uint8_t)((len - 4) >> 8);
    msg[n++] = (uint8_t)(len - 4);
    msg[n++] = 0;
    msg[n++] = (uint8_t)(list_len >> 16);
    msg[n++] = (uint8_t)(list_len >> 8);
    msg[n++] = (uint8_t)list_len;
    memcpy(msg + n, leaf_at, leaf_entry);
    n += leaf_entry;
    for (size_t i = 0; i < copies; i++, n += next_entry) memcpy(msg + n, next_at, next_entry);
    /* 16,384 bytes per record: the first in record 3, the rest after it. */
    size_t pos = 3;
    for (size_t off = 0; off < len; off += 16384, pos++) {
        size_t chunk = len - off < 16384 ? len - off : 16384;
        mrec *rec = pos == 3 ? r : mf_insert_copy(x->f, pos, 3);
        if (rec == NULL) {
            free(msg);
            return 0;
        }
        memcpy(rec->data, msg + off, chunk);
        rec->len = chunk;
    }
    free(msg);
    return 1;
}

/* The cap on certificates taken from a peer is a documented, configurable
 * limit (ferrule_config_set_max_peer_certificates, default 64), distinct
 * from the path builder's budget.  The edited Certificate invalidates the
 * server's CertificateVerify, so a list the client accepts ends there
 * (bad_signature), one over the cap ends at the Certificate
 * (cert_chain_too_long).  The row's arg indexes this table. */
static const struct {
    size_t certs; /* in the Certificate */
    uint32_t cap; /* 0: default */
    int verify;   /* chain verification on */
} chains[] = {
    {51, 0, 0},    /* was cert_too_much_work (cap 16) */
    {51, 0, 1},    /* a path is found among them */
    {64, 0, 0},    {65, 0, 0}, {65, 0, 1}, {4, 3, 0}, {3, 3, 0}, {120, 256, 0},
    {250, 256, 0}, /* within the cap, the memory ceiling still bounds what is held */
};

NEG_CFG(client_for_chain) {
    ferrule_config *cc = fx_client_config();
    NEG_REQUIRE_CFG(cc);
    if (chains[arg].cap != 0)
        CHECK_EQ(ferrule_config_set_max_peer_certificates(cc, chains[arg].cap), FERRULE_OK);
    if (!chains[arg].verify) CHECK_EQ(ferrule_config_dangerous_no_verification(cc), FERRULE_OK);
    return cc;
}

NEG_EDIT(chain_of) {
    NEG_REQUIRE(long_certificate(x, chains[arg].certs - 1));
    return fx_flight_deliver(x);
}

NEG_POST(certs_held) {
    uint32_t reason = ferrule_conn_reason(CL(x));
    if (reason == FERRULE_R_CERT_CHAIN_TOO_LONG)
        CHECK_EQ(ferrule_conn_peer_cert_count(CL(x)), chains[arg].cap ? chains[arg].cap : 64);
    else if (reason == FERRULE_R_BAD_SIGNATURE)
        CHECK_EQ(ferrule_conn_peer_cert_count(CL(x)), chains[arg].certs);
}

NEG_EDIT(cap_setter_range) {
    /* The setter's range: 1 .. 256. */
    ferrule_config *cfg = pair_client_config();
    NEG_REQUIRE(cfg != NULL);
    CHECK_EQ(ferrule_config_set_max_peer_certificates(cfg, 0), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_max_peer_certificates(cfg, 257), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_max_peer_certificates(cfg, 256), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_max_peer_certificates(NULL, 5), FERRULE_USAGE);
    ferrule_config_free(cfg);
    return NEG_DONE;
}

#define CERT(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
#define CHAIN(name, i, outcome)                                                                    \
    {"cert_peer_chain_cap/" name, CERT(chain_of, i), outcome, NEG_PEER_NONE, client_for_chain,    \
     .post = certs_held}
#define TOO_LONG NEG_FAILS(CERTIFICATE, CERT_CHAIN_TOO_LONG, BAD_CERTIFICATE)
#define BAD_SIG NEG_FAILS(ALERT_SENT, BAD_SIGNATURE, DECRYPT_ERROR)

static const neg_row rows[] = {
    {"cert_malformed_leaf", CERT(malformed_leaf, 0),
     NEG_FAILS(CERTIFICATE, CERT_MALFORMED, BAD_CERTIFICATE), NEG_PEER_ALERT},
    {"cert_entry_extension_unsolicited", CERT(entry_extension_unsolicited, 0),
     NEG_FAILS(ALERT_SENT, UNSUPPORTED_EXTENSION, UNSUPPORTED_EXTENSION), NEG_PEER_ALERT},
    {"cert_nonempty_request_context", CERT(nonempty_request_context, 0),
     NEG_FAILS(ALERT_SENT, ILLEGAL_PARAMETER, ILLEGAL_PARAMETER), NEG_PEER_ALERT},
    {"cert_empty_list", CERT(empty_list, 0), NEG_FAILS(CERTIFICATE, CERT_MISSING, DECODE_ERROR),
     NEG_PEER_ALERT},
    CHAIN("51_default_cap", 0, BAD_SIG),
    CHAIN("51_default_cap_verified", 1, BAD_SIG),
    CHAIN("64_default_cap", 2, BAD_SIG),
    CHAIN("65_default_cap", 3, TOO_LONG),
    CHAIN("65_default_cap_verified", 4, TOO_LONG),
    CHAIN("4_cap_3", 5, TOO_LONG),
    CHAIN("3_cap_3", 6, BAD_SIG),
    CHAIN("120_cap_256", 7, BAD_SIG),
    CHAIN("250_cap_256", 8, NEG_FAILS(POLICY, MEMORY_LIMIT, INTERNAL_ERROR)),
    {"cert_peer_chain_cap/setter_range", NEG_NONE, cap_setter_range},
    {"cert_list_length_mismatch", CERT(list_length_mismatch, 0),
     NEG_FAILS(DECODE, DECODE_ERROR, DECODE_ERROR), NEG_PEER_ALERT},
};

NEG_MAIN("neg_certificate", rows)
