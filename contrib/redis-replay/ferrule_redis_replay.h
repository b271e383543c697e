/*
 * ferrule_redis_replay.h - a fleet-wide 0-RTT replay store on Redis.
 *
 * Optional component (contrib/redis-replay, docs/runbook.md): it links
 * hiredis; libferrule does not depend on it.  Every server of a fleet
 * points at the same Redis and installs the same store id, so that a
 * ticket's 0-RTT is accepted at most once fleet-wide.
 *
 * The check is an atomic `SET <prefix><hex key> 1 NX EXAT <expires>`:
 * "OK" = the key was fresh (now recorded), nil = already present (a
 * replay).  It never blocks: the server opts into FERRULE_DECIDE_REPLAY,
 * the handshake pauses on FERRULE_DECISION_REPLAY, frr_decide() queues the
 * command, and the server's event loop polls frr_fd() / frr_events() and
 * calls frr_process(), which answers the connection (ferrule_conn_replay_
 * result) and calls the resume callback when Redis replies.
 *
 * Fail closed: any error, a reply later than the timeout, a disconnect,
 * Redis being down, or an OOM refusal (Redis must run with
 * maxmemory-policy noeviction) answers "store failure": the 0-RTT data is
 * refused and the handshake carries on in 1-RTT.  After every (re)connect
 * the store stays quarantined (answers failure, but still records the key,
 * and answers only once Redis has acknowledged that SET, so that the
 * flight replayed to a server out of quarantine is caught after the client
 * resent its request in 1-RTT) for quarantine_ms, by
 * default the freshness window plus 2 s: keys written before an outage may
 * be lost (a Redis restart without persistence, a failover to a replica
 * that had not got them), and a replayed flight older than the window is
 * refused by the ticket-age check anyway, so waiting out one window closes
 * the gap (docs/runbook.md discusses persistence).
 *
 * Single-threaded: one store per event loop; not thread-safe.
 */
#ifndef FERRULE_REDIS_REPLAY_H
#define FERRULE_REDIS_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include <ferrule.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct frr_store frr_store;

typedef struct frr_options {
    const char *host;      /* Redis address, e.g. "127.0.0.1": give an IP literal (a name is
                              resolved by hiredis with a blocking lookup at each connect) */
    int port;              /* e.g. 6379 */
    const char *prefix;    /* key prefix, default "ferrule:replay:" */
    int timeout_ms;        /* per check, default 250: later = answered "failure" (the SET
                              stays in flight, but unacknowledged: a replay elsewhere that
                              Redis runs first is accepted, docs/runbook.md; keep this well
                              above Redis's worst latency); silent for max(2 s, 8 x this)
                              more = reconnect */
    int reconnect_ms;      /* delay between connection attempts, default 500 */
    int quarantine_ms;     /* after each connect; < 0 = default (window_ms + 2000), 0 = none */
    int window_ms;         /* the servers' early-data window (default 10000) */
    int max_pending;       /* checks in flight at most, default 4096 (more = failure) */
    FILE *trace;           /* NULL, or a debug trace: one line per check, reply and connection
                              event, with wall-clock ms and the key (tools/drill --trace) */
} frr_options;

/* Called when a paused connection got its answer (after
 * ferrule_conn_replay_result): drive it again. */
typedef void (*frr_resume_fn)(void *arg, ferrule_conn *conn);

/* Create the store and start connecting (never blocks).  Returns 0, or -1
 * with errno set (EINVAL for bad options, ENOMEM). */
int frr_open(frr_store **out, const frr_options *opts);
void frr_close(frr_store *s);

/* Answer the connection's pending FERRULE_DECISION_REPLAY.  Returns 1 when
 * the decision was answered at once (a failure answer: Redis down, too
 * many in flight), 0 when it is queued (the connection stays paused until
 * frr_process calls `resume`; in quarantine too: the answer is then a
 * refusal, given once Redis has recorded the key), -1 if `conn` has no
 * REPLAY decision pending. */
int frr_decide(frr_store *s, ferrule_conn *conn, frr_resume_fn resume, void *arg);
/* Forget the queued checks of `conn` (call before freeing a paused
 * connection); their replies are discarded. */
void frr_cancel(frr_store *s, const ferrule_conn *conn);

/* Event-loop integration: the descriptor to poll (-1 when there is none
 * now), the poll events it wants, and the next time (ms, CLOCK_MONOTONIC)
 * frr_process must run even without events (0 = none). */
int frr_fd(const frr_store *s);
short frr_events(const frr_store *s);
int64_t frr_deadline(const frr_store *s);
/* Do the I/O poll() reported (revents may be 0), handle replies, timeouts
 * and reconnects.  Calls resume callbacks. */
void frr_process(frr_store *s, short revents);

/* The raw check for callers without a ferrule_conn (tests, tools):
 * `done(arg, result)` gets 1 fresh, 0 seen, -1 failure, from frr_process,
 * or at once (then frr_check returns 1). */
typedef void (*frr_done_fn)(void *arg, int result);
int frr_check(frr_store *s, const uint8_t key[32], int64_t expires, frr_done_fn done, void *arg);

#define FRR_DOWN 0        /* not connected (connecting or waiting to retry) */
#define FRR_QUARANTINE 1  /* connected, refusing until the quarantine ends */
#define FRR_UP 2          /* connected, answering */

typedef struct frr_stats {
    int state;                 /* FRR_* */
    uint64_t checks;           /* checks asked */
    uint64_t fresh, seen;      /* answers from Redis */
    uint64_t failed;           /* failure answers, of which: */
    uint64_t failed_down, failed_quarantine, failed_timeout, failed_error, failed_busy;
    uint64_t connects;         /* successful connections */
    uint64_t disconnects;
    uint32_t pending;          /* in flight now */
    int64_t quarantine_left_ms;
    char last_error[96];       /* why the last connection ended ("" = never) */
} frr_stats;
void frr_get_stats(const frr_store *s, frr_stats *out);
const char *frr_state_name(int state);

#ifdef __cplusplus
}
#endif
#endif
