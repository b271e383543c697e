/* test_neg_certificate_request.c - the client refusing a CertificateRequest
 * the man in the middle inserts into the server's flight (RFC 8446
 * §4.3.2): a request context, a missing or malformed signature_algorithms,
 * duplicates, a second request, a request after the Certificate.  A
 * well-formed one parses, however many unknown extensions it has; the
 * transcript (which the server never saw) then fails the server's
 * CertificateVerify.  One row per case, played by support_neg.c. */
#include <string.h>

#include "conn.h"
#include "record.h"
#include "support_neg.h"

/* CertificateRequest bodies (context<0..255>, extensions<2..2^16-1>). */
static const uint8_t nonempty_context[] = {1, 7, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
static const uint8_t no_sig_algs[] = {0, 0, 4, 0xfe, 0x77, 0, 0};
static const uint8_t sig_algs_twice[] = {0, 0, 16, 0, 13, 0, 4, 0, 2,
                                         4, 3, 0,  13, 0, 4, 0, 2, 4, 3};
static const uint8_t odd_sig_algs[] = {0, 0, 7, 0, 13, 0, 3, 0, 1, 4};
static const uint8_t good[] = {0, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
static const uint8_t good_with_unknown[] = {0, 0, 12, 0xfe, 0x77, 0, 0, 0,
                                            13, 0, 4, 0, 2, 4, 3};
/* certificate_authorities (47): an empty list (authorities<3..2^16-1>), and
 * one name followed by a stray byte inside the extension. */
static const uint8_t empty_cas[] = {0, 0, 14, 0, 13, 0, 4, 0, 2, 4, 3, 0, 47, 0, 2, 0, 0};
static const uint8_t cas_trailing[] = {0, 0,  18, 0, 13, 0, 4, 0, 2, 4, 3,
                                       0, 47, 0,  6, 0,  3, 0, 1, 'A', 0};
static const struct {
    const uint8_t *p;
    size_t n;
} bodies[] = {
    {nonempty_context, sizeof(nonempty_context)}, {no_sig_algs, sizeof(no_sig_algs)},
    {sig_algs_twice, sizeof(sig_algs_twice)},     {odd_sig_algs, sizeof(odd_sig_algs)},
    {good, sizeof(good)},                         {good_with_unknown, sizeof(good_with_unknown)},
    {empty_cas, sizeof(empty_cas)},               {cas_trailing, sizeof(cas_trailing)},
};

/* A CertificateRequest inserted at `pos` (3: after EncryptedExtensions). */
static void insert_certificate_request(fx *x, size_t pos, const uint8_t *body, size_t len) {
    mrec *r = mf_insert_copy(x->f, pos, 2);
    CHECK(r != NULL);
    if (r != NULL) fx_set_msg(r, FR_HS_CERTIFICATE_REQUEST, body, len);
}

NEG_EDIT(request) {
    insert_certificate_request(x, 3, bodies[arg].p, bodies[arg].n);
    return fx_flight_deliver(x);
}

NEG_EDIT(request_with_misplaced) {
    /* signature_algorithms, then an empty extension of type `arg`: one
     * ferrule knows but that RFC 8446 §4.2 places in other messages. */
    uint8_t body[] = {0, 0, 12, 0, 13, 0, 4, 0, 2, 4, 3, (uint8_t)(arg >> 8), (uint8_t)arg, 0, 0};
    insert_certificate_request(x, 3, body, sizeof(body));
    return fx_flight_deliver(x);
}

NEG_EDIT(request_twice) {
    insert_certificate_request(x, 3, good, sizeof(good));
    insert_certificate_request(x, 4, good, sizeof(good));
    return fx_flight_deliver(x);
}

NEG_EDIT(request_after_certificate) {
    insert_certificate_request(x, 4, good, sizeof(good));
    return fx_flight_deliver(x);
}

NEG_EDIT(many_unknown_extensions) {
    /* RFC 8446 §4.3.2: clients MUST ignore unrecognized extensions, and the
     * RFC sets no count: 1,000 of them (beyond the old cap of 64). */
    uint8_t body[3 + 4 * 1000 + 8];
    size_t n = 0;
    body[n++] = 0; /* context */
    size_t exts = 4 * 1000 + 8;
    body[n++] = (uint8_t)(exts >> 8);
    body[n++] = (uint8_t)exts;
    for (unsigned i = 0; i < 1000; i++) {
        body[n++] = (uint8_t)((0x6000 + i) >> 8);
        body[n++] = (uint8_t)(0x6000 + i);
        body[n++] = 0;
        body[n++] = 0;
    }
    static const uint8_t sa[8] = {0, 13, 0, 4, 0, 2, 4, 3};
    memcpy(body + n, sa, sizeof(sa));
    n += sizeof(sa);
    insert_certificate_request(x, 3, body, n);
    return fx_flight_deliver(x);
}

#define CR(edit, arg) NEG_FLIGHT, edit, arg, NEG_CLIENT
#define UNEXPECTED NEG_FAILS(ALERT_SENT, UNEXPECTED_MESSAGE, UNEXPECTED_MESSAGE), NEG_PEER_ALERT
#define TRANSCRIPT NEG_FAILS(ALERT_SENT, BAD_SIGNATURE, DECRYPT_ERROR), NEG_PEER_ALERT

#define MISPLACED NEG_FAILS(ALERT_SENT, ILLEGAL_PARAMETER, ILLEGAL_PARAMETER), NEG_PEER_ALERT

static const neg_row rows[] = {
    /* "certificate_request_context ... SHALL be zero length" in the handshake. */
    {"cr_nonempty_context", CR(request, 0),
     NEG_FAILS(ALERT_SENT, ILLEGAL_PARAMETER, ILLEGAL_PARAMETER), NEG_PEER_ALERT},
    {"cr_missing_signature_algorithms", CR(request, 1),
     NEG_FAILS(ALERT_SENT, MISSING_EXTENSION, MISSING_EXTENSION), NEG_PEER_ALERT},
    {"cr_duplicate_extension", CR(request, 2),
     NEG_FAILS(ALERT_SENT, DUPLICATE_EXTENSION, ILLEGAL_PARAMETER), NEG_PEER_ALERT},
    {"cr_odd_signature_algorithms", CR(request, 3), NEG_FAILS(DECODE, DECODE_ERROR, DECODE_ERROR),
     NEG_PEER_ALERT},
    /* A malformed extension body: BAD_EXTENSION, decode_error (BoGo
     * RejectEmptyCertificateAuthorities-Client-TLS-TLS13,
     * ExtensionTrailingData-CertificateAuthorities-Client-TLS-TLS13). */
    {"cr_empty_certificate_authorities", CR(request, 6),
     NEG_FAILS(DECODE, BAD_EXTENSION, DECODE_ERROR), NEG_PEER_ALERT},
    {"cr_certificate_authorities_trailing_byte", CR(request, 7),
     NEG_FAILS(DECODE, BAD_EXTENSION, DECODE_ERROR), NEG_PEER_ALERT},
    /* RFC 8446 §4.2: recognised, not for this message: illegal_parameter
     * (they were ignored like unknown ones). */
    {"cr_misplaced_extension/server_name", CR(request_with_misplaced, FR_EXT_SERVER_NAME),
     MISPLACED},
    {"cr_misplaced_extension/supported_groups",
     CR(request_with_misplaced, FR_EXT_SUPPORTED_GROUPS), MISPLACED},
    {"cr_misplaced_extension/alpn", CR(request_with_misplaced, FR_EXT_ALPN), MISPLACED},
    {"cr_misplaced_extension/early_data", CR(request_with_misplaced, FR_EXT_EARLY_DATA),
     MISPLACED},
    {"cr_misplaced_extension/supported_versions",
     CR(request_with_misplaced, FR_EXT_SUPPORTED_VERSIONS), MISPLACED},
    {"cr_misplaced_extension/key_share", CR(request_with_misplaced, FR_EXT_KEY_SHARE), MISPLACED},
    {"cr_twice", CR(request_twice, 0), UNEXPECTED},
    {"cr_after_certificate", CR(request_after_certificate, 0), UNEXPECTED},
    {"cr_unknown_extension_is_ignored_then_transcript_decides", CR(request, 5), TRANSCRIPT},
    {"cr_many_unknown_extensions_are_ignored", CR(many_unknown_extensions, 0), TRANSCRIPT},
};

NEG_MAIN("neg_certificate_request", rows)
