/* hrr.h - HelloRetryRequest state (RFC 8446 §4.1.4, §4.2.2). */
#ifndef FR_HRR_H
#define FR_HRR_H
#include <stddef.h>
#include <stdint.h>

#define FR_HRR_COOKIE_KEY_LEN 32

typedef struct fr_hrr_config {
    /* HMAC-SHA256 key for stateless cookies: random from the config's
     * creation (fr_hrr_config_init), or set by ferrule_config_set_cookie_key
     * before the config is frozen.  Read-only once connections share it. */
    uint8_t cookie_key[FR_HRR_COOKIE_KEY_LEN];
} fr_hrr_config;

#define FR_HRR_DIGEST_LEN 32
/* psk_state: ClientHello1 offered no PSK; offered PSKs, of which those we
 * would accept with the HelloRetryRequest's suite have psk_digest; offered
 * more than we examined (the second ClientHello is then not checked). */
#define FR_HRR_PSK_NONE 0
#define FR_HRR_PSK_DIGEST 1
#define FR_HRR_PSK_UNCHECKED 2

typedef struct fr_hrr_conn {
    int done;       /* a HelloRetryRequest was sent (server) or received (client) */
    uint16_t suite; /* the cipher suite the HelloRetryRequest selected */
    uint16_t group; /* its selected_group */
    /* Server: what ClientHello1 offered as PSKs (RFC 8446 §4.1.2), noted
     * before the HelloRetryRequest and carried by its cookie. */
    uint8_t psk_state; /* FR_HRR_PSK_* */
    uint8_t psk_digest[FR_HRR_DIGEST_LEN];
} fr_hrr_conn;
#endif
