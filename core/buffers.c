/*
 * buffers.c - the buffer API and the drivers over it (engine.h, "buffers
 * and the data path").  Input is written straight into `in`, output is
 * sent straight from `out`, and application data is read where its record
 * was decrypted: feed, take, read and the callback pumps of abi/ are
 * copies around these same calls.
 *
 * Loans.  While the host holds a lent region it must not move: a lent
 * input tail keeps its offset (fr_conn_in_consume leaves in_off alone and
 * nothing compacts), lent output keeps `out` (fr_conn_out_reserve refuses
 * to move it, fr_conn_do_pending waits for the ack), lent application
 * data keeps its record.  Misuse (a second loan, an ack without one or
 * beyond it) changes nothing and is a usage reason.
 */
#include "conn.h"

/* ---- state for the host --------------------------------------------------- */

int fr_conn_failed_status(const fr_conn *c) { return c->status; }

int fr_conn_is_connected(const fr_conn *c) { return c->state == FERRULE_HS_CONNECTED; }

/* RFC 8446 §2.3, §4.4.4: a server may send application data after its
 * Finished, before the client's Finished (0.5-RTT): its write keys are
 * then the server application traffic keys already (fr_server_send_flight).
 * The client is not yet authenticated nor known to be live. */
int fr_conn_half_rtt_writable(const fr_conn *c) {
    if (c->role != FERRULE_ROLE_SERVER || c->status != FERRULE_OK) return 0;
    uint32_t st = c->state; /* one atomic load; clang will not switch on an _Atomic */
    switch (st) {
    case FERRULE_HS_WAIT_END_OF_EARLY_DATA:
    case FERRULE_HS_WAIT_CLIENT_CERTIFICATE:
    case FERRULE_HS_WAIT_CLIENT_CERTIFICATE_VERIFY:
    case FERRULE_HS_WAIT_CLIENT_FINISHED: return 1;
    default: return 0;
    }
}

unsigned fr_conn_lent(const fr_conn *c) {
    return (c->in_lent ? FR_LENT_INPUT : 0u) | (c->out_lent ? FR_LENT_OUTPUT : 0u) |
           (c->app_lent ? FR_LENT_APP : 0u);
}

int fr_conn_status_for(fr_conn *c, fr_err e, fr_progress pr) {
    if (e == FR_OK) {
        switch (pr) {
        case FR_PROGRESS_NEED_INPUT: return FERRULE_WANT_READ;
        case FR_PROGRESS_NEED_FLUSH: return FERRULE_WANT_WRITE;
        case FR_PROGRESS_PEER_CLOSED: return FERRULE_CLOSED;
        case FR_PROGRESS_WANT_APP: return FERRULE_WANT_APP;
        default: return FERRULE_OK;
        }
    }
    if (c->status != FERRULE_OK) return c->status;
    /* A local, non-fatal refusal (a misuse, a write after close). */
    c->usage_reason = e;
    return fr_err_class(e);
}

/* ---- input ------------------------------------------------------------------ */

/* After the handshake an empty input buffer is given back; the next input
 * brings it again (fr_conn_in_ensure).  During the handshake the next
 * flight is never far, so it stays. */
static void in_release(fr_conn *c, int to_allocator) {
    if (c->in == NULL || c->in_len > 0 || c->in_lent || c->app_lent) return;
    /* Never a buffer holding bytes not yet processed (a partial record
     * waits in in_len > 0).  To the config's pool, as it is: what it holds
     * is this connection's, wiped before another connection can see it;
     * to the allocator, wiped as far as it was ever written (records were
     * opened in place). */
    if (to_allocator)
        fr_buf_free(c, c->in, c->in_used);
    else
        fr_buf_put(c, c->in, c->in_used);
    c->in = NULL;
    c->in_cap = c->in_off = c->in_used = 0;
}

static void in_release_if_idle(fr_conn *c) { in_release(c, 0); }

static void rx_idle(fr_conn *c) {
    if (c->state == FERRULE_HS_CONNECTED) in_release_if_idle(c);
}

fr_err fr_conn_input_buf(fr_conn *c, uint8_t **p, size_t *cap) {
    *p = NULL;
    *cap = 0;
    FR_ENSURE(!c->in_lent, FERRULE_R_BUFFER_LENT);
    if (c->status != FERRULE_OK) return c->reason;
    fr_err e = fr_conn_in_ensure(c);
    if (e != FR_OK) return fr_conn_fail(c, e);
    /* Compact unless application data (c->app) points into the buffer. */
    if (c->in_off > 0 && c->app_len == 0) {
        memmove(c->in, c->in + c->in_off, c->in_len);
        c->in_off = 0;
    }
    *p = c->in + c->in_off + c->in_len;
    *cap = c->in_cap - c->in_off - c->in_len;
    c->in_lent = 1;
    c->in_lent_cap = *cap;
    return FR_OK;
}

fr_err fr_conn_input_ack(fr_conn *c, size_t n) {
    FR_ENSURE(c->in_lent, FERRULE_R_BUFFER_NOT_LENT);
    FR_ENSURE(n <= c->in_lent_cap, FERRULE_R_ACK_TOO_LARGE);
    /* Consuming while lent kept in_off + in_len where the tail was lent. */
    c->in_lent = 0;
    c->in_len += n;
    if (c->in_off + c->in_len > c->in_used) c->in_used = c->in_off + c->in_len;
    if (c->in_len == 0) c->in_off = 0;
    if (c->status != FERRULE_OK) return c->reason;
    if (n == 0) rx_idle(c);
    return FR_OK;
}

fr_err fr_conn_feed_input(fr_conn *c, const uint8_t *p, size_t n, size_t *consumed) {
    *consumed = 0;
    uint8_t *dst;
    size_t cap;
    FR_TRY(fr_conn_input_buf(c, &dst, &cap));
    size_t k = n < cap ? n : cap;
    if (k > 0) memcpy(dst, p, k); /* p may be NULL for an empty feed */
    *consumed = k;
    return fr_conn_input_ack(c, k);
}

void fr_conn_set_eof(fr_conn *c) { c->eof = 1; }

/* One record, its failure recorded: NEED_INPUT after a transport EOF is
 * truncation (RFC 8446 §6.1: never a clean end of stream). */
static fr_err rx_record(fr_conn *c, fr_progress *pr) {
    fr_err e = fr_conn_next_record(c, pr);
    if (e != FR_OK) return e == FERRULE_R_PEER_ALERT ? e : fr_conn_fail(c, e);
    if (*pr == FR_PROGRESS_NEED_INPUT && c->eof) return fr_conn_fail(c, FERRULE_R_TRUNCATED);
    return FR_OK;
}

/* One handshake record: FR_OK with DONE to go on. */
static fr_err hs_step(fr_conn *c, fr_progress *pr) {
    FR_TRY(rx_record(c, pr));
    if (*pr == FR_PROGRESS_PEER_CLOSED) return fr_conn_fail(c, FERRULE_R_UNEXPECTED_MESSAGE);
    /* Application data before the handshake is done (never 0-RTT data:
     * that is buffered on its own). */
    if (*pr == FR_PROGRESS_DONE && c->app_len > 0)
        return fr_conn_fail(c, FERRULE_R_UNEXPECTED_MESSAGE);
    return FR_OK;
}

fr_err fr_conn_advance(fr_conn *c, fr_progress *pr) {
    *pr = FR_PROGRESS_DONE;
    if (c->status != FERRULE_OK) return c->reason;
    /* The handshake writes its flights: not into output being sent. */
    FR_ENSURE(c->state == FERRULE_HS_CONNECTED || !c->out_lent, FERRULE_R_BUFFER_LENT);
    if (c->state == FERRULE_HS_START) {
        fr_err e = fr_dispatch_start(c);
        if (e != FR_OK) return fr_conn_fail(c, e);
    }
    while (c->state != FERRULE_HS_CONNECTED) {
        FR_TRY(hs_step(c, pr));
        if (*pr != FR_PROGRESS_DONE) return FR_OK;
    }
    rx_idle(c);
    return FR_OK;
}

int fr_conn_in_early_phase(const fr_conn *c) {
    if (c->role != FERRULE_ROLE_SERVER || c->status != FERRULE_OK) return 0;
    return c->state == FERRULE_HS_WAIT_CLIENT_HELLO ||
           c->state == FERRULE_HS_WAIT_END_OF_EARLY_DATA;
}

fr_err fr_conn_advance_early(fr_conn *c, fr_progress *pr) {
    *pr = FR_PROGRESS_DONE;
    if (c->status != FERRULE_OK) return c->reason;
    while (fr_conn_in_early_phase(c) && c->early.len == c->early.off) {
        FR_TRY(hs_step(c, pr));
        if (*pr != FR_PROGRESS_DONE) return FR_OK;
    }
    return FR_OK;
}

/* ---- application data in place ------------------------------------------------ */

#define LENT_APP 1   /* c->app, inside `in` */
#define LENT_EARLY 2 /* accepted 0-RTT data, in c->early.buf */

fr_err fr_conn_read_buf(fr_conn *c, const uint8_t **p, size_t *len, fr_progress *pr) {
    *p = NULL;
    *len = 0;
    *pr = FR_PROGRESS_DONE;
    FR_ENSURE(!c->app_lent, FERRULE_R_BUFFER_LENT);
    if (c->status != FERRULE_OK) return c->reason;
    /* Early data first: it precedes everything else in the stream. */
    if (c->early.len > c->early.off) {
        *p = c->early.buf + c->early.off;
        *len = c->early.len - c->early.off;
        c->app_lent = LENT_EARLY;
        c->app_lent_len = *len;
        return FR_OK;
    }
    while (c->app_len == 0) {
        FR_TRY(rx_record(c, pr));
        if (*pr != FR_PROGRESS_DONE) {
            rx_idle(c);
            return FR_OK;
        }
        if (c->status != FERRULE_OK) return c->reason;
    }
    *p = c->app;
    *len = c->app_len;
    c->app_lent = LENT_APP;
    c->app_lent_len = *len;
    return FR_OK;
}

fr_err fr_conn_read_ack(fr_conn *c, size_t n) {
    FR_ENSURE(c->app_lent, FERRULE_R_BUFFER_NOT_LENT);
    FR_ENSURE(n <= c->app_lent_len, FERRULE_R_ACK_TOO_LARGE);
    int kind = c->app_lent;
    c->app_lent = 0;
    if (kind == LENT_EARLY) {
        fr_early_conn *ed = &c->early;
        ed->off += n;
        if (ed->off == ed->len) ed->off = ed->len = 0;
        return FR_OK;
    }
    /* Not wiped: plaintext the application has been handed is its own
     * (docs/buffers.md, "What is wiped"). */
    c->app += n;
    c->app_len -= n;
    if (c->app_len == 0) {
        c->app = NULL;
        fr_conn_in_consume(c, c->app_rec);
        rx_idle(c);
    }
    return FR_OK;
}

fr_err fr_conn_read_app(fr_conn *c, uint8_t *buf, size_t cap, size_t *n, fr_progress *pr) {
    *n = 0;
    const uint8_t *p;
    size_t len;
    FR_TRY(fr_conn_read_buf(c, &p, &len, pr));
    if (len == 0) return FR_OK;
    size_t k = cap < len ? cap : len;
    memcpy(buf, p, k);
    *n = k;
    return fr_conn_read_ack(c, k);
}

/* ---- output ------------------------------------------------------------------------ */

/* Drop n sent bytes; a drained buffer is given back (it comes again with
 * the next record, fr_conn_out_reserve). */
static void out_drop(fr_conn *c, size_t n) {
    if (n > c->out_len) n = c->out_len;
    c->out_off += n;
    c->out_len -= n;
    if (c->out_len > 0) return;
    fr_conn_out_release(c, 0); /* to the pool, for the next record */
}

fr_err fr_conn_output_buf(fr_conn *c, const uint8_t **p, size_t *len) {
    *p = NULL;
    *len = 0;
    FR_ENSURE(!c->out_lent, FERRULE_R_BUFFER_LENT);
    /* What the receive half owes goes first (an alert, a KeyUpdate
     * answer); after a failure this is how its alert leaves. */
    if (fr_conn_wants_send(c)) fr_conn_do_pending(c);
    if (c->out_len > 0) *p = c->out + c->out_off;
    *len = c->out_len;
    c->out_lent = 1;
    c->out_lent_len = *len;
    return FR_OK;
}

fr_err fr_conn_output_ack(fr_conn *c, size_t n) {
    FR_ENSURE(c->out_lent, FERRULE_R_BUFFER_NOT_LENT);
    FR_ENSURE(n <= c->out_lent_len, FERRULE_R_ACK_TOO_LARGE);
    c->out_lent = 0;
    out_drop(c, n);
    /* Work that waited for the loan to end. */
    if (fr_conn_wants_send(c)) fr_conn_do_pending(c);
    return FR_OK;
}

fr_err fr_conn_take_output(fr_conn *c, uint8_t *out, size_t cap, size_t *n) {
    *n = 0;
    const uint8_t *p;
    size_t len;
    FR_TRY(fr_conn_output_buf(c, &p, &len));
    size_t k = cap < len ? cap : len;
    if (k > 0) memcpy(out, p, k);
    *n = k;
    return fr_conn_output_ack(c, k);
}

size_t fr_conn_output_pending(const fr_conn *c) { return c->out_len; }

fr_err fr_conn_write_app(fr_conn *c, const uint8_t *buf, size_t len, size_t *n,
                         fr_progress *pr) {
    *n = 0;
    *pr = FR_PROGRESS_DONE;
    FR_ENSURE(!c->out_lent, FERRULE_R_BUFFER_LENT);
    fr_conn_do_pending(c);
    if (c->status != FERRULE_OK) return c->reason;
    FR_ENSURE(!c->closed_sent, FERRULE_R_WRONG_STATE);
    /* Bound buffered output: accept more only while less than one full
     * record is waiting. */
    if (c->out_len >= FR_MAX_RECORD && len > 0) *pr = FR_PROGRESS_NEED_FLUSH;
    size_t max = fr_rsl_max_fragment(c); /* 2^14, or RFC 8449's limit */
    while (*n < len && c->out_len < FR_MAX_RECORD) {
        size_t chunk = len - *n < max ? len - *n : max;
        /* A second record of this call queues only if it fits in the
         * buffer there is (a standard one holds one maximal record): the
         * output buffer does not grow for application data in steady
         * traffic, so an active connection holds one input and one output
         * buffer. */
        if (*n > 0 && FR_RECORD_OVERHEAD + chunk > c->out_cap - c->out_len) break;
        /* RFC 8446 §5.5: retire the write key before its AEAD limit. */
        fr_err e = fr_ku_before_app_record(c);
        if (e == FR_OK) e = fr_conn_send_record(c, FR_CT_APPLICATION_DATA, buf + *n, chunk);
        /* The memory ceiling refuses a second queued record: that is back
         * pressure, not a failure, once something was accepted or queued. */
        if (e == FERRULE_R_MEMORY_LIMIT && (*n > 0 || c->out_len > 0)) {
            if (*n == 0) *pr = FR_PROGRESS_NEED_FLUSH;
            return FR_OK;
        }
        if (e != FR_OK) return fr_conn_fail(c, e);
        *n += chunk;
    }
    return FR_OK;
}

fr_err fr_conn_queue_close(fr_conn *c) {
    FR_ENSURE(!c->out_lent, FERRULE_R_BUFFER_LENT);
    fr_conn_do_pending(c);
    if (c->closed_sent) return FR_OK;
    c->closed_sent = 1;
    /* RFC 8446 §6.1: close_notify, then no more data from us. */
    fr_err e = fr_conn_send_alert(c, 1, FERRULE_ALERT_CLOSE_NOTIFY);
    if (e != FR_OK) return fr_conn_fail(c, e);
    return FR_OK;
}

/* ---- flags ---------------------------------------------------------------------------- */

/* A whole record (or a header that cannot start one) waits in `in`. */
static int record_buffered(const fr_conn *c) {
    if (c->in_len < FR_RECORD_HEADER_LEN) return 0;
    uint8_t type;
    size_t body;
    if (fr_record_header(c->in + c->in_off, &type, &body) != FR_OK) return 1;
    return c->in_len - FR_RECORD_HEADER_LEN >= body;
}

uint32_t fr_conn_flags_rx(const fr_conn *c) {
    uint32_t f = 0;
    if (c->status != FERRULE_OK) return FERRULE_FLAG_FAILED | (c->peer_closed ? FERRULE_FLAG_CLOSED : 0);
    if (c->peer_closed) return FERRULE_FLAG_CLOSED;
    if (c->app_len > 0 || c->early.len > c->early.off) f |= FERRULE_FLAG_APP_READABLE;
    /* A decision waits for its answer (docs/decisions.md); once answered,
     * the paused message waits to be dispatched again: no input needed. */
    if (c->dec.asked != FERRULE_DECISION_NONE) f |= FERRULE_FLAG_WANT_APP;
    if (c->dec.paused) return f;
    /* Bytes from the peer are what it takes to go on: nothing readable is
     * waiting, no whole record is buffered, and the handshake has begun
     * (a client's starts with ferrule_conn_handshake or _process). */
    if (f == 0 && !c->eof && c->state != FERRULE_HS_START && !record_buffered(c))
        f |= FERRULE_FLAG_WANT_INPUT;
    return f;
}

/* Output owed but not yet in `out` (fr_conn_do_pending makes it). */
static int owes_output(const fr_conn *c) {
    if (atomic_load(&c->pending_alert) >= 0 && !c->closed_sent) return 1;
    if (c->status != FERRULE_OK || c->closed_sent) return 0;
    if (atomic_load(&c->pending_key_update)) return 1;
    return c->role == FERRULE_ROLE_SERVER && atomic_load(&c->resume.pending_tickets) > 0;
}

uint32_t fr_conn_flags_tx(const fr_conn *c) {
    uint32_t f = 0;
    if (c->out_len > 0 || owes_output(c)) f |= FERRULE_FLAG_HAS_OUTPUT;
    if (c->status == FERRULE_OK &&
        (c->state == FERRULE_HS_CONNECTED || fr_conn_half_rtt_writable(c)) && !c->closed_sent &&
        !c->out_lent && c->out_len < FR_MAX_RECORD)
        f |= FERRULE_FLAG_APP_WRITABLE;
    return f;
}

/* ---- release and the batched call ---------------------------------------------------- */

void fr_conn_release_buffers(fr_conn *c) {
    /* The host asks for the memory back: to the allocator, not the pool. */
    in_release(c, 1);
    if (c->out != NULL && c->out_len == 0 && !c->out_lent) fr_conn_out_release(c, 1);
    if (c->hs_buf != NULL && c->hs_len == 0) {
        fr_mem_free(&c->mem, c->hs_buf, c->hs_cap);
        c->hs_buf = NULL;
        c->hs_cap = 0;
    }
}

/* Process buffered records: the handshake, then post-handshake records,
 * up to the first application data (which waits for the application). */
static fr_err rx_pump(fr_conn *c, fr_progress *pr) {
    FR_TRY(fr_conn_advance(c, pr));
    if (*pr != FR_PROGRESS_DONE) return FR_OK;
    while (c->app_len == 0 && c->early.len == c->early.off) {
        FR_TRY(rx_record(c, pr));
        if (*pr != FR_PROGRESS_DONE) break;
    }
    rx_idle(c);
    return FR_OK;
}

fr_err fr_conn_process(fr_conn *c, const uint8_t *in, size_t in_len, size_t *consumed,
                       uint8_t *out, size_t out_cap, size_t *written) {
    *consumed = *written = 0;
    FR_ENSURE(!c->in_lent && !c->out_lent && !c->app_lent, FERRULE_R_BUFFER_LENT);
    fr_err e = FR_OK;
    for (;;) {
        size_t k = 0;
        if (*consumed < in_len && c->status == FERRULE_OK) {
            e = fr_conn_feed_input(c, in + *consumed, in_len - *consumed, &k);
            *consumed += k;
            if (e != FR_OK) break;
        }
        fr_progress pr;
        e = rx_pump(c, &pr);
        /* More of `in` helps only when the engine stopped for lack of it. */
        if (e != FR_OK || pr != FR_PROGRESS_NEED_INPUT || *consumed == in_len || k == 0) break;
    }
    /* Drained even after a failure: that is how its alert leaves. */
    fr_err te = fr_conn_take_output(c, out, out_cap, written);
    return e != FR_OK ? e : te;
}
