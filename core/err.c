/* err.c - one table mapping each reason to its status class, the alert we
 * send for it (RFC 8446 §6.2) and a static message. */
#include "common.h"

typedef struct reason_info {
    uint32_t reason;
    const char *name;
    int status;
    int alert; /* -1: none */
    const char *message;
} reason_info;

static const reason_info REASONS[] = {
    {FERRULE_R_NONE, "none", FERRULE_OK, -1, "no error"},
    {FERRULE_R_DECODE_ERROR, "decode_error", FERRULE_DECODE, FERRULE_ALERT_DECODE_ERROR,
     "peer sent a malformed message"},
    {FERRULE_R_RECORD_OVERFLOW, "record_overflow", FERRULE_DECODE, FERRULE_ALERT_RECORD_OVERFLOW,
     "peer sent a record longer than allowed"},
    {FERRULE_R_BAD_RECORD_MAC, "bad_record_mac", FERRULE_DECODE, FERRULE_ALERT_BAD_RECORD_MAC,
     "record failed authentication"},
    {FERRULE_R_BAD_CONTENT_TYPE, "bad_content_type", FERRULE_DECODE,
     FERRULE_ALERT_UNEXPECTED_MESSAGE, "record has an unknown or forbidden content type"},
    /* Our cap, not the peer's malformation: a policy refusal. */
    {FERRULE_R_HANDSHAKE_TOO_LARGE, "handshake_too_large", FERRULE_POLICY,
     FERRULE_ALERT_HANDSHAKE_FAILURE,
     "handshake message larger than the max_handshake_message cap"},
    {FERRULE_R_BAD_RECORD_VERSION, "bad_record_version", FERRULE_DECODE,
     FERRULE_ALERT_DECODE_ERROR, "record has an invalid legacy version"},
    {FERRULE_R_UNEXPECTED_MESSAGE, "unexpected_message", FERRULE_ALERT_SENT,
     FERRULE_ALERT_UNEXPECTED_MESSAGE, "peer sent a message not allowed in this state"},
    {FERRULE_R_ILLEGAL_PARAMETER, "illegal_parameter", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER, "peer sent a field with an illegal value"},
    {FERRULE_R_MISSING_EXTENSION, "missing_extension", FERRULE_ALERT_SENT,
     FERRULE_ALERT_MISSING_EXTENSION, "peer omitted a mandatory extension"},
    {FERRULE_R_UNSUPPORTED_EXTENSION, "unsupported_extension", FERRULE_ALERT_SENT,
     FERRULE_ALERT_UNSUPPORTED_EXTENSION, "peer sent an extension not allowed here"},
    {FERRULE_R_DUPLICATE_EXTENSION, "duplicate_extension", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER, "peer sent the same extension twice"},
    {FERRULE_R_PROTOCOL_VERSION, "protocol_version", FERRULE_ALERT_SENT,
     FERRULE_ALERT_PROTOCOL_VERSION, "peer does not support TLS 1.3"},
    {FERRULE_R_DOWNGRADE, "downgrade", FERRULE_ALERT_SENT, FERRULE_ALERT_ILLEGAL_PARAMETER,
     "server random carries a downgrade sentinel"},
    {FERRULE_R_NO_SHARED_PARAMS, "no_shared_params", FERRULE_POLICY,
     FERRULE_ALERT_HANDSHAKE_FAILURE, "no cipher suite, group or signature scheme in common"},
    {FERRULE_R_BAD_FINISHED, "bad_finished", FERRULE_ALERT_SENT, FERRULE_ALERT_DECRYPT_ERROR,
     "Finished message does not verify"},
    {FERRULE_R_BAD_SIGNATURE, "bad_signature", FERRULE_ALERT_SENT, FERRULE_ALERT_DECRYPT_ERROR,
     "CertificateVerify signature does not verify"},
    {FERRULE_R_BAD_BINDER, "bad_binder", FERRULE_ALERT_SENT, FERRULE_ALERT_DECRYPT_ERROR,
     "PSK binder of the selected identity does not verify"},
    {FERRULE_R_WRONG_SIGNATURE_TYPE, "wrong_signature_type", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER,
     "peer signed CertificateVerify with a scheme we did not offer or that does not fit its key"},
    {FERRULE_R_EARLY_DATA_LIMIT, "early_data_limit", FERRULE_ALERT_SENT,
     FERRULE_ALERT_UNEXPECTED_MESSAGE, "peer sent more 0-RTT data than max_early_data_size"},
    {FERRULE_R_BAD_EXTENSION, "bad_extension", FERRULE_DECODE, FERRULE_ALERT_DECODE_ERROR,
     "peer sent an extension whose body is malformed"},
    {FERRULE_R_BAD_CLIENT_HELLO, "bad_client_hello", FERRULE_DECODE, FERRULE_ALERT_DECODE_ERROR,
     "peer sent a ClientHello whose fixed fields are malformed"},
    {FERRULE_R_MISSING_KEY_SHARE, "missing_key_share", FERRULE_ALERT_SENT,
     FERRULE_ALERT_MISSING_EXTENSION, "peer sent no key_share where one is required"},
    {FERRULE_R_MISSING_GROUPS, "missing_supported_groups", FERRULE_ALERT_SENT,
     FERRULE_ALERT_MISSING_EXTENSION, "peer's ClientHello has no supported_groups"},
    {FERRULE_R_DUPLICATE_KEY_SHARE, "duplicate_key_share", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER, "peer sent two key shares for the same group"},
    {FERRULE_R_WRONG_GROUP, "wrong_group", FERRULE_ALERT_SENT, FERRULE_ALERT_ILLEGAL_PARAMETER,
     "key share or group choice for a group the handshake does not allow"},
    {FERRULE_R_WRONG_CIPHER, "wrong_cipher_suite", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER,
     "server chose a cipher suite we did not offer, or not its HelloRetryRequest's"},
    {FERRULE_R_EMPTY_HRR, "empty_hello_retry_request", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER, "HelloRetryRequest would not change the ClientHello"},
    {FERRULE_R_HRR_VERSION_CHANGED, "hrr_version_changed", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER,
     "ServerHello does not keep the HelloRetryRequest's selected_version"},
    {FERRULE_R_UNOFFERED_ALPN, "unoffered_alpn", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER, "server selected an application protocol we did not offer"},
    {FERRULE_R_BAD_COMPRESSION_LIST, "bad_compression_list", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER, "ClientHello compression methods are not exactly null"},
    {FERRULE_R_NO_ALPN, "no_application_protocol", FERRULE_POLICY,
     FERRULE_ALERT_NO_APPLICATION_PROTOCOL, "no application protocol in common"},
    {FERRULE_R_INTERLEAVED, "interleaved_handshake", FERRULE_ALERT_SENT,
     FERRULE_ALERT_UNEXPECTED_MESSAGE, "handshake message interleaved with other records"},
    {FERRULE_R_SEQUENCE_EXHAUSTED, "sequence_exhausted", FERRULE_INTERNAL,
     FERRULE_ALERT_INTERNAL_ERROR, "record sequence number would wrap"},
    {FERRULE_R_BAD_KEY_SHARE, "bad_key_share", FERRULE_ALERT_SENT,
     FERRULE_ALERT_ILLEGAL_PARAMETER, "peer key share is invalid"},
    {FERRULE_R_UNSUPPORTED_CERT, "unsupported_certificate_key", FERRULE_POLICY,
     FERRULE_ALERT_HANDSHAKE_FAILURE, "no certificate usable with the peer's signature schemes"},
    {FERRULE_R_BAD_CCS, "bad_change_cipher_spec", FERRULE_ALERT_SENT,
     FERRULE_ALERT_UNEXPECTED_MESSAGE, "invalid or misplaced change_cipher_spec"},
    {FERRULE_R_UNRECOGNIZED_NAME, "unrecognized_name", FERRULE_POLICY,
     FERRULE_ALERT_UNRECOGNIZED_NAME, "no certificate for the server name the client asked for"},
    {FERRULE_R_HANDSHAKE_REFUSED, "handshake_refused", FERRULE_POLICY,
     FERRULE_ALERT_HANDSHAKE_FAILURE, "the application's selection callback refused the handshake"},
    {FERRULE_R_APP_ALERT, "application_alert", FERRULE_POLICY, -1,
     "the application ended the connection with an alert"},
    {FERRULE_R_CERT_EXPIRED, "cert_expired", FERRULE_CERTIFICATE,
     FERRULE_ALERT_CERTIFICATE_EXPIRED, "certificate has expired"},
    {FERRULE_R_CERT_NOT_YET_VALID, "cert_not_yet_valid", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE, "certificate is not yet valid"},
    {FERRULE_R_CERT_UNKNOWN_ISSUER, "cert_unknown_issuer", FERRULE_CERTIFICATE,
     FERRULE_ALERT_UNKNOWN_CA, "certificate chain does not reach a trust anchor"},
    {FERRULE_R_CERT_BAD_SIGNATURE, "cert_bad_signature", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE, "certificate signature does not verify"},
    {FERRULE_R_CERT_NAME_MISMATCH, "cert_name_mismatch", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE, "certificate does not match the expected name"},
    {FERRULE_R_CERT_NAME_CONSTRAINTS, "cert_name_constraints", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE, "certificate violates name constraints"},
    {FERRULE_R_CERT_PATH_LENGTH, "cert_path_length", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE, "certificate path exceeds a path length constraint"},
    {FERRULE_R_CERT_KEY_USAGE, "cert_key_usage", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE, "certificate key usage does not allow this use"},
    {FERRULE_R_CERT_EKU, "cert_eku", FERRULE_CERTIFICATE, FERRULE_ALERT_BAD_CERTIFICATE,
     "certificate extended key usage does not allow this use"},
    {FERRULE_R_CERT_REVOKED, "cert_revoked", FERRULE_CERTIFICATE,
     FERRULE_ALERT_CERTIFICATE_REVOKED, "certificate is revoked"},
    {FERRULE_R_CERT_BAD_OCSP, "cert_bad_ocsp", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE, "OCSP response is invalid"},
    {FERRULE_R_CERT_TOO_MUCH_WORK, "cert_too_much_work", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE, "certificate path search exceeded its work budget"},
    {FERRULE_R_CERT_MALFORMED, "cert_malformed", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE, "certificate is malformed"},
    {FERRULE_R_CERT_WEAK_KEY, "cert_weak_key", FERRULE_CERTIFICATE,
     FERRULE_ALERT_INSUFFICIENT_SECURITY, "certificate key is too weak"},
    {FERRULE_R_CERT_UNSUPPORTED, "cert_unsupported", FERRULE_CERTIFICATE,
     FERRULE_ALERT_UNSUPPORTED_CERTIFICATE,
     "certificate uses an unsupported algorithm or critical extension"},
    {FERRULE_R_CERT_MISSING, "cert_missing", FERRULE_CERTIFICATE, FERRULE_ALERT_DECODE_ERROR,
     "peer sent no certificate"},
    {FERRULE_R_CERT_NOT_CA, "cert_not_ca", FERRULE_CERTIFICATE, FERRULE_ALERT_BAD_CERTIFICATE,
     "an issuing certificate is not a CA"},
    {FERRULE_R_CERT_REJECTED, "cert_rejected", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE, "certificate rejected by the application"},
    {FERRULE_R_CERT_POLICY, "cert_policy", FERRULE_CERTIFICATE, FERRULE_ALERT_BAD_CERTIFICATE,
     "no acceptable certificate policy on the path"},
    {FERRULE_R_CERT_REQUIRED, "cert_required", FERRULE_CERTIFICATE,
     FERRULE_ALERT_CERTIFICATE_REQUIRED, "a client certificate is required"},
    {FERRULE_R_CERT_CHAIN_TOO_LONG, "cert_chain_too_long", FERRULE_CERTIFICATE,
     FERRULE_ALERT_BAD_CERTIFICATE,
     "peer sent more certificates than the max_peer_certificates cap"},
    {FERRULE_R_PEER_ALERT, "peer_alert", FERRULE_ALERT_RECEIVED, -1,
     "peer sent a fatal alert"},
    {FERRULE_R_PEER_CLOSED, "peer_closed", FERRULE_CLOSED, -1, "peer sent close_notify"},
    {FERRULE_R_TRUNCATED, "truncated", FERRULE_TRUNCATED, -1,
     "transport closed without close_notify"},
    {FERRULE_R_MEMORY_LIMIT, "memory_limit", FERRULE_POLICY, FERRULE_ALERT_INTERNAL_ERROR,
     "connection memory ceiling reached"},
    {FERRULE_R_NULL_ARGUMENT, "null_argument", FERRULE_USAGE, -1,
     "a required argument is NULL"},
    {FERRULE_R_WRONG_STATE, "wrong_state", FERRULE_USAGE, -1,
     "call not valid in the current state"},
    {FERRULE_R_BAD_STRUCT, "bad_struct", FERRULE_USAGE, -1,
     "versioned struct has a bad size or unknown non-zero fields"},
    {FERRULE_R_CONFIG_INVALID, "config_invalid", FERRULE_USAGE, -1,
     "invalid configuration value"},
    {FERRULE_R_CONFIG_FROZEN, "config_frozen", FERRULE_USAGE, -1,
     "configuration is in use and can no longer change"},
    {FERRULE_R_IO, "io_error", FERRULE_INTERNAL, -1, "an I/O callback reported failure"},
    {FERRULE_R_INTERNAL, "internal_error", FERRULE_INTERNAL, FERRULE_ALERT_INTERNAL_ERROR,
     "internal error in the crypto library"},
    {FERRULE_R_OUT_OF_MEMORY, "out_of_memory", FERRULE_INTERNAL, FERRULE_ALERT_INTERNAL_ERROR,
     "out of memory"},
    {FERRULE_R_BUFFER_TOO_SMALL, "buffer_too_small", FERRULE_USAGE, -1,
     "output buffer too small"},
    {FERRULE_R_CONFIG_FILE, "config_file", FERRULE_USAGE, -1,
     "a configured file cannot be read"},
    {FERRULE_R_CONFIG_PEM, "config_pem", FERRULE_USAGE, -1,
     "no usable certificate or key in the given PEM/DER data"},
    {FERRULE_R_CONFIG_KEY_MISMATCH, "config_key_mismatch", FERRULE_USAGE, -1,
     "the private key does not belong to the certificate"},
    {FERRULE_R_CALLBACK_RESULT, "callback_result", FERRULE_USAGE, FERRULE_ALERT_INTERNAL_ERROR,
     "a selection callback returned an invalid value or chain index"},
    {FERRULE_R_ALPN_NOT_OFFERED, "alpn_not_offered", FERRULE_USAGE, FERRULE_ALERT_INTERNAL_ERROR,
     "the ALPN callback chose a protocol the client did not offer"},
    {FERRULE_R_NO_EARLY_DATA, "no_early_data", FERRULE_USAGE, -1,
     "0-RTT is not possible: not enabled, no session allowing it, or its allowance is used up"},
    {FERRULE_R_NOT_REPLAY_SAFE, "not_replay_safe", FERRULE_USAGE, -1,
     "early data must be declared replay-safe (FERRULE_EARLY_DATA_REPLAY_SAFE)"},
    {FERRULE_R_BUFFER_LENT, "buffer_lent", FERRULE_USAGE, -1,
     "that buffer is borrowed (input, output or read): acknowledge it first"},
    {FERRULE_R_BUFFER_NOT_LENT, "buffer_not_lent", FERRULE_USAGE, -1,
     "acknowledgement without a borrowed buffer"},
    {FERRULE_R_ACK_TOO_LARGE, "ack_too_large", FERRULE_USAGE, -1,
     "acknowledged more bytes than were borrowed"},
    {FERRULE_R_NOT_FOUND, "not_found", FERRULE_USAGE, -1,
     "no such entry: index out of range, or not of the kind asked for"},
    {FERRULE_R_NO_DECISION, "no_decision", FERRULE_USAGE, -1,
     "no application decision is pending (none asked, or already answered)"},
    {FERRULE_R_WRONG_DECISION, "wrong_decision", FERRULE_USAGE, -1,
     "the answer is for another decision than the pending one"},
    {FERRULE_R_BAD_ANSWER, "bad_answer", FERRULE_USAGE, -1,
     "the answer is not a valid value for the pending decision"},
};

static const reason_info *lookup(uint32_t reason) {
    for (size_t i = 0; i < sizeof(REASONS) / sizeof(REASONS[0]); i++)
        if (REASONS[i].reason == reason) return &REASONS[i];
    return NULL;
}

int fr_err_class(fr_err e) {
    const reason_info *r = lookup(e);
    return r != NULL ? r->status : FERRULE_INTERNAL;
}

int fr_err_alert(fr_err e) {
    const reason_info *r = lookup(e);
    return r != NULL ? r->alert : FERRULE_ALERT_INTERNAL_ERROR;
}

const char *fr_reason_message(uint32_t reason) {
    const reason_info *r = lookup(reason);
    return r != NULL ? r->message : "unknown reason";
}

const char *fr_reason_name(uint32_t reason) {
    const reason_info *r = lookup(reason);
    return r != NULL ? r->name : "unknown";
}

const char *fr_status_name(int status) {
    static const char *const NAMES[] = {"ok",       "want-read",      "want-write",
                                        "closed",   "truncated",      "decode",
                                        "alert-sent", "alert-received", "certificate",
                                        "policy",   "usage",          "internal",
                                        "want-app"};
    if (status < 0 || (size_t)status >= sizeof(NAMES) / sizeof(NAMES[0])) return "unknown";
    return NAMES[status];
}
