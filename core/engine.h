/*
 * engine.h - the core's one interface to its host (abi/).
 *
 * abi/src/ includes this header and the public ferrule.h, nothing else of
 * core/.  The engine types are opaque here; every operation is a call.
 * The core behind it is sans-I/O: no sockets, threads, clocks, files or
 * environment; time is passed in and critical sections go through the
 * host's fr_sync (sync.h).
 */
#ifndef FR_ENGINE_H
#define FR_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "sync.h"

typedef struct ferrule_conn fr_conn;     /* the connection engine */
typedef struct ferrule_config fr_config; /* the configuration engine */

/* ---- configuration and lifecycle (boundary) ----------------------------- */

/* A new config's random HelloRetryRequest cookie key (RFC 8446 §4.2.2),
 * made once, before the config can be shared: connections only read it. */
FR_MUST_CHECK fr_err fr_hrr_config_init(fr_config *cfg);

/* ---- buffers and the data path (buffer API) ----------------------------- */

/* ---- application decisions (pause/resume) ------------------------------- */

/* ---- certificates (X.509 accessors) ------------------------------------- */

/* ---- handshake internals exposed for the ABI (refactor) ----------------- */

#endif
