/* ch_cost.c - the work a server does for one ClientHello of a given shape
 * (tests/c/support_bighello.h), for tools/cost.sh to count in instructions
 * under valgrind's callgrind: only the server's handling of the hello is
 * collected (feeding it, parsing, selection, the whole first flight).
 *
 *   ch_cost SHAPE TOTAL
 *
 * SHAPE is a bh_shape_name, TOTAL the ClientHello's length in bytes.  It
 * prints "SHAPE TOTAL STATUS" and exits 0 only if the server accepted the
 * hello (its flight is out), so that a cheap refusal is never mistaken for
 * a cheap acceptance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "ferrule.h"
#include "support_bighello.h"
#include "support_pair.h"

static const uint8_t KEY_NAME[16] = {'f', 'e', 'r', 'r', 'u', 'l', 'e', '-',
                                     'c', 'o', 's', 't', 'k', 'e', 'y', '1'};

static ferrule_config *server_cfg(void) { return bh_server_config(KEY_NAME); }
static ferrule_config *client_cfg(void) { return bh_client_config(); }

/* One server handling one ClientHello of `shape`; `measure`: collect it. */
static int one(ferrule_config *cc, ferrule_config *sc, int shape, size_t total, int measure) {
    pair p;
    uint8_t *msg = NULL, *big = NULL;
    size_t len = 0, n = 0;
    bighello h;
    memset(&h, 0, sizeof(h));
    int st = -1;
    if (pair_new(&p, cc, sc, NULL)) {
        if (bh_capture_client_hello(p.client, &msg, &len) && bh_parse(&h, msg, len) &&
            bh_make_shape(&h, shape, total, KEY_NAME) && (n = bh_encode(&h, &big)) == total) {
            if (measure) CALLGRIND_TOGGLE_COLLECT;
            st = bh_deliver(p.server, big, n);
            if (measure) CALLGRIND_TOGGLE_COLLECT;
        }
        pair_free(&p);
    }
    bh_free(&h);
    free(msg);
    free(big);
    return st;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: ch_cost SHAPE TOTAL\n");
        return 2;
    }
    int shape = -1;
    for (int s = 0; s < BH_SHAPES; s++)
        if (strcmp(argv[1], bh_shape_name(s)) == 0) shape = s;
    size_t total = strtoul(argv[2], NULL, 10);
    if (shape < 0 || total == 0) {
        fprintf(stderr, "ch_cost: unknown shape '%s' or bad size\n", argv[1]);
        return 2;
    }
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    if (cc == NULL || sc == NULL) return 1;
    /* A first hello outside the count: libcrypto's lazy set-up (method
     * fetches, tables) is not the shape's cost. */
    int warm = one(cc, sc, BH_PADDED, total, 0);
    int st = one(cc, sc, shape, total, 1);
    printf("%s %zu %s\n", argv[1], total, ferrule_status_name(st));
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return warm == FERRULE_WANT_READ && st == FERRULE_WANT_READ ? 0 : 1;
}
