/*
 * decision.h - application decisions as pause/resume (docs/decisions.md).
 *
 * A handler that needs the application's answer (certificate or ALPN
 * selection, the verdict on a chain, 0-RTT acceptance, the replay store)
 * asks with fr_dec_ask, which reports the branch FR_BRANCH_APP, and
 * returns FR_OK: a pause is an outcome of the step, not a failure, so it
 * never travels as a reason.  The dispatcher then leaves the state as it
 * is (the row names its own state for that branch) and reports the
 * progress FR_PROGRESS_WANT_APP; the message stays in the reassembly
 * buffer, untouched, while the connection reads no further input.  The
 * host answers (fr_conn_answer_*, engine.h) and advances again: the same
 * handler runs on the same message with fr_dec_resuming true, skips the
 * steps it completed (c->dec.step, each handler's own numbering) and takes
 * the answer.  The core never calls the application: the host answers a
 * pause it was not asked to leave to the application itself (callbacks,
 * defaults, the built-in replay store).  Included by conn.h.
 */
#ifndef FR_DECISION_H
#define FR_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include "../common.h"
#include "server_select.h"

/* The decisions the application answers itself (FERRULE_DECIDE_* bits,
 * ferrule_config_set_decisions).  The host also answers, at once, those a
 * callback of the config answers and the replay store. */
typedef struct fr_dec_config {
    uint32_t app;
} fr_dec_config;

/* Steps of the paused ClientHello (server), in order. */
#define FR_CH_STEP_NEGOTIATED 1u /* version, suite, group, cookie, requests noted */
#define FR_CH_STEP_ALPN 2u       /* ALPN chosen */
#define FR_CH_STEP_CERT 3u       /* chain chosen */
#define FR_CH_STEP_PSK 4u        /* PSK considered */
#define FR_CH_STEP_IDENTITY 5u   /* a ticket's client identity judged */
#define FR_CH_STEP_TRANSCRIPT 6u /* the ClientHello is in the transcript */
#define FR_CH_STEP_EARLY 7u      /* 0-RTT eligibility and the application's consent */
#define FR_CH_STEP_REPLAY1 8u    /* the ticket's replay key checked */
#define FR_CH_STEP_REPLAY2 9u    /* the ClientHello's replay key checked */
/* Step of a paused Certificate (either role). */
#define FR_CERT_STEP_VERIFIED 1u

typedef struct fr_dec_conn {
    uint32_t asked;    /* FERRULE_DECISION_* waiting for its answer, or NONE */
    uint32_t answered; /* the decision answered, until the handler takes it */
    int paused;        /* a handshake message waits at hs_buf + hs_off */
    size_t hs_off;
    unsigned step; /* the paused handler's completed steps */
    int choice;    /* the answer: chain / FERRULE_CERT_SELECT_*, FERRULE_ALPN_*,
                      verdict, accept, fresh */
    uint8_t alpn[255];
    size_t alpn_len;
    /* Server, while the ClientHello is processed: the view the selection
     * reads (and shows the application), its decoded lists, and what
     * negotiation chose. */
    fr_client_hello hello;
    fr_hello_lists lists;
    int has_hello;
    int retry, second;
    const uint8_t *share; /* the chosen key share in the message, or NULL */
    size_t share_len;
    /* Server, 0-RTT: eligible and consented so far; the replay query. */
    int early_ok;
    int64_t ticket_expires, hello_expires;
    const uint8_t *replay_key; /* ticket_key or hello_key of c->early */
    int64_t replay_expires;
} fr_dec_conn;

struct ferrule_conn;
struct ferrule_config;

/* Does the host answer decision `d` (FERRULE_DECISION_*)?  If not, the
 * core applies its default without pausing.  (fr_dec_ask, which reports
 * the pause as a branch, is declared with fr_branch in conn.h.) */
int fr_dec_host_answers(const struct ferrule_conn *c, uint32_t d);
/* 1 when the handler runs again on its paused message. */
int fr_dec_resuming(const struct ferrule_conn *c);
/* The answer to `d` if it was answered (1, *choice set; the answer is
 * consumed), else 0. */
int fr_dec_take(struct ferrule_conn *c, uint32_t d, int *choice);
/* Dispatcher: the handler finished its message (no longer paused). */
void fr_dec_finish(struct ferrule_conn *c);
/* Release what a pause holds (connection teardown). */
void fr_dec_free(struct ferrule_conn *c);

#endif
