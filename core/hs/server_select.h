/* server_select.h - the server's choice of certificate chain and ALPN
 * protocol from the ClientHello (RFC 6066 §3, RFC 7301 §3, RFC 8446
 * §4.2.3, §4.4.2.2), with optional application callbacks.  See
 * docs/server-callbacks.md. */
#ifndef FR_SERVER_SELECT_H
#define FR_SERVER_SELECT_H
#include <stddef.h>
#include <stdint.h>

#include "../common.h"
#include "../codes.h"
#include "../engine.h"

typedef int (*fr_cert_select_fn)(void *ctx, const fr_conn *conn,
                                 const fr_client_hello *hello);
typedef int (*fr_alpn_select_fn)(void *ctx, const fr_conn *conn,
                                 const fr_client_hello *hello, const uint8_t **proto,
                                 size_t *len);

typedef struct fr_select_config {
    uint32_t sni_policy; /* FERRULE_SNI_* */
    fr_cert_select_fn cert_cb;
    void *cert_ctx;
    fr_alpn_select_fn alpn_cb;
    void *alpn_ctx;
} fr_select_config;

/* Decoded copies of a view's lists, made on demand for the application's
 * getters (hello_view.c) in the connection's memory; the core's
 * own choices never need them. */
typedef struct fr_hello_lists {
    fr_mem *mem;
    uint16_t *sigs, *sigs_cert, *suites; /* decoded lists, or NULL */
    uint16_t *alpn_off; /* offset of each ALPN name's length byte, or NULL */
    size_t sigs_cap, sigs_cert_cap, suites_cap, alpn_cap; /* bytes */
} fr_hello_lists;

/* The read-only view of a ClientHello handed to the callbacks.  Lives on
 * the server's stack while selection runs; the lists are the validated
 * wire lists, read in place. */
struct ferrule_client_hello {
    const fr_config *cfg;
    const char *server_name; /* NULL: no SNI */
    fr_reader sigs;          /* signature_algorithms, as sent */
    fr_reader sigs_cert;     /* signature_algorithms_cert, else = sigs */
    fr_reader suites;        /* cipher_suites, as sent */
    uint32_t sig_bits, sig_cert_bits; /* fr_sig_mask of the two lists */
    fr_reader alpn;          /* validated ProtocolNameList body (empty: none) */
    int has_alpn;
    size_t n_alpn;
    fr_hello_lists *lists;
};

/* Free what the getters decoded. */
void fr_hello_lists_free(fr_hello_lists *l);

/* fr_chain_fit and the view's getters: engine.h, "server selection". */

#endif
