/* mlkem_cost.c - the handshake cost of X25519MLKEM768 against x25519
 * (docs/performance.md, "X25519MLKEM768 vs x25519"), per side.
 *
 *   mlkem_cost count GROUP SIDE   one full handshake pair (ECDSA P-256 chain,
 *                                 both configs offering only GROUP) after an
 *                                 uncounted one; under valgrind's callgrind
 *                                 (--collect-atstart=no) only SIDE's
 *                                 ferrule_conn_handshake calls are collected:
 *                                 SIDE is client, server or both
 *   mlkem_cost time GROUP N       N pairs (after 3 uncounted): the mean wall
 *                                 time per pair and per side's handshake calls
 *
 * GROUP is x25519 or X25519MLKEM768.  The pair is in one process and moves
 * bytes in memory, so the numbers are the CPU cost of each side, no I/O.
 * Exits 0 only if every handshake completed with GROUP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <valgrind/callgrind.h>

#include "ferrule.h"
#include "support_pair.h"

static int collect_client, collect_server;
static double t_client, t_server;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One side's handshake step, timed, and collected when asked. */
static int step(ferrule_conn *c, int collect, double *acc) {
    if (collect) CALLGRIND_TOGGLE_COLLECT;
    double t0 = now();
    int st = ferrule_conn_handshake(c);
    *acc += now() - t0;
    if (collect) CALLGRIND_TOGGLE_COLLECT;
    return st;
}

/* A full handshake pair; 1 if both ends connected with `group`. */
static int one_pair(ferrule_config *cc, ferrule_config *sc, uint16_t group, int measure) {
    pair p;
    if (!pair_new(&p, cc, sc, NULL)) {
        pair_free(&p);
        return 0;
    }
    int c = FERRULE_WANT_READ, s = FERRULE_WANT_READ;
    double tc = 0, ts = 0;
    for (int round = 0; round < 16 && !(c == FERRULE_OK && s == FERRULE_OK); round++) {
        if (c != FERRULE_OK) c = step(p.client, measure && collect_client, &tc);
        pair_move(p.client, p.server);
        if (s != FERRULE_OK) s = step(p.server, measure && collect_server, &ts);
        pair_move(p.server, p.client);
        if ((c != FERRULE_WANT_READ && c != FERRULE_OK) ||
            (s != FERRULE_WANT_READ && s != FERRULE_OK))
            break;
    }
    int ok = c == FERRULE_OK && s == FERRULE_OK && ferrule_conn_group(p.client) == group &&
             ferrule_conn_group(p.server) == group && !ferrule_conn_hrr(p.client);
    if (measure) {
        t_client += tc;
        t_server += ts;
    }
    pair_free(&p);
    return ok;
}

int main(int argc, char **argv) {
    uint16_t group = 0;
    if (argc != 4 || ferrule_group_from_name(argv[2], &group) != FERRULE_OK ||
        (strcmp(argv[1], "count") != 0 && strcmp(argv[1], "time") != 0)) {
        fprintf(stderr, "usage: mlkem_cost count GROUP client|server|both\n"
                        "       mlkem_cost time GROUP N\n");
        return 2;
    }
    int count = strcmp(argv[1], "count") == 0;
    int n = 1;
    if (count) {
        collect_client = strcmp(argv[3], "client") == 0 || strcmp(argv[3], "both") == 0;
        collect_server = strcmp(argv[3], "server") == 0 || strcmp(argv[3], "both") == 0;
        if (!collect_client && !collect_server) return 2;
    } else {
        n = atoi(argv[3]);
        if (n < 1) return 2;
    }
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    if (cc == NULL || sc == NULL || ferrule_config_set_groups(cc, &group, 1) != FERRULE_OK ||
        ferrule_config_set_groups(sc, &group, 1) != FERRULE_OK ||
        ferrule_config_set_tickets(sc, 0) != FERRULE_OK) {
        fprintf(stderr, "mlkem_cost: cannot set up %s (%s)\n", argv[2],
                cc != NULL ? ferrule_reason_name(ferrule_config_reason(cc)) : "no config");
        return 1;
    }
    /* Uncounted rounds pay libcrypto's lazy set-up (method fetches). */
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++) ok = one_pair(cc, sc, group, 0);
    double t0 = now();
    for (int i = 0; i < n && ok; i++) ok = one_pair(cc, sc, group, 1);
    double total = now() - t0;
    if (ok && !count)
        printf("%s: %d pairs, %.1f us per pair, client %.1f us, server %.1f us\n", argv[2], n,
               total / n * 1e6, t_client / n * 1e6, t_server / n * 1e6);
    else
        printf("%s: %s\n", argv[2], ok ? "ok" : "failed");
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return ok ? 0 : 1;
}
