/* hs_cost.c - the work of one full handshake pair (client and server in
 * one process, ECDSA P-256 chain, the client verifying it), for
 * tools/cost.sh to count in instructions under valgrind's callgrind.  Only
 * the second pair is collected: the first pays libcrypto's lazy set-up
 * (method fetches, tables), which is not a handshake's cost.
 *
 *   hs_cost
 *
 * Exits 0 only if both measured handshakes completed. */
#include <stdio.h>
#include <valgrind/callgrind.h>

#include "ferrule.h"
#include "support_pair.h"

static int one(ferrule_config *cc, ferrule_config *sc, int measure) {
    pair p;
    int cs = -1, ss = -1, ok = 0;
    if (measure) CALLGRIND_TOGGLE_COLLECT;
    if (pair_new(&p, cc, sc, NULL)) {
        ok = pair_handshake(&p, &cs, &ss);
        pair_free(&p);
    }
    if (measure) CALLGRIND_TOGGLE_COLLECT;
    return ok;
}

int main(void) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    if (cc == NULL || sc == NULL) return 1;
    int ok = one(cc, sc, 0) && one(cc, sc, 1);
    printf("handshake pair: %s\n", ok ? "ok" : "failed");
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return ok ? 0 : 1;
}
