/* support_neg.h - the table-driven negative tests (tests/c/test_neg_*.c).
 *
 * Each case is one row: a name, the stage of the handshake it starts
 * from (a fixture of support_fx.h), a mutation function that edits what
 * the man in the middle holds and delivers it, and what must come of it:
 * the status, reason and alert on the side that detects the problem and
 * what its peer then sees.  One runner (neg_main) plays every row:
 *
 *   x   = the stage's fixture (configs from the row's builders or the
 *         defaults: a client trusting root.pem, an ecdsa-p256 server
 *         without tickets), which must come up;
 *   got = row->edit(x, row->arg);
 *   a failure status: EXPECT_FAIL(detector, got, status, reason, alert)
 *   (class, reason, alert, failed state, sticky on every driver, message);
 *   any other status: got == status;
 *   row->post(x, row->arg) for case-specific assertions, if given;
 *   then the peer check: the peer receives the alert (NEG_PEER_ALERT), the
 *   alert is on the wire in the clear and the peer reports it
 *   (NEG_PEER_WIRE), the detector queued nothing (NEG_PEER_SILENT), the
 *   detector (a client that had processed the ServerHello) queued exactly
 *   its compatibility change_cipher_spec and no alert (NEG_PEER_CCS_ONLY),
 *   that CCS then exactly one protected record, the alert, which the peer
 *   receives (NEG_PEER_CCS_ALERT), or nothing more (NEG_PEER_NONE).
 *
 * A variant of a case (one of several mutations of the same field) is a
 * row of its own named "case/variant", so that TL_ONLY=case/variant runs
 * it alone and a failure names it. */
#ifndef FR_SUPPORT_NEG_H
#define FR_SUPPORT_NEG_H
#include <limits.h>
#include <stdio.h>

#include "support_fx.h"
#include "testlib.h"

typedef enum neg_stage {
    NEG_NONE,            /* no fixture: x is NULL, the edit builds its own */
    NEG_SERVER_FRESH,    /* fx_server_fresh */
    NEG_CLIENT_HELLO,    /* fx_ch_begin */
    NEG_FLIGHT,          /* fx_flight_begin */
    NEG_CONNECTED,       /* fx_connected_begin */
    NEG_CLIENT_FINISHED, /* fx_client_finished_begin */
} neg_stage;

typedef enum neg_peer {
    NEG_PEER_NONE,
    NEG_PEER_ALERT,
    NEG_PEER_WIRE,
    NEG_PEER_SILENT,
    /* RFC 8446 Appendix D.4: the client's CCS went out when it processed
     * the ServerHello; the failure after it added nothing. */
    NEG_PEER_CCS_ONLY,
    /* The same CCS, then the alert in one protected record (a client
     * refusing what came under the server's handshake keys). */
    NEG_PEER_CCS_ALERT,
} neg_peer;

/* Returned by an edit that made every assertion of its case itself (a
 * case that is not one failure, e.g. a configuration setter's range). */
#define NEG_DONE INT_MIN

/* Rows leave the optional trailing fields out (or name them): */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
typedef struct neg_row {
    const char *name;
    neg_stage stage;
    int (*edit)(fx *x, int arg);
    int arg;
    uint32_t side; /* FERRULE_ROLE_CLIENT / FERRULE_ROLE_SERVER: who detects */
    int status;
    uint32_t reason;
    int alert;
    neg_peer peer;
    /* Optional: config builders (taking arg), case-specific checks. */
    ferrule_config *(*client_cfg)(int arg);
    ferrule_config *(*server_cfg)(int arg);
    void (*post)(fx *x, int arg);
} neg_row;

/* The expected outcome, spelt without prefixes:
 * NEG_FAILS(ALERT_SENT, BAD_CCS, UNEXPECTED_MESSAGE). */
#define NEG_FAILS(st, r, a) FERRULE_##st, FERRULE_R_##r, FERRULE_ALERT_##a
/* A case whose call under test must return `st` (no failure). */
#define NEG_GIVES(st) FERRULE_##st, 0, -1
#define NEG_CLIENT FERRULE_ROLE_CLIENT
#define NEG_SERVER FERRULE_ROLE_SERVER

/* A REQUIRE for edits: ends the edit (returning -1, which no expected
 * status matches) when a precondition fails. */
#define NEG_REQUIRE(cond)                                                                          \
    do {                                                                                           \
        tl_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);          \
            tl_failures_in_test++;                                                                 \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

/* The same for config builders (returning NULL fails the fixture). */
#define NEG_REQUIRE_CFG(cfg)                                                                       \
    do {                                                                                           \
        tl_checks++;                                                                               \
        if ((cfg) == NULL) {                                                                       \
            fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cfg " != NULL"); \
            tl_failures_in_test++;                                                                 \
            return NULL;                                                                           \
        }                                                                                          \
    } while (0)

/* Definitions of the row functions (the argument may go unused). */
#define NEG_EDIT(fn) static int fn(fx *x, __attribute__((unused)) int arg)
#define NEG_POST(fn) static void fn(fx *x, __attribute__((unused)) int arg)
#define NEG_CFG(fn) static ferrule_config *fn(__attribute__((unused)) int arg)

/* Shared post hooks for cases that must go on: the client's last flight
 * to the server, which must connect, then data client -> server
 * (neg_post_connect) or only the data (neg_post_exchange). */
void neg_post_connect(fx *x, int arg);
void neg_post_exchange(fx *x, int arg);

/* Play every selected row (TL_ONLY names a row, or a case and all its
 * variants); prints and returns like tl_run. */
int neg_main(const char *suite, const neg_row *rows, size_t n);
#define NEG_MAIN(suite, rows)                                                                      \
    int main(void) { return neg_main(suite, rows, sizeof(rows) / sizeof(rows[0])); }
#endif
