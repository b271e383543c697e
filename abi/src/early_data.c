/* early_data.c (ABI) - 0-RTT configuration, the client's early writes and
 * the server's early reads (docs/early-data.md). */
#include "abi.h"
#include "host.h"

FERRULE_API size_t ferrule_sizeof_early_data_options(void) {
    return sizeof(ferrule_early_data_options);
}
FERRULE_API size_t ferrule_sizeof_replay_store(void) { return sizeof(ferrule_replay_store); }

FERRULE_API int ferrule_config_set_early_data(ferrule_config *cfg,
                                              const ferrule_early_data_options *opts) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    ferrule_early_data_options o;
    if (fr_abi_copy_struct(&o, sizeof(o), opts) != FR_OK || o.reserved0 != 0)
        return fr_abi_setter_result(cfg, FERRULE_R_BAD_STRUCT);
    uint32_t max = o.max_early_data_size != 0 ? o.max_early_data_size : FR_EARLY_DEFAULT_MAX;
    uint32_t window = o.window_ms != 0 ? o.window_ms : FR_EARLY_DEFAULT_WINDOW_MS;
    uint32_t capacity = o.capacity != 0 ? o.capacity : FR_EARLY_DEFAULT_CAPACITY;
    if (max > FR_EARLY_MAX_MAX || window < FR_EARLY_MIN_WINDOW_MS ||
        window > FR_TICKET_LIFETIME * 1000u || capacity < FR_EARLY_MIN_CAPACITY ||
        capacity > FR_EARLY_MAX_CAPACITY)
        return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    ferrule_replay_store store;
    int custom = o.store != NULL;
    if (custom) {
        if (fr_abi_copy_struct(&store, sizeof(store), o.store) != FR_OK)
            return fr_abi_setter_result(cfg, FERRULE_R_BAD_STRUCT);
        if (store.check_and_insert == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    }
    fr_early_config *ec = &cfg->early;
    if (cfg->role == FERRULE_ROLE_SERVER) {
        fr_bloom *bloom = NULL;
        uint8_t id[FR_REPLAY_ID_LEN];
        if (custom) {
            memcpy(id, store.id, sizeof(id));
        } else {
            /* A fresh store has a fresh identity: tickets from before (a
             * restart, another server) never carry 0-RTT here. */
            int64_t now = fr_abi_now(cfg);
            fr_err e = fr_random(id, sizeof(id));
            if (e == FR_OK)
                e = fr_bloom_new(fr_cfg_mem(cfg), capacity, FR_TICKET_LIFETIME, now, &bloom);
            if (e != FR_OK) return fr_abi_setter_result(cfg, e);
        }
        fr_abi_set_bloom(cfg, bloom);
        memcpy(ec->store_id, id, sizeof(id));
        ec->check = custom ? store.check_and_insert : NULL;
        ec->check_ctx = custom ? store.ctx : NULL;
        ec->accept = o.accept;
        ec->accept_ctx = o.accept_ctx;
    }
    ec->enabled = 1;
    ec->max_size = max;
    ec->window_ms = window;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_conn_write_early_data(ferrule_conn *c, const uint8_t *buf, size_t len,
                                              uint32_t flags, size_t *n) {
    if (n != NULL) *n = 0;
    if (c == NULL || n == NULL || (buf == NULL && len > 0))
        return fr_abi_usage(c, FERRULE_R_NULL_ARGUMENT);
    /* The explicit declaration that the data may be replayed. */
    if (!(flags & FERRULE_EARLY_DATA_REPLAY_SAFE) || (flags & ~FERRULE_EARLY_DATA_REPLAY_SAFE))
        return fr_abi_usage(c, FERRULE_R_NOT_REPLAY_SAFE);
    if (c->role != FERRULE_ROLE_CLIENT) return fr_abi_usage(c, FERRULE_R_WRONG_STATE);
    if (c->status != FERRULE_OK) return c->status;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    int st = FERRULE_OK;
    if (c->state == FERRULE_HS_START) {
        if (!fr_client_early_possible(c)) {
            st = fr_abi_usage(c, FERRULE_R_NO_EARLY_DATA);
        } else {
            /* Send the ClientHello now, with early_data. */
            c->early.want = 1;
            fr_err e = fr_dispatch_start(c);
            if (e != FR_OK) st = fr_abi_status_of(c, fr_conn_fail(c, e));
        }
    }
    if (st == FERRULE_OK && !fr_client_early_pending(c))
        st = fr_abi_usage(c, c->early.offered ? FERRULE_R_WRONG_STATE : FERRULE_R_NO_EARLY_DATA);
    if (st == FERRULE_OK && c->state != FERRULE_HS_WAIT_SERVER_HELLO)
        st = fr_abi_usage(c, FERRULE_R_WRONG_STATE);
    size_t done = 0;
    if (st == FERRULE_OK) {
        fr_err e = fr_client_write_early(c, buf, len, &done);
        if (e != FR_OK && e != FERRULE_R_NO_EARLY_DATA && e != FERRULE_R_WRONG_STATE)
            e = fr_conn_fail(c, e);
        st = fr_abi_status_of(c, e);
        if (st == FERRULE_OK && done == 0 && len > 0) st = FERRULE_WANT_WRITE; /* output full */
    }
    if (fr_conn_wants_send(c)) fr_conn_do_pending(c); /* a failure's alert */
    /* Callback I/O: out it goes (the ClientHello too). */
    if (fr_conn_has_io(c) && (st == FERRULE_OK || st == FERRULE_WANT_WRITE) && c->status == FERRULE_OK) {
        int fst = fr_abi_flush_out(c);
        if (fst != FERRULE_OK && fst != FERRULE_WANT_WRITE) st = fst;
    }
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    *n = done;
    if (st == FERRULE_WANT_WRITE && done > 0) st = FERRULE_OK;
    return st;
}

FERRULE_API int ferrule_conn_read_early_data(ferrule_conn *c, uint8_t *buf, size_t cap,
                                             size_t *n) {
    if (n != NULL) *n = 0;
    if (c == NULL || buf == NULL || n == NULL) return fr_abi_usage(c, FERRULE_R_NULL_ARGUMENT);
    if (cap == 0) return fr_abi_usage(c, FERRULE_R_BUFFER_TOO_SMALL);
    if (c->role != FERRULE_ROLE_SERVER) return fr_abi_usage(c, FERRULE_R_WRONG_STATE);
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    fr_abi_conn_clock(c);
    int st;
    for (;;) {
        if (c->status != FERRULE_OK) {
            st = c->status;
            break;
        }
        if ((*n = fr_early_take(c, buf, cap)) > 0) {
            st = FERRULE_OK;
            break;
        }
        if (!fr_conn_in_early_phase(c)) {
            st = FERRULE_OK; /* *n == 0: no more early data */
            break;
        }
        pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
        fr_progress pr;
        fr_err e = fr_abi_advance(c, 1, &pr);
        if (fr_conn_wants_send(c)) fr_conn_do_pending(c);
        st = fr_conn_status_for(c, e, pr);
        int fst = fr_abi_flush_out(c);
        pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
        if (st == FERRULE_OK && fst != FERRULE_OK && fst != FERRULE_WANT_WRITE) st = fst;
        if (st == FERRULE_OK) continue;
        if (st != FERRULE_WANT_READ || !fr_conn_has_io(c)) break;
        st = fr_abi_fill_in(c);
        if (st != FERRULE_OK) break;
    }
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return st;
}

FERRULE_API uint32_t ferrule_conn_early_data_status(const ferrule_conn *c) {
    return c != NULL ? c->early.status : FERRULE_EARLY_NOT_OFFERED;
}

FERRULE_API size_t ferrule_conn_early_data_len(const ferrule_conn *c) {
    if (c == NULL) return 0;
    return c->role == FERRULE_ROLE_CLIENT ? c->early.sent : c->early.received;
}
