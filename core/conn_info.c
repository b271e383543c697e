/*
 * conn_info.c - the connection engine's lifecycle and what the application
 * reads of a connection (engine.h, "configuration and lifecycle"): the
 * sticky status, the negotiated parameters, the peer's certificates, the
 * session to resume with.  The host (abi/src/conn.c) checks arguments and
 * takes its locks; these functions only read or record.
 */
#include "conn.h"

/* ---- lifecycle ------------------------------------------------------------ */

fr_err fr_conn_check_new(const fr_config *cfg, const char *server_name, size_t memory_limit) {
    FR_ENSURE(memory_limit == 0 || memory_limit >= FR_MIN_MEMORY_LIMIT, FERRULE_R_CONFIG_INVALID);
    /* A server needs a certificate, and the server name is the client's to
     * send (a server learns it from the ClientHello). */
    FR_ENSURE(cfg->role != FERRULE_ROLE_SERVER || cfg->n_chains > 0, FERRULE_R_CONFIG_INVALID);
    FR_ENSURE(cfg->role != FERRULE_ROLE_SERVER || server_name == NULL, FERRULE_R_CONFIG_INVALID);
    return FR_OK;
}

fr_conn *fr_conn_alloc(fr_config *cfg, size_t memory_limit) {
    size_t limit = memory_limit != 0 ? memory_limit : cfg->memory_limit;
    fr_mem m;
    fr_mem_init(&m, &cfg->alloc, limit);
    fr_conn *c = fr_mem_alloc(&m, sizeof(*c));
    if (c == NULL) return NULL;
    /* Enough for fr_conn_free before fr_conn_start. */
    fr_mem_init(&c->mem, &cfg->alloc, limit);
    c->cfg = cfg;
    fr_cfg_ref(cfg);
    return c;
}

fr_err fr_conn_start(fr_conn *c, const char *server_name) {
    /* fr_conn_init starts the accounting afresh; the struct itself counts
     * against the connection's ceiling from then on (as fr_mem_adopt of
     * the allocation in fr_conn_alloc). */
    fr_mem boot;
    fr_mem_init(&boot, NULL, 0);
    atomic_store(&boot.used, sizeof(*c));
    fr_err e = fr_conn_init(c, c->cfg, server_name, c->mem.limit);
    fr_mem_adopt(&c->mem, &boot);
    return e;
}

void fr_conn_set_sync(fr_conn *c, const fr_sync *s) {
    c->sync = s != NULL ? *s : (fr_sync){NULL, NULL, NULL, NULL};
}

void *fr_conn_host(const fr_conn *c) { return c->host; }
fr_config *fr_conn_config(const fr_conn *c) { return c->cfg; }
void fr_conn_set_host(fr_conn *c, void *host) { c->host = host; }

fr_err fr_conn_host_alloc(fr_conn *c, size_t n, void **out) {
    *out = fr_mem_alloc(&c->mem, n);
    FR_ENSURE(*out != NULL, fr_mem_error(&c->mem, n));
    return FR_OK;
}

void fr_conn_host_free(fr_conn *c, void *p, size_t n) { fr_mem_free(&c->mem, p, n); }

int fr_conn_has_io(const fr_conn *c) { return c->has_io; }
void fr_conn_set_has_io(fr_conn *c) { c->has_io = 1; }

void fr_conn_free(fr_conn *c) {
    fr_config *cfg = c->cfg;
    fr_conn_release(c);
    fr_mem_free_owner(&c->mem, c, sizeof(*c));
    fr_cfg_release(cfg);
}

/* ---- errors --------------------------------------------------------------- */

int fr_conn_status(const fr_conn *c) { return c->status; }

uint32_t fr_conn_reason(const fr_conn *c) {
    return c->status != FERRULE_OK ? c->reason : c->usage_reason;
}

void fr_conn_set_usage_reason(fr_conn *c, fr_err e) { c->usage_reason = e; }
int fr_conn_alert(const fr_conn *c) { return c->alert; }

int fr_conn_alert_info(const fr_conn *c, uint8_t *alert, int *received) {
    /* The sticky failure's fields are written together under this lock
     * (conn.c: fr_conn_fail, peer_alert). */
    fr_sync_lock(&c->sync, FR_LOCK_CONN_ERR);
    int a = c->alert;
    int peer = c->status != FERRULE_OK && c->reason == FERRULE_R_PEER_ALERT;
    fr_sync_unlock(&c->sync, FR_LOCK_CONN_ERR);
    if (a < 0 || a > 255) return 0;
    *alert = (uint8_t)a;
    *received = peer;
    return 1;
}

/* ---- negotiated parameters ------------------------------------------------ */

uint32_t fr_conn_role(const fr_conn *c) { return c->role; }
uint32_t fr_conn_handshake_state(const fr_conn *c) { return c->state; }
uint32_t fr_conn_failed_state(const fr_conn *c) {
    uint32_t st = c->state;
    return st == FERRULE_HS_FAILED ? c->failed_in : st;
}
uint16_t fr_conn_version(const fr_conn *c) { return c->version; }
uint16_t fr_conn_cipher_suite(const fr_conn *c) { return c->suite; }
uint16_t fr_conn_group(const fr_conn *c) { return c->group; }
uint16_t fr_conn_peer_signature_scheme(const fr_conn *c) { return c->peer_sig; }
uint16_t fr_conn_signature_scheme(const fr_conn *c) { return c->our_sig; }

void fr_conn_alpn(const fr_conn *c, const uint8_t **proto, size_t *len) {
    *proto = c->alpn_len > 0 ? c->alpn : NULL;
    *len = c->alpn_len;
}

const char *fr_conn_server_name(const fr_conn *c) {
    return c->has_server_name ? c->server_name : NULL;
}

size_t fr_conn_peer_cert_count(const fr_conn *c) { return c->n_peer_ders; }

int fr_conn_peer_cert(const fr_conn *c, size_t i, const uint8_t **der, size_t *len) {
    return fr_conn_peer_der(c, i, der, len);
}

const struct ferrule_verify_result *fr_conn_verify_result(const fr_conn *c) {
    return c->verify_result != NULL && c->verify_result->reason == FR_OK ? c->verify_result : NULL;
}
int fr_conn_resumed(const fr_conn *c) { return c->resume.resumed != 0; }
int fr_conn_hrr(const fr_conn *c) { return c->hrr.done != 0; }
int fr_conn_ocsp_stapled(const fr_conn *c) { return c->ocsp_stapled; }
void fr_conn_peer_ocsp(const fr_conn *c, const uint8_t **der, size_t *len) {
    *der = c->peer_ocsp;
    *len = c->peer_ocsp_len;
}
size_t fr_conn_memory_used(const fr_conn *c) { return atomic_load(&c->mem.used); }
uint64_t fr_conn_key_updates_sent(const fr_conn *c) { return atomic_load(&c->ku.sent); }
uint64_t fr_conn_key_updates_received(const fr_conn *c) { return atomic_load(&c->ku.received); }

/* RFC 8449: send_limit is set once both sides sent the extension, and only
 * then. */
uint32_t fr_conn_peer_record_size_limit(const fr_conn *c) { return c->rsl.send_limit; }

/* ---- secrets and sessions --------------------------------------------------- */

fr_err fr_conn_export_keying_material(fr_conn *c, const char *label, size_t label_len,
                                      const uint8_t *context, size_t context_len, uint8_t *out,
                                      size_t out_len) {
    FR_ENSURE(c->state == FERRULE_HS_CONNECTED && c->status == FERRULE_OK,
              FERRULE_R_WRONG_STATE);
    return fr_ks_export(c->ks.hash, c->ks.exporter, label, label_len, context, context_len, out,
                        out_len);
}

fr_err fr_conn_key_update(fr_conn *c, int request_peer) {
    FR_ENSURE(!c->closed_sent, FERRULE_R_WRONG_STATE);
    return fr_ku_initiate(c, request_peer);
}

fr_err fr_conn_session(fr_conn *c, uint8_t *out, size_t cap, size_t *len) {
    fr_sync_lock(&c->sync, FR_LOCK_CONN_ERR);
    fr_err e = fr_client_session_blob(c, out, cap, len);
    fr_sync_unlock(&c->sync, FR_LOCK_CONN_ERR);
    return e;
}

fr_err fr_conn_set_session(fr_conn *c, const uint8_t *blob, size_t len) {
    FR_ENSURE(c->role == FERRULE_ROLE_CLIENT && c->state == FERRULE_HS_START &&
                  c->resume.offer_blob == NULL,
              FERRULE_R_WRONG_STATE);
    fr_session s;
    FR_ENSURE(fr_session_parse(blob, len, &s) == FR_OK, FERRULE_R_DECODE_ERROR);
    uint8_t *copy = fr_mem_alloc(&c->mem, len);
    FR_ENSURE(copy != NULL, fr_mem_error(&c->mem, len));
    memcpy(copy, blob, len);
    /* Re-parse the copy: the pointers must point into it. */
    if (fr_session_parse(copy, len, &c->resume.offer) != FR_OK) {
        fr_mem_free(&c->mem, copy, len);
        return FERRULE_R_INTERNAL;
    }
    c->resume.offer_blob = copy;
    c->resume.offer_len = len;
    return FR_OK;
}
