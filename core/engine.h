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

/* Memory accounted to a config, from its allocator (config_host.c);
 * fr_config_mem_alloc fails with MEMORY_LIMIT or OUT_OF_MEMORY. */
FR_MUST_CHECK fr_err fr_config_mem_alloc(fr_config *cfg, size_t n, void **out);
void fr_config_mem_free(fr_config *cfg, void *p, size_t n); /* wipes; NULL is a no-op */

/* Trust anchors from the content of a file the host read: PEM when it has a
 * "-----BEGIN" line (the certificates that parse, at least one), else one
 * DER certificate; CONFIG_PEM when nothing usable is in it.  All or
 * nothing.  A mark taken before several additions undoes them all. */
FR_MUST_CHECK fr_err fr_config_trust_add_bytes(fr_config *cfg, const uint8_t *p, size_t n);
size_t fr_config_trust_mark(const fr_config *cfg);
void fr_config_trust_rollback(fr_config *cfg, size_t mark);

/* The clock is the host's: it passes the time in (seconds since the Unix
 * epoch: the config's time callback, else the system clock) before every
 * call that may advance the connection or verify, and again when new bytes
 * arrive from a blocking transport.  The engine never reads a clock; every
 * check of one call (certificate validity, ticket age and lifetime, the
 * 0-RTT window) sees the same time.  Either half may set it. */
void fr_conn_set_time(fr_conn *c, int64_t now);

/* Names (names.c, err.c), static strings; NULL for unknown code points
 * (the reason and status names: "unknown", the message "unknown reason").
 * The *_from_name look-ups give 1 and the code point, or 0. */
const char *fr_cipher_suite_name(uint16_t v);
const char *fr_group_name(uint16_t v);
const char *fr_signature_scheme_name(uint16_t v);
const char *fr_alert_name(uint8_t v);
const char *fr_handshake_state_name(uint32_t v);
int fr_cipher_suite_from_name(const char *name, uint16_t *out);
int fr_group_from_name(const char *name, uint16_t *out);
int fr_signature_scheme_from_name(const char *name, uint16_t *out);
const char *fr_reason_name(uint32_t reason);
const char *fr_reason_message(uint32_t reason);
const char *fr_status_name(int status);

/* ---- buffers and the data path (buffer API) ----------------------------- */

/* ---- application decisions (pause/resume) ------------------------------- */

/* ---- certificates (X.509 accessors) ------------------------------------- */

/* ---- handshake internals exposed for the ABI (refactor) ----------------- */

#endif
