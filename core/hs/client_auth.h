/* client_auth.h - client authentication state (RFC 8446 §4.3.2, §4.4.2). */
#ifndef FR_CLIENT_AUTH_H
#define FR_CLIENT_AUTH_H
#include <stdint.h>

typedef struct fr_client_auth_config {
    uint32_t mode; /* FERRULE_CLIENT_AUTH_* (server) */
} fr_client_auth_config;

typedef struct fr_client_auth_conn {
    int requested; /* server: sent CertificateRequest */
} fr_client_auth_conn;
#endif
