/* names.c - IANA names of the code points ferrule speaks (the public
 * ferrule_*_name functions are abi/src/names.c over these). */
#include <string.h>

#include "common.h"

typedef struct name_entry {
    uint16_t value;
    const char *name;
} name_entry;

static const name_entry SUITES[] = {
    {FERRULE_TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256"},
    {FERRULE_TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384"},
    {FERRULE_TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256"},
};
static const name_entry GROUPS[] = {
    {FERRULE_GROUP_X25519, "x25519"},
    {FERRULE_GROUP_SECP256R1, "secp256r1"},
    {FERRULE_GROUP_SECP384R1, "secp384r1"},
    {FERRULE_GROUP_X25519MLKEM768, "X25519MLKEM768"},
};
static const name_entry SIGS[] = {
    {FERRULE_SIG_ECDSA_SECP256R1_SHA256, "ecdsa_secp256r1_sha256"},
    {FERRULE_SIG_ECDSA_SECP384R1_SHA384, "ecdsa_secp384r1_sha384"},
    {FERRULE_SIG_RSA_PSS_RSAE_SHA256, "rsa_pss_rsae_sha256"},
    {FERRULE_SIG_RSA_PSS_RSAE_SHA384, "rsa_pss_rsae_sha384"},
    {FERRULE_SIG_RSA_PSS_RSAE_SHA512, "rsa_pss_rsae_sha512"},
    {FERRULE_SIG_ED25519, "ed25519"},
    {FERRULE_SIG_RSA_PSS_PSS_SHA256, "rsa_pss_pss_sha256"},
    {FERRULE_SIG_RSA_PSS_PSS_SHA384, "rsa_pss_pss_sha384"},
    {FERRULE_SIG_RSA_PSS_PSS_SHA512, "rsa_pss_pss_sha512"},
    {FERRULE_SIG_RSA_PKCS1_SHA256, "rsa_pkcs1_sha256"},
    {FERRULE_SIG_RSA_PKCS1_SHA384, "rsa_pkcs1_sha384"},
    {FERRULE_SIG_RSA_PKCS1_SHA512, "rsa_pkcs1_sha512"},
};
static const name_entry ALERTS[] = {
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {22, "record_overflow"},
    {40, "handshake_failure"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
};
static const name_entry STATES[] = {
    {FERRULE_HS_START, "start"},
    {FERRULE_HS_WAIT_SERVER_HELLO, "wait_server_hello"},
    {FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS, "wait_encrypted_extensions"},
    {FERRULE_HS_WAIT_CERTIFICATE, "wait_certificate"},
    {FERRULE_HS_WAIT_CERTIFICATE_VERIFY, "wait_certificate_verify"},
    {FERRULE_HS_WAIT_FINISHED, "wait_finished"},
    {FERRULE_HS_WAIT_CLIENT_HELLO, "wait_client_hello"},
    {FERRULE_HS_WAIT_CLIENT_FINISHED, "wait_client_finished"},
    {FERRULE_HS_CONNECTED, "connected"},
    {FERRULE_HS_CLOSED, "closed"},
    {FERRULE_HS_FAILED, "failed"},
    {FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST, "wait_certificate_or_request"},
    {FERRULE_HS_WAIT_SECOND_CLIENT_HELLO, "wait_second_client_hello"},
    {FERRULE_HS_WAIT_CLIENT_CERTIFICATE, "wait_client_certificate"},
    {FERRULE_HS_WAIT_CLIENT_CERTIFICATE_VERIFY, "wait_client_certificate_verify"},
    {FERRULE_HS_WAIT_END_OF_EARLY_DATA, "wait_end_of_early_data"},
};

#define N(t) (sizeof(t) / sizeof(t[0]))

static const char *by_value(const name_entry *t, size_t n, uint32_t v) {
    for (size_t i = 0; i < n; i++)
        if (t[i].value == v) return t[i].name;
    return NULL;
}

/* 1 and the value in *out when the name is known, else 0. */
static int by_name(const name_entry *t, size_t n, const char *name, uint16_t *out) {
    if (name == NULL || out == NULL) return 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, name) == 0) {
            *out = t[i].value;
            return 1;
        }
    }
    return 0;
}

const char *fr_cipher_suite_name(uint16_t v) { return by_value(SUITES, N(SUITES), v); }
const char *fr_group_name(uint16_t v) { return by_value(GROUPS, N(GROUPS), v); }
const char *fr_signature_scheme_name(uint16_t v) { return by_value(SIGS, N(SIGS), v); }
const char *fr_alert_name(uint8_t v) { return by_value(ALERTS, N(ALERTS), v); }
const char *fr_handshake_state_name(uint32_t v) { return by_value(STATES, N(STATES), v); }
int fr_cipher_suite_from_name(const char *name, uint16_t *out) {
    return by_name(SUITES, N(SUITES), name, out);
}
int fr_group_from_name(const char *name, uint16_t *out) {
    return by_name(GROUPS, N(GROUPS), name, out);
}
int fr_signature_scheme_from_name(const char *name, uint16_t *out) {
    return by_name(SIGS, N(SIGS), name, out);
}
