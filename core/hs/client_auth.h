/* client_auth.h - client authentication state (RFC 8446 §4.3.2, §4.4.2). */
#ifndef FR_CLIENT_AUTH_H
#define FR_CLIENT_AUTH_H
#include <stddef.h>
#include <stdint.h>

/* Most bytes of trust-anchor subject names sent in certificate_authorities
 * (RFC 8446 §4.2.4); a larger store omits the extension rather than bloat
 * every CertificateRequest (a large system store would not fit anyway). */
#define FR_CA_NAMES_MAX (16u * 1024u)

typedef struct fr_client_auth_config {
    uint32_t mode; /* FERRULE_CLIENT_AUTH_* (server) */
} fr_client_auth_config;

typedef struct fr_client_auth_conn {
    int requested;   /* server: sent CertificateRequest */
    int anonymous;   /* server: the client answered with an empty Certificate */
    int ca_names;    /* server: the request carried certificate_authorities;
                        client: the server's request did */
} fr_client_auth_conn;
#endif
