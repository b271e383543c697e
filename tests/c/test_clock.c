/* test_clock.c - time is passed in: the engine never reads a clock; the ABI
 * asks the config's time callback (else the system clock) at each entry
 * point that may advance the connection or verify, and hands the value to
 * the engine (fr_conn_set_time, core/engine.h), where verification, ticket
 * ages and lifetimes and the 0-RTT window read it (fr_conn_now).  Ticket
 * and window rules themselves: test_resumption (expired_session_not_offered,
 * expired_ticket_refused_by_server) and test_early_data
 * (stale_ticket_age_is_refused). */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "support_pair.h"
#include "testlib.h"

static int64_t g_now;
static unsigned g_calls;

static int64_t counting_now(void *ctx) {
    (void)ctx;
    g_calls++;
    return g_now;
}

static int set_clock(ferrule_config *cfg) {
    return cfg != NULL && ferrule_config_set_time_callback(cfg, counting_now, NULL) == FERRULE_OK;
}

/* The call returns `want`, consults the time callback and leaves its
 * value in the engine. */
#define SEES_TIME(conn, call, want)                                                                \
    do {                                                                                           \
        g_now += 7;                                                                                \
        unsigned before_ = g_calls;                                                                \
        CHECK_EQ((call), (want));                                                                  \
        if (g_calls == before_) fprintf(stderr, "  no time passed in by %s\n", #call);            \
        CHECK(g_calls > before_);                                                                  \
        CHECK_EQ(fr_conn_now(conn), g_now);                                                        \
    } while (0)

TEST(every_entry_point_passes_time) {
    g_now = (int64_t)time(NULL);
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    REQUIRE(set_clock(cc) && set_clock(sc));
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(fr_conn_now(p.client), g_now); /* from its creation on */
    CHECK_EQ(fr_conn_now(p.server), g_now);
    uint8_t buf[256];
    size_t n;
    SEES_TIME(p.client, ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    SEES_TIME(p.client, ferrule_conn_write(p.client, (const uint8_t *)"ping", 4, &n), FERRULE_OK);
    SEES_TIME(p.client, ferrule_conn_take(p.client, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n > 0);
    size_t fed;
    CHECK_EQ(ferrule_conn_feed(p.server, buf, n, &fed), FERRULE_OK);
    SEES_TIME(p.server, ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 4 && memcmp(buf, "ping", 4) == 0);
    SEES_TIME(p.server, ferrule_conn_flush(p.server), FERRULE_OK);
    SEES_TIME(p.client, ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    SEES_TIME(p.client, ferrule_conn_close(p.client), FERRULE_OK);
    pair_free(&p);
    /* The 0-RTT entry points, on fresh connections (they refuse, after
     * taking the time). */
    REQUIRE(pair_new(&p, cc, sc, NULL));
    SEES_TIME(p.client, ferrule_conn_write_early_data(p.client, (const uint8_t *)"x", 1,
                                                      FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
              FERRULE_USAGE);
    SEES_TIME(p.server, ferrule_conn_read_early_data(p.server, buf, sizeof(buf), &n),
              FERRULE_WANT_READ);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

/* The peer's certificate is checked at the time passed in: the test PKI's
 * leaves are valid from about now for a limited time. */
static uint32_t client_reason_at(int64_t when) {
    ferrule_config *cc = pair_client_config(), *sc = pair_server_config("ecdsa-p256");
    if (!set_clock(cc)) return 0xffffffffu;
    g_now = when;
    pair p;
    if (!pair_new(&p, cc, sc, NULL)) return 0xffffffffu;
    int cs, ss;
    (void)pair_handshake(&p, &cs, &ss);
    uint32_t r = cs == FERRULE_OK ? FERRULE_R_NONE : ferrule_conn_reason(p.client);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return r;
}

TEST(verification_uses_the_time_passed_in) {
    int64_t now = (int64_t)time(NULL);
    CHECK_EQ(client_reason_at(now), FERRULE_R_NONE);
    CHECK_EQ(client_reason_at(now + 200LL * 365 * 86400), FERRULE_R_CERT_EXPIRED);
    CHECK_EQ(client_reason_at(86400), FERRULE_R_CERT_NOT_YET_VALID);
}

TEST(engine_keeps_what_it_is_given) {
    /* The engine's time is the last value passed in, whatever the
     * config's callback would say now: the engine does not call it. */
    g_now = (int64_t)time(NULL);
    ferrule_config *cc = pair_client_config();
    REQUIRE(set_clock(cc));
    ferrule_conn *c = NULL;
    ferrule_conn_options o = {sizeof(o), 0, "localhost", 0};
    REQUIRE(ferrule_conn_new(&c, cc, &o) == FERRULE_OK);
    unsigned calls = g_calls;
    fr_conn_set_time(c, 42);
    g_now = 1000;
    CHECK_EQ(fr_conn_now(c), 42);
    fr_conn_set_time(c, -5); /* before the epoch: carried as is */
    CHECK_EQ(fr_conn_now(c), -5);
    fr_conn_set_time(c, INT64_MAX);
    CHECK_EQ(fr_conn_now(c), INT64_MAX);
    CHECK_EQ(g_calls, calls);
    ferrule_conn_free(c);
    ferrule_config_free(cc);
}

TEST_MAIN("clock", TL_CASE(every_entry_point_passes_time),
          TL_CASE(verification_uses_the_time_passed_in), TL_CASE(engine_keeps_what_it_is_given))
