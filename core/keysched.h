/*
 * keysched.h - the TLS 1.3 key schedule (RFC 8446 §7.1) for one connection.
 * Pure computation over secrets; the handshake code decides when each step
 * runs.  All secrets are fr_hash_len(hash) bytes and are wiped by
 * fr_ks_wipe().
 */
#ifndef FR_KEYSCHED_H
#define FR_KEYSCHED_H

#include "crypto/crypto.h"

typedef struct fr_keysched {
    int hash;
    size_t hlen;
    uint8_t early_secret[FR_MAX_HASH];
    uint8_t handshake_secret[FR_MAX_HASH];
    uint8_t master_secret[FR_MAX_HASH];
    uint8_t client_hs[FR_MAX_HASH];  /* client_handshake_traffic_secret */
    uint8_t server_hs[FR_MAX_HASH];  /* server_handshake_traffic_secret */
    uint8_t client_ap[FR_MAX_HASH];  /* client_application_traffic_secret_0 (then _N) */
    uint8_t server_ap[FR_MAX_HASH];  /* server_application_traffic_secret_0 (then _N) */
    uint8_t exporter[FR_MAX_HASH];   /* exporter_master_secret */
    uint8_t resumption[FR_MAX_HASH]; /* resumption_master_secret */
} fr_keysched;

/* Early Secret = HKDF-Extract(0, PSK or 0^hlen). */
FR_MUST_CHECK fr_err fr_ks_init(fr_keysched *ks, int hash, const uint8_t *psk, size_t psk_len);
/* Handshake Secret from the (EC)DHE shared secret; then the client/server
 * handshake traffic secrets over Transcript-Hash(ClientHello..ServerHello)
 * given as `th` (hlen bytes). */
FR_MUST_CHECK fr_err fr_ks_handshake(fr_keysched *ks, const uint8_t *ecdhe, size_t ecdhe_len,
                                     const uint8_t *th);
/* Master Secret; application traffic secrets and exporter master secret
 * over Transcript-Hash(ClientHello..server Finished). */
FR_MUST_CHECK fr_err fr_ks_master(fr_keysched *ks, const uint8_t *th);
/* resumption_master_secret over Transcript-Hash(ClientHello..client Finished). */
FR_MUST_CHECK fr_err fr_ks_resumption(fr_keysched *ks, const uint8_t *th);
/* verify_data = HMAC(finished_key(base_key), th), hlen bytes (RFC 8446 §4.4.4). */
FR_MUST_CHECK fr_err fr_ks_finished(int hash, const uint8_t *base_key, const uint8_t *th,
                                    uint8_t *verify_data);
/* application_traffic_secret_N+1 in place (RFC 8446 §7.2). */
FR_MUST_CHECK fr_err fr_ks_update_secret(int hash, uint8_t *secret);
/* RFC 8446 §7.5 TLS-Exporter(label, context, length) from exporter secret. */
FR_MUST_CHECK fr_err fr_ks_export(int hash, const uint8_t *exporter_secret, const char *label,
                                  size_t label_len, const uint8_t *context, size_t context_len,
                                  uint8_t *out, size_t out_len);
/* RFC 8446 §4.2.11.2 PSK binder (hlen bytes) for a resumption PSK over
 * `partial_th` = Transcript-Hash(ClientHello truncated before the binders). */
FR_MUST_CHECK fr_err fr_ks_binder(int hash, const uint8_t *psk, size_t psk_len,
                                  const uint8_t *partial_th, uint8_t *binder);
/* RFC 8446 §4.6.1 the PSK of one ticket (hlen bytes). */
FR_MUST_CHECK fr_err fr_ks_ticket_psk(int hash, const uint8_t *resumption, const uint8_t *nonce,
                                      size_t nonce_len, uint8_t *psk);
/* RFC 8446 §7.1 client_early_traffic_secret (hlen bytes) for a PSK over
 * `ch_th` = Transcript-Hash(ClientHello). */
FR_MUST_CHECK fr_err fr_ks_early_traffic(int hash, const uint8_t *psk, size_t psk_len,
                                         const uint8_t *ch_th, uint8_t *out);
void fr_ks_wipe(fr_keysched *ks);

#endif
