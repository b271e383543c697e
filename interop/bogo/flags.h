/* flags.h - the BoGo shim's command line: one table of the flags the
 * runner passes (name, kind, field), parsed into one shim_opts per phase
 * (initial connection, resumed connections, retry after a 0-RTT
 * rejection).  An unprefixed flag sets all three; -on-initial-,
 * -on-resume- and -on-retry- set one. */
#ifndef BOGO_FLAGS_H
#define BOGO_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_MAX_LIST 32
#define SHIM_MAX_CREDS 8

/* A credential of -new-x509-credential: the -cert-file, -key-file and
 * -ocsp-response that follow it are its own (bssl_shim's CredentialFlag). */
typedef struct {
    const char *cert_file, *key_file;
    const char *ocsp_response;
    size_t ocsp_response_len;
    int signing_prefs; /* given per credential: ferrule has one signing list */
} shim_cred;

typedef struct {
    size_t n;
    int v[SHIM_MAX_LIST];
} shim_ints;

typedef struct {
    /* process */
    int port, ipv6, is_server, resume_count, async;
    uint64_t shim_id;
    int implicit_handshake, shim_writes_first, shim_shuts_down, check_close_notify;
    int read_size, key_update, key_update_before_read, send_alert;
    int repeat_shim_initial_write; /* -shim-writes-first sends the message this many times (1) */
    int export_keying_material, use_export_context;
    const char *export_label, *export_context;
    int resumption_delay;
    int expect_session_miss, expect_no_session;
    const char *shim_initial_write;
    int write_different_record_sizes, read_with_unfinished_write, peek_then_read;
    int use_exporter_between_reads, partial_write, handshake_twice, no_op_extra_handshake;
    int max_send_fragment, export_traffic_secrets;
    /* versions */
    int min_version, max_version, no_tls13, expect_version;
    /* keys and certificates */
    const char *cert_file, *key_file, *trust_cert, *expect_peer_cert_file;
    int verify_peer, verify_fail, require_any_client_certificate, expect_verify_result;
    int expect_no_peer_cert, use_custom_verify_callback, fail_cert_callback;
    shim_ints signing_prefs, verify_prefs, curves;
    int expect_peer_signature_algorithm, expect_curve_id;
    shim_ints expect_peer_verify_pref;
    int expect_hrr, expect_no_hrr;
    int expect_cipher, expect_cipher_aes, expect_cipher_no_aes;
    const char *cipher;
    int max_cert_list;
    /* credentials in preference order (the default one, -cert-file before
     * any -new-x509-credential, comes after them); which one was used:
     * its index, -1 for the default, INT_MIN when not asked */
    shim_cred creds[SHIM_MAX_CREDS];
    int n_creds;
    int expect_selected_credential;
    /* ALPN, SNI, OCSP */
    const char *advertise_alpn, *expect_alpn, *select_alpn, *expect_advertised_alpn;
    int decline_alpn, reject_alpn, select_empty_alpn, allow_unknown_alpn_protos;
    const char *host_name, *expect_server_name;
    int expect_no_server_name;
    const char *ocsp_response, *expect_ocsp_response;
    size_t ocsp_response_len, expect_ocsp_response_len;
    int enable_ocsp_stapling;
    /* sessions, 0-RTT */
    int no_ticket, enable_early_data, expect_accept_early_data, expect_reject_early_data;
    int expect_no_offer_early_data, expect_ticket_supports_early_data;
    const char *expect_early_data_reason;
    int expect_ticket_age_skew;
    const char *ticket_key;
    size_t ticket_key_len;
    /* no-op in a TLS 1.3-only shim */
    int no_tls1, no_tls11, no_tls12, ignored;
    /* anything genuinely out of scope: exit 89 */
    const char *unimplemented;
} shim_opts;

#define SHIM_PHASE_INITIAL 0
#define SHIM_PHASE_RESUME 1
#define SHIM_PHASE_RETRY 2

/* Parse argv into opts[3].  Returns 0, or 89 (an unknown or out-of-scope
 * flag: *why names it), or 1 (a malformed value: *why). */
int shim_parse_flags(int argc, char **argv, shim_opts opts[3], const char **why);

/* Free the decoded (base64) flag values. */
void shim_free_flags(void);

/* Base64 decoding into a malloc'd buffer (NULL on bad input). */
uint8_t *shim_b64_decode(const char *in, size_t *out_len);

#endif
