/*
 * conn_io.c (ABI) - the data path of a ferrule_conn: buffer I/O (copying
 * and zero-copy), callback I/O, and the drivers.  Argument checks and the
 * locks of the two halves here; everything else is an engine call
 * (core/engine.h, "buffers and the data path").
 *
 * Lock order: rd_lock, then wr_lock (recursive), then the engine's
 * FR_LOCK_CONN_ERR.  The send half never takes rd_lock.
 */
#include "abi.h"
#include "host.h"

#define usage fr_abi_usage

/* ---- the send-side work the receive half queues ---------------------------- */

/* Run fr_conn_do_pending for the receive half.  Buffer I/O waits for the
 * send lock; callback I/O never does: the send half may be blocked in its
 * send callback while holding it, and waiting could deadlock two peers
 * (the work then happens on the send half's next call). */
static void service_send(ferrule_conn *c) {
    if (!fr_conn_wants_send(c)) return;
    if (fr_conn_has_io(c)) {
        if (pthread_mutex_trylock(&fr_abi_host(c)->wr_lock) != 0) return;
    } else {
        pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    }
    fr_conn_do_pending(c);
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
}

/* ---- callback I/O pumps ---------------------------------------------------------- */

/* Send pending output through the callback.  Caller holds wr_lock. */
static int flush_out(ferrule_conn *c) {
    if (!fr_conn_has_io(c)) return FERRULE_OK;
    for (;;) {
        const uint8_t *p;
        size_t len;
        if (fr_conn_output_buf(c, &p, &len) != FR_OK) return FERRULE_INTERNAL; /* not lent */
        if (len == 0) return fr_conn_output_ack(c, 0) == FR_OK ? FERRULE_OK : FERRULE_INTERNAL;
        long r = fr_abi_host(c)->io.send(fr_abi_host(c)->io.ctx, p, len);
        size_t sent = r > 0 ? ((size_t)r > len ? len : (size_t)r) : 0;
        if (r <= 0 && r != FERRULE_IO_WOULD_BLOCK) sent = len; /* the transport is gone */
        if (fr_conn_output_ack(c, sent) != FR_OK) return FERRULE_INTERNAL;
        if (r == FERRULE_IO_WOULD_BLOCK) return FERRULE_WANT_WRITE;
        if (r <= 0) {
            (void)fr_conn_fail(c, FERRULE_R_IO);
            return fr_conn_failed_status(c);
        }
    }
}

/* With callback I/O, after a fatal receive error: send the alert now if
 * the send half is idle (never waiting for its lock, see service_send). */
static void flush_fatal_alert(ferrule_conn *c) {
    if (!fr_conn_has_io(c) || fr_conn_failed_status(c) == FERRULE_OK) return;
    if (pthread_mutex_trylock(&fr_abi_host(c)->wr_lock) != 0) return;
    fr_conn_do_pending(c);
    (void)flush_out(c);
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
}

/* Receive into the input buffer.  Caller holds rd_lock. */
static int fill_in(ferrule_conn *c) {
    uint8_t *p;
    size_t space;
    fr_err e = fr_conn_input_buf(c, &p, &space);
    if (e != FR_OK) return fr_conn_status_for(c, e, FR_PROGRESS_DONE);
    long r = space > 0 ? fr_abi_host(c)->io.recv(fr_abi_host(c)->io.ctx, p, space) : FERRULE_IO_WOULD_BLOCK;
    size_t got = r > 0 ? ((size_t)r > space ? space : (size_t)r) : 0;
    e = fr_conn_input_ack(c, got);
    if (e != FR_OK) return fr_conn_status_for(c, e, FR_PROGRESS_DONE);
    if (r > 0) fr_abi_conn_clock(c); /* the read may have blocked for long */
    if (r > 0 || space == 0) return FERRULE_OK;
    if (r == 0) {
        fr_conn_set_eof(c);
        return FERRULE_OK;
    }
    if (r == FERRULE_IO_WOULD_BLOCK) return FERRULE_WANT_READ;
    (void)fr_conn_fail(c, FERRULE_R_IO);
    return fr_conn_failed_status(c);
}

/* Drive the handshake (FERRULE_WANT_APP while a decision the application
 * answers waits; the output made so far is sent first).  Caller holds
 * rd_lock. */
static int drive_handshake(ferrule_conn *c) {
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    int st;
    for (;;) {
        fr_progress pr;
        fr_err e = fr_abi_advance(c, 0, &pr);
        if (fr_conn_wants_send(c)) fr_conn_do_pending(c);
        st = fr_conn_status_for(c, e, pr);
        if (!fr_conn_has_io(c)) break;
        int fst = flush_out(c);
        if (st != FERRULE_WANT_READ) {
            /* Done or failed (the alert went out best-effort). */
            if (st == FERRULE_OK && fst != FERRULE_OK) st = fst;
            break;
        }
        if (fst != FERRULE_OK) {
            st = fst;
            break;
        }
        st = fill_in(c);
        if (st != FERRULE_OK) break;
    }
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    return st;
}

/* The handshake, if it is not complete, before a data call.  Caller holds
 * rd_lock. */
static int ensure_connected(ferrule_conn *c) {
    int st = fr_conn_failed_status(c);
    if (st == FERRULE_OK && !fr_conn_is_connected(c)) st = drive_handshake(c);
    return st;
}

int fr_abi_flush_out(ferrule_conn *c) { return flush_out(c); }
int fr_abi_fill_in(ferrule_conn *c) { return fill_in(c); }

/* ---- copying buffer I/O ------------------------------------------------------------ */

FERRULE_API int ferrule_conn_feed(ferrule_conn *c, const uint8_t *data, size_t len,
                                  size_t *consumed) {
    if (consumed != NULL) *consumed = 0;
    if (c == NULL || (data == NULL && len > 0)) return usage(c, FERRULE_R_NULL_ARGUMENT);
    if (fr_conn_has_io(c)) return usage(c, FERRULE_R_WRONG_STATE);
    size_t n = 0;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    fr_err e = fr_conn_feed_input(c, data, len, &n);
    int st = fr_conn_status_for(c, e, FR_PROGRESS_DONE);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    service_send(c); /* a failure to allocate the input buffer has an alert */
    if (consumed != NULL) *consumed = n;
    return st;
}

FERRULE_API int ferrule_conn_feed_eof(ferrule_conn *c) {
    if (c == NULL) return FERRULE_USAGE;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    fr_conn_set_eof(c);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return FERRULE_OK;
}

FERRULE_API size_t ferrule_conn_pending_output(const ferrule_conn *c) {
    return c != NULL ? fr_conn_output_pending(c) : 0;
}

FERRULE_API int ferrule_conn_take(ferrule_conn *c, uint8_t *out, size_t cap, size_t *written) {
    if (written != NULL) *written = 0;
    if (c == NULL || out == NULL || written == NULL) return usage(c, FERRULE_R_NULL_ARGUMENT);
    if (fr_conn_has_io(c)) return usage(c, FERRULE_R_WRONG_STATE);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    fr_err e = fr_conn_take_output(c, out, cap, written);
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    return e == FR_OK ? FERRULE_OK : usage(c, e);
}

/* ---- drivers ------------------------------------------------------------------------- */

FERRULE_API int ferrule_conn_handshake(ferrule_conn *c) {
    if (c == NULL) return FERRULE_USAGE;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    fr_abi_conn_clock(c);
    int st = drive_handshake(c);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return st;
}

FERRULE_API int ferrule_conn_read(ferrule_conn *c, uint8_t *buf, size_t cap, size_t *n) {
    if (n != NULL) *n = 0;
    if (c == NULL || buf == NULL || n == NULL) return usage(c, FERRULE_R_NULL_ARGUMENT);
    if (cap == 0) return usage(c, FERRULE_R_BUFFER_TOO_SMALL);
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    fr_abi_conn_clock(c);
    int st = ensure_connected(c);
    while (st == FERRULE_OK) {
        fr_progress pr;
        fr_err e = fr_conn_read_app(c, buf, cap, n, &pr);
        st = fr_conn_status_for(c, e, pr);
        if (st != FERRULE_WANT_READ || !fr_conn_has_io(c)) break;
        st = fill_in(c);
    }
    /* RFC 8446 §4.6.3: the answer to update_requested goes before our next
     * application data; the requests of one pass over the input share it,
     * queued at the end of the pass (a peer may wait for it before it
     * sends more, while we wait for more before we answer).  With callback
     * I/O it leaves with the send half's next write or flush; only a
     * fatal alert is pushed from here. */
    service_send(c);
    flush_fatal_alert(c);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return st;
}

FERRULE_API int ferrule_conn_write(ferrule_conn *c, const uint8_t *buf, size_t len, size_t *n) {
    if (n != NULL) *n = 0;
    if (c == NULL || (buf == NULL && len > 0) || n == NULL)
        return usage(c, FERRULE_R_NULL_ARGUMENT);
    if (fr_conn_failed_status(c) != FERRULE_OK) return fr_conn_failed_status(c);
    /* A server whose Finished is sent writes at once (0.5-RTT data, RFC
     * 8446 §2.3); otherwise the handshake runs first. */
    if (!fr_conn_is_connected(c) && !fr_conn_half_rtt_writable(c)) {
        pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
        fr_abi_conn_clock(c);
        int st = drive_handshake(c);
        pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
        if (st != FERRULE_OK) return st;
    }
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    int st = FERRULE_OK;
    size_t done = 0;
    while (done < len) {
        size_t k = 0;
        fr_progress pr;
        fr_err e = fr_conn_write_app(c, buf + done, len - done, &k, &pr);
        done += k;
        st = fr_conn_status_for(c, e, pr);
        if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) break;
        if (!fr_conn_has_io(c)) break;
        int fst = flush_out(c);
        if (fst != FERRULE_OK) {
            st = fst;
            break;
        }
    }
    if (fr_conn_wants_send(c)) fr_conn_do_pending(c); /* a failure's alert */
    if (fr_conn_has_io(c) && st == FERRULE_OK) st = flush_out(c);
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    *n = done;
    /* Partial progress is success; WANT_WRITE only when nothing was taken. */
    if (st == FERRULE_WANT_WRITE && done > 0) st = FERRULE_OK;
    return st;
}

FERRULE_API int ferrule_conn_flush(ferrule_conn *c) {
    if (c == NULL) return FERRULE_USAGE;
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    int st = FERRULE_OK;
    if (fr_conn_lent(c) & FR_LENT_OUTPUT) {
        st = usage(c, FERRULE_R_BUFFER_LENT);
    } else {
        fr_conn_do_pending(c);
        st = flush_out(c);
    }
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    return st;
}

FERRULE_API int ferrule_conn_close(ferrule_conn *c) {
    if (c == NULL) return FERRULE_USAGE;
    if (!fr_conn_is_connected(c)) return usage(c, FERRULE_R_WRONG_STATE);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    fr_err e = fr_conn_queue_close(c);
    int st = fr_conn_status_for(c, e, FR_PROGRESS_DONE);
    if (fr_conn_wants_send(c)) fr_conn_do_pending(c);
    if (st == FERRULE_OK) st = flush_out(c);
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    return st;
}

FERRULE_API int ferrule_conn_send_alert(ferrule_conn *c, uint8_t alert) {
    if (c == NULL) return FERRULE_USAGE;
    if (alert == FERRULE_ALERT_CLOSE_NOTIFY) return usage(c, FERRULE_R_BAD_ANSWER);
    /* After any failure (also an earlier send_alert): its status, nothing queued. */
    if (fr_conn_failed_status(c) != FERRULE_OK) return fr_conn_failed_status(c);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    fr_err e = (fr_conn_lent(c) & FR_LENT_OUTPUT) ? FERRULE_R_BUFFER_LENT : fr_conn_abort(c, alert);
    if (fr_conn_wants_send(c)) fr_conn_do_pending(c);
    if (fr_conn_has_io(c)) (void)flush_out(c);
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    if (e == FERRULE_R_BUFFER_LENT) return usage(c, e);
    return e == FERRULE_R_APP_ALERT ? FERRULE_OK : fr_conn_failed_status(c);
}

FERRULE_API int ferrule_conn_key_update(ferrule_conn *c, int request_peer) {
    if (c == NULL) return FERRULE_USAGE;
    if (fr_conn_failed_status(c) != FERRULE_OK) return fr_conn_failed_status(c);
    if (!fr_conn_is_connected(c)) return usage(c, FERRULE_R_WRONG_STATE);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    fr_err e = (fr_conn_lent(c) & FR_LENT_OUTPUT) ? FERRULE_R_BUFFER_LENT
                                                  : fr_conn_key_update(c, request_peer);
    int st = fr_conn_status_for(c, e, FR_PROGRESS_DONE);
    if (fr_conn_wants_send(c)) fr_conn_do_pending(c);
    /* Like ferrule_conn_write: the KeyUpdate is queued and our keys have
     * changed; bytes the transport cannot take now leave with the next
     * write or flush, so WANT_WRITE is not reported. */
    if (st == FERRULE_OK) {
        int fst = flush_out(c);
        if (fst != FERRULE_WANT_WRITE) st = fst;
    }
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    return st;
}

/* ---- zero-copy buffer I/O -------------------------------------------------------------- */

/* The checks every call of this section starts with. */
/* The plaintext loan (read_buf / read_ack) works over either transport. */
static int app_loan_check(ferrule_conn *c, const void *out1, const void *out2) {
    if (c == NULL) return FERRULE_USAGE;
    if (out1 == NULL || out2 == NULL) return usage(c, FERRULE_R_NULL_ARGUMENT);
    return FERRULE_OK;
}

/* The ciphertext loans are for buffer I/O only. */
static int buffer_api_check(ferrule_conn *c, const void *out1, const void *out2) {
    if (c == NULL) return FERRULE_USAGE;
    if (out1 == NULL || out2 == NULL) return usage(c, FERRULE_R_NULL_ARGUMENT);
    if (fr_conn_has_io(c)) return usage(c, FERRULE_R_WRONG_STATE);
    return FERRULE_OK;
}

/* A lend/ack result: misuse is a usage reason, a failure its sticky status. */
static int lend_status(ferrule_conn *c, fr_err e) {
    if (e == FERRULE_R_BUFFER_LENT || e == FERRULE_R_BUFFER_NOT_LENT ||
        e == FERRULE_R_ACK_TOO_LARGE)
        return usage(c, e);
    return fr_conn_status_for(c, e, FR_PROGRESS_DONE);
}

FERRULE_API int ferrule_conn_input_buf(ferrule_conn *c, uint8_t **buf, size_t *cap) {
    if (buf != NULL) *buf = NULL;
    if (cap != NULL) *cap = 0;
    int st = buffer_api_check(c, buf, cap);
    if (st != FERRULE_OK) return st;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    st = lend_status(c, fr_conn_input_buf(c, buf, cap));
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    service_send(c); /* a failure to allocate the buffer has an alert */
    return st;
}

FERRULE_API int ferrule_conn_input_ack(ferrule_conn *c, size_t n) {
    int st = buffer_api_check(c, c, c);
    if (st != FERRULE_OK) return st;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    fr_abi_conn_clock(c);
    st = lend_status(c, fr_conn_input_ack(c, n));
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return st;
}

FERRULE_API int ferrule_conn_output_buf(ferrule_conn *c, const uint8_t **buf, size_t *len) {
    if (buf != NULL) *buf = NULL;
    if (len != NULL) *len = 0;
    int st = buffer_api_check(c, buf, len);
    if (st != FERRULE_OK) return st;
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    st = lend_status(c, fr_conn_output_buf(c, buf, len));
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    /* After a failure this still lends the alert: OK, not the status. */
    return st;
}

FERRULE_API int ferrule_conn_output_ack(ferrule_conn *c, size_t n) {
    int st = buffer_api_check(c, c, c);
    if (st != FERRULE_OK) return st;
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    st = lend_status(c, fr_conn_output_ack(c, n));
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    return st;
}

FERRULE_API int ferrule_conn_read_buf(ferrule_conn *c, const uint8_t **buf, size_t *len) {
    if (buf != NULL) *buf = NULL;
    if (len != NULL) *len = 0;
    int st = app_loan_check(c, buf, len);
    if (st != FERRULE_OK) return st;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    fr_abi_conn_clock(c);
    if (fr_conn_lent(c) & FR_LENT_APP) {
        st = usage(c, FERRULE_R_BUFFER_LENT);
    } else {
        st = ensure_connected(c);
        while (st == FERRULE_OK) {
            fr_progress pr;
            fr_err e = fr_conn_read_buf(c, buf, len, &pr);
            st = e == FR_OK ? fr_conn_status_for(c, e, pr) : lend_status(c, e);
            /* Callback I/O: receive as ferrule_conn_read does. */
            if (st != FERRULE_WANT_READ || !fr_conn_has_io(c)) break;
            st = fill_in(c);
        }
    }
    service_send(c); /* a KeyUpdate answer or an alert the pass queued */
    flush_fatal_alert(c);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return st;
}

FERRULE_API int ferrule_conn_read_ack(ferrule_conn *c, size_t n) {
    int st = app_loan_check(c, c, c);
    if (st != FERRULE_OK) return st;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    st = lend_status(c, fr_conn_read_ack(c, n));
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return st;
}

FERRULE_API uint32_t ferrule_conn_flags(ferrule_conn *c) {
    if (c == NULL) return 0;
    /* Each half's bits under its own lock, one lock at a time. */
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    uint32_t f = fr_conn_flags_rx(c);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    f |= fr_conn_flags_tx(c);
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    return f;
}

/* fr_conn_process, again after each decision the host answers at once
 * (decisions.c): the rest of `in` is fed and the output appended.  Each
 * answer completes one step of a paused handler: bounded.  Both locks. */
static fr_err process_answering(ferrule_conn *c, const uint8_t *in, size_t in_len,
                                size_t *consumed, uint8_t *out, size_t out_cap,
                                size_t *written) {
    fr_err e = fr_conn_process(c, in, in_len, consumed, out, out_cap, written);
    while (e == FR_OK) {
        int answered;
        fr_err a = fr_abi_answer_pending(c, &answered);
        if (a == FR_OK && !answered) break;
        /* On with the answer; after a failed one this drains the alert. */
        size_t k, w;
        e = fr_conn_process(c, in != NULL ? in + *consumed : NULL, in_len - *consumed, &k,
                            out != NULL ? out + *written : NULL, out_cap - *written, &w);
        *consumed += k;
        *written += w;
        if (a != FR_OK) return a;
    }
    return e;
}

FERRULE_API int ferrule_conn_process(ferrule_conn *c, const uint8_t *in, size_t in_len,
                                     size_t *consumed, uint8_t *out, size_t out_cap,
                                     size_t *written, uint32_t *flags) {
    if (consumed != NULL) *consumed = 0;
    if (written != NULL) *written = 0;
    if (flags != NULL) *flags = 0;
    int st = buffer_api_check(c, consumed, written);
    if (st != FERRULE_OK) return st;
    if ((in == NULL && in_len > 0) || (out == NULL && out_cap > 0))
        return usage(c, FERRULE_R_NULL_ARGUMENT);
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    fr_err e = process_answering(c, in, in_len, consumed, out, out_cap, written);
    st = e == FR_OK ? FERRULE_OK : lend_status(c, e);
    /* A decision the application answers stops the pass. */
    if (st == FERRULE_OK && fr_conn_decision(c, NULL) != FERRULE_DECISION_NONE)
        st = FERRULE_WANT_APP;
    if (flags != NULL) *flags = fr_conn_flags_rx(c) | fr_conn_flags_tx(c);
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return st;
}

FERRULE_API int ferrule_conn_release_buffers(ferrule_conn *c) {
    if (c == NULL) return FERRULE_USAGE;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_conn_release_buffers(c);
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return FERRULE_OK;
}
