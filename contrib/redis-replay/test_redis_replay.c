/*
 * test_redis_replay.c - the Redis replay store against a real
 * redis-server started here on a free loopback port (temporary directory,
 * no persistence), and inside real handshakes (the decision stays pending
 * until Redis has answered).
 */
#include "ferrule_redis_replay.h"

#include "support_pair.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t redis_pid = -1;
static int redis_port;
static char redis_dir[] = "/tmp/frr-test-XXXXXX";

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

static int redis_start(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    redis_pid = fork();
    if (redis_pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127); /* its start-up banner */
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir",
               redis_dir, "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction",
               "--loglevel", "warning", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        if (port_open(redis_port)) return 1;
        usleep(20000);
    }
    return 0;
}

static void redis_stop(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
    }
    redis_pid = -1;
}

static frr_store *open_store(int quarantine_ms)
{
    frr_options o = {.host = "127.0.0.1", .port = redis_port, .quarantine_ms = quarantine_ms,
                     .timeout_ms = 300, .reconnect_ms = 50, .window_ms = 1000};
    frr_store *s = NULL;
    if (frr_open(&s, &o) != 0) return NULL;
    return s;
}

/* Run the store's I/O for up to `ms` or until `*flag` becomes nonzero. */
static void spin(frr_store *s, int ms, const int *flag)
{
    for (int i = 0; i < ms && !(flag && *flag); i++) {
        struct pollfd p = {.fd = frr_fd(s), .events = frr_events(s)};
        int r = p.fd >= 0 ? poll(&p, 1, 1) : (usleep(1000), 0);
        frr_process(s, r > 0 ? p.revents : 0);
    }
}

static frr_store *open_up(void)
{
    frr_store *s = open_store(0);
    if (!s) return NULL;
    frr_stats st;
    for (int i = 0; i < 2000; i++) {
        frr_get_stats(s, &st);
        if (st.state == FRR_UP) return s;
        spin(s, 1, NULL);
    }
    frr_close(s);
    return NULL;
}

typedef struct answer {
    int got, result;
} answer;

static void on_done(void *arg, int result)
{
    answer *a = arg;
    a->got = 1;
    a->result = result;
}

static void random_key(uint8_t k[32])
{
    static unsigned n;
    for (int i = 0; i < 32; i++) k[i] = (uint8_t)(rand() ^ (int)(n * 7u + (unsigned)i));
    n++;
}

/* One check to completion: 1 / 0 / -1, or 99 when no answer came. */
static int check_sync(frr_store *s, const uint8_t key[32], int64_t expires)
{
    answer a = {0};
    frr_check(s, key, expires, on_done, &a);
    spin(s, 2000, &a.got);
    return a.got ? a.result : 99;
}

TEST(fresh_key_then_the_same_key_is_a_replay)
{
    frr_store *s = open_up();
    REQUIRE(s != NULL);
    uint8_t k[32], k2[32];
    random_key(k);
    random_key(k2);
    int64_t exp = (int64_t)time(NULL) + 60;
    CHECK_EQ(check_sync(s, k, exp), 1);
    CHECK_EQ(check_sync(s, k, exp), 0);
    CHECK_EQ(check_sync(s, k2, exp), 1);
    /* A second store (another server of the fleet) sees the same keys. */
    frr_store *other = open_up();
    REQUIRE(other != NULL);
    CHECK_EQ(check_sync(other, k, exp), 0);
    frr_stats st;
    frr_get_stats(s, &st);
    CHECK_EQ(st.fresh, 2);
    CHECK_EQ(st.seen, 1);
    CHECK_EQ(st.failed, 0);
    frr_close(other);
    frr_close(s);
}

TEST(pipelined_checks_get_their_own_answers)
{
    frr_store *s = open_up();
    REQUIRE(s != NULL);
    uint8_t k[4][32];
    answer a[8] = {{0}};
    int64_t exp = (int64_t)time(NULL) + 60;
    for (int i = 0; i < 4; i++) random_key(k[i]);
    CHECK_EQ(check_sync(s, k[2], exp), 1); /* k[2] is already known */
    for (int i = 0; i < 8; i++) CHECK_EQ(frr_check(s, k[i % 4], exp, on_done, &a[i]), 0);
    int all = 0;
    for (int t = 0; t < 2000 && !all; t++) {
        spin(s, 1, NULL);
        all = 1;
        for (int i = 0; i < 8; i++) all &= a[i].got;
    }
    REQUIRE(all);
    for (int i = 0; i < 8; i++) CHECK_EQ(a[i].result, (i < 4 && i != 2) ? 1 : 0);
    frr_close(s);
}

TEST(keys_expire_at_the_given_time)
{
    frr_store *s = open_up();
    REQUIRE(s != NULL);
    uint8_t k[32];
    random_key(k);
    int64_t exp = (int64_t)time(NULL) + 1;
    CHECK_EQ(check_sync(s, k, exp), 1);
    CHECK_EQ(check_sync(s, k, exp), 0);
    while ((int64_t)time(NULL) <= exp) usleep(50000);
    usleep(100000);
    CHECK_EQ(check_sync(s, k, (int64_t)time(NULL) + 60), 1); /* forgotten after `exp` */
    frr_close(s);
}

TEST(quarantine_after_connect_refuses_then_answers)
{
    frr_store *s = open_store(400);
    REQUIRE(s != NULL);
    frr_stats st;
    for (int i = 0; i < 2000; i++) {
        frr_get_stats(s, &st);
        if (st.state != FRR_DOWN) break;
        spin(s, 1, NULL);
    }
    CHECK_EQ(st.state, FRR_QUARANTINE);
    uint8_t k[32];
    random_key(k);
    int64_t exp = (int64_t)time(NULL) + 60;
    answer a = {0};
    CHECK_EQ(frr_check(s, k, exp, on_done, &a), 0); /* answered once Redis replied */
    CHECK(!a.got);
    spin(s, 2000, &a.got);
    CHECK(a.got && a.result == -1);
    /* Refused, but written: a replay of the same flight to a server out
     * of quarantine must be caught (the client resent in 1-RTT). */
    uint8_t other[32];
    random_key(other);
    usleep(450000);
    CHECK_EQ(check_sync(s, k, exp), 0);
    CHECK_EQ(check_sync(s, other, exp), 1);
    frr_get_stats(s, &st);
    CHECK_EQ(st.failed_quarantine, 1);
    CHECK_EQ(st.failed, 1);
    CHECK_EQ(st.fresh, 1); /* the quarantine's write is not counted as an answer */
    frr_close(s);
}

/* The drill's "replay accepted after a server restart" (docs/runbook.md):
 * a quarantined server refused at once, before Redis had run its SET; the
 * client resent in 1-RTT and replayed the flight to the other server,
 * whose later SET Redis ran first (it had not read the first server's
 * socket yet): fresh there, 0-RTT accepted.  Redis is stopped (SIGSTOP)
 * to hold it at that moment: the quarantined refusal must not come before
 * Redis has applied the SET, and then the other server sees a replay. */
TEST(quarantine_refusal_waits_until_redis_recorded_the_key)
{
    frr_store *up = open_up();
    frr_store *q = open_store(5000);
    REQUIRE(up != NULL && q != NULL);
    frr_stats st;
    frr_get_stats(q, &st);
    for (int i = 0; i < 2000 && st.state != FRR_QUARANTINE; i++) {
        spin(q, 1, NULL);
        frr_get_stats(q, &st);
    }
    REQUIRE(st.state == FRR_QUARANTINE);
    uint8_t k[32];
    random_key(k);
    int64_t exp = (int64_t)time(NULL) + 60;
    REQUIRE(kill(redis_pid, SIGSTOP) == 0);
    answer a = {0};
    int r = frr_check(q, k, exp, on_done, &a);
    spin(q, 100, &a.got); /* Redis cannot answer now (timeout_ms is 300) */
    int early_answer = a.got;
    REQUIRE(kill(redis_pid, SIGCONT) == 0);
    CHECK_EQ(r, 0);
    CHECK(!early_answer);
    spin(q, 2000, &a.got);
    CHECK(a.got && a.result == -1); /* refused: quarantined */
    /* Only now may the client resend and the flight be replayed elsewhere. */
    CHECK_EQ(check_sync(up, k, exp), 0);
    frr_get_stats(q, &st);
    CHECK_EQ(st.failed_quarantine, 1);
    CHECK_EQ(st.failed_timeout, 0);
    frr_close(q);
    frr_close(up);
}

TEST(redis_down_fails_closed_and_recovers)
{
    frr_store *s = open_up();
    REQUIRE(s != NULL);
    uint8_t k[32], k2[32];
    random_key(k);
    random_key(k2);
    int64_t exp = (int64_t)time(NULL) + 60;
    CHECK_EQ(check_sync(s, k, exp), 1);
    /* Stopped while a check is in flight: that check fails, and later
     * ones fail at once, while Redis is away. */
    kill(redis_pid, SIGSTOP);
    answer a = {0};
    CHECK_EQ(frr_check(s, k2, exp, on_done, &a), 0);
    spin(s, 2000, &a.got);
    CHECK(a.got && a.result == -1);
    frr_stats st;
    frr_get_stats(s, &st);
    CHECK_EQ(st.failed_timeout, 1);
    /* A short stall keeps the connection, and the late SET still counts:
     * the same key is now a replay. */
    kill(redis_pid, SIGCONT);
    CHECK_EQ(check_sync(s, k2, exp), 0);
    frr_get_stats(s, &st);
    CHECK_EQ(st.disconnects, 0);
    CHECK_EQ(st.state, FRR_UP);
    /* A stall longer than max(2 s, 8 x timeout): dropped, reconnected. */
    kill(redis_pid, SIGSTOP);
    uint8_t k3[32];
    random_key(k3);
    answer a3 = {0};
    CHECK_EQ(frr_check(s, k3, exp, on_done, &a3), 0);
    spin(s, 2600, NULL);
    CHECK(a3.got && a3.result == -1);
    frr_get_stats(s, &st);
    CHECK_EQ(st.disconnects, 1);
    CHECK(strncmp(st.last_error, "stalled", 7) == 0);
    kill(redis_pid, SIGCONT);
    redis_stop();
    spin(s, 100, NULL);
    CHECK_EQ(check_sync(s, k2, exp), -1);
    frr_get_stats(s, &st);
    CHECK_EQ(st.state, FRR_DOWN);
    CHECK(st.failed_down >= 1);
    /* Back (empty: no persistence): answers again after reconnecting. */
    REQUIRE(redis_start());
    for (int i = 0; i < 3000 && st.state != FRR_UP; i++) {
        spin(s, 1, NULL);
        frr_get_stats(s, &st);
    }
    CHECK_EQ(st.state, FRR_UP);
    CHECK_EQ(check_sync(s, k2, exp), 1);
    CHECK(st.connects >= 2 && st.disconnects >= 2);
    frr_close(s);
}

TEST(no_redis_at_all_refuses_at_once)
{
    frr_options o = {.host = "127.0.0.1", .port = free_port(), .quarantine_ms = 0};
    frr_store *s = NULL;
    REQUIRE(frr_open(&s, &o) == 0);
    spin(s, 50, NULL);
    uint8_t k[32];
    random_key(k);
    answer a = {0};
    CHECK_EQ(frr_check(s, k, (int64_t)time(NULL) + 60, on_done, &a), 1);
    CHECK(a.got && a.result == -1);
    frr_close(s);
    frr_options bad = {.host = "127.0.0.1", .port = 0};
    CHECK_EQ(frr_open(&s, &bad), -1);
}

/* ---- inside a handshake ---------------------------------------------------- */

static int dummy_check(void *ctx, const uint8_t key[32], int64_t expires)
{
    (void)ctx;
    (void)key;
    (void)expires;
    return -1; /* never called: the decision is the application's */
}

static const ferrule_replay_store fleet = {
    .struct_size = sizeof(ferrule_replay_store), .check_and_insert = dummy_check,
    .id = "drill-fleet-id!"};

static ferrule_config *early_server(void)
{
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    ferrule_early_data_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = (uint32_t)sizeof o;
    o.store = &fleet;
    if (!sc || ferrule_config_set_decisions(sc, FERRULE_DECIDE_REPLAY) != FERRULE_OK ||
        ferrule_config_set_early_data(sc, &o) != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

static int resumed_count;
static void on_resume(void *arg, ferrule_conn *conn)
{
    (void)conn;
    (*(int *)arg)++;
    resumed_count++;
}

static const char EARLY[] = "GET /drill\n";

/* One 0-RTT attempt with `sess`; drives the server through its REPLAY
 * decisions with the store.  Returns the server's early-data status. */
static uint32_t early_attempt(frr_store *s, ferrule_config *cc, ferrule_config *sc,
                              const uint8_t *sess, size_t len, int *paused_checks)
{
    pair p;
    size_t n = 0;
    int cs, ss;
    if (!pair_new(&p, cc, sc, NULL) || ferrule_conn_set_session(p.client, sess, len) != FERRULE_OK ||
        ferrule_conn_write_early_data(p.client, (const uint8_t *)EARLY, sizeof EARLY - 1,
                                      FERRULE_EARLY_DATA_REPLAY_SAFE, &n) != FERRULE_OK)
        return 99;
    (void)pair_handshake(&p, &cs, &ss);
    while (ss == FERRULE_WANT_APP && ferrule_conn_pending_decision(p.server) == FERRULE_DECISION_REPLAY) {
        int resumed = 0;
        int r = frr_decide(s, p.server, on_resume, &resumed);
        if (r == 0) {
            (*paused_checks)++;
            /* Not answered before Redis replies: still paused. */
            if (ferrule_conn_pending_decision(p.server) != FERRULE_DECISION_REPLAY ||
                ferrule_conn_handshake(p.server) != FERRULE_WANT_APP)
                return 98;
            spin(s, 2000, &resumed);
            if (!resumed) return 97;
        } else if (r != 1) {
            return 96;
        }
        ss = ferrule_conn_handshake(p.server);
    }
    (void)pair_handshake(&p, &cs, &ss);
    uint32_t es = ferrule_conn_early_data_status(p.server);
    if (cs != FERRULE_OK || ss != FERRULE_OK) es = 95;
    if (es == FERRULE_EARLY_REJECTED &&
        ferrule_conn_early_data_reason(p.server) != FERRULE_EARLY_REASON_REPLAY)
        es = 94;
    pair_free(&p);
    return es;
}

TEST(handshake_pauses_until_redis_answers)
{
    frr_store *s = open_up();
    REQUIRE(s != NULL);
    ferrule_config *sc = early_server(), *sc2 = early_server(), *cc = pair_client_config();
    REQUIRE(sc && sc2 && cc && ferrule_config_set_early_data(cc, NULL) == FERRULE_OK);
    uint8_t name[16] = "drill-ticketkey", key[32] = "the fleet's shared ticket key!!";
    REQUIRE(ferrule_config_set_ticket_key(sc, name, key) == FERRULE_OK);
    REQUIRE(ferrule_config_set_ticket_key(sc2, name, key) == FERRULE_OK);
    static uint8_t sess[8192];
    size_t len = pair_session(cc, sc, sess, sizeof sess);
    REQUIRE(len > 0);
    int paused = 0;
    /* First use: two checks (ticket, ClientHello), both fresh: accepted. */
    CHECK_EQ(early_attempt(s, cc, sc, sess, len, &paused), FERRULE_EARLY_ACCEPTED);
    CHECK_EQ(paused, 2);
    /* The same ticket at the other server (the same flight replayed there):
     * the ticket's key is in Redis, refused with reason REPLAY, 1-RTT ok. */
    paused = 0;
    CHECK_EQ(early_attempt(s, cc, sc2, sess, len, &paused), FERRULE_EARLY_REJECTED);
    CHECK_EQ(paused, 1);
    /* A server in quarantine refuses, but records: the same ticket's 0-RTT
     * at a server out of quarantine is then a replay. */
    frr_store *q = open_store(3000);
    REQUIRE(q != NULL);
    frr_stats qs;
    frr_get_stats(q, &qs);
    for (int i = 0; i < 2000 && qs.state != FRR_QUARANTINE; i++) {
        spin(q, 1, NULL);
        frr_get_stats(q, &qs);
    }
    CHECK_EQ(qs.state, FRR_QUARANTINE);
    len = pair_session(cc, sc, sess, sizeof sess);
    REQUIRE(len > 0);
    paused = 0;
    CHECK_EQ(early_attempt(q, cc, sc2, sess, len, &paused), FERRULE_EARLY_REJECTED);
    CHECK_EQ(paused, 1); /* the refusal waited for Redis to record the ticket */
    CHECK_EQ(early_attempt(s, cc, sc, sess, len, &paused), FERRULE_EARLY_REJECTED);
    frr_close(q);
    /* Redis away: refused at once (no pause), the handshake still completes. */
    redis_stop();
    spin(s, 100, NULL);
    len = pair_session(cc, sc, sess, sizeof sess);
    REQUIRE(len > 0);
    paused = 0;
    CHECK_EQ(early_attempt(s, cc, sc2, sess, len, &paused), FERRULE_EARLY_REJECTED);
    CHECK_EQ(paused, 0);
    REQUIRE(redis_start());
    frr_stats st;
    frr_get_stats(s, &st);
    for (int i = 0; i < 3000 && st.state != FRR_UP; i++) {
        spin(s, 1, NULL);
        frr_get_stats(s, &st);
    }
    len = pair_session(cc, sc, sess, sizeof sess);
    REQUIRE(len > 0);
    CHECK_EQ(early_attempt(s, cc, sc2, sess, len, &paused), FERRULE_EARLY_ACCEPTED);
    frr_close(s);
    ferrule_config_free(sc);
    ferrule_config_free(sc2);
    ferrule_config_free(cc);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    if (!mkdtemp(redis_dir)) return 1;
    redis_port = free_port();
    if (redis_port <= 0 || !redis_start()) {
        fprintf(stderr, "cannot start redis-server on 127.0.0.1:%d\n", redis_port);
        return 1;
    }
    static const tl_case cases[] = {
        TL_CASE(fresh_key_then_the_same_key_is_a_replay),
        TL_CASE(pipelined_checks_get_their_own_answers),
        TL_CASE(keys_expire_at_the_given_time),
        TL_CASE(quarantine_after_connect_refuses_then_answers),
        TL_CASE(quarantine_refusal_waits_until_redis_recorded_the_key),
        TL_CASE(redis_down_fails_closed_and_recovers),
        TL_CASE(no_redis_at_all_refuses_at_once),
        TL_CASE(handshake_pauses_until_redis_answers),
    };
    int rc = tl_run("test_redis_replay", cases, sizeof cases / sizeof cases[0]);
    redis_stop();
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", redis_dir);
    if (system(cmd) != 0) rc = 1;
    return rc;
}
