/*
 * ferrule_redis_replay.c - see ferrule_redis_replay.h.
 *
 * hiredis is used in its non-blocking mode: commands are appended to the
 * context's output buffer (redisAppendCommand), written when the socket
 * takes them (redisBufferWrite) and replies are parsed as bytes arrive
 * (redisBufferRead + redisGetReplyFromReader).  Redis answers in order, so
 * a FIFO of pending checks pairs each reply with its check.
 */
#include "ferrule_redis_replay.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <hiredis/sds.h>

typedef struct pending {
    frr_done_fn done;
    void *arg;
    ferrule_conn *conn; /* frr_decide: answer this connection, then resume */
    frr_resume_fn resume;
    int64_t deadline;
    int cancelled;
    int record_only; /* timed out: still written, but the answer was already "failure" */
    int quarantined; /* asked in quarantine: refused whatever Redis says, but only once
                        Redis has acknowledged the SET (see submit) */
    char hex[65];    /* the key, for the trace */
} pending;

struct frr_store {
    char *host;
    char *prefix;
    size_t prefix_len;
    int port, timeout_ms, reconnect_ms, quarantine_ms, max_pending, stall_ms;
    redisContext *ctx;
    int connecting;
    int64_t connect_deadline, next_attempt, quarantine_until;
    pending *q;
    int head, count;
    FILE *trace;
    frr_stats st;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void trace(const frr_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(const frr_store *s, const char *fmt, ...)
{
    if (!s->trace) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    fprintf(s->trace, "%lld.%03d ", (long long)tv.tv_sec, (int)(tv.tv_usec / 1000));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->trace, fmt, ap);
    va_end(ap);
    fputc('\n', s->trace);
    fflush(s->trace);
}

const char *frr_state_name(int state)
{
    return state == FRR_UP ? "up" : state == FRR_QUARANTINE ? "quarantine" : "down";
}

static int state_of(const frr_store *s)
{
    if (!s->ctx || s->connecting) return FRR_DOWN;
    return now_ms() < s->quarantine_until ? FRR_QUARANTINE : FRR_UP;
}

int frr_open(frr_store **out, const frr_options *o)
{
    if (!out || !o || !o->host || o->port <= 0 || o->port > 65535) {
        errno = EINVAL;
        return -1;
    }
    frr_store *s = calloc(1, sizeof *s);
    if (!s) return -1;
    const char *prefix = o->prefix ? o->prefix : "ferrule:replay:";
    s->host = strdup(o->host);
    s->prefix = strdup(prefix);
    s->prefix_len = strlen(prefix);
    s->port = o->port;
    s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 250;
    s->reconnect_ms = o->reconnect_ms > 0 ? o->reconnect_ms : 500;
    int window = o->window_ms > 0 ? o->window_ms : 10000;
    s->quarantine_ms = o->quarantine_ms >= 0 ? o->quarantine_ms : window + 2000;
    s->max_pending = o->max_pending > 0 ? o->max_pending : 4096;
    s->trace = o->trace;
    s->stall_ms = 8 * s->timeout_ms > 2000 ? 8 * s->timeout_ms : 2000;
    s->q = calloc((size_t)s->max_pending, sizeof *s->q);
    if (!s->host || !s->prefix || !s->q) {
        frr_close(s);
        errno = ENOMEM;
        return -1;
    }
    s->next_attempt = 0; /* connect on the first frr_process */
    frr_process(s, 0);
    *out = s;
    return 0;
}

/* Answer one check (never with the queue in an inconsistent state). */
static void finish(frr_store *s, pending p, int result)
{
    if (p.record_only) return;
    if (result == 1) s->st.fresh++;
    else if (result == 0) s->st.seen++;
    else s->st.failed++;
    if (p.cancelled) return;
    if (p.conn) {
        int ignored = ferrule_conn_replay_result(p.conn, result);
        (void)ignored; /* the decision was pending when queued, and cancel removes freed ones */
        if (p.resume) p.resume(p.arg, p.conn);
    } else if (p.done) {
        p.done(p.arg, result);
    }
}

/* Drop the connection: every check in flight fails (fail closed). */
static void drop_at(frr_store *s, uint64_t *why, const char *where)
{
    if (s->ctx && s->ctx->err)
        snprintf(s->st.last_error, sizeof s->st.last_error, "%.24s: %.64s", where, s->ctx->errstr);
    else
        snprintf(s->st.last_error, sizeof s->st.last_error, "%.24s", where);
    int n = s->count;
    pending *all = NULL;
    if (n > 0) {
        all = malloc((size_t)n * sizeof *all);
        for (int i = 0; i < n && all; i++) all[i] = s->q[(s->head + i) % s->max_pending];
    }
    trace(s, "drop %s (%d in flight)", s->st.last_error, n);
    s->head = s->count = 0;
    if (s->ctx) {
        redisFree(s->ctx);
        s->ctx = NULL;
        if (!s->connecting) s->st.disconnects++;
    }
    s->connecting = 0;
    s->next_attempt = now_ms() + s->reconnect_ms;
    for (int i = 0; i < n && all; i++) {
        if (!all[i].record_only) (*why)++;
        finish(s, all[i], -1);
    }
    free(all);
}
#define drop(s, why) drop_at((s), (why), __func__)

void frr_close(frr_store *s)
{
    if (!s) return;
    /* Nobody is answered any more: the caller frees its connections. */
    s->head = s->count = 0;
    if (s->ctx) redisFree(s->ctx);
    free(s->q);
    free(s->host);
    free(s->prefix);
    free(s);
}

static void start_connect(frr_store *s)
{
    s->ctx = redisConnectNonBlock(s->host, s->port);
    if (!s->ctx || s->ctx->err) {
        if (s->ctx) redisFree(s->ctx);
        s->ctx = NULL;
        s->next_attempt = now_ms() + s->reconnect_ms;
        return;
    }
    trace(s, "connecting");
    s->connecting = 1;
    s->connect_deadline = now_ms() + (s->timeout_ms > 1000 ? s->timeout_ms : 1000);
}

static void connected(frr_store *s)
{
    s->connecting = 0;
    s->st.connects++;
    s->quarantine_until = now_ms() + s->quarantine_ms;
    trace(s, "connected, quarantine %d ms", s->quarantine_ms);
}

static int fail_now(frr_store *s, uint64_t *why, pending p)
{
    (*why)++;
    finish(s, p, -1);
    return 1;
}

/* Queue the SET; 0, or -1 when the context refused it. */
static int queue_set(frr_store *s, const uint8_t key[32], int64_t expires, pending p)
{
    char *hex = p.hex;
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", key[i]);
    if (redisAppendCommand(s->ctx, "SET %b%b 1 NX EXAT %lld", s->prefix, s->prefix_len, hex,
                           (size_t)64, (long long)expires) != REDIS_OK)
        return -1;
    trace(s, "set %s exat %lld%s", hex, (long long)expires, p.quarantined ? " quarantined" : "");
    p.deadline = now_ms() + s->timeout_ms;
    s->q[(s->head + s->count) % s->max_pending] = p;
    s->count++;
    return 0;
}

static int submit(frr_store *s, const uint8_t key[32], int64_t expires, pending p)
{
    s->st.checks++;
    int state = state_of(s);
    if (s->trace) {
        char hex[65];
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", key[i]);
        trace(s, "check %s exat %lld state %s", hex, (long long)expires, frr_state_name(state));
    }
    if (state == FRR_DOWN) return fail_now(s, &s->st.failed_down, p);
    if (s->count >= s->max_pending || expires <= 0) return fail_now(s, &s->st.failed_busy, p);
    /* Quarantined: refused, but recorded all the same, and the refusal
     * waits for Redis's reply to the SET like any answer.  The client
     * resends its request in 1-RTT as soon as it sees the refusal, and the
     * same flight replayed to a server out of quarantine must find the key
     * (RFC 8446 appendix E.5).  A refusal sent before Redis has applied
     * the SET loses that race whenever Redis runs the other server's later
     * SET first (commands on different connections have no order until
     * Redis reads them; the drill caught it when Redis was descheduled for
     * a millisecond, docs/runbook.md). */
    p.quarantined = state == FRR_QUARANTINE;
    if (queue_set(s, key, expires, p) != 0) return fail_now(s, &s->st.failed_error, p);
    int done = 0;
    if (redisBufferWrite(s->ctx, &done) != REDIS_OK) {
        drop(s, &s->st.failed_down); /* answers this check too */
        return 1;
    }
    return 0;
}

int frr_check(frr_store *s, const uint8_t key[32], int64_t expires, frr_done_fn done, void *arg)
{
    pending p = {.done = done, .arg = arg};
    return submit(s, key, expires, p);
}

int frr_decide(frr_store *s, ferrule_conn *conn, frr_resume_fn resume, void *arg)
{
    const uint8_t *key;
    int64_t expires;
    if (ferrule_conn_pending_decision(conn) != FERRULE_DECISION_REPLAY ||
        ferrule_conn_replay_key(conn, &key, &expires) != FERRULE_OK)
        return -1;
    uint8_t k[32];
    memcpy(k, key, 32);
    pending p = {.conn = conn, .resume = NULL, .arg = arg};
    int r = submit(s, k, expires, p);
    if (r == 0) s->q[(s->head + s->count - 1) % s->max_pending].resume = resume;
    return r;
}

void frr_cancel(frr_store *s, const ferrule_conn *conn)
{
    for (int i = 0; i < s->count; i++) {
        pending *p = &s->q[(s->head + i) % s->max_pending];
        if (p->conn == conn) p->cancelled = 1;
    }
}

int frr_fd(const frr_store *s)
{
    return s->ctx ? s->ctx->fd : -1;
}

short frr_events(const frr_store *s)
{
    if (!s->ctx) return 0;
    if (s->connecting) return POLLOUT;
    short ev = POLLIN;
    if (s->ctx->obuf && sdslen(s->ctx->obuf) > 0) ev |= POLLOUT;
    return ev;
}

int64_t frr_deadline(const frr_store *s)
{
    if (!s->ctx) return s->next_attempt;
    if (s->connecting) return s->connect_deadline;
    int64_t d = 0;
    if (s->count > 0) d = s->q[s->head].deadline + s->stall_ms;
    for (int i = 0; i < s->count; i++) {
        const pending *e = &s->q[(s->head + i) % s->max_pending];
        if (!e->record_only) {
            if (e->deadline < d) d = e->deadline;
            break;
        }
    }
    if (s->quarantine_until > now_ms() && (d == 0 || s->quarantine_until < d))
        d = s->quarantine_until;
    return d;
}

static int map_reply(const redisReply *r, uint64_t **why, frr_store *s)
{
    if (r->type == REDIS_REPLY_STATUS && r->len == 2 && memcmp(r->str, "OK", 2) == 0) return 1;
    if (r->type == REDIS_REPLY_NIL) return 0;
    *why = &s->st.failed_error; /* an error reply (OOM under noeviction, ...) */
    return -1;
}

void frr_process(frr_store *s, short revents)
{
    int64_t now = now_ms();
    if (!s->ctx) {
        if (now >= s->next_attempt) start_connect(s);
        if (!s->ctx) return;
    }
    if (s->connecting) {
        if (revents & (POLLOUT | POLLERR | POLLHUP)) {
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(s->ctx->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (err == 0) connected(s);
            else drop(s, &s->st.failed_down);
        } else if (now >= s->connect_deadline) {
            drop(s, &s->st.failed_down);
        }
        return;
    }
    if (revents & (POLLIN | POLLERR | POLLHUP)) {
        if (redisBufferRead(s->ctx) != REDIS_OK) { /* error or EOF: Redis went away */
            drop(s, &s->st.failed_down);
            return;
        }
        for (;;) {
            void *reply = NULL;
            if (redisGetReplyFromReader(s->ctx, &reply) != REDIS_OK) {
                drop(s, &s->st.failed_error);
                return;
            }
            if (!reply) break;
            if (s->count == 0) { /* a reply nobody asked for: out of step */
                freeReplyObject(reply);
                drop(s, &s->st.failed_error);
                return;
            }
            pending p = s->q[s->head];
            s->head = (s->head + 1) % s->max_pending;
            s->count--;
            uint64_t *why = NULL;
            int res = map_reply(reply, &why, s);
            if (p.quarantined && res == 1) { /* recorded now; refused all the same */
                res = -1;
                why = &s->st.failed_quarantine;
            }
            {
                const redisReply *rr = reply;
                trace(s, "reply %s %d%s%s type %d %.*s", p.hex, res, p.record_only ? " record-only" : "",
                      p.quarantined ? " quarantined" : "",
                      rr->type, rr->str ? (int)(rr->len < 80 ? rr->len : 80) : 0, rr->str ? rr->str : "");
            }
            freeReplyObject(reply);
            if (why && !p.record_only) (*why)++;
            finish(s, p, res); /* may queue more checks */
            if (!s->ctx || s->connecting) return; /* a callback's check dropped it */
        }
    }
    if (s->ctx && (revents & POLLOUT)) {
        int done = 0;
        if (redisBufferWrite(s->ctx, &done) != REDIS_OK) {
            drop(s, &s->st.failed_down);
            return;
        }
    }
    /* Checks past their deadline are answered "failure" now (the
     * handshake goes on in 1-RTT) but stay queued: their SETs were sent
     * and will most likely be applied, which is what catches a replay of
     * the same flight elsewhere, and their replies keep the FIFO in step.
     * A connection that stays silent for stall_ms more is dropped. */
    now = now_ms();
    for (int i = 0; s->ctx && !s->connecting && i < s->count; i++) {
        pending *e = &s->q[(s->head + i) % s->max_pending];
        if (now < e->deadline) break;
        if (e->record_only) continue;
        pending copy = *e;
        e->record_only = 1;
        e->cancelled = 1;
        s->st.failed_timeout++;
        trace(s, "timeout %s", e->hex);
        finish(s, copy, -1); /* may queue more checks (at the tail) */
    }
    if (s->ctx && !s->connecting && s->count > 0 && now >= s->q[s->head].deadline + s->stall_ms) {
        uint64_t ignored = 0;
        drop_at(s, &ignored, "stalled");
    }
}

void frr_get_stats(const frr_store *s, frr_stats *out)
{
    *out = s->st;
    out->state = state_of(s);
    out->pending = (uint32_t)s->count;
    int64_t left = s->quarantine_until - now_ms();
    out->quarantine_left_ms = s->ctx && !s->connecting && left > 0 ? left : 0;
}
