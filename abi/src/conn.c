/*
 * conn.c (ABI) - ferrule_conn entry points: lifecycle, callback I/O setup,
 * errors and introspection.  The data path (buffer I/O, callback I/O, the
 * drivers) is in conn_io.c.
 *
 * Lock order: rd_lock, then wr_lock (recursive), then err_lock.  The send
 * half never takes rd_lock.
 */
#include "abi.h"
#include "host.h"

static int usage(ferrule_conn *c, fr_err e) {
    if (c != NULL) fr_conn_set_usage_reason(c, e);
    return FERRULE_USAGE;
}

/* Map a core result to the public status. */
static int status_of(ferrule_conn *c, fr_err e) { return fr_conn_status_for(c, e, FR_PROGRESS_DONE); }

/* ---- lifecycle ------------------------------------------------------------ */

/* core/sync.h for a connection: its ctx is the ABI's host block. */
static void conn_lock(void *ctx, unsigned id) {
    fr_abi_conn_host *h = ctx;
    if (id == FR_LOCK_CONN_ERR) pthread_mutex_lock(&h->err_lock);
}

static void conn_unlock(void *ctx, unsigned id) {
    fr_abi_conn_host *h = ctx;
    if (id == FR_LOCK_CONN_ERR) pthread_mutex_unlock(&h->err_lock);
}

/* The ABI's host block of a started connection (see abi.h for the lock
 * order), from the connection's accounted memory; also the context of
 * its sync. */
static fr_err conn_host_new(ferrule_conn *c) {
    fr_abi_conn_host *h;
    FR_TRY(fr_conn_host_alloc(c, sizeof(*h), (void **)&h));
    pthread_mutexattr_t rec;
    pthread_mutexattr_init(&rec);
    pthread_mutexattr_settype(&rec, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&h->wr_lock, &rec);
    pthread_mutexattr_destroy(&rec);
    pthread_mutex_init(&h->rd_lock, NULL);
    pthread_mutex_init(&h->err_lock, NULL);
    fr_conn_set_host(c, h);
    fr_sync s = {conn_lock, conn_unlock, h, NULL};
    fr_conn_set_sync(c, &s);
    return FR_OK;
}

/* A refusal of ferrule_conn_new is reported on the config. */
static int refuse_new(ferrule_config *cfg, fr_err e) {
    fr_cfg_set_reason(cfg, e);
    return FERRULE_USAGE;
}

FERRULE_API int ferrule_conn_new(ferrule_conn **out, ferrule_config *cfg,
                                 const ferrule_conn_options *opts) {
    if (out != NULL) *out = NULL;
    if (out == NULL || cfg == NULL) return FERRULE_USAGE;
    ferrule_conn_options o;
    if (fr_abi_copy_struct(&o, sizeof(o), opts) != FR_OK || o.reserved0 != 0)
        return refuse_new(cfg, FERRULE_R_BAD_STRUCT);
    fr_err e = fr_conn_check_new(cfg, o.server_name, o.memory_limit);
    if (e != FR_OK) return refuse_new(cfg, e);
    ferrule_conn *c = fr_conn_alloc(cfg, o.memory_limit);
    if (c == NULL) return FERRULE_INTERNAL;
    /* From here on connections read the config without locks. */
    fr_cfg_freeze(cfg);
    e = fr_conn_start(c, o.server_name);
    if (e == FR_OK) e = conn_host_new(c);
    if (e != FR_OK) {
        fr_cfg_set_reason(cfg, e);
        ferrule_conn_free(c);
        return fr_err_class(e);
    }
    fr_abi_conn_clock(c);
    *out = c;
    return FERRULE_OK;
}

FERRULE_API void ferrule_conn_free(ferrule_conn *c) {
    if (c == NULL) return;
    /* No other thread may use c any more: the engine releases it without
     * the locks, which go first. */
    fr_abi_conn_host *h = fr_abi_host(c);
    fr_conn_set_sync(c, NULL);
    if (h != NULL) {
        pthread_mutex_destroy(&h->rd_lock);
        pthread_mutex_destroy(&h->wr_lock);
        pthread_mutex_destroy(&h->err_lock);
        fr_conn_set_host(c, NULL);
        fr_conn_host_free(c, h, sizeof(*h));
    }
    fr_conn_free(c);
}

FERRULE_API int ferrule_conn_set_io(ferrule_conn *c, const ferrule_io_callbacks *io) {
    if (c == NULL || io == NULL) return usage(c, FERRULE_R_NULL_ARGUMENT);
    ferrule_io_callbacks cb;
    if (fr_abi_copy_struct(&cb, sizeof(cb), io) != FR_OK) return usage(c, FERRULE_R_BAD_STRUCT);
    if (cb.send == NULL || cb.recv == NULL) return usage(c, FERRULE_R_NULL_ARGUMENT);
    uint32_t st = fr_conn_handshake_state(c);
    if (st != FERRULE_HS_START && st != FERRULE_HS_WAIT_CLIENT_HELLO)
        return usage(c, FERRULE_R_WRONG_STATE);
    fr_abi_host(c)->io = cb;
    fr_conn_set_has_io(c);
    return FERRULE_OK;
}

/* ---- errors and introspection ---------------------------------------------- */

FERRULE_API int ferrule_conn_status(const ferrule_conn *c) {
    return c != NULL ? fr_conn_status(c) : FERRULE_USAGE;
}
FERRULE_API uint32_t ferrule_conn_reason(const ferrule_conn *c) {
    return c != NULL ? fr_conn_reason(c) : FERRULE_R_NULL_ARGUMENT;
}
FERRULE_API int ferrule_conn_alert(const ferrule_conn *c) { return c != NULL ? fr_conn_alert(c) : -1; }
FERRULE_API uint32_t ferrule_conn_get_alert(const ferrule_conn *c, uint8_t *alert,
                                            uint32_t *received) {
    uint8_t a = 0;
    int peer = 0;
    if (c == NULL || !fr_conn_alert_info(c, &a, &peer)) return 0;
    if (alert != NULL) *alert = a;
    if (received != NULL) *received = peer ? 1u : 0u;
    return 1;
}
FERRULE_API const char *ferrule_conn_error_message(const ferrule_conn *c) {
    return ferrule_reason_message(ferrule_conn_reason(c));
}
FERRULE_API uint32_t ferrule_conn_role(const ferrule_conn *c) { return c ? fr_conn_role(c) : 0; }
FERRULE_API uint32_t ferrule_conn_handshake_state(const ferrule_conn *c) {
    return c ? fr_conn_handshake_state(c) : FERRULE_HS_FAILED;
}
FERRULE_API uint32_t ferrule_conn_failed_state(const ferrule_conn *c) {
    return c ? fr_conn_failed_state(c) : FERRULE_HS_FAILED;
}
FERRULE_API uint16_t ferrule_conn_version(const ferrule_conn *c) {
    return c ? fr_conn_version(c) : 0;
}
FERRULE_API uint16_t ferrule_conn_cipher_suite(const ferrule_conn *c) {
    return c ? fr_conn_cipher_suite(c) : 0;
}
FERRULE_API uint16_t ferrule_conn_group(const ferrule_conn *c) { return c ? fr_conn_group(c) : 0; }
FERRULE_API uint16_t ferrule_conn_peer_signature_scheme(const ferrule_conn *c) {
    return c ? fr_conn_peer_signature_scheme(c) : 0;
}
FERRULE_API uint16_t ferrule_conn_signature_scheme(const ferrule_conn *c) {
    return c ? fr_conn_signature_scheme(c) : 0;
}
FERRULE_API void ferrule_conn_alpn(const ferrule_conn *c, const uint8_t **proto, size_t *len) {
    const uint8_t *p = NULL;
    size_t n = 0;
    if (c != NULL) fr_conn_alpn(c, &p, &n);
    if (proto != NULL) *proto = p;
    if (len != NULL) *len = n;
}
FERRULE_API const char *ferrule_conn_server_name(const ferrule_conn *c) {
    return c != NULL ? fr_conn_server_name(c) : NULL;
}
FERRULE_API size_t ferrule_conn_peer_cert_count(const ferrule_conn *c) {
    return c ? fr_conn_peer_cert_count(c) : 0;
}
FERRULE_API int ferrule_conn_peer_cert(const ferrule_conn *c, size_t i, const uint8_t **der,
                                       size_t *len) {
    if (c == NULL || der == NULL || len == NULL) return FERRULE_USAGE;
    return fr_conn_peer_cert(c, i, der, len) ? FERRULE_OK : FERRULE_USAGE;
}
FERRULE_API int ferrule_conn_resumed(const ferrule_conn *c) {
    return c != NULL && fr_conn_resumed(c);
}
FERRULE_API int ferrule_conn_hrr(const ferrule_conn *c) { return c != NULL && fr_conn_hrr(c); }
FERRULE_API size_t ferrule_conn_memory_used(const ferrule_conn *c) {
    return c ? fr_conn_memory_used(c) : 0;
}

/* KeyUpdate counters (RFC 8446 §4.6.3, §5.5; docs/key-update.md). */
FERRULE_API uint64_t ferrule_conn_key_updates_sent(const ferrule_conn *c) {
    return c != NULL ? fr_conn_key_updates_sent(c) : 0;
}
FERRULE_API uint64_t ferrule_conn_key_updates_received(const ferrule_conn *c) {
    return c != NULL ? fr_conn_key_updates_received(c) : 0;
}

/* RFC 8449: the peer's limit on what we send, once negotiated
 * (docs/record-size-limit.md). */
FERRULE_API uint32_t ferrule_conn_peer_record_size_limit(const ferrule_conn *c) {
    return c != NULL ? fr_conn_peer_record_size_limit(c) : 0;
}

FERRULE_API int ferrule_conn_export_keying_material(ferrule_conn *c, const char *label,
                                                    size_t label_len, const uint8_t *context,
                                                    size_t context_len, uint8_t *out,
                                                    size_t out_len) {
    if (c == NULL || label == NULL || out == NULL || (context == NULL && context_len > 0))
        return usage(c, FERRULE_R_NULL_ARGUMENT);
    fr_err e = fr_conn_export_keying_material(c, label, label_len, context, context_len, out,
                                              out_len);
    return e == FR_OK ? FERRULE_OK : usage(c, e);
}

/* ---- shared with the other ABI files (abi.h) -------------------------------- */

int fr_abi_usage(ferrule_conn *c, fr_err e) { return usage(c, e); }
int fr_abi_status_of(ferrule_conn *c, fr_err e) { return status_of(c, e); }
