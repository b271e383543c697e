/* hrr.h - HelloRetryRequest state (RFC 8446 §4.1.4, §4.2.2). */
#ifndef FR_HRR_H
#define FR_HRR_H
#include <stddef.h>
#include <stdint.h>

typedef struct fr_hrr_config {
    uint8_t cookie_key[32]; /* HMAC key for stateless cookies */
    int cookie_key_set;
} fr_hrr_config;

typedef struct fr_hrr_conn {
    int done; /* a HelloRetryRequest was sent (server) or received (client) */
} fr_hrr_conn;
#endif
