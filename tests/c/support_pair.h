/* support_pair.h - in-memory client/server pairs for handshake tests. */
#ifndef FR_SUPPORT_PAIR_H
#define FR_SUPPORT_PAIR_H
#include <stdint.h>

#include "ferrule.h"

/* Directory of the test PKI ($FERRULE_TEST_PKI, generated if unset). */
const char *pair_pki_dir(void);
/* Path inside the PKI directory (static buffer rotated among 8). */
const char *pair_pki(const char *file);

/* A self-signed certificate (CN=localhost, valid an hour before and a day
 * after now) and its key, both PEM, made with libcrypto for what the test
 * PKI does not have: `alg` "RSA" (bits = modulus size) or "EC" (P-256),
 * X.509 `version` 0 (v1) .. 2 (v3).  1 on success. */
int pair_self_signed(const char *alg, int bits, long version, char *cert, size_t cert_cap,
                     char *key, size_t key_cap);

/* The group two default configs agree on: X25519MLKEM768 when libcrypto
 * has ML-KEM-768 (docs/mlkem.md), x25519 otherwise. */
uint16_t pair_default_group(void);

/* A client config trusting root.pem, and a server config with KIND's chain. */
ferrule_config *pair_client_config(void);
ferrule_config *pair_server_config(const char *kind);
/* A server config whose chain is ecdsa-p256's (leaf, intermediate)
 * followed by eight unrelated CA certificates: sent, and ignored by path
 * building (ten certificates, the same path as ecdsa-p256's). */
ferrule_config *pair_big_chain_server_config(void);

typedef struct pair {
    ferrule_conn *client;
    ferrule_conn *server;
} pair;

/* New client (server_name "localhost" unless name given) and server. */
int pair_new(pair *p, ferrule_config *ccfg, ferrule_config *scfg, const char *name);
void pair_free(pair *p);
/* Move all pending output of `from` into `to`.  Returns bytes moved. */
size_t pair_move(ferrule_conn *from, ferrule_conn *to);
/* Run both handshakes to completion or failure (bounded rounds).
 * Returns 1 when both report FERRULE_OK. */
int pair_handshake(pair *p, int *client_status, int *server_status);
/* A full handshake between new connections of the two configs, then the
 * server's tickets delivered: the client's session blob in out[0..cap),
 * its length returned (0 on any failure, also when the client reads
 * anything but tickets). */
size_t pair_session(ferrule_config *ccfg, ferrule_config *scfg, uint8_t *out, size_t cap);
#endif
