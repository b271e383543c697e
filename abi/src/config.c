/*
 * config.c (ABI) - ferrule_config entry points: argument checks, the
 * frozen check and the reason of every setter, file reading, the host's
 * locks; the rest is the configuration engine (core/config.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "abi.h"
#include "host.h"

fr_err fr_abi_copy_struct(void *dst, size_t known, const void *src) {
    memset(dst, 0, known);
    if (src == NULL) return FR_OK;
    uint32_t given;
    memcpy(&given, src, sizeof(given));
    if (given < sizeof(uint32_t)) return FERRULE_R_BAD_STRUCT;
    /* The openat2 rule: a newer caller's extra fields must be zero. */
    for (size_t i = known; i < given; i++)
        if (((const uint8_t *)src)[i] != 0) return FERRULE_R_BAD_STRUCT;
    memcpy(dst, src, given < known ? given : known);
    return FR_OK;
}

static fr_err read_file(fr_mem *m, const char *path, uint8_t **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return FERRULE_R_CONFIG_FILE;
    fr_err e = FR_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || size > 64L * 1024 * 1024 || fseek(f, 0, SEEK_SET) != 0) e = FERRULE_R_CONFIG_FILE;
    uint8_t *buf = NULL;
    if (e == FR_OK) {
        buf = fr_mem_alloc(m, (size_t)size + 1);
        if (buf == NULL) e = fr_mem_error(m, (size_t)size + 1);
    }
    if (e == FR_OK && size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fr_mem_free(m, buf, (size_t)size + 1);
        e = FERRULE_R_CONFIG_FILE;
    }
    fclose(f);
    if (e != FR_OK) return e;
    *out = buf;
    *len = (size_t)size;
    return FR_OK;
}

static void free_file(fr_mem *m, uint8_t *buf, size_t len) {
    if (buf != NULL) fr_mem_free(m, buf, len + 1);
}

FERRULE_API uint32_t ferrule_version(void) {
    return (FERRULE_VERSION_MAJOR << 16) | (FERRULE_VERSION_MINOR << 8) | FERRULE_VERSION_PATCH;
}
FERRULE_API const char *ferrule_version_string(void) { return "0.1.0"; }
FERRULE_API size_t ferrule_sizeof_allocator(void) { return sizeof(ferrule_allocator); }
FERRULE_API size_t ferrule_sizeof_conn_options(void) { return sizeof(ferrule_conn_options); }
FERRULE_API size_t ferrule_sizeof_io_callbacks(void) { return sizeof(ferrule_io_callbacks); }
FERRULE_API size_t ferrule_max_plaintext_record(void) { return fr_engine_max_plaintext(); }
FERRULE_API size_t ferrule_max_ciphertext_record(void) { return fr_engine_max_ciphertext(); }
FERRULE_API size_t ferrule_default_memory_limit(void) { return fr_engine_default_memory_limit(); }

/* ---- lifecycle ------------------------------------------------------------ */

static fr_err config_host_new(ferrule_config *cfg);

FERRULE_API int ferrule_config_new(ferrule_config **out, uint32_t role,
                                   const ferrule_allocator *alloc) {
    if (out == NULL) return FERRULE_USAGE;
    *out = NULL;
    if (role != FERRULE_ROLE_CLIENT && role != FERRULE_ROLE_SERVER) return FERRULE_USAGE;
    ferrule_allocator a;
    if (fr_abi_copy_struct(&a, sizeof(a), alloc) != FR_OK) return FERRULE_USAGE;
    if ((a.alloc == NULL) != (a.free == NULL)) return FERRULE_USAGE;
    fr_allocator fa = {a.alloc, a.free, a.ctx};
    fr_config *cfg;
    if (fr_cfg_new(&cfg, role, &fa) != FR_OK) return FERRULE_INTERNAL;
    if (config_host_new(cfg) != FR_OK) {
        fr_cfg_release(cfg);
        return FERRULE_INTERNAL;
    }
    *out = cfg;
    return FERRULE_OK;
}

FERRULE_API void ferrule_config_ref(ferrule_config *cfg) {
    if (cfg != NULL) fr_cfg_ref(cfg);
}

FERRULE_API void ferrule_config_free(ferrule_config *cfg) {
    if (cfg != NULL) fr_cfg_release(cfg);
}

FERRULE_API uint32_t ferrule_config_reason(const ferrule_config *cfg) {
    return cfg != NULL ? fr_cfg_reason(cfg) : FERRULE_R_NULL_ARGUMENT;
}

/* The ABI's block of a config (abi.h): the locks of core/sync.h, the
 * time callback and the built-in replay store, allocated with the config
 * and released by the engine as the config goes. */
typedef fr_abi_config_host config_host;

/* Called by the engine as the config is destroyed. */
static void config_host_release(void *ctx) {
    config_host *h = ctx;
    fr_bloom_free(fr_cfg_mem(h->cfg), h->bloom);
    pthread_mutex_destroy(&h->tickets);
    fr_mem_free(fr_cfg_mem(h->cfg), h, sizeof(*h));
}

fr_bloom *fr_abi_host_bloom(void *host) {
    return host != NULL ? ((config_host *)host)->bloom : NULL;
}

void fr_abi_set_bloom(fr_config *cfg, fr_bloom *b) {
    config_host *h = fr_cfg_host(cfg);
    fr_bloom_free(fr_cfg_mem(cfg), h->bloom);
    h->bloom = b;
}

static void config_lock(void *ctx, unsigned id) {
    config_host *h = ctx;
    if (id == FR_LOCK_CFG_TICKETS) pthread_mutex_lock(&h->tickets);
}

static void config_unlock(void *ctx, unsigned id) {
    config_host *h = ctx;
    if (id == FR_LOCK_CFG_TICKETS) pthread_mutex_unlock(&h->tickets);
}

static fr_err config_host_new(ferrule_config *cfg) {
    fr_mem *m = fr_cfg_mem(cfg);
    config_host *h = fr_mem_alloc(m, sizeof(*h));
    FR_ENSURE(h != NULL, fr_mem_error(m, sizeof(*h)));
    if (pthread_mutex_init(&h->tickets, NULL) != 0) {
        fr_mem_free(m, h, sizeof(*h));
        return FERRULE_R_INTERNAL;
    }
    h->cfg = cfg;
    fr_cfg_set_host(cfg, h);
    fr_sync s = {config_lock, config_unlock, h, config_host_release};
    fr_cfg_set_sync(cfg, &s);
    return FR_OK;
}

/* Common prologue of every setter: a usable, unfrozen config. */
int fr_abi_setter_check(ferrule_config *cfg) {
    if (cfg == NULL) return FERRULE_USAGE;
    if (fr_cfg_frozen(cfg)) {
        fr_cfg_set_reason(cfg, FERRULE_R_CONFIG_FROZEN);
        return FERRULE_USAGE;
    }
    return FERRULE_OK;
}

int fr_abi_setter_result(ferrule_config *cfg, fr_err e) {
    fr_cfg_set_reason(cfg, e);
    return e == FR_OK ? FERRULE_OK : fr_err_class(e);
}

/* ---- algorithm lists and ALPN --------------------------------------------- */

typedef fr_err (*list_setter)(fr_config *cfg, const uint16_t *v, size_t n);

static int set_list(ferrule_config *cfg, const uint16_t *v, size_t n, list_setter set) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (v == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, set(cfg, v, n));
}

FERRULE_API int ferrule_config_set_cipher_suites(ferrule_config *cfg, const uint16_t *s, size_t n) {
    return set_list(cfg, s, n, fr_cfg_set_cipher_suites);
}
FERRULE_API int ferrule_config_set_groups(ferrule_config *cfg, const uint16_t *g, size_t n) {
    return set_list(cfg, g, n, fr_cfg_set_groups);
}
FERRULE_API int ferrule_config_set_signature_schemes(ferrule_config *cfg, const uint16_t *s,
                                                     size_t n) {
    return set_list(cfg, s, n, fr_cfg_set_signature_schemes);
}
FERRULE_API int ferrule_config_set_verify_signature_schemes(ferrule_config *cfg, const uint16_t *s,
                                                            size_t n) {
    return set_list(cfg, s, n, fr_cfg_set_verify_signature_schemes);
}

FERRULE_API int ferrule_config_add_alpn(ferrule_config *cfg, const uint8_t *proto, size_t len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (proto == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, fr_cfg_add_alpn(cfg, proto, len));
}

/* ---- trust anchors and our certificate chains ----------------------------- */

FERRULE_API int ferrule_config_add_trust_pem(ferrule_config *cfg, const uint8_t *pem, size_t len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (pem == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, fr_cfg_add_trust_pem(cfg, pem, len));
}
FERRULE_API int ferrule_config_add_trust_der(ferrule_config *cfg, const uint8_t *der, size_t len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (der == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, fr_cfg_add_trust_der(cfg, der, len));
}
FERRULE_API int ferrule_config_add_trust_file(ferrule_config *cfg, const char *path) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (path == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, fr_abi_trust_add_file(cfg, path));
}
FERRULE_API int ferrule_config_add_trust_dir(ferrule_config *cfg, const char *path) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (path == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, fr_abi_trust_add_dir(cfg, path));
}
FERRULE_API int ferrule_config_add_trust_system(ferrule_config *cfg) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_abi_trust_add_system(cfg));
}
FERRULE_API size_t ferrule_config_trust_count(const ferrule_config *cfg) {
    return cfg != NULL ? fr_cfg_trust_count(cfg) : 0;
}

FERRULE_API int ferrule_config_add_cert_chain_pem(ferrule_config *cfg, const uint8_t *chain_pem,
                                                  size_t chain_len, const uint8_t *key_pem,
                                                  size_t key_len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (chain_pem == NULL || key_pem == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg,
                                fr_cfg_add_cert_chain_pem(cfg, chain_pem, chain_len, key_pem, key_len));
}

FERRULE_API int ferrule_config_add_cert_chain_file(ferrule_config *cfg, const char *chain_path,
                                                   const char *key_path) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (chain_path == NULL || key_path == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    struct fr_mem *m = fr_cfg_mem(cfg);
    uint8_t *chain = NULL, *key = NULL;
    size_t chain_len = 0, key_len = 0;
    fr_err e = read_file(m, chain_path, &chain, &chain_len);
    if (e == FR_OK) e = read_file(m, key_path, &key, &key_len);
    if (e == FR_OK) e = fr_cfg_add_cert_chain_pem(cfg, chain, chain_len, key, key_len);
    free_file(m, chain, chain_len);
    free_file(m, key, key_len);
    return fr_abi_setter_result(cfg, e);
}

FERRULE_API int ferrule_config_set_ocsp_staple(ferrule_config *cfg, size_t chain_index,
                                               const uint8_t *der, size_t len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (der == NULL || len == 0) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, fr_cfg_set_ocsp_staple(cfg, chain_index, der, len));
}

/* ---- callbacks ------------------------------------------------------------ */

FERRULE_API int ferrule_config_set_time_callback(ferrule_config *cfg, int64_t (*now)(void *),
                                                 void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    fr_abi_cfg_host(cfg)->now = now;
    fr_abi_cfg_host(cfg)->now_ctx = ctx;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_keylog_callback(
    ferrule_config *cfg, void (*cb)(void *, const ferrule_conn *, const char *), void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    fr_cfg_set_keylog_callback(cfg, cb, ctx);
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_verify_callback(
    ferrule_config *cfg, int (*cb)(void *, const ferrule_conn *, const ferrule_verify_result *),
    void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    fr_cfg_set_verify_callback(cfg, cb, ctx);
    return fr_abi_setter_result(cfg, FR_OK);
}

/* ---- limits ------------------------------------------------------------------ */

FERRULE_API int ferrule_config_set_memory_limit(ferrule_config *cfg, size_t bytes) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_memory_limit(cfg, bytes));
}
FERRULE_API int ferrule_config_set_max_handshake_message(ferrule_config *cfg, size_t bytes) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_max_handshake_message(cfg, bytes));
}
FERRULE_API int ferrule_config_set_max_peer_certificates(ferrule_config *cfg, uint32_t count) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_max_peer_certificates(cfg, count));
}

/* ---- verification policy ---------------------------------------------------- */

FERRULE_API int ferrule_config_dangerous_no_hostname_check(ferrule_config *cfg) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    fr_cfg_dangerous_no_hostname_check(cfg);
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_dangerous_no_verification(ferrule_config *cfg) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    fr_cfg_dangerous_no_verification(cfg);
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_verify_purpose(ferrule_config *cfg, uint32_t purpose) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_verify_purpose(cfg, purpose));
}
FERRULE_API int ferrule_config_set_max_chain_depth(ferrule_config *cfg, uint32_t depth) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_max_chain_depth(cfg, depth));
}
FERRULE_API int ferrule_config_set_verify_cn_in_san(ferrule_config *cfg, int enable) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_verify_cn_in_san(cfg, enable));
}
FERRULE_API int ferrule_config_set_ocsp_policy(ferrule_config *cfg, uint32_t policy) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_ocsp_policy(cfg, policy));
}

/* ---- handshake features (RFC 8446 §4.2.2, §4.3.2, §4.6.3; RFC 8449) ------- */

FERRULE_API int ferrule_config_set_cookie_key(ferrule_config *cfg, const uint8_t *key, size_t len) {
    /* Like every setter: only before the config is in use, because
     * connections read the key without a lock. */
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (key == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, fr_cfg_set_cookie_key(cfg, key, len));
}

FERRULE_API int ferrule_config_set_client_auth(ferrule_config *cfg, uint32_t mode) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_client_auth(cfg, mode));
}
FERRULE_API int ferrule_config_set_key_update_interval(ferrule_config *cfg, uint64_t records) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_key_update_interval(cfg, records));
}
FERRULE_API int ferrule_config_set_record_size_limit(ferrule_config *cfg, uint32_t limit) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_record_size_limit(cfg, limit));
}
