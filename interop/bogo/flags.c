/* flags.c - the BoGo shim's flag table and parser (see flags.h). */
#include "flags.h"

#include <limits.h>

#include <stdlib.h>
#include <string.h>

typedef enum { K_BOOL, K_INT, K_STR, K_B64, K_INTS, K_U64, K_NOOP_BOOL, K_NOOP_ARG } kind;

typedef struct {
    const char *name;
    kind k;
    size_t off;  /* field of shim_opts */
    size_t loff; /* K_B64: the length field */
} flag_def;

#define F(n, k, f) {n, k, offsetof(shim_opts, f), 0}
#define FB(n, f) {n, K_B64, offsetof(shim_opts, f), offsetof(shim_opts, f##_len)}
#define NOOP(n) {n, K_NOOP_BOOL, offsetof(shim_opts, ignored), 0}

/* Every flag the shim honours.  Anything else is unknown to it: the test
 * is reported unimplemented (exit 89), which the strict profile counts. */
static const flag_def FLAGS[] = {
    F("-port", K_INT, port),
    F("-shim-id", K_U64, shim_id),
    F("-ipv6", K_BOOL, ipv6),
    F("-server", K_BOOL, is_server),
    F("-resume-count", K_INT, resume_count),
    F("-async", K_BOOL, async),
    F("-implicit-handshake", K_BOOL, implicit_handshake),
    F("-shim-writes-first", K_BOOL, shim_writes_first),
    F("-shim-shuts-down", K_BOOL, shim_shuts_down),
    F("-check-close-notify", K_BOOL, check_close_notify),
    F("-read-size", K_INT, read_size),
    F("-key-update", K_BOOL, key_update),
    F("-key-update-before-read", K_BOOL, key_update_before_read),
    F("-send-alert", K_BOOL, send_alert),
    F("-export-keying-material", K_INT, export_keying_material),
    F("-export-label", K_STR, export_label),
    F("-export-context", K_STR, export_context),
    F("-use-export-context", K_BOOL, use_export_context),
    F("-resumption-delay", K_INT, resumption_delay),
    F("-expect-session-miss", K_BOOL, expect_session_miss),
    F("-expect-no-session", K_BOOL, expect_no_session),
    F("-shim-initial-write", K_STR, shim_initial_write),
    F("-repeat-shim-initial-write", K_INT, repeat_shim_initial_write),
    F("-write-different-record-sizes", K_BOOL, write_different_record_sizes),
    F("-read-with-unfinished-write", K_BOOL, read_with_unfinished_write),
    F("-peek-then-read", K_BOOL, peek_then_read),
    F("-use-exporter-between-reads", K_BOOL, use_exporter_between_reads),
    F("-partial-write", K_BOOL, partial_write),
    F("-handshake-twice", K_BOOL, handshake_twice),
    F("-no-op-extra-handshake", K_BOOL, no_op_extra_handshake),
    F("-max-send-fragment", K_INT, max_send_fragment),
    F("-export-traffic-secrets", K_BOOL, export_traffic_secrets),
    F("-min-version", K_INT, min_version),
    F("-max-version", K_INT, max_version),
    F("-no-tls13", K_BOOL, no_tls13),
    F("-expect-version", K_INT, expect_version),
    F("-cert-file", K_STR, cert_file),
    F("-key-file", K_STR, key_file),
    F("-trust-cert", K_STR, trust_cert),
    F("-expect-peer-cert-file", K_STR, expect_peer_cert_file),
    F("-verify-peer", K_BOOL, verify_peer),
    F("-verify-fail", K_BOOL, verify_fail),
    F("-require-any-client-certificate", K_BOOL, require_any_client_certificate),
    F("-expect-verify-result", K_BOOL, expect_verify_result),
    F("-expect-no-peer-cert", K_BOOL, expect_no_peer_cert),
    F("-use-custom-verify-callback", K_BOOL, use_custom_verify_callback),
    F("-fail-cert-callback", K_BOOL, fail_cert_callback),
    F("-signing-prefs", K_INTS, signing_prefs),
    F("-verify-prefs", K_INTS, verify_prefs),
    F("-curves", K_INTS, curves),
    F("-expect-peer-signature-algorithm", K_INT, expect_peer_signature_algorithm),
    F("-expect-peer-verify-pref", K_INTS, expect_peer_verify_pref),
    F("-expect-curve-id", K_INT, expect_curve_id),
    F("-expect-hrr", K_BOOL, expect_hrr),
    F("-expect-no-hrr", K_BOOL, expect_no_hrr),
    F("-expect-cipher", K_INT, expect_cipher),
    F("-expect-cipher-aes", K_INT, expect_cipher_aes),
    F("-expect-cipher-no-aes", K_INT, expect_cipher_no_aes),
    F("-cipher", K_STR, cipher),
    F("-max-cert-list", K_INT, max_cert_list),
    F("-expect-selected-credential", K_INT, expect_selected_credential),
    F("-advertise-alpn", K_STR, advertise_alpn),
    F("-expect-alpn", K_STR, expect_alpn),
    F("-select-alpn", K_STR, select_alpn),
    F("-expect-advertised-alpn", K_STR, expect_advertised_alpn),
    F("-decline-alpn", K_BOOL, decline_alpn),
    F("-reject-alpn", K_BOOL, reject_alpn),
    F("-select-empty-alpn", K_BOOL, select_empty_alpn),
    F("-allow-unknown-alpn-protos", K_BOOL, allow_unknown_alpn_protos),
    F("-host-name", K_STR, host_name),
    F("-expect-server-name", K_STR, expect_server_name),
    F("-expect-no-server-name", K_BOOL, expect_no_server_name),
    FB("-ocsp-response", ocsp_response),
    FB("-expect-ocsp-response", expect_ocsp_response),
    F("-enable-ocsp-stapling", K_BOOL, enable_ocsp_stapling),
    F("-no-ticket", K_BOOL, no_ticket),
    F("-enable-early-data", K_BOOL, enable_early_data),
    F("-expect-accept-early-data", K_BOOL, expect_accept_early_data),
    F("-expect-reject-early-data", K_BOOL, expect_reject_early_data),
    F("-expect-no-offer-early-data", K_BOOL, expect_no_offer_early_data),
    F("-expect-ticket-supports-early-data", K_BOOL, expect_ticket_supports_early_data),
    F("-expect-early-data-reason", K_STR, expect_early_data_reason),
    F("-expect-ticket-age-skew", K_INT, expect_ticket_age_skew),
    FB("-ticket-key", ticket_key),
    /* TLS 1.2 and older are not spoken at all: turning them off is a no-op. */
    NOOP("-no-tls1"),
    NOOP("-no-tls11"),
    NOOP("-no-tls12"),
    NOOP("-no-ssl3"),
    /* bssl_shim API variants with one meaning for ferrule: the client's
     * certificate comes from -cert-file/-key-file through the config either
     * way; ferrule servers keep no session cache (tickets only), so "no
     * session id was cached" always holds; renegotiation and its TLS 1.2
     * renegotiation_info policy do not exist in TLS 1.3 (a HelloRequest is
     * an unexpected message whatever the flag). */
    NOOP("-use-old-client-cert-callback"),
    NOOP("-expect-no-session-id"),
    NOOP("-renegotiate-freely"),
    NOOP("-no-legacy-server-connect"),
};

static const char *const PREFIXES[3] = {"-on-initial-", "-on-resume-", "-on-retry-"};

static int parse_int(const char *s, long long *out) {
    char *end = NULL;
    if (s == NULL || *s == '\0') return 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0') return 0;
    *out = v;
    return 1;
}

/* Decoded flag values live until shim_free_flags (the end of the process). */
#define MAX_DECODED 64
static uint8_t *g_decoded[MAX_DECODED];
static size_t g_n_decoded;

static uint8_t *keep_decoded(uint8_t *b) {
    if (b == NULL) return NULL;
    if (g_n_decoded == MAX_DECODED) {
        free(b);
        return NULL;
    }
    return g_decoded[g_n_decoded++] = b;
}

void shim_free_flags(void) {
    while (g_n_decoded > 0) free(g_decoded[--g_n_decoded]);
}

static int set_flag(shim_opts *o, const flag_def *d, const char *val) {
    char *base = (char *)o;
    long long v = 0;
    switch (d->k) {
    case K_BOOL:
        *(int *)(base + d->off) = 1;
        return 1;
    case K_NOOP_BOOL:
        return 1;
    case K_NOOP_ARG:
        return val != NULL;
    case K_INT:
        if (!parse_int(val, &v)) return 0;
        *(int *)(base + d->off) = (int)v;
        return 1;
    case K_U64:
        if (!parse_int(val, &v)) return 0;
        *(uint64_t *)(base + d->off) = (uint64_t)v;
        return 1;
    case K_STR:
        if (val == NULL) return 0;
        *(const char **)(base + d->off) = val;
        return 1;
    case K_B64: {
        size_t n = 0;
        uint8_t *b = val != NULL ? keep_decoded(shim_b64_decode(val, &n)) : NULL;
        if (b == NULL) return 0;
        *(const char **)(base + d->off) = (const char *)b;
        *(size_t *)(base + d->loff) = n;
        return 1;
    }
    case K_INTS: {
        shim_ints *l = (shim_ints *)(base + d->off);
        if (!parse_int(val, &v) || l->n >= SHIM_MAX_LIST) return 0;
        l->v[l->n++] = (int)v;
        return 1;
    }
    }
    return 0;
}

/* After -new-x509-credential, the credential flags are the newest
 * credential's (every phase: credentials are not per phase).  1 if `d`
 * was one. */
static int cred_flag(shim_opts opts[3], const flag_def *d, const char *val) {
    for (int p = 0; p < 3; p++) {
        shim_cred *c = &opts[p].creds[opts[p].n_creds - 1];
        if (strcmp(d->name, "-cert-file") == 0) c->cert_file = val;
        else if (strcmp(d->name, "-key-file") == 0) c->key_file = val;
        else if (strcmp(d->name, "-signing-prefs") == 0) c->signing_prefs = 1;
        else if (strcmp(d->name, "-ocsp-response") == 0) {
            c->ocsp_response = (const char *)keep_decoded(shim_b64_decode(val, &c->ocsp_response_len));
            if (c->ocsp_response == NULL) return 0;
        } else return 0;
    }
    return 1;
}

static int takes_arg(kind k) { return k != K_BOOL && k != K_NOOP_BOOL; }

int shim_parse_flags(int argc, char **argv, shim_opts opts[3], const char **why) {
    memset(opts, 0, 3 * sizeof(opts[0]));
    for (int p = 0; p < 3; p++) {
        opts[p].shim_initial_write = "hello";
        opts[p].repeat_shim_initial_write = 1;
        opts[p].export_label = "";
        opts[p].export_context = "";
        opts[p].expect_selected_credential = INT_MIN;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int only = -1;
        for (int p = 0; p < 3; p++) {
            size_t pl = strlen(PREFIXES[p]);
            if (strncmp(arg, PREFIXES[p], pl) == 0) {
                only = p;
                arg += pl - 1; /* keep the leading '-' */
                break;
            }
        }
        if (only < 0 && strcmp(arg, "-new-x509-credential") == 0) {
            for (int p = 0; p < 3; p++) {
                if (opts[p].n_creds == SHIM_MAX_CREDS) {
                    *why = "-new-x509-credential: more than 8 credentials";
                    return 89;
                }
                opts[p].n_creds++;
            }
            continue;
        }
        const flag_def *d = NULL;
        for (size_t k = 0; k < sizeof(FLAGS) / sizeof(FLAGS[0]); k++) {
            if (strcmp(FLAGS[k].name, arg) == 0) {
                d = &FLAGS[k];
                break;
            }
        }
        if (d == NULL) {
            *why = argv[i];
            return 89;
        }
        const char *val = NULL;
        if (takes_arg(d->k)) {
            if (i + 1 >= argc) {
                *why = argv[i];
                return 1;
            }
            val = argv[++i];
        }
        if (only < 0 && opts[0].n_creds > 0 && cred_flag(opts, d, val)) continue;
        for (int p = 0; p < 3; p++) {
            if (only >= 0 && p != only) continue;
            if (!set_flag(&opts[p], d, val)) {
                *why = argv[i];
                return 1;
            }
        }
    }
    return 0;
}

static int b64_value(int ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

uint8_t *shim_b64_decode(const char *in, size_t *out_len) {
    size_t len = strlen(in);
    uint8_t *out = malloc(len / 4 * 3 + 3);
    if (out == NULL) return NULL;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '=') {
            pad++;
            continue;
        }
        int v = b64_value((unsigned char)in[i]);
        if (v < 0 || pad > 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = n;
    return out;
}
