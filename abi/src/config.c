/* config.c - ferrule_config: creation, reference counting and setters. */
#include <stdio.h>
#include <stdlib.h>

#include "abi.h"
#include "host.h"

fr_err fr_abi_copy_struct(void *dst, size_t known, const void *src) {
    memset(dst, 0, known);
    if (src == NULL) return FR_OK;
    uint32_t given;
    memcpy(&given, src, sizeof(given));
    FR_ENSURE(given >= sizeof(uint32_t), FERRULE_R_BAD_STRUCT);
    /* The openat2 rule: a newer caller's extra fields must be zero. */
    for (size_t i = known; i < given; i++)
        FR_ENSURE(((const uint8_t *)src)[i] == 0, FERRULE_R_BAD_STRUCT);
    memcpy(dst, src, given < known ? given : known);
    return FR_OK;
}

fr_err fr_abi_read_file(fr_mem *m, const char *path, uint8_t **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    FR_ENSURE(f != NULL, FERRULE_R_CONFIG_FILE);
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
    FR_TRY(e);
    *out = buf;
    *len = (size_t)size;
    return FR_OK;
}

static const uint16_t DEFAULT_SUITES[] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                          FERRULE_TLS_AES_256_GCM_SHA384,
                                          FERRULE_TLS_CHACHA20_POLY1305_SHA256};
static const uint16_t DEFAULT_GROUPS[] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1,
                                          FERRULE_GROUP_SECP384R1};
static const uint16_t DEFAULT_SIGS[] = {
    FERRULE_SIG_ECDSA_SECP256R1_SHA256, FERRULE_SIG_ECDSA_SECP384R1_SHA384,
    FERRULE_SIG_ED25519,                FERRULE_SIG_RSA_PSS_RSAE_SHA256,
    FERRULE_SIG_RSA_PSS_RSAE_SHA384,    FERRULE_SIG_RSA_PSS_RSAE_SHA512,
    FERRULE_SIG_RSA_PSS_PSS_SHA256,     FERRULE_SIG_RSA_PSS_PSS_SHA384,
    FERRULE_SIG_RSA_PSS_PSS_SHA512,     FERRULE_SIG_RSA_PKCS1_SHA256,
    FERRULE_SIG_RSA_PKCS1_SHA384,       FERRULE_SIG_RSA_PKCS1_SHA512};

#define COUNT(a) (sizeof(a) / sizeof(a[0]))

FERRULE_API uint32_t ferrule_version(void) {
    return (FERRULE_VERSION_MAJOR << 16) | (FERRULE_VERSION_MINOR << 8) | FERRULE_VERSION_PATCH;
}
FERRULE_API const char *ferrule_version_string(void) { return "0.1.0"; }
FERRULE_API size_t ferrule_sizeof_allocator(void) { return sizeof(ferrule_allocator); }
FERRULE_API size_t ferrule_sizeof_conn_options(void) { return sizeof(ferrule_conn_options); }
FERRULE_API size_t ferrule_sizeof_io_callbacks(void) { return sizeof(ferrule_io_callbacks); }
FERRULE_API size_t ferrule_max_plaintext_record(void) { return FR_MAX_PLAINTEXT; }
FERRULE_API size_t ferrule_max_ciphertext_record(void) { return FR_MAX_RECORD; }
FERRULE_API size_t ferrule_default_memory_limit(void) { return FR_DEFAULT_MEMORY_LIMIT; }

FERRULE_API int ferrule_config_new(ferrule_config **out, uint32_t role,
                                   const ferrule_allocator *alloc) {
    if (out == NULL) return FERRULE_USAGE;
    *out = NULL;
    if (role != FERRULE_ROLE_CLIENT && role != FERRULE_ROLE_SERVER) return FERRULE_USAGE;
    ferrule_allocator a;
    if (fr_abi_copy_struct(&a, sizeof(a), alloc) != FR_OK) return FERRULE_USAGE;
    if ((a.alloc == NULL) != (a.free == NULL)) return FERRULE_USAGE;
    const fr_allocator fa = {a.alloc, a.free, a.ctx};
    fr_mem m;
    fr_mem_init(&m, &fa, 0);
    ferrule_config *cfg = fr_mem_alloc(&m, sizeof(*cfg));
    if (cfg == NULL) return FERRULE_INTERNAL;
    fr_mem_init(&cfg->mem, &fa, 0);
    fr_mem_adopt(&cfg->mem, &m);
    cfg->alloc = fa;
    cfg->role = role;
    atomic_init(&cfg->refs, 1);
    atomic_init(&cfg->frozen, 0);
    memcpy(cfg->suites, DEFAULT_SUITES, sizeof(DEFAULT_SUITES));
    cfg->n_suites = COUNT(DEFAULT_SUITES);
    memcpy(cfg->groups, DEFAULT_GROUPS, sizeof(DEFAULT_GROUPS));
    cfg->n_groups = COUNT(DEFAULT_GROUPS);
    memcpy(cfg->sigs, DEFAULT_SIGS, sizeof(DEFAULT_SIGS));
    cfg->n_sigs = COUNT(DEFAULT_SIGS);
    cfg->memory_limit = FR_DEFAULT_MEMORY_LIMIT;
    cfg->max_hs_msg = FR_DEFAULT_MAX_HS_MSG;
    cfg->max_peer_certs = FR_DEFAULT_MAX_PEER_CERTS;
    fr_trust_init(&cfg->trust);
    fr_abi_config_sync(cfg);
    if (fr_hrr_config_init(cfg) != FR_OK || fr_resume_config_init(cfg) != FR_OK) {
        ferrule_config_free(cfg);
        return FERRULE_INTERNAL;
    }
    *out = cfg;
    return FERRULE_OK;
}

FERRULE_API void ferrule_config_ref(ferrule_config *cfg) {
    if (cfg != NULL) atomic_fetch_add(&cfg->refs, 1);
}

FERRULE_API void ferrule_config_free(ferrule_config *cfg) {
    if (cfg == NULL || atomic_fetch_sub(&cfg->refs, 1) != 1) return;
    fr_resume_config_free(cfg);
    fr_early_config_free(cfg);
    fr_trust_free(&cfg->mem, &cfg->trust);
    for (size_t i = 0; i < cfg->n_chains; i++) {
        fr_chain *ch = &cfg->chains[i];
        for (size_t k = 0; k < ch->n; k++) fr_mem_free(&cfg->mem, ch->ders[k], ch->lens[k]);
        fr_mem_free(&cfg->mem, ch->staple, ch->staple_len);
        fr_chain_forget(&cfg->mem, ch);
        fr_pkey_free(ch->key);
    }
    fr_mem_free_owner(&cfg->mem, cfg, sizeof(*cfg));
}

FERRULE_API uint32_t ferrule_config_reason(const ferrule_config *cfg) {
    return cfg != NULL ? cfg->reason : FERRULE_R_NULL_ARGUMENT;
}

/* core/sync.h for a config: the ticket-key ring's lock. */
static void config_lock(void *ctx, unsigned id) {
    ferrule_config *cfg = ctx;
    if (id == FR_LOCK_CFG_TICKETS) pthread_mutex_lock(&cfg->resume.lock);
}

static void config_unlock(void *ctx, unsigned id) {
    ferrule_config *cfg = ctx;
    if (id == FR_LOCK_CFG_TICKETS) pthread_mutex_unlock(&cfg->resume.lock);
}

void fr_abi_config_sync(ferrule_config *cfg) {
    cfg->sync = (fr_sync){config_lock, config_unlock, cfg};
}

/* Common prologue of every setter: a usable, unfrozen config. */
int fr_abi_setter_check(ferrule_config *cfg) {
    if (cfg == NULL) return FERRULE_USAGE;
    if (atomic_load(&cfg->frozen)) {
        cfg->reason = FERRULE_R_CONFIG_FROZEN;
        return FERRULE_USAGE;
    }
    return FERRULE_OK;
}

int fr_abi_setter_result(ferrule_config *cfg, fr_err e) {
    cfg->reason = e;
    return e == FR_OK ? FERRULE_OK : fr_err_class(e);
}

static int set_list(ferrule_config *cfg, const uint16_t *v, size_t n, uint16_t *dst,
                    size_t *dst_n, size_t cap, int (*known)(uint16_t)) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (v == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    if (n == 0 || n > cap) return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    for (size_t i = 0; i < n; i++) {
        if (!known(v[i])) return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
        for (size_t k = 0; k < i; k++)
            if (v[k] == v[i]) return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    }
    memcpy(dst, v, n * sizeof(uint16_t));
    *dst_n = n;
    return fr_abi_setter_result(cfg, FR_OK);
}

static int known_suite(uint16_t s) { return fr_suite_lookup(s) != NULL; }
static int known_group(uint16_t g) { return fr_group_supported(g); }
static int known_sig(uint16_t s) { return ferrule_signature_scheme_name(s) != NULL; }

FERRULE_API int ferrule_config_set_cipher_suites(ferrule_config *cfg, const uint16_t *s, size_t n) {
    return set_list(cfg, s, n, cfg ? cfg->suites : NULL, cfg ? &cfg->n_suites : NULL,
                    FR_MAX_SUITES, known_suite);
}
FERRULE_API int ferrule_config_set_groups(ferrule_config *cfg, const uint16_t *g, size_t n) {
    return set_list(cfg, g, n, cfg ? cfg->groups : NULL, cfg ? &cfg->n_groups : NULL,
                    FR_MAX_GROUPS, known_group);
}
FERRULE_API int ferrule_config_set_signature_schemes(ferrule_config *cfg, const uint16_t *s,
                                                     size_t n) {
    /* RFC 8446 §4.2.3: signature_algorithms lists the schemes that may sign
     * CertificateVerify, and may not be empty; a list of only
     * rsa_pkcs1_* (certificates only) would make it so. */
    int cv = 0;
    for (size_t i = 0; s != NULL && i < n && i <= FR_MAX_SIGS; i++) cv |= fr_sig_allowed_in_cv(s[i]);
    if (s != NULL && n > 0 && n <= FR_MAX_SIGS && !cv) {
        int st = fr_abi_setter_check(cfg);
        return st != FERRULE_OK ? st : fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    }
    return set_list(cfg, s, n, cfg ? cfg->sigs : NULL, cfg ? &cfg->n_sigs : NULL, FR_MAX_SIGS,
                    known_sig);
}

FERRULE_API int ferrule_config_add_alpn(ferrule_config *cfg, const uint8_t *proto, size_t len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (proto == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    if (len == 0 || len > 255 || len + 1 > FR_MAX_ALPN_WIRE - cfg->alpn_len)
        return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->alpn[cfg->alpn_len] = (uint8_t)len;
    memcpy(cfg->alpn + cfg->alpn_len + 1, proto, len);
    cfg->alpn_len += len + 1;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_add_trust_pem(ferrule_config *cfg, const uint8_t *pem, size_t len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (pem == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, fr_trust_add_pem(&cfg->mem, &cfg->trust, pem, len));
}
FERRULE_API int ferrule_config_add_trust_der(ferrule_config *cfg, const uint8_t *der, size_t len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (der == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, fr_trust_add_der(&cfg->mem, &cfg->trust, der, len));
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
    return cfg != NULL ? cfg->trust.n : 0;
}

typedef struct chain_builder {
    ferrule_config *cfg;
    fr_chain *chain;
} chain_builder;

static fr_err add_chain_der(void *ctx, const uint8_t *der, size_t len) {
    chain_builder *b = ctx;
    FR_ENSURE(b->chain->n < FR_MAX_CHAIN_CERTS, FERRULE_R_CONFIG_INVALID);
    uint8_t *copy = fr_mem_alloc(&b->cfg->mem, len);
    FR_ENSURE(copy != NULL, fr_mem_error(&b->cfg->mem, len));
    memcpy(copy, der, len);
    b->chain->ders[b->chain->n] = copy;
    b->chain->lens[b->chain->n] = len;
    b->chain->n++;
    return FR_OK;
}

static void chain_clear(ferrule_config *cfg, fr_chain *ch) {
    for (size_t k = 0; k < ch->n; k++) fr_mem_free(&cfg->mem, ch->ders[k], ch->lens[k]);
    fr_mem_free(&cfg->mem, ch->staple, ch->staple_len);
    fr_chain_forget(&cfg->mem, ch);
    fr_pkey_free(ch->key);
    memset(ch, 0, sizeof(*ch));
}

static fr_err load_chain(ferrule_config *cfg, const uint8_t *chain_pem, size_t chain_len,
                         const uint8_t *key_pem, size_t key_len) {
    FR_ENSURE(cfg->n_chains < FR_MAX_CHAINS, FERRULE_R_CONFIG_INVALID);
    fr_chain *ch = &cfg->chains[cfg->n_chains];
    memset(ch, 0, sizeof(*ch));
    chain_builder b = {cfg, ch};
    fr_err e = fr_pem_each_cert(&cfg->mem, chain_pem, chain_len, add_chain_der, &b);
    if (e == FR_OK && ch->n == 0) e = FERRULE_R_CONFIG_PEM;
    if (e == FR_OK && fr_pkey_from_pem(key_pem, key_len, &ch->key) != FR_OK) e = FERRULE_R_CONFIG_PEM;
    fr_cert *leaf = NULL;
    if (e == FR_OK && fr_cert_parse(&cfg->mem, ch->ders[0], ch->lens[0], &leaf) != FR_OK)
        e = FERRULE_R_CONFIG_PEM;
    /* The key must belong to the leaf, or every handshake would fail. */
    if (e == FR_OK && !fr_pkey_pair_matches(ch->key, leaf->pub)) e = FERRULE_R_CONFIG_KEY_MISMATCH;
    if (leaf != NULL) fr_cert_free(&cfg->mem, leaf);
    /* What SNI / signature_algorithms_cert selection needs (server_select.c). */
    if (e == FR_OK) e = fr_chain_note(&cfg->mem, ch);
    if (e != FR_OK) {
        chain_clear(cfg, ch);
        if (e == FERRULE_R_OUT_OF_MEMORY || e == FERRULE_R_CONFIG_KEY_MISMATCH) return e;
        return FERRULE_R_CONFIG_PEM;
    }
    cfg->n_chains++;
    return FR_OK;
}

FERRULE_API int ferrule_config_add_cert_chain_pem(ferrule_config *cfg, const uint8_t *chain_pem,
                                                  size_t chain_len, const uint8_t *key_pem,
                                                  size_t key_len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (chain_pem == NULL || key_pem == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    return fr_abi_setter_result(cfg, load_chain(cfg, chain_pem, chain_len, key_pem, key_len));
}

FERRULE_API int ferrule_config_add_cert_chain_file(ferrule_config *cfg, const char *chain_path,
                                                   const char *key_path) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (chain_path == NULL || key_path == NULL) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    uint8_t *chain = NULL, *key = NULL;
    size_t chain_len = 0, key_len = 0;
    fr_err e = fr_abi_read_file(&cfg->mem, chain_path, &chain, &chain_len);
    if (e == FR_OK) e = fr_abi_read_file(&cfg->mem, key_path, &key, &key_len);
    if (e == FR_OK) e = load_chain(cfg, chain, chain_len, key, key_len);
    if (chain != NULL) fr_mem_free(&cfg->mem, chain, chain_len + 1);
    if (key != NULL) fr_mem_free(&cfg->mem, key, key_len + 1);
    return fr_abi_setter_result(cfg, e);
}

FERRULE_API int ferrule_config_set_time_callback(ferrule_config *cfg, int64_t (*now)(void *),
                                                 void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    cfg->now = now;
    cfg->now_ctx = ctx;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_memory_limit(ferrule_config *cfg, size_t bytes) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (bytes < FR_MIN_MEMORY_LIMIT) return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->memory_limit = bytes;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_max_handshake_message(ferrule_config *cfg, size_t bytes) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (bytes < 1024 || bytes > (1u << 24) - 1) return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->max_hs_msg = bytes;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_max_peer_certificates(ferrule_config *cfg, uint32_t count) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (count < 1 || count > FR_MAX_PEER_CERTS_LIMIT)
        return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->max_peer_certs = count;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_keylog_callback(
    ferrule_config *cfg, void (*cb)(void *, const ferrule_conn *, const char *), void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    cfg->keylog = cb;
    cfg->keylog_ctx = ctx;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_dangerous_no_hostname_check(ferrule_config *cfg) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    cfg->no_hostname_check = 1;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_dangerous_no_verification(ferrule_config *cfg) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    cfg->no_verification = 1;
    return fr_abi_setter_result(cfg, FR_OK);
}

/* ---- verification policy ---------------------------------------------------- */

void fr_config_verify_params(const ferrule_config *cfg, fr_verify_params *p) {
    memset(p, 0, sizeof(*p));
    uint32_t purpose = cfg->purpose;
    if (purpose == 0)
        purpose = cfg->role == FERRULE_ROLE_CLIENT ? FERRULE_PURPOSE_SERVER_AUTH
                                                   : FERRULE_PURPOSE_CLIENT_AUTH;
    p->purpose = purpose == FERRULE_PURPOSE_SERVER_AUTH ? FR_VERIFY_SERVER : FR_VERIFY_CLIENT;
    p->max_depth = cfg->max_depth;
    p->cn_in_san = cfg->cn_in_san;
}

FERRULE_API int ferrule_config_set_verify_purpose(ferrule_config *cfg, uint32_t purpose) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (purpose != FERRULE_PURPOSE_SERVER_AUTH && purpose != FERRULE_PURPOSE_CLIENT_AUTH)
        return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->purpose = purpose;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_max_chain_depth(ferrule_config *cfg, uint32_t depth) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (depth == 0 || depth > FR_VERIFY_MAX_DEPTH) return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->max_depth = depth;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_verify_cn_in_san(ferrule_config *cfg, int enable) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (enable != 0 && enable != 1) return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->cn_in_san = enable;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_ocsp_policy(ferrule_config *cfg, uint32_t policy) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (policy != FERRULE_OCSP_DEFAULT && policy != FERRULE_OCSP_REQUIRE)
        return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->ocsp_policy = policy;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_ocsp_staple(ferrule_config *cfg, size_t chain_index,
                                               const uint8_t *der, size_t len) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (der == NULL || len == 0) return fr_abi_setter_result(cfg, FERRULE_R_NULL_ARGUMENT);
    if (chain_index >= cfg->n_chains || len > (1u << 24) - 1)
        return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    fr_chain *ch = &cfg->chains[chain_index];
    uint8_t *copy = fr_mem_alloc(&cfg->mem, len);
    if (copy == NULL) return fr_abi_setter_result(cfg, fr_mem_error(&cfg->mem, len));
    memcpy(copy, der, len);
    fr_mem_free(&cfg->mem, ch->staple, ch->staple_len);
    ch->staple = copy;
    ch->staple_len = len;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_verify_callback(
    ferrule_config *cfg, int (*cb)(void *, const ferrule_conn *, const ferrule_verify_result *),
    void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    cfg->verify_cb = cb;
    cfg->verify_cb_ctx = ctx;
    return fr_abi_setter_result(cfg, FR_OK);
}
