/* support_fx.h - man-in-the-middle fixtures stopped at each stage of a
 * handshake (support_mitm.h does the record work), and the failure
 * expectations every negative test shares: the status class, reason and
 * alert on the side that detects a problem, that the failure is sticky,
 * and that the peer receives the alert.  Used by the table-driven
 * negative suites (support_neg.h, test_neg_*.c) and by the feature suites
 * that forge messages (test_record_size_limit.c, test_client_auth.c). */
#ifndef FR_SUPPORT_FX_H
#define FR_SUPPORT_FX_H
#include <stddef.h>
#include <stdint.h>

#include "ferrule.h"
#include "support_mitm.h"
#include "support_pair.h"

/* A failure at file:line, counted against the current case. */
void fx_failat(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define FAILAT(line, ...) fx_failat(__FILE__, (line), __VA_ARGS__)

/* ---- fixtures --------------------------------------------------------------- */

typedef struct fx {
    mitm m;
    mflight *f;
    hello h;
} fx;

#define CL(x) ((x)->m.p.client)
#define SV(x) ((x)->m.p.server)
#define SEC(x, role, k) mitm_secret(&(x)->m, FERRULE_ROLE_##role, MK_##k)

/* A client trusting root.pem, and the default server of the negative
 * tests: ecdsa-p256 and no NewSessionTickets, so that the post-handshake
 * cases count the server's records from sequence number 0. */
ferrule_config *fx_client_config(void);
ferrule_config *fx_server_config(void);
/* The client with groups x25519, secp256r1, secp384r1 (the default when
 * libcrypto has no ML-KEM): for cases that edit an x25519 first (only) key
 * share, whatever the build (docs/mlkem.md). */
ferrule_config *fx_client_classic_config(void);

/* The pair through the MITM with its key log.  Takes ownership of both
 * configs; NULL (both freed) if either is NULL or the set-up fails. */
fx *fx_new(ferrule_config *cc, ferrule_config *sc);
void fx_free(fx *x);

/* Only the client has sent its ClientHello (taken and dropped). */
fx *fx_server_fresh(ferrule_config *cc, ferrule_config *sc);
/* The client's ClientHello, parsed into x->h; its record is x->f->r[0]. */
fx *fx_ch_begin(ferrule_config *cc, ferrule_config *sc);
/* The server's first flight, captured and opened:
 * r[0] SH, r[1] CCS, r[2] EE, r[3] Certificate, r[4] CV, r[5] Finished;
 * the ServerHello parsed into x->h. */
fx *fx_flight_begin(ferrule_config *cc, ferrule_config *sc);
/* Both sides connected through the MITM without edits; x->f is empty. */
fx *fx_connected_begin(ferrule_config *cc, ferrule_config *sc);
/* The client connected; x->f holds its second flight (r[0] CCS, r[1]
 * Finished) opened with the client handshake secret. */
fx *fx_client_finished_begin(ferrule_config *cc, ferrule_config *sc);

/* Re-encode x->h into the ClientHello record and run the server on it;
 * with `adopt`, the client's transcript takes the edited hello too. */
int fx_ch_deliver(fx *x, int adopt);
/* Re-protect the (edited) flight and run the client on it. */
int fx_flight_deliver(fx *x);
/* Re-encode x->h into the ServerHello record, then deliver the flight. */
int fx_sh_deliver(fx *x);
/* Send x->f to the server and run its handshake. */
int fx_to_server(fx *x);
/* Feed raw bytes to the server and run it. */
int fx_server_gets(fx *x, const uint8_t *p, size_t n);
/* One handshake message from the server, sealed with its application
 * secret at sequence number 0, sent to the client. */
int fx_server_injects(fx *x, const uint8_t *msg, size_t len);
/* Send x->f to the client, then one ferrule_conn_read() there. */
int fx_client_reads(fx *x);
/* One ferrule_conn_read() on `c` (into a scratch buffer). */
int fx_read(ferrule_conn *c);
/* Write one handshake message (header + body) into a record's data. */
void fx_set_msg(mrec *r, uint8_t type, const uint8_t *body, size_t len);
/* The edited ClientHello, adopted by the client, to a full handshake:
 * the server must wait after its flight and the client connect.
 * Returns the server's final handshake status (FERRULE_OK wanted). */
int fx_ch_succeed_at(const char *file, int line, fx *x);
#define FX_CH_SUCCEED(x) fx_ch_succeed_at(__FILE__, __LINE__, (x))

/* ---- expectations ------------------------------------------------------------ */

/* `got` is what the failing call returned on `c`: the status, reason and
 * alert, the failed state, and that more calls change nothing. */
void expect_fail_at(const char *file, int line, ferrule_conn *c, int got, int status,
                    uint32_t reason, int alert);
#define EXPECT_FAIL(c, got, status, reason, alert)                                                 \
    expect_fail_at(__FILE__, __LINE__, (c), (got), (status), (reason), (alert))
/* Deliver `from`'s output to `to`, which must report the fatal alert. */
void expect_peer_alert_at(const char *file, int line, ferrule_conn *from, ferrule_conn *to,
                          int alert);
#define EXPECT_PEER_ALERT(from, to, alert)                                                         \
    expect_peer_alert_at(__FILE__, __LINE__, (from), (to), (alert))
/* `from` (no write keys yet) queued exactly one plaintext fatal alert:
 * checked on the wire, then delivered to the peer. */
void expect_wire_alert_at(const char *file, int line, ferrule_conn *from, ferrule_conn *peer,
                          int alert);
#define EXPECT_WIRE_ALERT(from, peer, alert)                                                       \
    expect_wire_alert_at(__FILE__, __LINE__, (from), (peer), (alert))
/* a writes msg, b must read it. */
void exchange_at(const char *file, int line, ferrule_conn *a, ferrule_conn *b, const char *msg);
#define EXCHANGE(a, b, msg) exchange_at(__FILE__, __LINE__, (a), (b), (msg))
#endif
