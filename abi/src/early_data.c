/* early_data.c (ABI) - 0-RTT configuration, the client's early writes and
 * the server's early reads (docs/early-data.md). */
#include "abi.h"
#include "host.h"

FERRULE_API size_t ferrule_sizeof_early_data_options(void) {
    return sizeof(ferrule_early_data_options);
}
FERRULE_API size_t ferrule_sizeof_replay_store(void) { return sizeof(ferrule_replay_store); }

/* The application's replay store into s (server): BAD_STRUCT,
 * NULL_ARGUMENT without check_and_insert. */
static fr_err custom_store(const ferrule_replay_store *in, ferrule_replay_store *store,
                           fr_early_setup *s) {
    FR_ENSURE(fr_abi_copy_struct(store, sizeof(*store), in) == FR_OK, FERRULE_R_BAD_STRUCT);
    FR_ENSURE(store->check_and_insert != NULL, FERRULE_R_NULL_ARGUMENT);
    s->store_id = store->id;
    s->check = store->check_and_insert;
    s->check_ctx = store->ctx;
    return FR_OK;
}

FERRULE_API int ferrule_config_set_early_data(ferrule_config *cfg,
                                              const ferrule_early_data_options *opts) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    ferrule_early_data_options o;
    if (fr_abi_copy_struct(&o, sizeof(o), opts) != FR_OK || o.reserved0 != 0)
        return fr_abi_setter_result(cfg, FERRULE_R_BAD_STRUCT);
    fr_early_setup s = {.max_size = o.max_early_data_size, .window_ms = o.window_ms,
                        .capacity = o.capacity, .accept = o.accept, .accept_ctx = o.accept_ctx};
    fr_err e = fr_early_setup_check(&s);
    ferrule_replay_store store;
    if (e == FR_OK && o.store != NULL) e = custom_store(o.store, &store, &s);
    if (e != FR_OK) return fr_abi_setter_result(cfg, e);
    int server = fr_cfg_role(cfg) == FERRULE_ROLE_SERVER;
    fr_bloom *bloom = NULL;
    if (server && o.store == NULL) {
        e = fr_bloom_new(fr_cfg_mem(cfg), s.capacity, fr_engine_ticket_lifetime(),
                         fr_abi_now(cfg), &bloom);
        if (e != FR_OK) return fr_abi_setter_result(cfg, e);
    }
    e = fr_cfg_set_early_data(cfg, &s);
    if (e != FR_OK) {
        fr_bloom_free(fr_cfg_mem(cfg), bloom);
        return fr_abi_setter_result(cfg, e);
    }
    if (server) fr_abi_set_bloom(cfg, bloom); /* (a custom store replaces ours) */
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
    if (fr_conn_role(c) != FERRULE_ROLE_CLIENT) return fr_abi_usage(c, FERRULE_R_WRONG_STATE);
    if (fr_conn_failed_status(c) != FERRULE_OK) return fr_conn_failed_status(c);
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_abi_conn_clock(c);
    size_t done = 0;
    int st = fr_abi_status_of(c, fr_conn_write_early(c, buf, len, &done));
    if (st == FERRULE_OK && done == 0 && len > 0) st = FERRULE_WANT_WRITE; /* output full */
    if (fr_conn_wants_send(c)) fr_conn_do_pending(c); /* a failure's alert */
    /* Callback I/O: out it goes (the ClientHello too). */
    if (fr_conn_has_io(c) && (st == FERRULE_OK || st == FERRULE_WANT_WRITE) &&
        fr_conn_failed_status(c) == FERRULE_OK) {
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
    if (fr_conn_role(c) != FERRULE_ROLE_SERVER) return fr_abi_usage(c, FERRULE_R_WRONG_STATE);
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    fr_abi_conn_clock(c);
    int st;
    for (;;) {
        if (fr_conn_failed_status(c) != FERRULE_OK) {
            st = fr_conn_failed_status(c);
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
    return c != NULL ? fr_conn_early_status(c) : FERRULE_EARLY_NOT_OFFERED;
}

FERRULE_API size_t ferrule_conn_early_data_len(const ferrule_conn *c) {
    return c != NULL ? fr_conn_early_len(c) : 0;
}

FERRULE_API uint32_t ferrule_conn_early_data_reason(const ferrule_conn *c) {
    return c != NULL ? fr_conn_early_reason(c) : FERRULE_EARLY_REASON_NONE;
}
