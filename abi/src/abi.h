/* abi.h - helpers shared by the ABI entry points. */
#ifndef FR_ABI_H
#define FR_ABI_H

#include <pthread.h>

#include "ferrule.h"

#include "engine.h"
#include "replay.h"

/* The ABI's per-connection state, outside the engine (the context of the
 * engine, fr_conn_host; also its sync's context): the locks of the two
 * halves and of the sticky failure, and the callback I/O.  Lock order: rd_lock, then
 * wr_lock (recursive), then err_lock.  The send half never takes
 * rd_lock. */
typedef struct fr_abi_conn_host {
    pthread_mutex_t rd_lock;
    pthread_mutex_t wr_lock;
    pthread_mutex_t err_lock; /* FR_LOCK_CONN_ERR */
    ferrule_io_callbacks io;
} fr_abi_conn_host;

/* The ABI's per-config state (fr_cfg_host; also the context of the
 * config's sync): the lock of the ticket-key ring and the application's
 * callbacks, which the engine never calls. */
typedef struct fr_abi_config_host {
    pthread_mutex_t tickets; /* FR_LOCK_CFG_TICKETS */
    fr_config *cfg;
    int64_t (*now)(void *ctx); /* ferrule_config_set_time_callback */
    void *now_ctx;
    fr_bloom *bloom; /* the built-in 0-RTT replay store (replay.c); NULL: none */
} fr_abi_config_host;

static inline fr_abi_config_host *fr_abi_cfg_host(const ferrule_config *cfg) {
    return (fr_abi_config_host *)fr_cfg_host(cfg);
}

static inline fr_abi_conn_host *fr_abi_host(const ferrule_conn *c) {
    return (fr_abi_conn_host *)fr_conn_host(c);
}

/* Copy a caller's versioned struct into `dst` (of `known` bytes, zeroed
 * first), applying the struct_size rules of ferrule.h. */
FR_MUST_CHECK fr_err fr_abi_copy_struct(void *dst, size_t known, const void *src);

/* From config.c: every config setter starts with fr_abi_setter_check (NULL,
 * frozen: FERRULE_USAGE with reason config_frozen) and ends with
 * fr_abi_setter_result (records the reason, maps it to a status class). */
int fr_abi_setter_check(ferrule_config *cfg);
int fr_abi_setter_result(ferrule_config *cfg, fr_err e);

/* From conn.c: the usage-error helper, the core-result mapping, and the
 * callback-I/O pumps (flush_out: caller holds wr_lock; fill_in: rd_lock). */
int fr_abi_usage(ferrule_conn *c, fr_err e);
int fr_abi_status_of(ferrule_conn *c, fr_err e);
int fr_abi_flush_out(ferrule_conn *c);
int fr_abi_fill_in(ferrule_conn *c);

/* From decisions.c: advance the handshake (fr_conn_advance, or
 * fr_conn_advance_early with `early`), answering at once every decision
 * the application did not opt into (callbacks, defaults, the replay
 * store); *pr WANT_APP while one it opted into waits.  Both locks held
 * by the caller. */
FR_MUST_CHECK fr_err fr_abi_advance(ferrule_conn *c, int early, fr_progress *pr);
/* The same for a decision fr_conn_process stopped at: FR_OK with
 * *answered 1 when the host answered it (process again), 0 when none
 * waits or the application answers it; a failure is recorded. */
FR_MUST_CHECK fr_err fr_abi_answer_pending(ferrule_conn *c, int *answered);

#endif
