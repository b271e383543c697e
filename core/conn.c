/*
 * conn.c - the connection engine's setup, output records, alerts and
 * failure.  Record reception is in recv.c, the buffer API and the drivers
 * over it in buffers.c.  Sans-I/O: records leave through `out`, which the
 * host drains (fr_conn_output_buf).
 */
#include "conn.h"

/* ---- setup ---------------------------------------------------------------- */

fr_err fr_conn_init(fr_conn *c, fr_config *cfg, const char *server_name,
                    size_t memory_limit) {
    c->cfg = cfg;
    c->role = cfg->role;
    c->alert = -1;
    atomic_init(&c->pending_alert, -1);
    atomic_init(&c->pending_key_update, 0);
    atomic_init(&c->want_send, 0);
    atomic_init(&c->resume.pending_tickets, 0);
    fr_mem_init(&c->mem, &cfg->alloc, memory_limit != 0 ? memory_limit : cfg->memory_limit);
    fr_state_init(c);
    if (server_name != NULL) {
        size_t n = strlen(server_name);
        FR_ENSURE(n > 0 && n < sizeof(c->server_name), FERRULE_R_CONFIG_INVALID);
        memcpy(c->server_name, server_name, n + 1);
        c->has_server_name = 1;
    }
    /* The input buffer comes with the first input (fr_conn_in_ensure). */
    return FR_OK;
}

void fr_conn_release(fr_conn *c) {
    /* The record buffers go back to the config for the next connection:
     * what this one received is wiped first (bufpool.c), also in the
     * buffers it gave back earlier. */
    fr_buf_pool_forget(c);
    if (c->in != NULL) {
        fr_wipe(c->in, c->in_used);
        fr_buf_put(c, c->in, 0);
    }
    if (c->out != NULL && c->out_pooled) {
        fr_wipe(c->out, c->out_used); /* input of ours it once held */
        c->out_used = 0;
    }
    fr_conn_out_release(c, 0);
    fr_mem_free(&c->mem, c->hs_buf, c->hs_cap);
    fr_mem_free(&c->mem, c->ch_copy, c->ch_len);
    for (size_t i = 0; i < c->n_kex; i++) fr_kex_free(&c->kex[i]);
    fr_conn_forget_peer_chain(c);
    fr_verify_result_free(c->verify_result);
    fr_mem_free(&c->mem, c->peer_ocsp, c->peer_ocsp_len);
    fr_aead_free(&c->rd);
    fr_aead_free(&c->wr);
    fr_transcript_free(&c->th);
    fr_ks_wipe(&c->ks);
    fr_wipe(c->th_before, sizeof(c->th_before));
    fr_resume_conn_free(c);
    fr_early_conn_free(c);
    fr_dec_free(c);
}

/* ---- output --------------------------------------------------------------- */

/* Drop the output buffer (drained): back to the config's pool if it is a
 * standard one, so the next record finds it without an allocation.  It
 * holds protected or public records only: nothing to wipe. */
void fr_conn_out_release(fr_conn *c, int to_allocator) {
    if (c->out == NULL) return;
    if (!c->out_pooled)
        fr_mem_free_public(&c->mem, c->out, c->out_cap);
    else if (to_allocator)
        fr_buf_free(c, c->out, c->out_used);
    else
        fr_buf_put(c, c->out, c->out_used);
    c->out = NULL;
    c->out_cap = c->out_off = c->out_len = c->out_used = 0;
    c->out_pooled = 0;
}

fr_err fr_conn_out_reserve(fr_conn *c, size_t n) {
    if (n <= c->out_cap - c->out_off - c->out_len) return FR_OK;
    /* Output the host has borrowed must stay where it is (buffers.c);
     * the host's argument checks keep producers away while it is. */
    FR_ENSURE(!c->out_lent, FERRULE_R_BUFFER_LENT);
    if (c->out_off > 0 && n > c->out_cap - c->out_off - c->out_len) {
        memmove(c->out, c->out + c->out_off, c->out_len);
        c->out_off = 0;
    }
    if (n <= c->out_cap - c->out_off - c->out_len) return FR_OK;
    if (c->out == NULL && n <= FR_POOL_BUF && c->state == FERRULE_HS_CONNECTED) {
        /* The standard buffer: one maximal record (what the write path
         * queues at a time), reused across drains (bufpool.c).  Handshake
         * flights are smaller and grow from 4 KiB instead, which keeps a
         * connection in its handshake small. */
        size_t used;
        fr_err e = FR_OK;
        c->out = fr_buf_get(c, &used, &e);
        FR_ENSURE(c->out != NULL, e);
        c->out_cap = FR_POOL_BUF;
        c->out_off = c->out_len = 0;
        c->out_pooled = 1;
        /* Our own input buffer from before, perhaps: records overwrite it
         * from the start, plaintext may remain beyond them, and stays
         * marked for a wipe should another connection take it. */
        c->out_used = used;
        return FR_OK;
    }
    /* Beyond it (a large handshake flight, records queued behind a full
     * one): grow by doubling, never more than one maximum record beyond
     * what is needed, so a small ceiling still fits two records. */
    size_t want = c->out_len + n;
    size_t cap = c->out_cap < 4096 ? 4096 : c->out_cap;
    while (cap < want) cap *= 2;
    if (cap > want + FR_MAX_RECORD || want > FR_MAX_PLAINTEXT) cap = want + FR_MAX_RECORD;
    uint8_t *p = fr_mem_alloc(&c->mem, cap);
    FR_ENSURE(p != NULL, fr_mem_error(&c->mem, cap));
    size_t len = c->out_len;
    if (len > 0) memcpy(p, c->out + c->out_off, len);
    fr_conn_out_release(c, 0);
    c->out = p;
    c->out_cap = cap;
    c->out_len = len;
    c->out_off = 0;
    return FR_OK;
}

/* One record of `type` under the current write protection. */
static fr_err send_record(fr_conn *c, uint8_t type, const uint8_t *data, size_t len);
fr_err fr_conn_send_record(fr_conn *c, uint8_t type, const uint8_t *data, size_t len) {
    FR_ENSURE(len <= FR_MAX_PLAINTEXT, FERRULE_R_INTERNAL);
    return send_record(c, type, data, len);
}
static fr_err send_record(fr_conn *c, uint8_t type, const uint8_t *data, size_t len) {
    size_t n = 0;
    if (fr_aead_active(&c->wr)) {
        FR_TRY(fr_conn_out_reserve(c, FR_RECORD_OVERHEAD + len));
        uint8_t *dst = c->out + c->out_off + c->out_len;
        fr_err e = fr_record_seal(&c->wr, type, data, len, 0, dst, FR_RECORD_OVERHEAD + len, &n);
        if (e != FR_OK) {
            /* The plaintext may sit there unsealed: `out` holds only
             * protected or public records (it is freed without a wipe). */
            fr_wipe(dst, FR_RECORD_OVERHEAD + len);
            return e;
        }
    } else {
        FR_TRY(fr_conn_out_reserve(c, FR_RECORD_HEADER_LEN + len));
        uint8_t *dst = c->out + c->out_off + c->out_len;
        FR_TRY(fr_record_write_plain(type, data, len, dst, FR_RECORD_HEADER_LEN + len, &n));
        /* RFC 8446 §5.1: an initial ClientHello may carry 0x0301 for
         * compatibility with middleboxes; everything else uses 0x0303. */
        if (type == FR_CT_HANDSHAKE && c->role == FERRULE_ROLE_CLIENT &&
            c->state == FERRULE_HS_START)
            dst[2] = 0x01;
    }
    c->out_len += n;
    return FR_OK;
}

/* Handshake bytes in records of at most 2^14 bytes (RFC 8446 §5.1), or
 * of the peer's record_size_limit once negotiated (RFC 8449 §4). */
static fr_err send_fragmented(fr_conn *c, const uint8_t *msg, size_t len) {
    size_t max = fr_rsl_max_fragment(c);
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off < max ? len - off : max;
        FR_TRY(send_record(c, FR_CT_HANDSHAKE, msg + off, chunk));
        off += chunk;
    }
    return FR_OK;
}

fr_err fr_conn_send_handshake(fr_conn *c, const uint8_t *msg, size_t len) {
    if (c->th_ready) FR_TRY(fr_transcript_update(&c->th, msg, len));
    return send_fragmented(c, msg, len);
}

fr_err fr_conn_send_post_handshake(fr_conn *c, const uint8_t *msg, size_t len) {
    /* Post-handshake messages are not part of the handshake transcript
     * (the dispatcher leaves received ones out too, state.c).  A
     * NewSessionTicket may exceed a small record_size_limit. */
    return send_fragmented(c, msg, len);
}

fr_err fr_conn_send_ccs(fr_conn *c) {
    /* RFC 8446 §5 / D.4: a plaintext change_cipher_spec of one byte 0x01,
     * never protected. */
    static const uint8_t ccs[1] = {1};
    size_t n = 0;
    FR_TRY(fr_conn_out_reserve(c, FR_RECORD_HEADER_LEN + 1));
    FR_TRY(fr_record_write_plain(FR_CT_CHANGE_CIPHER_SPEC, ccs, 1,
                                 c->out + c->out_off + c->out_len, FR_RECORD_HEADER_LEN + 1, &n));
    c->out_len += n;
    return FR_OK;
}

fr_err fr_client_compat_ccs(fr_conn *c) {
    if (c->session_id_len == 0 || c->early.ccs_sent) return FR_OK;
    FR_TRY(fr_conn_send_ccs(c));
    c->early.ccs_sent = 1;
    return FR_OK;
}

fr_err fr_conn_send_alert(fr_conn *c, uint8_t level, uint8_t desc) {
    const uint8_t body[2] = {level, desc};
    return send_record(c, FR_CT_ALERT, body, 2);
}

fr_err fr_conn_set_read_secret(fr_conn *c, const uint8_t *secret) {
    c->rd_epoch++;
    return fr_aead_init(&c->rd, c->suite, secret, 0);
}

fr_err fr_conn_set_write_secret(fr_conn *c, const uint8_t *secret) {
    return fr_aead_init(&c->wr, c->suite, secret, 1);
}

void fr_conn_keylog(fr_conn *c, const char *label, const uint8_t *secret) {
    fr_conn_keylog_len(c, label, secret, c->ks.hlen);
}

void fr_conn_keylog_len(fr_conn *c, const char *label, const uint8_t *secret, size_t len) {
    if (c->cfg->keylog == NULL || len > FR_MAX_HASH) return;
    /* NSS key log format: LABEL <client_random hex> <secret hex> */
    char line[64 + 2 * 32 + 2 * FR_MAX_HASH + 4];
    static const char HEX[] = "0123456789abcdef";
    size_t n = strlen(label);
    if (n > 63) return;
    memcpy(line, label, n);
    line[n++] = ' ';
    for (size_t i = 0; i < 32; i++) {
        line[n++] = HEX[c->client_random[i] >> 4];
        line[n++] = HEX[c->client_random[i] & 15];
    }
    line[n++] = ' ';
    for (size_t i = 0; i < len; i++) {
        line[n++] = HEX[secret[i] >> 4];
        line[n++] = HEX[secret[i] & 15];
    }
    line[n] = '\0';
    c->cfg->keylog(c->cfg->keylog_ctx, c, line);
    fr_wipe(line, sizeof(line));
}

/* ---- failure -------------------------------------------------------------- */

int fr_conn_wants_send(const fr_conn *c) {
    return atomic_load(&c->want_send) || atomic_load(&c->pending_alert) >= 0 ||
           atomic_load(&c->pending_key_update);
}

void fr_conn_service_send(fr_conn *c) { atomic_store(&c->want_send, 1); }

void fr_conn_do_pending(fr_conn *c) {
    /* Borrowed output must not move: the work waits for its ack. */
    if (c->out_lent) return;
    atomic_store(&c->want_send, 0);
    if (c->status == FERRULE_OK) {
        if (c->role == FERRULE_ROLE_SERVER) fr_server_send_pending_tickets(c);
        if (atomic_exchange(&c->pending_key_update, 0) && !c->closed_sent) {
            /* RFC 8446 §4.6.3: answered before our next application data. */
            fr_err e = fr_send_key_update(c, 0);
            if (e != FR_OK) (void)fr_conn_fail(c, e);
        }
    }
    int alert = atomic_exchange(&c->pending_alert, -1);
    if (alert >= 0 && !c->closed_sent) {
        c->closed_sent = 1;
        /* Best effort: the connection has already failed. */
        fr_err ignored = fr_conn_send_alert(c, 2, (uint8_t)alert);
        (void)ignored;
    }
    if (c->status != FERRULE_OK) {
        /* Dead connection: its secrets go now (the reader cannot wipe
         * what the send half may be using). */
        atomic_store(&c->pending_key_update, 0);
        atomic_store(&c->want_send, 0);
        fr_ks_wipe(&c->ks);
    }
}

fr_err fr_conn_abort(fr_conn *c, uint8_t desc) {
    fr_err prior = FR_OK;
    fr_sync_lock(&c->sync, FR_LOCK_CONN_ERR);
    if (c->status == FERRULE_OK) {
        c->reason = FERRULE_R_APP_ALERT;
        c->alert = desc;
        c->status = FERRULE_POLICY;
    } else {
        prior = c->reason;
    }
    fr_sync_unlock(&c->sync, FR_LOCK_CONN_ERR);
    if (prior != FR_OK) return prior;
    fr_state_fail(c);
    atomic_store(&c->pending_alert, (int)desc);
    fr_conn_service_send(c);
    return FERRULE_R_APP_ALERT;
}

fr_err fr_conn_fail(fr_conn *c, fr_err e) {
    int first = 0;
    fr_sync_lock(&c->sync, FR_LOCK_CONN_ERR);
    if (c->status == FERRULE_OK) {
        c->reason = e;
        if (e != FERRULE_R_PEER_ALERT) c->alert = fr_err_alert(e);
        c->status = fr_err_class(e);
        first = 1;
    }
    fr_sync_unlock(&c->sync, FR_LOCK_CONN_ERR);
    if (!first) return e;
    fr_state_fail(c);
    /* Fail closed (RFC 8446 §6.2): the alert goes out under the current
     * write keys, then nothing more (fr_conn_do_pending, which the host
     * runs under its send lock as soon as it may). */
    if (c->alert >= 0 && e != FERRULE_R_PEER_ALERT) atomic_store(&c->pending_alert, c->alert);
    fr_conn_service_send(c);
    return e;
}
