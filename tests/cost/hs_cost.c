/* hs_cost.c - the work of one phase of a connection's life, for
 * tools/cost.sh to count in instructions under valgrind's callgrind (the
 * instruction-count regression gate, tests/cost/baseline.txt):
 *
 *   hs_cost full     one full handshake pair (client and server in one
 *                    process, ECDSA P-256 chain, the client verifying it)
 *   hs_cost resumed  one resumed (psk_dhe_ke) handshake pair
 *   hs_cost bulk     1 MiB client -> server in 16 KiB writes, read back,
 *                    on an established pair (AES-128-GCM)
 *
 * Only the measured phase is collected: a first, uncounted round pays
 * libcrypto's lazy set-up (method fetches, tables), which is not the
 * phase's cost.  Exits 0 only if every round did its work. */
#include <stdio.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "ferrule.h"
#include "support_pair.h"

#define BULK_TOTAL (1u << 20)
#define BULK_WRITE 16384u

static uint8_t session[16384];
static size_t session_len;

/* A full handshake, then the client's session (the server's ticket read). */
static int keep_session(pair *p) {
    uint8_t buf[64];
    size_t n = 0;
    pair_move(p->server, p->client);
    int st = ferrule_conn_read(p->client, buf, sizeof(buf), &n);
    if (st != FERRULE_WANT_READ) return 0;
    return ferrule_conn_session(p->client, session, sizeof(session), &session_len) == FERRULE_OK;
}

static int bulk(pair *p) {
    static uint8_t data[BULK_WRITE], got[BULK_WRITE];
    memset(data, 0x5a, sizeof(data));
    size_t sent = 0, recvd = 0;
    while (recvd < BULK_TOTAL) {
        size_t n = 0;
        if (sent < BULK_TOTAL) {
            int st = ferrule_conn_write(p->client, data, sizeof(data), &n);
            if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) return 0;
            sent += n;
        }
        pair_move(p->client, p->server);
        int st;
        while ((st = ferrule_conn_read(p->server, got, sizeof(got), &n)) == FERRULE_OK) recvd += n;
        if (st != FERRULE_WANT_READ) return 0;
        if (n == 0 && sent >= BULK_TOTAL && recvd < BULK_TOTAL) return 0;
    }
    return recvd == BULK_TOTAL;
}

/* One round of `phase`; collected when `measure`. */
static int round_of(const char *phase, ferrule_config *cc, ferrule_config *sc, int measure) {
    pair p;
    int cs = -1, ss = -1, ok = 0;
    int resumed = strcmp(phase, "resumed") == 0, is_bulk = strcmp(phase, "bulk") == 0;
    if (measure && !is_bulk) CALLGRIND_TOGGLE_COLLECT;
    if (pair_new(&p, cc, sc, NULL)) {
        if (resumed && session_len > 0 &&
            ferrule_conn_set_session(p.client, session, session_len) != FERRULE_OK) {
            pair_free(&p);
            return 0;
        }
        ok = pair_handshake(&p, &cs, &ss);
        if (resumed) ok = ok && (session_len == 0 || ferrule_conn_resumed(p.client));
        if (is_bulk && ok) {
            if (measure) CALLGRIND_TOGGLE_COLLECT;
            ok = bulk(&p);
            if (measure) CALLGRIND_TOGGLE_COLLECT;
        }
        if (ok && resumed) ok = keep_session(&p);
        pair_free(&p);
    }
    if (measure && !is_bulk) CALLGRIND_TOGGLE_COLLECT;
    return ok;
}

int main(int argc, char **argv) {
    const char *phase = argc > 1 ? argv[1] : "full";
    if (strcmp(phase, "full") != 0 && strcmp(phase, "resumed") != 0 &&
        strcmp(phase, "bulk") != 0) {
        fprintf(stderr, "usage: hs_cost [full|resumed|bulk]\n");
        return 2;
    }
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    if (cc == NULL || sc == NULL) return 1;
    /* The uncounted round; for "resumed" it also makes the first session. */
    int ok = round_of(phase, cc, sc, 0) && round_of(phase, cc, sc, 1);
    printf("%s: %s\n", phase, ok ? "ok" : "failed");
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return ok ? 0 : 1;
}
