/* server_select.h - the server's choice of certificate chain and ALPN
 * protocol from the ClientHello (RFC 6066 §3, RFC 7301 §3, RFC 8446
 * §4.2.3, §4.4.2.2), with optional application callbacks.  See
 * docs/server-callbacks.md. */
#ifndef FR_SERVER_SELECT_H
#define FR_SERVER_SELECT_H
#include <stddef.h>
#include <stdint.h>

#include "ferrule.h"

typedef int (*fr_cert_select_fn)(void *ctx, const ferrule_conn *conn,
                                 const ferrule_client_hello *hello);
typedef int (*fr_alpn_select_fn)(void *ctx, const ferrule_conn *conn,
                                 const ferrule_client_hello *hello, const uint8_t **proto,
                                 size_t *len);

typedef struct fr_select_config {
    uint32_t sni_policy; /* FERRULE_SNI_* */
    fr_cert_select_fn cert_cb;
    void *cert_ctx;
    fr_alpn_select_fn alpn_cb;
    void *alpn_ctx;
} fr_select_config;

/* The read-only view of a ClientHello handed to the callbacks.  Lives on
 * the server's stack; the arrays are decoded copies in the connection's
 * memory, freed when selection ends. */
struct ferrule_client_hello {
    const ferrule_config *cfg;
    const char *server_name;   /* NULL: no SNI */
    const uint16_t *sigs;      /* signature_algorithms, as sent */
    size_t n_sigs;
    const uint16_t *sigs_cert; /* signature_algorithms_cert, else = sigs */
    size_t n_sigs_cert;
    const uint16_t *suites;    /* cipher_suites, as sent */
    size_t n_suites;
    const uint8_t *alpn;       /* validated ProtocolNameList body, or NULL */
    size_t alpn_len;
    const uint16_t *alpn_off;  /* offset of each name's length byte in alpn */
    size_t n_alpn;
};

/* How a chain suits a ClientHello: FERRULE_CHAIN_FIT_* bits, and in
 * *scheme (may be NULL) the signature scheme we would sign with. */
uint32_t fr_chain_fit(const ferrule_client_hello *h, size_t index, uint16_t *scheme);

#endif
