/* support_bighello.h - ClientHellos of any size for tests: the legal
 * maxima of every list (RFC 8446 §4.1.2: cipher_suites<2..2^16-2>,
 * extensions<8..2^16-1>) and any number of extensions, which the fixed
 * `hello` of support_mitm.h cannot hold.  A bighello is parsed from a real
 * ClientHello, edited, encoded into a heap buffer and delivered in as many
 * records as it takes. */
#ifndef FR_SUPPORT_BIGHELLO_H
#define FR_SUPPORT_BIGHELLO_H
#include <stddef.h>
#include <stdint.h>

#include "ferrule.h"

typedef struct bh_ext {
    uint16_t type;
    uint8_t *body; /* heap copy */
    size_t len;
} bh_ext;

typedef struct bighello {
    uint16_t version;
    uint8_t random[32];
    uint8_t sid[32];
    size_t sid_len;
    uint16_t *suites;
    size_t n_suites;
    uint8_t comp[255];
    size_t n_comp;
    bh_ext *ext;
    size_t n_ext, cap_ext;
} bighello;

/* Parse a ClientHello message (handshake header included); 0 on failure. */
int bh_parse(bighello *h, const uint8_t *msg, size_t len);
void bh_free(bighello *h);
/* Index of the extension of `type`, or n_ext. */
size_t bh_index(const bighello *h, uint16_t type);
bh_ext *bh_find(bighello *h, uint16_t type);
/* Insert an extension at `pos` (clamped to n_ext); 0 on failure. */
int bh_insert(bighello *h, size_t pos, uint16_t type, const uint8_t *body, size_t len);
/* Replace the body of `type`, or insert it before a pre_shared_key (which
 * stays last, RFC 8446 §4.2.11) / at the end. */
int bh_set(bighello *h, uint16_t type, const uint8_t *body, size_t len);
int bh_remove(bighello *h, uint16_t type);
int bh_set_suites(bighello *h, const uint16_t *v, size_t n);
/* Length of the encoded message (header included), and of its
 * extensions block (without the block's own 2-byte length). */
size_t bh_size(const bighello *h);
size_t bh_exts_size(const bighello *h);
/* Encode into a fresh heap buffer (*out, free it); returns the length or 0
 * when a length does not fit its prefix. */
size_t bh_encode(const bighello *h, uint8_t **out);
/* Set a padding extension (RFC 7685) so that the message is exactly
 * `total` bytes; 0 if it is already larger or the block would overflow. */
int bh_pad_to(bighello *h, size_t total);

/* A u16 list body with a 1- or 2-byte length prefix (heap; free it). */
uint8_t *bh_u16_list(int width, const uint16_t *v, size_t n, size_t *len);

/* ClientHellos whose one list is as long as the message allows: the shapes
 * an attacker can send before any authentication (RFC 8446 §4.1.2 bounds
 * each list by its length prefix and the extensions block by 2^16-1 bytes;
 * no count limit).  Every shape is one a server must accept: the real
 * entries of the client's hello stay, after the made-up ones. */
enum {
    BH_PADDED,      /* a padding extension (RFC 7685): the baseline */
    BH_EXTENSIONS,  /* empty extensions of unknown types */
    BH_SHARES,      /* key shares of made-up groups, each in supported_groups */
    BH_GROUPS,      /* supported_groups of made-up groups */
    BH_SIGS,        /* signature_algorithms of made-up schemes */
    BH_SIGS_CERT,   /* signature_algorithms_cert of made-up schemes */
    BH_ALPN,        /* ALPN protocols (3-byte names), then "h2" */
    BH_PSK_FOREIGN, /* PSK identities not under our ticket keys */
    BH_PSK_OURS,    /* PSK identities naming our ticket key, not decrypting */
    BH_CAS,         /* certificate_authorities (ignored by a server) */
    BH_SUITES,      /* cipher suites of made-up values */
    BH_SNI,         /* server_name entries of other name types */
    BH_STATUS,      /* status_request responder ids */
    BH_SHAPES
};
const char *bh_shape_name(int shape);
/* Make `h` a ClientHello of exactly `total` bytes of `shape` (the rest of
 * the room padding).  `key_name`: the server's ticket key name, for
 * BH_PSK_OURS.  0 on failure (e.g. `total` too small). */
int bh_make_shape(bighello *h, int shape, size_t total, const uint8_t key_name[16]);

/* The configurations the shapes are run with: a server with the
 * ecdsa-p256 chain, ALPN "h2" and ticket key `key_name` (see BH_PSK_OURS);
 * a client trusting root.pem with ALPN "h2".  NULL on failure. */
ferrule_config *bh_server_config(const uint8_t key_name[16]);
ferrule_config *bh_client_config(void);

/* Deliver a handshake message to `to` in plaintext records of at most
 * 2^14 bytes, as much as it takes at a time, running the handshake after
 * each feed.  Returns the last ferrule_conn_handshake status (-1 on a
 * harness failure). */
int bh_deliver(ferrule_conn *to, const uint8_t *msg, size_t len);

/* The client's first ClientHello of a fresh pair: start its handshake and
 * take the one record it wrote.  *msg is a heap copy (free it). */
int bh_capture_client_hello(ferrule_conn *client, uint8_t **msg, size_t *len);

#endif
