/* decisions.c (ABI) - application decisions as pause/resume
 * (docs/decisions.md): the answers the application gives, and the
 * convenience that answers at once, from the synchronous callbacks, the
 * defaults and the replay store, every decision the application did not
 * opt into.  The core only pauses (core/hs/decision.h); argument checks,
 * locks and the calls of the host's callbacks are here, the decision
 * state and the checks of every answer are the engine's (engine.h,
 * "application decisions"). */
#include "abi.h"
#include "host.h"

/* ---- the convenience layer ---------------------------------------------------- */

/* A callback's invalid value fails the handshake (there is no one to
 * correct it), where the application's own answer is refused and stays
 * pending. */
static fr_err from_callback(fr_err e) {
    return e == FERRULE_R_BAD_ANSWER ? FERRULE_R_CALLBACK_RESULT : e;
}

static fr_err by_cert_callback(ferrule_conn *c, const fr_dec_hooks *h) {
    int choice = FERRULE_CERT_SELECT_DEFAULT;
    if (h->cert != NULL) choice = h->cert(h->cert_ctx, c, fr_conn_decision_hello(c));
    return from_callback(fr_conn_answer_certificate(c, choice));
}

static fr_err by_alpn_callback(ferrule_conn *c, const fr_dec_hooks *h) {
    const uint8_t *proto = NULL;
    size_t len = 0;
    int result = FERRULE_ALPN_DEFAULT;
    if (h->alpn != NULL) result = h->alpn(h->alpn_ctx, c, fr_conn_decision_hello(c), &proto, &len);
    return from_callback(fr_conn_answer_alpn(c, result, proto, len));
}

static fr_err by_verify_callback(ferrule_conn *c, const fr_dec_hooks *h) {
    int reject = 0;
    if (h->verify != NULL) reject = h->verify(h->verify_ctx, c, ferrule_conn_verify_result(c)) != 0;
    return fr_conn_answer_verify(c, reject ? FERRULE_VERIFY_REJECT : FERRULE_VERIFY_ACCEPT);
}

static fr_err by_accept_callback(ferrule_conn *c, const fr_dec_hooks *h) {
    int yes = h->accept == NULL || h->accept(h->accept_ctx, c) == 1;
    return fr_conn_answer_early(c, yes);
}

/* The configured store: the application's check_and_insert, else the
 * built-in Bloom filters (on the connection's time). */
static fr_err by_store(ferrule_conn *c, const fr_dec_hooks *h) {
    const uint8_t *key;
    int64_t expires, now;
    fr_conn_replay_query(c, &key, &expires, &now);
    FR_ENSURE(key != NULL, FERRULE_R_INTERNAL);
    fr_bloom *bloom = fr_abi_host_bloom(h->host);
    int r = -1;
    if (h->check != NULL)
        r = h->check(h->check_ctx, key, expires);
    else if (bloom != NULL)
        r = fr_bloom_check_and_insert(bloom, key, expires, now);
    /* Anything but 1 refuses the 0-RTT data. */
    return fr_conn_answer_replay(c, r == 1 ? 1 : r < 0 ? -1 : 0);
}

static fr_err answer_at_once(ferrule_conn *c, uint32_t d) {
    fr_dec_hooks h;
    fr_conn_decision_hooks(c, &h);
    switch (d) {
    case FERRULE_DECISION_CERTIFICATE: return by_cert_callback(c, &h);
    case FERRULE_DECISION_ALPN: return by_alpn_callback(c, &h);
    case FERRULE_DECISION_VERIFY: return by_verify_callback(c, &h);
    case FERRULE_DECISION_EARLY_DATA: return by_accept_callback(c, &h);
    case FERRULE_DECISION_REPLAY: return by_store(c, &h);
    default: return FERRULE_R_INTERNAL;
    }
}

fr_err fr_abi_answer_pending(ferrule_conn *c, int *answered) {
    *answered = 0;
    int app;
    uint32_t d = fr_conn_decision(c, &app);
    if (d == FERRULE_DECISION_NONE || app) return FR_OK;
    fr_err e = answer_at_once(c, d);
    if (e != FR_OK) return fr_conn_fail_decision(c, e);
    *answered = 1;
    return FR_OK;
}

fr_err fr_abi_advance(ferrule_conn *c, int early, fr_progress *pr) {
    /* Each answer completes one step of the paused handler: bounded. */
    for (;;) {
        fr_err e = early ? fr_conn_advance_early(c, pr) : fr_conn_advance(c, pr);
        if (e != FR_OK || *pr != FR_PROGRESS_WANT_APP) return e;
        int answered;
        FR_TRY(fr_abi_answer_pending(c, &answered));
        if (!answered) return FR_OK;
    }
}

/* ---- the application's side ---------------------------------------------------- */

FERRULE_API int ferrule_config_set_decisions(ferrule_config *cfg, uint32_t decisions) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_decisions(cfg, decisions));
}

FERRULE_API uint32_t ferrule_conn_pending_decision(ferrule_conn *c) {
    if (c == NULL) return FERRULE_DECISION_NONE;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    uint32_t d = fr_conn_decision(c, NULL);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return d;
}

FERRULE_API const ferrule_client_hello *ferrule_conn_client_hello(const ferrule_conn *c) {
    return c != NULL ? fr_conn_decision_hello(c) : NULL;
}

FERRULE_API int ferrule_conn_replay_key(const ferrule_conn *c, const uint8_t **key,
                                        int64_t *expires) {
    if (key != NULL) *key = NULL;
    if (expires != NULL) *expires = 0;
    if (c == NULL || key == NULL || expires == NULL)
        return fr_abi_usage((ferrule_conn *)c, FERRULE_R_NULL_ARGUMENT);
    fr_conn_replay_query(c, key, expires, NULL);
    return *key != NULL ? FERRULE_OK : fr_abi_usage((ferrule_conn *)c, FERRULE_R_NO_DECISION);
}

/* An answer is taken under both locks, like a call that drives the
 * handshake, so that any thread may give it. */
typedef struct answer_args {
    uint32_t decision;
    int value;
    const uint8_t *proto;
    size_t len;
} answer_args;

static int give(ferrule_conn *c, const answer_args *a) {
    if (c == NULL) return FERRULE_USAGE;
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    pthread_mutex_lock(&fr_abi_host(c)->wr_lock);
    fr_err e;
    switch (a->decision) {
    case FERRULE_DECISION_CERTIFICATE: e = fr_conn_answer_certificate(c, a->value); break;
    case FERRULE_DECISION_ALPN: e = fr_conn_answer_alpn(c, a->value, a->proto, a->len); break;
    case FERRULE_DECISION_VERIFY: e = fr_conn_answer_verify(c, a->value); break;
    case FERRULE_DECISION_EARLY_DATA: e = fr_conn_answer_early(c, a->value); break;
    default: e = fr_conn_answer_replay(c, a->value); break;
    }
    pthread_mutex_unlock(&fr_abi_host(c)->wr_lock);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    return e == FR_OK ? FERRULE_OK : fr_abi_usage(c, e);
}

FERRULE_API int ferrule_conn_select_certificate(ferrule_conn *c, int choice) {
    const answer_args a = {FERRULE_DECISION_CERTIFICATE, choice, NULL, 0};
    return give(c, &a);
}

FERRULE_API int ferrule_conn_select_alpn(ferrule_conn *c, int result, const uint8_t *proto,
                                         size_t len) {
    const answer_args a = {FERRULE_DECISION_ALPN, result, proto, len};
    return give(c, &a);
}

FERRULE_API int ferrule_conn_verify_done(ferrule_conn *c, int verdict) {
    const answer_args a = {FERRULE_DECISION_VERIFY, verdict, NULL, 0};
    return give(c, &a);
}

FERRULE_API int ferrule_conn_early_accept(ferrule_conn *c, int accept) {
    const answer_args a = {FERRULE_DECISION_EARLY_DATA, accept, NULL, 0};
    return give(c, &a);
}

FERRULE_API int ferrule_conn_replay_result(ferrule_conn *c, int fresh) {
    const answer_args a = {FERRULE_DECISION_REPLAY, fresh, NULL, 0};
    return give(c, &a);
}
