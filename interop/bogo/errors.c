/* errors.c - ferrule's failure (status, reason, alert, handshake state) as
 * the error string BoringSSL's own shim would print, by one table.
 *
 * The runner checks that the shim's stderr contains the string its
 * ErrorMap gives for the error BoringSSL raises (":DECODE_ERROR:" ...).
 * Each row names one ferrule reason, optionally narrowed to the
 * handshake state the failure happened in and the role; the first row
 * that matches wins.  A row exists only where the ferrule reason means the
 * same thing as BoringSSL's error: where one reason covered two BoringSSL
 * errors, ferrule gained a finer reason instead of a catch-all here. */
#include "errors.h"

#include <stdio.h>
#include <string.h>

#define ANY (-1)

typedef struct {
    uint32_t reason;
    int state; /* FERRULE_HS_* in which the failure was raised, or ANY */
    int role;  /* FERRULE_ROLE_*, or ANY */
    const char *error;
} err_row;

static const err_row ROWS[] = {
    /* record layer */
    {FERRULE_R_DECODE_ERROR, ANY, ANY, ":DECODE_ERROR:"},
    {FERRULE_R_RECORD_OVERFLOW, ANY, ANY, ":ENCRYPTED_LENGTH_TOO_LONG:"},
    {FERRULE_R_PLAINTEXT_OVERFLOW, ANY, ANY, ":DATA_LENGTH_TOO_LONG:"},
    /* BoringSSL's queue holds the cipher's error, then the record layer's. */
    {FERRULE_R_BAD_RECORD_MAC, ANY, ANY, ":BAD_DECRYPT:\n:DECRYPTION_FAILED_OR_BAD_RECORD_MAC:"},
    {FERRULE_R_NO_CONTENT_TYPE, ANY, ANY, ":DECRYPTION_FAILED_OR_BAD_RECORD_MAC:"},
    {FERRULE_R_BAD_OUTER_TYPE, ANY, ANY, ":INVALID_OUTER_RECORD_TYPE:"},
    {FERRULE_R_BAD_CONTENT_TYPE, ANY, ANY, ":UNEXPECTED_RECORD:"},
    {FERRULE_R_TOO_MANY_EMPTY, ANY, ANY, ":TOO_MANY_EMPTY_FRAGMENTS:"},
    {FERRULE_R_UNALIGNED_HANDSHAKE, ANY, ANY, ":EXCESS_HANDSHAKE_DATA:"},
    {FERRULE_R_BAD_ALERT_LEVEL, ANY, ANY, ":UNKNOWN_ALERT_TYPE:"},
    {FERRULE_R_BAD_ALERT_LENGTH, ANY, ANY, ":BAD_ALERT:"},
    {FERRULE_R_TOO_MANY_WARNINGS, ANY, ANY, ":TOO_MANY_WARNING_ALERTS:"},
    {FERRULE_R_HANDSHAKE_TOO_LARGE, ANY, ANY, ":EXCESSIVE_MESSAGE_SIZE:"},
    {FERRULE_R_BAD_RECORD_VERSION, ANY, ANY, ":WRONG_VERSION_NUMBER:"},
    /* another record type inside a fragmented handshake message (handshake
     * data left at a key change is unaligned_handshake) */
    {FERRULE_R_INTERLEAVED, ANY, ANY, ":UNEXPECTED_RECORD:"},
    {FERRULE_R_BAD_CCS, ANY, ANY, ":UNEXPECTED_RECORD:"},
    /* handshake */
    {FERRULE_R_UNEXPECTED_MESSAGE, ANY, ANY, ":UNEXPECTED_MESSAGE:"},
    {FERRULE_R_UNSUPPORTED_EXTENSION, ANY, ANY, ":UNEXPECTED_EXTENSION:"},
    {FERRULE_R_DUPLICATE_EXTENSION, ANY, ANY, ":DUPLICATE_EXTENSION:"},
    {FERRULE_R_MISSING_EXTENSION, ANY, ANY, ":MISSING_EXTENSION:"},
    {FERRULE_R_PROTOCOL_VERSION, ANY, ANY, ":UNSUPPORTED_PROTOCOL:"},
    {FERRULE_R_DOWNGRADE, ANY, ANY, ":TLS13_DOWNGRADE:"},
    {FERRULE_R_BAD_FINISHED, ANY, ANY, ":DIGEST_CHECK_FAILED:"},
    {FERRULE_R_BAD_BINDER, ANY, ANY, ":DIGEST_CHECK_FAILED:"},
    {FERRULE_R_BAD_SIGNATURE, ANY, ANY, ":BAD_SIGNATURE:"},
    {FERRULE_R_WRONG_SIGNATURE_TYPE, ANY, ANY, ":WRONG_SIGNATURE_TYPE:"},
    {FERRULE_R_BAD_KEY_SHARE, ANY, ANY, ":BAD_ECPOINT:"},
    {FERRULE_R_KEM_SHARE_LENGTH, ANY, ANY, ":BAD_ECPOINT:"},
    {FERRULE_R_KEM_BAD_KEY, ANY, ANY, ":BAD_ECPOINT:"},
    {FERRULE_R_NO_ALPN, ANY, ANY, ":NO_APPLICATION_PROTOCOL:"},
    {FERRULE_R_EARLY_DATA_LIMIT, ANY, ANY, ":TOO_MUCH_READ_EARLY_DATA:"},
    {FERRULE_R_SKIPPED_EARLY_DATA_LIMIT, ANY, ANY, ":TOO_MUCH_SKIPPED_EARLY_DATA:"},
    {FERRULE_R_EARLY_DATA_NOT_RESUMED, ANY, ANY, ":UNEXPECTED_EXTENSION:"},
    {FERRULE_R_EARLY_CIPHER_MISMATCH, ANY, ANY, ":CIPHER_MISMATCH_ON_EARLY_DATA:"},
    {FERRULE_R_EARLY_ALPN_MISMATCH, ANY, ANY, ":ALPN_MISMATCH_ON_EARLY_DATA:"},
    {FERRULE_R_PSK_HASH_MISMATCH, ANY, ANY, ":OLD_SESSION_PRF_HASH_MISMATCH:"},
    {FERRULE_R_PSK_NOT_LAST, ANY, ANY, ":PRE_SHARED_KEY_MUST_BE_LAST:"},
    {FERRULE_R_PSK_BINDER_COUNT, ANY, ANY, ":PSK_IDENTITY_BINDER_COUNT_MISMATCH:"},
    {FERRULE_R_PSK_IDENTITY_UNKNOWN, ANY, ANY, ":PSK_IDENTITY_NOT_FOUND:"},
    {FERRULE_R_NO_SHARED_PARAMS, ANY, ANY, ":NO_SHARED_CIPHER:"},
    {FERRULE_R_UNSUPPORTED_CERT, ANY, ANY, ":NO_COMMON_SIGNATURE_ALGORITHMS:"},
    {FERRULE_R_ILLEGAL_PARAMETER, ANY, ANY, ":ILLEGAL_PARAMETER:"},
    /* A malformed extension body: for a ClientHello or EncryptedExtensions
     * BoringSSL's queue holds the extension's error and then the message's
     * (ssl_parse_clienthello_tlsext / ssl_parse_serverhello_tlsext add
     * PARSE_TLSEXT after it); both lines, as its ERR_print_errors prints
     * them.  (For a CertificateRequest it queues the first line only.) */
    {FERRULE_R_BAD_EXTENSION, ANY, ANY, ":ERROR_PARSING_EXTENSION:\n:PARSE_TLSEXT:"},
    {FERRULE_R_BAD_CLIENT_HELLO, ANY, ANY, ":CLIENTHELLO_PARSE_FAILED:"},
    {FERRULE_R_MISSING_KEY_SHARE, ANY, ANY, ":MISSING_KEY_SHARE:"},
    /* tls13_server.cc: no supported_groups leaves no group to share. */
    {FERRULE_R_MISSING_GROUPS, ANY, ANY, ":NO_SHARED_GROUP:"},
    {FERRULE_R_DUPLICATE_KEY_SHARE, ANY, ANY, ":DUPLICATE_KEY_SHARE:"},
    {FERRULE_R_WRONG_GROUP, ANY, ANY, ":WRONG_CURVE:"},
    {FERRULE_R_WRONG_CIPHER, ANY, ANY, ":WRONG_CIPHER_RETURNED:"},
    {FERRULE_R_EMPTY_HRR, ANY, ANY, ":EMPTY_HELLO_RETRY_REQUEST:"},
    {FERRULE_R_HRR_VERSION_CHANGED, ANY, ANY, ":SECOND_SERVERHELLO_VERSION_MISMATCH:"},
    {FERRULE_R_UNOFFERED_ALPN, ANY, ANY, ":INVALID_ALPN_PROTOCOL:"},
    /* Our ALPN callback chose a protocol the client did not offer (the
     * shim's -select-empty-alpn among them). */
    {FERRULE_R_ALPN_NOT_OFFERED, ANY, ANY, ":INVALID_ALPN_PROTOCOL:"},
    {FERRULE_R_BAD_COMPRESSION_LIST, ANY, ANY, ":INVALID_COMPRESSION_LIST:"},
    {FERRULE_R_UNRECOGNIZED_NAME, ANY, ANY, ":UNRECOGNIZED_NAME:"},
    {FERRULE_R_HANDSHAKE_REFUSED, ANY, ANY, ":CERT_CB_ERROR:"},
    /* certificates */
    {FERRULE_R_CERT_REQUIRED, ANY, ANY, ":PEER_DID_NOT_RETURN_A_CERTIFICATE:"},
    {FERRULE_R_CERT_MISSING, ANY, ANY, ":PEER_DID_NOT_RETURN_A_CERTIFICATE:"},
    {FERRULE_R_CERT_MALFORMED, ANY, ANY, ":CANNOT_PARSE_LEAF_CERT:"},
    {FERRULE_R_CERT_KEY_USAGE, ANY, ANY, ":KEY_USAGE_BIT_INCORRECT:"},
    {FERRULE_R_CERT_BAD_OCSP, ANY, ANY, ":OCSP_CB_ERROR:"},
    {FERRULE_R_CERT_OCSP_MISSING, ANY, ANY, ":OCSP_CB_ERROR:"},
    {FERRULE_R_CERT_CHAIN_TOO_LONG, ANY, ANY, ":EXCESSIVE_MESSAGE_SIZE:"},
    /* every other verification failure */
    {FERRULE_R_CERT_EXPIRED, ANY, ANY, ":CERTIFICATE_VERIFY_FAILED:"},
    {FERRULE_R_CERT_NOT_YET_VALID, ANY, ANY, ":CERTIFICATE_VERIFY_FAILED:"},
    {FERRULE_R_CERT_UNKNOWN_ISSUER, ANY, ANY, ":CERTIFICATE_VERIFY_FAILED:"},
    {FERRULE_R_CERT_BAD_SIGNATURE, ANY, ANY, ":CERTIFICATE_VERIFY_FAILED:"},
    {FERRULE_R_CERT_NAME_MISMATCH, ANY, ANY, ":CERTIFICATE_VERIFY_FAILED:"},
    {FERRULE_R_CERT_REJECTED, ANY, ANY, ":CERTIFICATE_VERIFY_FAILED:"},
    {FERRULE_R_CERT_NOT_CA, ANY, ANY, ":CERTIFICATE_VERIFY_FAILED:"},
    {FERRULE_R_CERT_EKU, ANY, ANY, ":CERTIFICATE_VERIFY_FAILED:"},
    /* peer */
    {FERRULE_R_TRUNCATED, ANY, ANY, ":UNEXPECTED_EOF:"},
    {FERRULE_R_SEQUENCE_EXHAUSTED, ANY, ANY, ":TOO_MANY_KEY_UPDATES:"},
    {FERRULE_R_TOO_MANY_KEY_UPDATES, ANY, ANY, ":TOO_MANY_KEY_UPDATES:"},
    /* BoringSSL's KeyUpdate parser refuses the value as a decoding error. */
    {FERRULE_R_BAD_KEY_UPDATE, ANY, ANY, ":DECODE_ERROR:"},
};

/* BoringSSL's names for a received alert: SSLV3_ALERT_* for the SSL 3.0
 * alerts, TLSV1_ALERT_* for the rest. */
static const struct {
    uint8_t alert;
    const char *name;
} PEER_ALERTS[] = {
    {0, ":SSLV3_ALERT_CLOSE_NOTIFY:"},
    {10, ":SSLV3_ALERT_UNEXPECTED_MESSAGE:"},
    {20, ":SSLV3_ALERT_BAD_RECORD_MAC:"},
    {21, ":TLSV1_ALERT_DECRYPTION_FAILED:"},
    {22, ":TLSV1_ALERT_RECORD_OVERFLOW:"},
    {30, ":SSLV3_ALERT_DECOMPRESSION_FAILURE:"},
    {40, ":SSLV3_ALERT_HANDSHAKE_FAILURE:"},
    {41, ":SSLV3_ALERT_NO_CERTIFICATE:"},
    {42, ":SSLV3_ALERT_BAD_CERTIFICATE:"},
    {43, ":SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:"},
    {44, ":SSLV3_ALERT_CERTIFICATE_REVOKED:"},
    {45, ":SSLV3_ALERT_CERTIFICATE_EXPIRED:"},
    {46, ":SSLV3_ALERT_CERTIFICATE_UNKNOWN:"},
    {47, ":SSLV3_ALERT_ILLEGAL_PARAMETER:"},
    {48, ":TLSV1_ALERT_UNKNOWN_CA:"},
    {49, ":TLSV1_ALERT_ACCESS_DENIED:"},
    {50, ":TLSV1_ALERT_DECODE_ERROR:"},
    {51, ":TLSV1_ALERT_DECRYPT_ERROR:"},
    {60, ":TLSV1_ALERT_EXPORT_RESTRICTION:"},
    {70, ":TLSV1_ALERT_PROTOCOL_VERSION:"},
    {71, ":TLSV1_ALERT_INSUFFICIENT_SECURITY:"},
    {80, ":TLSV1_ALERT_INTERNAL_ERROR:"},
    {86, ":TLSV1_ALERT_INAPPROPRIATE_FALLBACK:"},
    {90, ":TLSV1_ALERT_USER_CANCELLED:"},
    {100, ":TLSV1_ALERT_NO_RENEGOTIATION:"},
    {109, ":MISSING_EXTENSION:"},
    {110, ":TLSV1_ALERT_UNSUPPORTED_EXTENSION:"},
    {111, ":TLSV1_ALERT_CERTIFICATE_UNOBTAINABLE:"},
    {112, ":TLSV1_ALERT_UNRECOGNIZED_NAME:"},
    {113, ":TLSV1_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE:"},
    {114, ":TLSV1_ALERT_BAD_CERTIFICATE_HASH_VALUE:"},
    {115, ":TLSV1_ALERT_UNKNOWN_PSK_IDENTITY:"},
    {116, ":TLSV1_ALERT_CERTIFICATE_REQUIRED:"},
    {120, ":TLSV1_ALERT_NO_APPLICATION_PROTOCOL:"},
};

const char *shim_bssl_error(uint32_t reason, int state, int role, int alert, int received) {
    if (reason == FERRULE_R_PEER_ALERT && received) {
        for (size_t i = 0; i < sizeof(PEER_ALERTS) / sizeof(PEER_ALERTS[0]); i++)
            if (PEER_ALERTS[i].alert == alert) return PEER_ALERTS[i].name;
        return ":UNKNOWN_ALERT_TYPE:";
    }
    for (size_t i = 0; i < sizeof(ROWS) / sizeof(ROWS[0]); i++) {
        const err_row *r = &ROWS[i];
        if (r->reason != reason) continue;
        if (r->state != ANY && r->state != state) continue;
        if (r->role != ANY && r->role != role) continue;
        return r->error;
    }
    return NULL;
}

void shim_report(const ferrule_conn *c, int status, const char *what) {
    uint8_t alert = 0;
    uint32_t received = 0;
    int has_alert = c != NULL && ferrule_conn_get_alert(c, &alert, &received);
    uint32_t reason = c != NULL ? ferrule_conn_reason(c) : 0;
    int state = c != NULL ? (int)ferrule_conn_failed_state(c) : -1;
    int role = c != NULL ? (int)ferrule_conn_role(c) : 0;
    const char *e = shim_bssl_error(reason, state, role, has_alert ? alert : -1, (int)received);
    fprintf(stderr, "%s: %s (status %s, reason %s, %s alert %s, state %s)\n%s\n", what,
            c != NULL ? ferrule_conn_error_message(c) : "no connection", ferrule_status_name(status),
            ferrule_reason_name(reason), has_alert ? (received ? "received" : "sent") : "no",
            has_alert ? ferrule_alert_name(alert) : "-",
            state >= 0 ? ferrule_handshake_state_name((uint32_t)state) : "-",
            e != NULL ? e : ":FERRULE_UNMAPPED:");
    /* BoringSSL adds HANDSHAKE_FAILURE_ON_CLIENT_HELLO after the alert's
     * error when a client gets handshake_failure while it waits for the
     * ServerHello (handshake.cc); a client has no version before one. */
    if (reason == FERRULE_R_PEER_ALERT && has_alert && received && alert == 40 &&
        role == FERRULE_ROLE_CLIENT && ferrule_conn_version(c) == 0)
        fprintf(stderr, ":HANDSHAKE_FAILURE_ON_CLIENT_HELLO:\n");
}
