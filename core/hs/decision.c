/* decision.c - application decisions as pause/resume: asking, answering,
 * resuming (hs/decision.h, docs/decisions.md).  The answers are checked
 * here, before anything changes: an invalid answer leaves the decision
 * pending, so that the application can correct it. */
#include "../conn.h"

static uint32_t decide_bit(uint32_t d) { return d >= 1 && d <= 5 ? 1u << (d - 1) : 0; }

/* ---- the core's side --------------------------------------------------------- */

/* Is a synchronous answer configured for `d`?  The core only looks at
 * whether one is there; the host calls it (abi/src/decisions.c). */
static int has_callback(const fr_config *cfg, uint32_t d) {
    switch (d) {
    case FERRULE_DECISION_CERTIFICATE: return cfg->select.cert_cb != NULL;
    case FERRULE_DECISION_ALPN: return cfg->select.alpn_cb != NULL;
    case FERRULE_DECISION_VERIFY: return cfg->verify_cb != NULL;
    case FERRULE_DECISION_EARLY_DATA: return cfg->early.accept != NULL;
    default: return 0;
    }
}

int fr_dec_host_answers(const fr_conn *c, uint32_t d) {
    /* The replay store lives in the host (the built-in one too). */
    if (d == FERRULE_DECISION_REPLAY) return 1;
    return (c->cfg->dec.app & decide_bit(d)) != 0 || has_callback(c->cfg, d);
}

void fr_dec_ask(fr_conn *c, uint32_t d, fr_branch *branch) {
    c->dec.asked = d;
    c->dec.answered = FERRULE_DECISION_NONE;
    c->dec.paused = 1;
    *branch = FR_BRANCH_APP;
}

int fr_dec_resuming(const fr_conn *c) { return c->dec.paused; }

int fr_dec_take(fr_conn *c, uint32_t d, int *choice) {
    if (c->dec.answered != d || d == FERRULE_DECISION_NONE) return 0;
    c->dec.answered = FERRULE_DECISION_NONE;
    *choice = c->dec.choice;
    return 1;
}

void fr_dec_finish(fr_conn *c) {
    fr_dec_free(c);
    fr_wipe(&c->dec, sizeof(c->dec));
}

void fr_dec_free(fr_conn *c) {
    fr_hello_lists_free(&c->dec.lists);
    c->dec.has_hello = 0;
}

/* ---- the host's side (engine.h) --------------------------------------------- */

fr_err fr_cfg_set_decisions(fr_config *cfg, uint32_t decide) {
    FR_ENSURE(!(decide & ~(uint32_t)FERRULE_DECIDE_ALL), FERRULE_R_CONFIG_INVALID);
    cfg->dec.app = decide;
    return FR_OK;
}

uint32_t fr_conn_decision(const fr_conn *c, int *app) {
    uint32_t d = c->dec.asked;
    if (app != NULL) *app = (c->cfg->dec.app & decide_bit(d)) != 0;
    return d;
}

void fr_conn_decision_hooks(const fr_conn *c, fr_dec_hooks *h) {
    const fr_config *cfg = c->cfg;
    h->cert = cfg->select.cert_cb;
    h->cert_ctx = cfg->select.cert_ctx;
    h->alpn = cfg->select.alpn_cb;
    h->alpn_ctx = cfg->select.alpn_ctx;
    h->verify = cfg->verify_cb;
    h->verify_ctx = cfg->verify_cb_ctx;
    h->accept = cfg->early.accept;
    h->accept_ctx = cfg->early.accept_ctx;
    h->check = cfg->early.check;
    h->check_ctx = cfg->early.check_ctx;
    h->host = cfg->host;
}


fr_err fr_conn_fail_decision(fr_conn *c, fr_err e) { return fr_conn_fail(c, e); }

const fr_client_hello *fr_conn_decision_hello(const fr_conn *c) {
    const fr_dec_conn *d = &c->dec;
    int selecting = d->asked == FERRULE_DECISION_CERTIFICATE || d->asked == FERRULE_DECISION_ALPN;
    return selecting && d->has_hello ? &d->hello : NULL;
}

void fr_conn_replay_query(const fr_conn *c, const uint8_t **key, int64_t *expires,
                          int64_t *now) {
    int asked = c->dec.asked == FERRULE_DECISION_REPLAY;
    *key = asked ? c->dec.replay_key : NULL;
    *expires = asked ? c->dec.replay_expires : 0;
    if (now != NULL) *now = fr_conn_now(c);
}

/* Is `d` the decision waiting for an answer? */
static fr_err expect(const fr_conn *c, uint32_t d) {
    if (c->dec.asked == FERRULE_DECISION_NONE) return FERRULE_R_NO_DECISION;
    return c->dec.asked == d ? FR_OK : FERRULE_R_WRONG_DECISION;
}

static fr_err answer(fr_conn *c, int choice) {
    c->dec.answered = c->dec.asked;
    c->dec.asked = FERRULE_DECISION_NONE;
    c->dec.choice = choice;
    return FR_OK;
}

fr_err fr_conn_answer_certificate(fr_conn *c, int choice) {
    FR_TRY(expect(c, FERRULE_DECISION_CERTIFICATE));
    int named = choice == FERRULE_CERT_SELECT_DEFAULT ||
                choice == FERRULE_CERT_SELECT_UNRECOGNIZED_NAME ||
                choice == FERRULE_CERT_SELECT_REFUSE;
    FR_ENSURE(named || (choice >= 0 && (size_t)choice < c->cfg->n_chains),
              FERRULE_R_BAD_ANSWER);
    return answer(c, choice);
}

fr_err fr_conn_answer_alpn(fr_conn *c, int result, const uint8_t *proto, size_t len) {
    FR_TRY(expect(c, FERRULE_DECISION_ALPN));
    FR_ENSURE(result >= FERRULE_ALPN_SELECTED && result <= FERRULE_ALPN_NO_OVERLAP,
              FERRULE_R_BAD_ANSWER);
    if (result == FERRULE_ALPN_SELECTED) {
        /* RFC 7301 §3.2: the server chooses among the client's protocols. */
        FR_ENSURE(proto != NULL && len >= 1 && len <= sizeof(c->dec.alpn) &&
                      fr_alpn_offered(&c->dec.hello, proto, len),
                  FERRULE_R_ALPN_NOT_OFFERED);
        memcpy(c->dec.alpn, proto, len);
        c->dec.alpn_len = len;
    }
    return answer(c, result);
}

fr_err fr_conn_answer_verify(fr_conn *c, int verdict) {
    FR_TRY(expect(c, FERRULE_DECISION_VERIFY));
    FR_ENSURE(verdict == FERRULE_VERIFY_ACCEPT || verdict == FERRULE_VERIFY_REJECT,
              FERRULE_R_BAD_ANSWER);
    return answer(c, verdict);
}

fr_err fr_conn_answer_early(fr_conn *c, int accept) {
    FR_TRY(expect(c, FERRULE_DECISION_EARLY_DATA));
    FR_ENSURE(accept == 0 || accept == 1, FERRULE_R_BAD_ANSWER);
    return answer(c, accept);
}

fr_err fr_conn_answer_replay(fr_conn *c, int fresh) {
    FR_TRY(expect(c, FERRULE_DECISION_REPLAY));
    /* check_and_insert's results: 1 fresh, 0 seen, negative failure. */
    FR_ENSURE(fresh <= 1, FERRULE_R_BAD_ANSWER);
    return answer(c, fresh);
}
