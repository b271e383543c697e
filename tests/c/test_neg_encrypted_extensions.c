/* test_neg_encrypted_extensions.c - the client refusing the server's
 * EncryptedExtensions (RFC 8446 §4.3.1, §4.2): duplicates, extensions it
 * did not request or that do not belong there, malformed bodies.  The man
 * in the middle replaces the message in the server's protected flight; the
 * client must fail as the row says and send its compatibility
 * change_cipher_spec (RFC 8446 Appendix D.4: before anything encrypted),
 * then the alert under its handshake keys, which the server receives.  One row per case, played by
 * support_neg.c. */
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

/* EncryptedExtensions carrying the extensions block `exts`. */
static int set_ee(fx *x, const uint8_t *exts, size_t len) {
    uint8_t body[512];
    body[0] = (uint8_t)(len >> 8);
    body[1] = (uint8_t)len;
    memcpy(body + 2, exts, len);
    fx_set_msg(&x->f->r[2], FR_HS_ENCRYPTED_EXTENSIONS, body, 2 + len);
    return fx_flight_deliver(x);
}

static const uint8_t server_name_twice[8] = {0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t alpn_h2[9] = {0, 16, 0, 5, 0, 3, 2, 'h', '2'};
static const uint8_t alpn_h3[9] = {0, 16, 0, 5, 0, 3, 2, 'h', '3'};
static const uint8_t key_share[8] = {0, 51, 0, 4, 0, 0x1d, 0, 0};
static const uint8_t unknown[5] = {0xfe, 0x77, 0, 1, 0};
/* RFC 8446 §4.2: extensions ferrule knows whose table entry excludes
 * EncryptedExtensions, each with an empty body (the type alone decides):
 * status_request, padding, pre_shared_key, cookie, psk_key_exchange_modes,
 * certificate_authorities, oid_filters, post_handshake_auth. */
static const uint8_t status_request[4] = {0, 5, 0, 0};
static const uint8_t padding[4] = {0, 21, 0, 0};
static const uint8_t pre_shared_key[4] = {0, 41, 0, 0};
static const uint8_t cookie[4] = {0, 44, 0, 0};
static const uint8_t psk_modes[4] = {0, 45, 0, 0};
static const uint8_t certificate_authorities[4] = {0, 47, 0, 0};
static const uint8_t oid_filters[4] = {0, 48, 0, 0};
static const uint8_t post_handshake_auth[4] = {0, 49, 0, 0};
/* RFC 6066 §3: the server's server_name "SHALL be empty". */
static const uint8_t server_name_body[5] = {0, 0, 0, 1, 0};
static const struct {
    const uint8_t *p;
    size_t n;
} blocks[] = {
    {server_name_twice, sizeof(server_name_twice)}, {alpn_h2, sizeof(alpn_h2)},
    {alpn_h3, sizeof(alpn_h3)},                     {key_share, sizeof(key_share)},
    {unknown, sizeof(unknown)},                     {server_name_body, sizeof(server_name_body)},
    {status_request, 4},                            {padding, 4},
    {pre_shared_key, 4},                            {cookie, 4},
    {psk_modes, 4},                                 {certificate_authorities, 4},
    {oid_filters, 4},                               {post_handshake_auth, 4},
};

NEG_EDIT(ee_with) { return set_ee(x, blocks[arg].p, blocks[arg].n); }

NEG_EDIT(trailing_byte) {
    mrec *r = &x->f->r[2];
    r->data[r->len++] = 0;
    r->data[3]++;
    return fx_flight_deliver(x);
}

NEG_CFG(client_offering_h2) {
    /* The client offered h2; the server "selects" h3, never offered. */
    ferrule_config *cc = fx_client_config();
    CHECK(cc != NULL);
    if (cc == NULL) return NULL;
    CHECK_EQ(ferrule_config_add_alpn(cc, (const uint8_t *)"h2", 2), FERRULE_OK);
    return cc;
}

#define EE(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
#define ILLEGAL NEG_FAILS(ALERT_SENT, ILLEGAL_PARAMETER, ILLEGAL_PARAMETER), NEG_PEER_CCS_ALERT
#define UNSUPPORTED                                                                                \
    NEG_FAILS(ALERT_SENT, UNSUPPORTED_EXTENSION, UNSUPPORTED_EXTENSION), NEG_PEER_CCS_ALERT
#define DECODE_ERR NEG_FAILS(DECODE, DECODE_ERROR, DECODE_ERROR), NEG_PEER_CCS_ALERT

static const neg_row rows[] = {
    {"ee_duplicate_extension", EE(ee_with, 0),
     NEG_FAILS(ALERT_SENT, DUPLICATE_EXTENSION, ILLEGAL_PARAMETER), NEG_PEER_CCS_ALERT},
    {"ee_alpn_not_requested", EE(ee_with, 1), UNSUPPORTED},
    /* RFC 7301 §3.2 (BoGo ALPNClient-RejectUnknown-TLS-TLS13). */
    {"ee_alpn_not_offered", EE(ee_with, 2),
     NEG_FAILS(ALERT_SENT, UNOFFERED_ALPN, ILLEGAL_PARAMETER), NEG_PEER_ALERT, client_offering_h2},
    {"ee_key_share", EE(ee_with, 3), ILLEGAL},
    {"ee_unknown_extension", EE(ee_with, 4), UNSUPPORTED},
    /* Recognised but placed elsewhere by RFC 8446 §4.2: illegal_parameter
     * (it was unsupported_extension for all but the four key-exchange ones
     * above).  status_request is one every ferrule ClientHello carries:
     * in TLS 1.3 its answer goes in the leaf's CertificateEntry. */
    {"ee_not_allowed_here/status_request", EE(ee_with, 6), ILLEGAL},
    {"ee_not_allowed_here/padding", EE(ee_with, 7), ILLEGAL},
    {"ee_not_allowed_here/pre_shared_key", EE(ee_with, 8), ILLEGAL},
    {"ee_not_allowed_here/cookie", EE(ee_with, 9), ILLEGAL},
    {"ee_not_allowed_here/psk_key_exchange_modes", EE(ee_with, 10), ILLEGAL},
    {"ee_not_allowed_here/certificate_authorities", EE(ee_with, 11), ILLEGAL},
    {"ee_not_allowed_here/oid_filters", EE(ee_with, 12), ILLEGAL},
    {"ee_not_allowed_here/post_handshake_auth", EE(ee_with, 13), ILLEGAL},
    {"ee_trailing_byte", EE(trailing_byte, 0), DECODE_ERR},
    /* A malformed extension body (BoGo ExtensionTrailingData-ServerName-Client). */
    {"ee_server_name_not_empty", EE(ee_with, 5),
     NEG_FAILS(DECODE, BAD_EXTENSION, DECODE_ERROR), NEG_PEER_ALERT},
};

NEG_MAIN("neg_encrypted_extensions", rows)
