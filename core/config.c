/*
 * config.c - the configuration engine: creation with the defaults,
 * reference counting, freezing, and the validation and storage behind every
 * ferrule_config_* setter (engine.h, "configuration and lifecycle").
 *
 * The host (abi/src/config.c) checks pointers and freezing, records the
 * reason these functions return and maps it to a status class.
 */
#include "conn.h"

static const uint16_t DEFAULT_SUITES[] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                          FERRULE_TLS_AES_256_GCM_SHA384,
                                          FERRULE_TLS_CHACHA20_POLY1305_SHA256};
/* X25519MLKEM768 first when libcrypto has ML-KEM (docs/mlkem.md), then
 * the classical groups. */
static const uint16_t DEFAULT_GROUPS[] = {FERRULE_GROUP_X25519MLKEM768, FERRULE_GROUP_X25519,
                                          FERRULE_GROUP_SECP256R1, FERRULE_GROUP_SECP384R1};
static const uint16_t DEFAULT_SIGS[] = {
    FERRULE_SIG_ECDSA_SECP256R1_SHA256, FERRULE_SIG_ECDSA_SECP384R1_SHA384,
    FERRULE_SIG_ED25519,                FERRULE_SIG_RSA_PSS_RSAE_SHA256,
    FERRULE_SIG_RSA_PSS_RSAE_SHA384,    FERRULE_SIG_RSA_PSS_RSAE_SHA512,
    FERRULE_SIG_RSA_PSS_PSS_SHA256,     FERRULE_SIG_RSA_PSS_PSS_SHA384,
    FERRULE_SIG_RSA_PSS_PSS_SHA512,     FERRULE_SIG_RSA_PKCS1_SHA256,
    FERRULE_SIG_RSA_PKCS1_SHA384,       FERRULE_SIG_RSA_PKCS1_SHA512};

#define COUNT(a) (sizeof(a) / sizeof(a[0]))

size_t fr_engine_max_plaintext(void) { return FR_MAX_PLAINTEXT; }
size_t fr_engine_max_ciphertext(void) { return FR_MAX_RECORD; }
size_t fr_engine_default_memory_limit(void) { return FR_DEFAULT_MEMORY_LIMIT; }

/* ---- lifecycle ------------------------------------------------------------ */

static void config_defaults(fr_config *cfg) {
    memcpy(cfg->suites, DEFAULT_SUITES, sizeof(DEFAULT_SUITES));
    cfg->n_suites = COUNT(DEFAULT_SUITES);
    /* Without ML-KEM the hybrid is left out: neither offered nor accepted. */
    size_t skip = cfg->mlkem ? 0 : 1;
    memcpy(cfg->groups, DEFAULT_GROUPS + skip, sizeof(DEFAULT_GROUPS) - skip * sizeof(uint16_t));
    cfg->n_groups = COUNT(DEFAULT_GROUPS) - skip;
    memcpy(cfg->sigs, DEFAULT_SIGS, sizeof(DEFAULT_SIGS));
    cfg->n_sigs = COUNT(DEFAULT_SIGS);
    cfg->memory_limit = FR_DEFAULT_MEMORY_LIMIT;
    cfg->max_hs_msg = FR_DEFAULT_MAX_HS_MSG;
    cfg->max_peer_certs = FR_DEFAULT_MAX_PEER_CERTS;
}

fr_err fr_cfg_new(fr_config **out, uint32_t role, const fr_allocator *a) {
    *out = NULL;
    fr_allocator fa = {NULL, NULL, NULL};
    if (a != NULL) fa = *a;
    fr_mem m;
    fr_mem_init(&m, &fa, 0);
    fr_config *cfg = fr_mem_alloc(&m, sizeof(*cfg));
    FR_ENSURE(cfg != NULL, FERRULE_R_OUT_OF_MEMORY);
    fr_mem_init(&cfg->mem, &fa, 0);
    fr_mem_adopt(&cfg->mem, &m);
    cfg->alloc = fa; /* copied to every connection */
    cfg->role = role;
    atomic_init(&cfg->refs, 1);
    atomic_init(&cfg->frozen, 0);
    cfg->mlkem = fr_kex_mlkem_available();
    config_defaults(cfg);
    fr_trust_init(&cfg->trust);
    /* A fresh random cookie key per config, made before the config can be
     * shared: connections only read it. */
    fr_err e = fr_hrr_config_init(cfg);
    if (e == FR_OK) e = fr_resume_config_init(cfg);
    if (e != FR_OK) {
        fr_cfg_release(cfg);
        return e;
    }
    *out = cfg;
    return FR_OK;
}

void fr_cfg_ref(fr_config *cfg) { atomic_fetch_add(&cfg->refs, 1); }

static void chain_clear(fr_config *cfg, fr_chain *ch) {
    for (size_t k = 0; k < ch->n; k++) fr_mem_free(&cfg->mem, ch->ders[k], ch->lens[k]);
    fr_mem_free(&cfg->mem, ch->staple, ch->staple_len);
    fr_chain_forget(&cfg->mem, ch);
    fr_pkey_free(ch->key);
    memset(ch, 0, sizeof(*ch));
}

void fr_cfg_release(fr_config *cfg) {
    if (atomic_fetch_sub(&cfg->refs, 1) != 1) return;
    fr_resume_config_free(cfg);
    fr_buf_pool_drain(cfg);
    fr_trust_free(&cfg->mem, &cfg->trust);
    for (size_t i = 0; i < cfg->n_chains; i++) chain_clear(cfg, &cfg->chains[i]);
    if (cfg->sync.release != NULL) cfg->sync.release(cfg->sync.ctx);
    fr_mem_free_owner(&cfg->mem, cfg, sizeof(*cfg));
}

void fr_cfg_set_sync(fr_config *cfg, const fr_sync *s) {
    cfg->sync = s != NULL ? *s : (fr_sync){NULL, NULL, NULL, NULL};
}

void fr_cfg_freeze(fr_config *cfg) { atomic_store(&cfg->frozen, 1); }
int fr_cfg_frozen(const fr_config *cfg) { return atomic_load(&cfg->frozen) != 0; }
uint32_t fr_cfg_reason(const fr_config *cfg) { return cfg->reason; }
void fr_cfg_set_reason(fr_config *cfg, fr_err e) { cfg->reason = e; }
struct fr_mem *fr_cfg_mem(fr_config *cfg) { return &cfg->mem; }
void fr_cfg_set_host(fr_config *cfg, void *host) { cfg->host = host; }
void *fr_cfg_host(const fr_config *cfg) { return cfg->host; }

/* ---- algorithm lists and ALPN --------------------------------------------- */

/* A list of known, distinct values, 1 .. cap of them. */
static fr_err set_list(const uint16_t *v, size_t n, uint16_t *dst, size_t *dst_n, size_t cap,
                       int (*known)(uint16_t)) {
    FR_ENSURE(n > 0 && n <= cap, FERRULE_R_CONFIG_INVALID);
    for (size_t i = 0; i < n; i++) {
        FR_ENSURE(known(v[i]), FERRULE_R_CONFIG_INVALID);
        for (size_t k = 0; k < i; k++) FR_ENSURE(v[k] != v[i], FERRULE_R_CONFIG_INVALID);
    }
    memcpy(dst, v, n * sizeof(uint16_t));
    *dst_n = n;
    return FR_OK;
}

static int known_suite(uint16_t s) { return fr_suite_lookup(s) != NULL; }
static int known_sig(uint16_t s) { return fr_signature_scheme_name(s) != NULL; }

fr_err fr_cfg_set_cipher_suites(fr_config *cfg, const uint16_t *v, size_t n) {
    return set_list(v, n, cfg->suites, &cfg->n_suites, FR_MAX_SUITES, known_suite);
}

static int known_group(uint16_t g) { return fr_group_known(g); }

/* A known group this libcrypto cannot provide (X25519MLKEM768 before
 * OpenSSL 3.5) is its own reason, so that the caller can tell "not in
 * this build" from a wrong value; nothing is changed then. */
fr_err fr_cfg_set_groups(fr_config *cfg, const uint16_t *v, size_t n) {
    for (size_t i = 0; i < n && v != NULL; i++)
        FR_ENSURE(!fr_group_known(v[i]) || fr_group_supported(v[i], cfg->mlkem),
                  FERRULE_R_GROUP_UNAVAILABLE);
    return set_list(v, n, cfg->groups, &cfg->n_groups, FR_MAX_GROUPS, known_group);
}

fr_err fr_cfg_set_signature_schemes(fr_config *cfg, const uint16_t *v, size_t n) {
    FR_ENSURE(n > 0 && n <= FR_MAX_SIGS, FERRULE_R_CONFIG_INVALID);
    /* RFC 8446 §4.2.3: signature_algorithms lists the schemes that may sign
     * CertificateVerify, and may not be empty; a list of only
     * rsa_pkcs1_* (certificates only) would make it so. */
    int cv = 0;
    for (size_t i = 0; i < n; i++) cv |= fr_sig_allowed_in_cv(v[i]);
    FR_ENSURE(cv, FERRULE_R_CONFIG_INVALID);
    return set_list(v, n, cfg->sigs, &cfg->n_sigs, FR_MAX_SIGS, known_sig);
}

/* The schemes we accept from the peer (and offer in signature_algorithms):
 * the set of ferrule_config_set_verify_signature_schemes, else the one
 * list of ferrule_config_set_signature_schemes (or the default). */
fr_err fr_cfg_set_verify_signature_schemes(fr_config *cfg, const uint16_t *v, size_t n) {
    FR_ENSURE(n > 0 && n <= FR_MAX_SIGS, FERRULE_R_CONFIG_INVALID);
    int cv = 0;
    for (size_t i = 0; i < n; i++) cv |= fr_sig_allowed_in_cv(v[i]);
    FR_ENSURE(cv, FERRULE_R_CONFIG_INVALID);
    return set_list(v, n, cfg->vsigs, &cfg->n_vsigs, FR_MAX_SIGS, known_sig);
}

const uint16_t *fr_cfg_verify_sigs(const fr_config *cfg, size_t *n) {
    if (cfg->n_vsigs > 0) {
        *n = cfg->n_vsigs;
        return cfg->vsigs;
    }
    *n = cfg->n_sigs;
    return cfg->sigs;
}

fr_err fr_cfg_add_alpn(fr_config *cfg, const uint8_t *proto, size_t len) {
    FR_ENSURE(len > 0 && len <= 255 && len + 1 <= FR_MAX_ALPN_WIRE - cfg->alpn_len,
              FERRULE_R_CONFIG_INVALID);
    cfg->alpn[cfg->alpn_len] = (uint8_t)len;
    memcpy(cfg->alpn + cfg->alpn_len + 1, proto, len);
    cfg->alpn_len += len + 1;
    return FR_OK;
}

/* ---- trust anchors and our certificate chains ----------------------------- */

fr_err fr_cfg_add_trust_pem(fr_config *cfg, const uint8_t *pem, size_t len) {
    return fr_trust_add_pem(&cfg->mem, &cfg->trust, pem, len);
}

fr_err fr_cfg_add_trust_der(fr_config *cfg, const uint8_t *der, size_t len) {
    return fr_trust_add_der(&cfg->mem, &cfg->trust, der, len);
}

size_t fr_cfg_trust_count(const fr_config *cfg) { return cfg->trust.n; }

typedef struct chain_builder {
    fr_config *cfg;
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

fr_err fr_cfg_add_cert_chain_pem(fr_config *cfg, const uint8_t *chain_pem, size_t chain_len,
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
    EVP_PKEY *leaf_key = NULL;
    if (e == FR_OK && (fr_cert_key(leaf, &leaf_key) != FR_OK ||
                       !fr_pkey_pair_matches(ch->key, leaf_key)))
        e = FERRULE_R_CONFIG_KEY_MISMATCH;
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

fr_err fr_cfg_set_ocsp_staple(fr_config *cfg, size_t chain_index, const uint8_t *der,
                              size_t len) {
    FR_ENSURE(chain_index < cfg->n_chains && len <= (1u << 24) - 1, FERRULE_R_CONFIG_INVALID);
    fr_chain *ch = &cfg->chains[chain_index];
    uint8_t *copy = fr_mem_alloc(&cfg->mem, len);
    FR_ENSURE(copy != NULL, fr_mem_error(&cfg->mem, len));
    memcpy(copy, der, len);
    fr_mem_free(&cfg->mem, ch->staple, ch->staple_len);
    ch->staple = copy;
    ch->staple_len = len;
    return FR_OK;
}

/* ---- callbacks ------------------------------------------------------------ */

void fr_cfg_set_keylog_callback(fr_config *cfg,
                                void (*cb)(void *ctx, const fr_conn *conn, const char *line),
                                void *ctx) {
    cfg->keylog = cb;
    cfg->keylog_ctx = ctx;
}

void fr_cfg_set_verify_callback(fr_config *cfg,
                                int (*cb)(void *ctx, const fr_conn *conn,
                                          const struct ferrule_verify_result *r),
                                void *ctx) {
    cfg->verify_cb = cb;
    cfg->verify_cb_ctx = ctx;
}

/* ---- limits ------------------------------------------------------------------ */

fr_err fr_cfg_set_memory_limit(fr_config *cfg, size_t bytes) {
    FR_ENSURE(bytes >= FR_MIN_MEMORY_LIMIT, FERRULE_R_CONFIG_INVALID);
    cfg->memory_limit = bytes;
    return FR_OK;
}

fr_err fr_cfg_set_max_handshake_message(fr_config *cfg, size_t bytes) {
    /* The handshake length field is 24 bits (RFC 8446 §4). */
    FR_ENSURE(bytes >= 1024 && bytes <= (1u << 24) - 1, FERRULE_R_CONFIG_INVALID);
    cfg->max_hs_msg = bytes;
    return FR_OK;
}

fr_err fr_cfg_set_max_peer_certificates(fr_config *cfg, uint32_t count) {
    FR_ENSURE(count >= 1 && count <= FR_MAX_PEER_CERTS_LIMIT, FERRULE_R_CONFIG_INVALID);
    cfg->max_peer_certs = count;
    return FR_OK;
}

uint32_t fr_cfg_role(const fr_config *cfg) { return cfg->role; }

/* ---- verification policy ---------------------------------------------------- */

void fr_cfg_dangerous_no_hostname_check(fr_config *cfg) { cfg->no_hostname_check = 1; }
void fr_cfg_dangerous_no_verification(fr_config *cfg) { cfg->no_verification = 1; }

void fr_config_verify_params(const fr_config *cfg, fr_verify_params *p) {
    memset(p, 0, sizeof(*p));
    uint32_t purpose = cfg->purpose;
    if (purpose == 0)
        purpose = cfg->role == FERRULE_ROLE_CLIENT ? FERRULE_PURPOSE_SERVER_AUTH
                                                   : FERRULE_PURPOSE_CLIENT_AUTH;
    p->purpose = purpose == FERRULE_PURPOSE_SERVER_AUTH ? FR_VERIFY_SERVER : FR_VERIFY_CLIENT;
    p->max_depth = cfg->max_depth;
    p->cn_in_san = cfg->cn_in_san;
}

/* ---- standalone validation (ferrule_verify_chain) --------------------------- */

fr_err fr_verify_request_check(const fr_verify_request *q) {
    FR_ENSURE(q->purpose <= FERRULE_PURPOSE_CLIENT_AUTH, FERRULE_R_CONFIG_INVALID);
    FR_ENSURE((q->flags & ~(FERRULE_VERIFY_USE_TIME | FERRULE_VERIFY_CN_IN_SAN)) == 0,
              FERRULE_R_CONFIG_INVALID);
    FR_ENSURE(q->max_depth <= FR_VERIFY_MAX_DEPTH, FERRULE_R_CONFIG_INVALID);
    FR_ENSURE(q->n_crls == 0 || (q->crls != NULL && q->crl_lens != NULL),
              FERRULE_R_NULL_ARGUMENT);
    /* (More CRLs than FR_VERIFY_MAX_CRLS give a result saying so.) */
    for (size_t i = 0; i < q->n_crls && i < FR_VERIFY_MAX_CRLS; i++)
        FR_ENSURE(q->crls[i] != NULL && q->crl_lens[i] != 0, FERRULE_R_NULL_ARGUMENT);
    return FR_OK;
}

/* The certificates and CRLs of a request, parsed from `m` (*parsed and
 * *parsed_crls counted for the caller to free): the first that does not
 * parse fails the validation (the caller asked for revocation checking
 * and we cannot do it). */
static fr_err parse_inputs(fr_mem *m, const uint8_t *const *ders, const size_t *lens, size_t n,
                           const fr_verify_request *q, fr_cert **chain, size_t *parsed,
                           fr_crl **crls, size_t *parsed_crls) {
    /* More certificates than any path builder should look at: a result
     * that says so (the handshake caps the peer's list at max_peer_certs,
     * at most as many; standalone callers may pass more, e.g. the limbo
     * suite's 100-certificate hostile chains). */
    FR_ENSURE(n <= FR_VERIFY_MAX_INPUT && q->n_crls <= FR_VERIFY_MAX_CRLS,
              FERRULE_R_CERT_TOO_MUCH_WORK);
    for (size_t i = 0; i < n; i++) {
        FR_TRY(fr_cert_parse(m, ders[i], lens[i], &chain[i]));
        (*parsed)++;
    }
    for (size_t i = 0; i < q->n_crls; i++) {
        FR_TRY(fr_crl_parse(m, q->crls[i], q->crl_lens[i], &crls[i]));
        (*parsed_crls)++;
    }
    return FR_OK;
}

fr_err fr_cfg_verify_chain(const fr_config *cfg, const uint8_t *const *ders, const size_t *lens,
                           size_t n, const fr_verify_request *q, ferrule_verify_result **out) {
    *out = NULL;
    /* The result (and its path copies) belong to the config's allocator;
     * the parsed chain is temporary. */
    fr_mem *m = (fr_mem *)&cfg->mem;
    fr_verify_params p;
    fr_config_verify_params(cfg, &p);
    p.purpose = q->purpose == FERRULE_PURPOSE_CLIENT_AUTH ? FR_VERIFY_CLIENT : FR_VERIFY_SERVER;
    if (q->max_depth != 0) p.max_depth = q->max_depth;
    p.now = q->now;
    p.peer_name = q->peer_name;
    if (q->flags & FERRULE_VERIFY_CN_IN_SAN) p.cn_in_san = 1;
    fr_cert *chain[FR_VERIFY_MAX_INPUT];
    fr_crl *crls[FR_VERIFY_MAX_CRLS];
    size_t parsed = 0, parsed_crls = 0;
    fr_err e = parse_inputs(m, ders, lens, n, q, chain, &parsed, crls, &parsed_crls);
    p.crls = (const fr_crl *const *)crls;
    p.n_crls = parsed_crls;
    if (e == FR_OK) {
        e = fr_verify_chain_result(&cfg->trust, chain, n, &p, m, NULL, NULL, out);
    } else {
        /* A certificate that does not parse: a result that says so. */
        ferrule_verify_result *r = fr_mem_alloc(m, sizeof(*r));
        if (r != NULL) {
            memset(r, 0, sizeof(*r));
            r->mem = m;
            r->reason = e;
            r->size = sizeof(*r);
        }
        *out = r;
    }
    for (size_t i = 0; i < parsed; i++) fr_cert_free(m, chain[i]);
    for (size_t i = 0; i < parsed_crls; i++) fr_crl_free(m, crls[i]);
    return e;
}

fr_err fr_cfg_set_verify_purpose(fr_config *cfg, uint32_t purpose) {
    FR_ENSURE(purpose == FERRULE_PURPOSE_SERVER_AUTH || purpose == FERRULE_PURPOSE_CLIENT_AUTH,
              FERRULE_R_CONFIG_INVALID);
    cfg->purpose = purpose;
    return FR_OK;
}

fr_err fr_cfg_set_max_chain_depth(fr_config *cfg, uint32_t depth) {
    FR_ENSURE(depth != 0 && depth <= FR_VERIFY_MAX_DEPTH, FERRULE_R_CONFIG_INVALID);
    cfg->max_depth = depth;
    return FR_OK;
}

fr_err fr_cfg_set_verify_cn_in_san(fr_config *cfg, int enable) {
    FR_ENSURE(enable == 0 || enable == 1, FERRULE_R_CONFIG_INVALID);
    cfg->cn_in_san = enable;
    return FR_OK;
}

fr_err fr_cfg_set_ocsp_policy(fr_config *cfg, uint32_t policy) {
    FR_ENSURE(policy == FERRULE_OCSP_DEFAULT || policy == FERRULE_OCSP_REQUIRE,
              FERRULE_R_CONFIG_INVALID);
    cfg->ocsp_policy = policy;
    return FR_OK;
}

/* ---- handshake features --------------------------------------------------- */

/* RFC 8446 §4.2.2: the key of the stateless HelloRetryRequest cookie.
 * Connections read it without a lock, hence only before freezing. */
fr_err fr_cfg_set_cookie_key(fr_config *cfg, const uint8_t *key, size_t len) {
    FR_ENSURE(len == FR_HRR_COOKIE_KEY_LEN, FERRULE_R_CONFIG_INVALID);
    memcpy(cfg->hrr.cookie_key, key, FR_HRR_COOKIE_KEY_LEN);
    return FR_OK;
}

fr_err fr_cfg_set_client_auth(fr_config *cfg, uint32_t mode) {
    /* Only a server asks for certificates (RFC 8446 §4.3.2). */
    FR_ENSURE(cfg->role == FERRULE_ROLE_SERVER, FERRULE_R_CONFIG_INVALID);
    FR_ENSURE(mode == FERRULE_CLIENT_AUTH_NONE || mode == FERRULE_CLIENT_AUTH_REQUEST ||
                  mode == FERRULE_CLIENT_AUTH_REQUIRE,
              FERRULE_R_CONFIG_INVALID);
    cfg->cauth.mode = mode;
    return FR_OK;
}

fr_err fr_cfg_set_key_update_interval(fr_config *cfg, uint64_t records) {
    /* At least one record per key; never beyond the default, which is
     * already the most RFC 8446 §5.5 allows with margin (docs/key-update.md). */
    FR_ENSURE(records != 0 && records <= FR_KU_DEFAULT_INTERVAL, FERRULE_R_CONFIG_INVALID);
    cfg->ku.interval = records;
    return FR_OK;
}

fr_err fr_cfg_set_record_size_limit(fr_config *cfg, uint32_t limit) {
    /* RFC 8449 §4: never below 64, and TLS 1.3 allows at most 2^14 + 1. */
    FR_ENSURE(limit >= FR_RSL_MIN && limit <= FR_RSL_MAX, FERRULE_R_CONFIG_INVALID);
    cfg->rsl.limit = (uint16_t)limit;
    return FR_OK;
}

/* ---- resumption (docs/resumption.md) ---------------------------------------- */

fr_err fr_cfg_set_tickets(fr_config *cfg, uint32_t count) {
    FR_ENSURE(count <= FR_TICKET_MAX_COUNT, FERRULE_R_CONFIG_INVALID);
    cfg->resume.tickets = count;
    return FR_OK;
}

fr_err fr_cfg_set_psk_modes(fr_config *cfg, uint32_t modes) {
    FR_ENSURE(modes != 0 && (modes & ~(FERRULE_PSK_DHE_KE | FERRULE_PSK_KE)) == 0,
              FERRULE_R_CONFIG_INVALID);
    cfg->resume.psk_modes = modes;
    return FR_OK;
}

fr_err fr_cfg_set_resumption(fr_config *cfg, uint32_t accept, uint32_t client_identity) {
    /* Both are server policies: a client's choice is whether to offer a
     * session at all (ferrule_conn_set_session). */
    FR_ENSURE(cfg->role == FERRULE_ROLE_SERVER && accept <= FERRULE_RESUME_REFUSE &&
                  client_identity <= FERRULE_RESUME_IDENTITY_KEEP,
              FERRULE_R_CONFIG_INVALID);
    cfg->resume.accept = accept;
    cfg->resume.client_identity = client_identity;
    return FR_OK;
}

void fr_cfg_set_ticket_key(fr_config *cfg, const uint8_t name[16], const uint8_t key[32]) {
    fr_resume_set_key(cfg, name, key);
}
