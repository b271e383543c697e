/* key_update.h - KeyUpdate state (RFC 8446 §4.6.3, §5.5). */
#ifndef FR_KEY_UPDATE_H
#define FR_KEY_UPDATE_H
#include <stdint.h>

typedef struct fr_ku_config {
    uint64_t interval; /* records per key before an automatic update; 0 = default */
} fr_ku_config;

typedef struct fr_ku_conn {
    uint64_t sent, received;
} fr_ku_conn;
#endif
