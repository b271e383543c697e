/* test_sync.c - the core's shared state goes through the host's locks
 * (core/sync.h), never a lock of its own: the ticket-key ring of a config
 * under FR_LOCK_CFG_TICKETS, a client's kept ticket under FR_LOCK_CONN_ERR.
 * Each test wraps an engine's fr_sync with a counting one that delegates
 * to the ABI's, and checks the sections were entered and left. */
#include <string.h>

#include "conn.h" /* the engines' fr_sync: test-only */
#include "support_pair.h"
#include "testlib.h"

typedef struct counting {
    fr_sync inner;
    unsigned locks[FR_LOCK_COUNT], unlocks[FR_LOCK_COUNT];
    unsigned depth[FR_LOCK_COUNT], max_depth[FR_LOCK_COUNT];
} counting;

static void count_lock(void *ctx, unsigned id) {
    counting *k = ctx;
    fr_sync_lock(&k->inner, id);
    k->locks[id]++;
    if (++k->depth[id] > k->max_depth[id]) k->max_depth[id] = k->depth[id];
}

static void count_unlock(void *ctx, unsigned id) {
    counting *k = ctx;
    k->depth[id]--;
    k->unlocks[id]++;
    fr_sync_unlock(&k->inner, id);
}

static void wrap(fr_sync *s, counting *k) {
    memset(k, 0, sizeof(*k));
    k->inner = *s;
    *s = (fr_sync){count_lock, count_unlock, k, NULL}; /* the inner release stays with inner */
}

/* A full handshake, the client's session, then a resumption with it. */
static int handshake_and_resume(ferrule_config *cc, ferrule_config *sc, counting *client_err) {
    pair p;
    uint8_t buf[64], sess[8192];
    size_t n = 0, sess_len = 0;
    int cs, ss;
    if (!pair_new(&p, cc, sc, NULL)) return 0;
    if (client_err != NULL) wrap(&p.client->sync, client_err);
    int ok = pair_handshake(&p, &cs, &ss);
    pair_move(p.server, p.client); /* the tickets */
    int rd = ok ? ferrule_conn_read(p.client, buf, sizeof(buf), &n) : FERRULE_OK;
    (void)rd; /* WANT_READ: only tickets arrived */
    ok = ok && ferrule_conn_session(p.client, sess, sizeof(sess), &sess_len) == FERRULE_OK;
    if (client_err != NULL) p.client->sync = client_err->inner;
    pair_free(&p);
    if (!ok || !pair_new(&p, cc, sc, NULL)) return 0;
    ok = ferrule_conn_set_session(p.client, sess, sess_len) == FERRULE_OK &&
         pair_handshake(&p, &cs, &ss) && ferrule_conn_resumed(p.server);
    pair_free(&p);
    return ok;
}

TEST(ticket_ring_takes_the_config_lock) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    counting k;
    wrap(&sc->sync, &k);
    /* Sealing tickets and opening one take the ring's lock... */
    CHECK(handshake_and_resume(cc, sc, NULL));
    unsigned used = k.locks[FR_LOCK_CFG_TICKETS];
    CHECK(used >= 2);
    /* ...and so does a rotation, while the config is in use. */
    static const uint8_t name[16] = {1}, key[32] = {2};
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    CHECK_EQ(k.locks[FR_LOCK_CFG_TICKETS], used + 1);
    CHECK_EQ(k.locks[FR_LOCK_CFG_TICKETS], k.unlocks[FR_LOCK_CFG_TICKETS]);
    CHECK_EQ(k.max_depth[FR_LOCK_CFG_TICKETS], 1u);
    CHECK_EQ(k.locks[FR_LOCK_CONN_ERR], 0u); /* a config lock only */
    sc->sync = k.inner;
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(kept_ticket_takes_the_conn_lock) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    CHECK(cc != NULL && sc != NULL);
    counting k;
    /* The receive half replaces the kept ticket while the application may
     * read it (ferrule_conn_session): one section per ticket received. */
    CHECK(handshake_and_resume(cc, sc, &k));
    CHECK(k.locks[FR_LOCK_CONN_ERR] >= 2); /* the server sends two by default */
    CHECK_EQ(k.locks[FR_LOCK_CONN_ERR], k.unlocks[FR_LOCK_CONN_ERR]);
    CHECK_EQ(k.max_depth[FR_LOCK_CONN_ERR], 1u);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST_MAIN("sync", TL_CASE(ticket_ring_takes_the_config_lock),
          TL_CASE(kept_ticket_takes_the_conn_lock))
