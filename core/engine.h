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

#include "common.h" /* the base types: fr_err, fr_mem, FR_MUST_CHECK */
#include "sync.h"

typedef struct ferrule_conn fr_conn;     /* the connection engine */
typedef struct ferrule_config fr_config; /* the configuration engine */
typedef struct ferrule_client_hello fr_client_hello; /* a server's view of a ClientHello */

/* ---- configuration and lifecycle ---------------------------------------- */

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

/* Core results: 0 or a FERRULE_R_* reason (common.h has the same typedef;
 * C11 allows the repetition). */
typedef uint32_t fr_err;
#ifndef FR_OK
#define FR_OK ((fr_err)0)
#endif
#ifndef FR_MUST_CHECK
#define FR_MUST_CHECK __attribute__((warn_unused_result))
#endif

struct fr_mem;
struct ferrule_verify_result;

/* Limits the host reports to the application. */
size_t fr_engine_max_plaintext(void);
size_t fr_engine_max_ciphertext(void);
size_t fr_engine_default_memory_limit(void);

/* A configuration of `role` (FERRULE_ROLE_*) with the defaults, holding one
 * reference; *out is NULL on failure (out of memory, no randomness). */
FR_MUST_CHECK fr_err fr_cfg_new(fr_config **out, uint32_t role, const fr_allocator *a);
void fr_cfg_ref(fr_config *cfg);
/* Drop one reference; the last one frees the configuration. */
void fr_cfg_release(fr_config *cfg);
/* Install the host's locks (FR_LOCK_CFG_*); NULL: none. */
void fr_cfg_set_sync(fr_config *cfg, const fr_sync *s);
/* Freeze: from the first connection on the core reads the configuration
 * without locks, so the setters below must no longer be called (the host
 * refuses them with CONFIG_FROZEN when fr_cfg_frozen says so).  Idempotent
 * and thread-safe. */
void fr_cfg_freeze(fr_config *cfg);
int fr_cfg_frozen(const fr_config *cfg);
/* The reason the last configuration call left (atomic). */
uint32_t fr_cfg_reason(const fr_config *cfg);
void fr_cfg_set_reason(fr_config *cfg, fr_err e);
/* The configuration's accounted allocator, for the host's temporary
 * buffers (file contents). */
struct fr_mem *fr_cfg_mem(fr_config *cfg);
/* The host's per-config block (its callbacks and locks), recorded by the
 * host; the engine never looks inside. */
void fr_cfg_set_host(fr_config *cfg, void *host);
void *fr_cfg_host(const fr_config *cfg);
/* The configuration a connection uses. */
fr_config *fr_conn_config(const fr_conn *c);

/* Setters (the host has checked the pointers for NULL and the config for
 * freezing): FR_OK, or the reason to report, nothing changed. */
FR_MUST_CHECK fr_err fr_cfg_set_cipher_suites(fr_config *cfg, const uint16_t *v, size_t n);
FR_MUST_CHECK fr_err fr_cfg_set_groups(fr_config *cfg, const uint16_t *v, size_t n);
FR_MUST_CHECK fr_err fr_cfg_set_signature_schemes(fr_config *cfg, const uint16_t *v, size_t n);
FR_MUST_CHECK fr_err fr_cfg_set_verify_signature_schemes(fr_config *cfg, const uint16_t *v,
                                                         size_t n);
FR_MUST_CHECK fr_err fr_cfg_add_alpn(fr_config *cfg, const uint8_t *proto, size_t len);
FR_MUST_CHECK fr_err fr_cfg_add_trust_pem(fr_config *cfg, const uint8_t *pem, size_t len);
FR_MUST_CHECK fr_err fr_cfg_add_trust_der(fr_config *cfg, const uint8_t *der, size_t len);
size_t fr_cfg_trust_count(const fr_config *cfg);
/* A certificate chain (PEM, leaf first) and the leaf's private key (PEM). */
FR_MUST_CHECK fr_err fr_cfg_add_cert_chain_pem(fr_config *cfg, const uint8_t *chain_pem,
                                               size_t chain_len, const uint8_t *key_pem,
                                               size_t key_len);
FR_MUST_CHECK fr_err fr_cfg_set_ocsp_staple(fr_config *cfg, size_t chain_index,
                                            const uint8_t *der, size_t len);
void fr_cfg_set_keylog_callback(fr_config *cfg,
                                void (*cb)(void *ctx, const fr_conn *conn, const char *line),
                                void *ctx);
void fr_cfg_set_verify_callback(fr_config *cfg,
                                int (*cb)(void *ctx, const fr_conn *conn,
                                          const struct ferrule_verify_result *r),
                                void *ctx);
FR_MUST_CHECK fr_err fr_cfg_set_memory_limit(fr_config *cfg, size_t bytes);
FR_MUST_CHECK fr_err fr_cfg_set_max_handshake_message(fr_config *cfg, size_t bytes);
FR_MUST_CHECK fr_err fr_cfg_set_max_peer_certificates(fr_config *cfg, uint32_t count);
void fr_cfg_dangerous_no_hostname_check(fr_config *cfg);
void fr_cfg_dangerous_no_verification(fr_config *cfg);
FR_MUST_CHECK fr_err fr_cfg_set_verify_purpose(fr_config *cfg, uint32_t purpose);
FR_MUST_CHECK fr_err fr_cfg_set_max_chain_depth(fr_config *cfg, uint32_t depth);
FR_MUST_CHECK fr_err fr_cfg_set_verify_cn_in_san(fr_config *cfg, int enable);
FR_MUST_CHECK fr_err fr_cfg_set_ocsp_policy(fr_config *cfg, uint32_t policy);
FR_MUST_CHECK fr_err fr_cfg_set_cookie_key(fr_config *cfg, const uint8_t *key, size_t len);
FR_MUST_CHECK fr_err fr_cfg_set_client_auth(fr_config *cfg, uint32_t mode);
FR_MUST_CHECK fr_err fr_cfg_set_key_update_interval(fr_config *cfg, uint64_t records);
FR_MUST_CHECK fr_err fr_cfg_set_record_size_limit(fr_config *cfg, uint32_t limit);
FR_MUST_CHECK fr_err fr_cfg_set_tickets(fr_config *cfg, uint32_t count);
FR_MUST_CHECK fr_err fr_cfg_set_psk_modes(fr_config *cfg, uint32_t modes);
/* Server policies of ferrule_resumption_options. */
FR_MUST_CHECK fr_err fr_cfg_set_resumption(fr_config *cfg, uint32_t accept,
                                           uint32_t client_identity);
/* Rotate the ticket key: allowed while connections use the config (the
 * ring is guarded by FR_LOCK_CFG_TICKETS). */
void fr_cfg_set_ticket_key(fr_config *cfg, const uint8_t name[16], const uint8_t key[32]);

/* Connections.  Creation is in two steps so that the host can freeze the
 * config and install its locks once the connection exists:
 * fr_conn_check_new (nothing allocated: the reason to report),
 * fr_conn_alloc (NULL: out of memory; else referencing cfg, freed with
 * fr_conn_free), fr_conn_start (the reason if the connection cannot be
 * used; free it then). */
FR_MUST_CHECK fr_err fr_conn_check_new(const fr_config *cfg, const char *server_name,
                                       size_t memory_limit);
fr_conn *fr_conn_alloc(fr_config *cfg, size_t memory_limit);
FR_MUST_CHECK fr_err fr_conn_start(fr_conn *c, const char *server_name);
/* Install the host's locks (FR_LOCK_CONN_*); NULL: none. */
void fr_conn_set_sync(fr_conn *c, const fr_sync *s);
/* Release everything, the connection and its reference on the config. */
void fr_conn_free(fr_conn *c);
/* The host's per-connection state: a block the host allocates from the
 * connection's accounted memory (counted against its ceiling; zeroed),
 * records with fr_conn_set_host and frees before fr_conn_free.  The
 * engine never looks inside. */
FR_MUST_CHECK fr_err fr_conn_host_alloc(fr_conn *c, size_t n, void **out);
void fr_conn_host_free(fr_conn *c, void *p, size_t n);
void fr_conn_set_host(fr_conn *c, void *host);
void *fr_conn_host(const fr_conn *c);
/* Callback I/O is installed (the host owns the callbacks; the engine only
 * needs to know, e.g. to defer ticket sending to the send half). */
int fr_conn_has_io(const fr_conn *c);
void fr_conn_set_has_io(fr_conn *c);

/* What the application reads (conn_info.c). */
int fr_conn_status(const fr_conn *c);        /* the sticky FERRULE_* class */
uint32_t fr_conn_reason(const fr_conn *c);   /* sticky reason, else the last misuse */
void fr_conn_set_usage_reason(fr_conn *c, fr_err e); /* a non-sticky refusal */
int fr_conn_alert(const fr_conn *c);         /* the alert sent or received, -1: none */
/* The same with its direction, read together under FR_LOCK_CONN_ERR: 1 and
 * *alert, *received (1: the peer's alert, 0: ours); 0 if there is none. */
int fr_conn_alert_info(const fr_conn *c, uint8_t *alert, int *received);
uint32_t fr_conn_role(const fr_conn *c);
uint32_t fr_conn_handshake_state(const fr_conn *c); /* FERRULE_HS_* */
/* The state a failed connection failed in (else the current state). */
uint32_t fr_conn_failed_state(const fr_conn *c);
uint16_t fr_conn_version(const fr_conn *c);
uint16_t fr_conn_cipher_suite(const fr_conn *c);
uint16_t fr_conn_group(const fr_conn *c);
uint16_t fr_conn_peer_signature_scheme(const fr_conn *c);
uint16_t fr_conn_signature_scheme(const fr_conn *c);
/* The negotiated ALPN protocol (*proto NULL and *len 0 if none). */
void fr_conn_alpn(const fr_conn *c, const uint8_t **proto, size_t *len);
const char *fr_conn_server_name(const fr_conn *c); /* NULL if none */
size_t fr_conn_peer_cert_count(const fr_conn *c);
/* The peer's certificate `i` (DER): 1, or 0 if there is none. */
int fr_conn_peer_cert(const fr_conn *c, size_t i, const uint8_t **der, size_t *len);
/* The validated path of the peer's chain, NULL unless one was accepted. */
const struct ferrule_verify_result *fr_conn_verify_result(const fr_conn *c);
int fr_conn_resumed(const fr_conn *c);
int fr_conn_hrr(const fr_conn *c);
int fr_conn_ocsp_stapled(const fr_conn *c);
/* Client: the OCSP response the server stapled, as sent (NULL, 0: none). */
void fr_conn_peer_ocsp(const fr_conn *c, const uint8_t **der, size_t *len);
size_t fr_conn_memory_used(const fr_conn *c);
uint64_t fr_conn_key_updates_sent(const fr_conn *c);
uint64_t fr_conn_key_updates_received(const fr_conn *c);
uint32_t fr_conn_peer_record_size_limit(const fr_conn *c);
/* RFC 8446 §7.5 exporter: WRONG_STATE unless connected and not failed. */
FR_MUST_CHECK fr_err fr_conn_export_keying_material(fr_conn *c, const char *label,
                                                    size_t label_len, const uint8_t *context,
                                                    size_t context_len, uint8_t *out,
                                                    size_t out_len);
/* Send half (caller holds the send lock): queue a KeyUpdate and change our
 * keys (RFC 8446 §4.6.3); WRONG_STATE after close_notify. */
FR_MUST_CHECK fr_err fr_conn_key_update(fr_conn *c, int request_peer);
/* Send half: fail the connection with FERRULE_R_APP_ALERT and queue the
 * fatal alert `desc` (not close_notify); an earlier failure's reason if
 * there was one. */
fr_err fr_conn_abort(fr_conn *c, uint8_t desc);
/* Client: the session blob to resume with (takes FR_LOCK_CONN_ERR: the
 * receive half replaces the kept ticket). */
FR_MUST_CHECK fr_err fr_conn_session(fr_conn *c, uint8_t *out, size_t cap, size_t *len);
/* Client, before the handshake: offer the session `blob` (copied);
 * WRONG_STATE, DECODE_ERROR, a memory reason or INTERNAL otherwise.
 * Caller holds the receive lock. */
FR_MUST_CHECK fr_err fr_conn_set_session(fr_conn *c, const uint8_t *blob, size_t len);
/* A session blob's max_early_data_size (0: its ticket allows no 0-RTT);
 * DECODE_ERROR if it is not a session blob. */
FR_MUST_CHECK fr_err fr_session_blob_max_early(const uint8_t *blob, size_t len, uint32_t *max);

/* ---- buffers and the data path (docs/buffers.md) ----------------------- */
/*
 * One engine, shells over it: ferrule_conn_feed/_take/_read, the callback
 * I/O pumps and the zero-copy buffer API (ferrule.h) are all these calls.
 * The receive half (input, read, advance) and the send half (output,
 * write, close) are each called under the host's lock of that half; calls
 * that take both halves say so.  fr_err carries failure reasons only; what
 * a driver call left to do comes back as an fr_progress.
 */
typedef uint32_t fr_err; /* a FERRULE_R_* reason; 0 = FR_OK (as common.h) */
typedef enum fr_progress {
    FR_PROGRESS_DONE = 0,    /* the call did what was asked */
    FR_PROGRESS_NEED_INPUT,  /* no whole record buffered: more bytes first */
    FR_PROGRESS_NEED_FLUSH,  /* the output is full: drain it first */
    FR_PROGRESS_PEER_CLOSED, /* the peer's close_notify arrived */
    FR_PROGRESS_WANT_APP,    /* a decision waits for its answer (fr_conn_decision) */
} fr_progress;

/* Receive half.  Lend the free tail of the input buffer (allocated if it
 * was released), then commit the n bytes written into it.  While lent the
 * tail stays in place; a second loan, or fr_conn_feed_input, is
 * BUFFER_LENT; an ack without a loan BUFFER_NOT_LENT, beyond it
 * ACK_TOO_LARGE (nothing changes). */
fr_err fr_conn_input_buf(fr_conn *c, uint8_t **p, size_t *cap);
fr_err fr_conn_input_ack(fr_conn *c, size_t n);
/* The copying form: as much of p[0..n) as fits (*consumed). */
fr_err fr_conn_feed_input(fr_conn *c, const uint8_t *p, size_t n, size_t *consumed);
/* The transport reached end of stream. */
void fr_conn_set_eof(fr_conn *c);
/* Receive half.  Drive the handshake over buffered input: FR_OK with DONE
 * once connected, NEED_INPUT, or a failure (recorded). */
fr_err fr_conn_advance(fr_conn *c, fr_progress *pr);
/* Server: like fr_conn_advance, but DONE as soon as early data is
 * buffered or the early-data phase is over. */
fr_err fr_conn_advance_early(fr_conn *c, fr_progress *pr);
/* Server: 1 while 0-RTT data may still arrive. */
int fr_conn_in_early_phase(const fr_conn *c);
/* Receive half.  Lend the next decrypted application data in place
 * (0-RTT data first), processing records until there is some: FR_OK with
 * DONE and *len > 0, or NEED_INPUT / PEER_CLOSED with *len 0.  The ack
 * wipes and drops n of the lent bytes; the record goes once all are. */
fr_err fr_conn_read_buf(fr_conn *c, const uint8_t **p, size_t *len, fr_progress *pr);
fr_err fr_conn_read_ack(fr_conn *c, size_t n);
/* The copying form of read_buf + read_ack. */
fr_err fr_conn_read_app(fr_conn *c, uint8_t *buf, size_t cap, size_t *n, fr_progress *pr);
/* Send half.  Lend the pending output (after fr_conn_do_pending), then
 * drop the n bytes that were sent.  The buffer is released once drained. */
fr_err fr_conn_output_buf(fr_conn *c, const uint8_t **p, size_t *len);
fr_err fr_conn_output_ack(fr_conn *c, size_t n);
/* The copying form: up to cap bytes of output into out (*n). */
fr_err fr_conn_take_output(fr_conn *c, uint8_t *out, size_t cap, size_t *n);
size_t fr_conn_output_pending(const fr_conn *c);
/* Send half.  Encrypt up to len bytes (*n taken; 0 with NEED_FLUSH when
 * the output is full), queue close_notify. */
fr_err fr_conn_write_app(fr_conn *c, const uint8_t *buf, size_t len, size_t *n,
                         fr_progress *pr);
fr_err fr_conn_queue_close(fr_conn *c);
/* 1 when fr_conn_do_pending has work: an alert or a KeyUpdate answer the
 * receive half owes, tickets, the secrets of a dead connection.  The host
 * then runs fr_conn_do_pending under its send lock (without waiting for
 * the lock when its send half may block in a callback). */
int fr_conn_wants_send(const fr_conn *c);
void fr_conn_do_pending(fr_conn *c);
/* FERRULE_FLAG_* of the receive half (rx) or the send half (tx), each read
 * under that half's lock. */
uint32_t fr_conn_flags_rx(const fr_conn *c);
uint32_t fr_conn_flags_tx(const fr_conn *c);
/* Both halves: free the input, output and reassembly buffers that hold
 * nothing and are not lent (they come back when needed). */
void fr_conn_release_buffers(fr_conn *c);
/* Both halves: feed what fits of in[0..in_len) (*consumed), drive the
 * handshake and process records up to the first application data (left
 * for fr_conn_read_buf), then drain the output into out (*written). */
fr_err fr_conn_process(fr_conn *c, const uint8_t *in, size_t in_len, size_t *consumed,
                       uint8_t *out, size_t out_cap, size_t *written);
/* Which buffers are lent (FR_LENT_* bits). */
#define FR_LENT_INPUT 1u
#define FR_LENT_OUTPUT 2u
#define FR_LENT_APP 4u
unsigned fr_conn_lent(const fr_conn *c);
/* Sticky status class (FERRULE_OK while none), and whether the handshake
 * is complete, for the host's argument checks. */
int fr_conn_failed_status(const fr_conn *c);
/* Record a fatal failure found by the host (a transport error): the sticky
 * status, and the alert queued if the reason has one.  Returns e. */
fr_err fr_conn_fail(fr_conn *c, fr_err e);
int fr_conn_is_connected(const fr_conn *c);
/* Server between its Finished and the client's: application data may be
 * written (0.5-RTT, RFC 8446 §2.3). */
int fr_conn_half_rtt_writable(const fr_conn *c);
/* The public status for an engine result: a failure's sticky class, or
 * the class of a local refusal (recorded as the usage reason), or the
 * progress as OK / WANT_READ / WANT_WRITE / CLOSED / WANT_APP. */
int fr_conn_status_for(fr_conn *c, fr_err e, fr_progress pr);

/* ---- application decisions (docs/decisions.md) ------------------------- */
/* docs/decisions.md.  A driver call reports FR_PROGRESS_WANT_APP while a
 * decision waits (fr_conn_decision); the host answers with one call and
 * drives again, and the paused handshake message is dispatched again.
 * Until the answer no record is read.  Answers return FR_OK, or a usage
 * reason and change nothing: FERRULE_R_NO_DECISION (none pending, or
 * already answered), FERRULE_R_WRONG_DECISION, FERRULE_R_BAD_ANSWER, and
 * for ALPN FERRULE_R_ALPN_NOT_OFFERED.  The caller holds both of the
 * connection's locks for the answers, the receive half's for the rest. */
struct ferrule_client_hello;
/* The decisions the application answers itself (FERRULE_DECIDE_* bits);
 * CONFIG_INVALID for unknown bits. */
FR_MUST_CHECK fr_err fr_cfg_set_decisions(fr_config *cfg, uint32_t decide);
/* FERRULE_DECISION_* waiting for an answer, or FERRULE_DECISION_NONE; in
 * *app (may be NULL) 1 when the application opted into answering it, 0
 * when the host answers it at once (fr_conn_decision_hooks). */
uint32_t fr_conn_decision(const fr_conn *c, int *app);
/* Server, while CERTIFICATE or ALPN waits: the ClientHello view. */
const struct ferrule_client_hello *fr_conn_decision_hello(const fr_conn *c);
/* While REPLAY waits: the key and its expiry, else *key NULL; *now (may
 * be NULL) the connection's time, which the expiry is relative to. */
void fr_conn_replay_query(const fr_conn *c, const uint8_t **key, int64_t *expires,
                          int64_t *now);
FR_MUST_CHECK fr_err fr_conn_answer_certificate(fr_conn *c, int choice);
FR_MUST_CHECK fr_err fr_conn_answer_alpn(fr_conn *c, int result, const uint8_t *proto,
                                         size_t len);
FR_MUST_CHECK fr_err fr_conn_answer_verify(fr_conn *c, int verdict);
FR_MUST_CHECK fr_err fr_conn_answer_early(fr_conn *c, int accept);
FR_MUST_CHECK fr_err fr_conn_answer_replay(fr_conn *c, int fresh);
/* The synchronous answers a connection's config holds (the callbacks of
 * ferrule.h, a custom replay store) and the config's host context (its
 * fr_sync ctx, where the host keeps the built-in replay store): what the
 * host answers a decision with when the application did not opt in.  The
 * core only notes whether each is set; it never calls them. */
typedef struct fr_dec_hooks {
    int (*cert)(void *ctx, const fr_conn *conn, const struct ferrule_client_hello *hello);
    void *cert_ctx;
    int (*alpn)(void *ctx, const fr_conn *conn, const struct ferrule_client_hello *hello,
                const uint8_t **proto, size_t *len);
    void *alpn_ctx;
    int (*verify)(void *ctx, const fr_conn *conn, const struct ferrule_verify_result *r);
    void *verify_ctx;
    int (*accept)(void *ctx, const fr_conn *conn);
    void *accept_ctx;
    int (*check)(void *ctx, const uint8_t key[32], int64_t expires);
    void *check_ctx;
    void *host;
} fr_dec_hooks;
void fr_conn_decision_hooks(const fr_conn *c, fr_dec_hooks *h);
/* The host could not answer the pending decision (a callback returned an
 * invalid value: CALLBACK_RESULT): the connection fails with `e`, which
 * is returned. */
fr_err fr_conn_fail_decision(fr_conn *c, fr_err e);

/* ---- 0-RTT (hs/early_data.c) --------------------------------------------- */
/* docs/early-data.md.  The settings of ferrule_early_data_options. */
typedef struct fr_early_setup {
    uint32_t max_size, window_ms, capacity; /* 0: the default (fr_early_setup_check) */
    /* Server: the application's replay store, its 16-byte identity
     * (store_id; NULL: the host's built-in store, with a fresh random
     * identity) and check; the consent callback.  The core only keeps
     * them for fr_conn_decision_hooks. */
    const uint8_t *store_id;
    int (*check)(void *ctx, const uint8_t key[32], int64_t expires);
    void *check_ctx;
    int (*accept)(void *ctx, const fr_conn *conn);
    void *accept_ctx;
} fr_early_setup;
/* Fill in the defaults and check the ranges: CONFIG_INVALID. */
FR_MUST_CHECK fr_err fr_early_setup_check(fr_early_setup *s);
/* Enable 0-RTT with checked settings (the host checked freezing); a
 * randomness failure changes nothing. */
FR_MUST_CHECK fr_err fr_cfg_set_early_data(fr_config *cfg, const fr_early_setup *s);
uint32_t fr_cfg_role(const fr_config *cfg); /* FERRULE_ROLE_* */
/* The lifetime of our tickets in seconds (the built-in store's period). */
uint32_t fr_engine_ticket_lifetime(void);
/* Client, both halves: write early data (*done bytes taken).  At START
 * the ClientHello goes first, with early_data, if the session allows it.
 * NO_EARLY_DATA and WRONG_STATE are local refusals (the connection goes
 * on); other failures are recorded. */
FR_MUST_CHECK fr_err fr_conn_write_early(fr_conn *c, const uint8_t *buf, size_t len,
                                         size_t *done);
/* Server, receive half: copy buffered early data (0 bytes when none). */
size_t fr_early_take(fr_conn *c, uint8_t *buf, size_t cap);
uint32_t fr_conn_early_status(const fr_conn *c); /* FERRULE_EARLY_* */
size_t fr_conn_early_len(const fr_conn *c);      /* bytes sent (client) or received */
uint32_t fr_conn_early_reason(const fr_conn *c); /* FERRULE_EARLY_REASON_* */

/* ---- chain validation (ferrule_verify_chain) ---------------------------- */
/* What the caller asked of a standalone validation (ferrule_verify_options
 * with the time resolved by the host). */
typedef struct fr_verify_request {
    uint32_t purpose;   /* FERRULE_PURPOSE_*; 0: server authentication */
    uint32_t flags;     /* FERRULE_VERIFY_* (USE_TIME only says where `now` came from) */
    uint32_t max_depth; /* 0: the config's */
    int64_t now;        /* the time to validate at */
    const char *peer_name;
    const uint8_t *const *crls;
    const size_t *crl_lens;
    size_t n_crls;
} fr_verify_request;
/* The options' values: CONFIG_INVALID or NULL_ARGUMENT (a missing CRL)
 * for what the host refuses as misuse. */
FR_MUST_CHECK fr_err fr_verify_request_check(const fr_verify_request *q);
/* Validate ders[0..n) (leaf first, none NULL or empty) against the
 * config's anchors with its verification policy and the request's
 * overrides.  *out is the result from the config's memory (also for a
 * chain that does not parse or is too long), NULL only when it could not
 * be allocated; returns the verification reason. */
fr_err fr_cfg_verify_chain(const fr_config *cfg, const uint8_t *const *ders, const size_t *lens,
                           size_t n, const fr_verify_request *q,
                           struct ferrule_verify_result **out);
/* A result: its reason, and the validated path (leaf first; empty unless
 * accepted): 1 and certificate i's DER, or 0 beyond the path. */
uint32_t fr_verify_result_reason(const struct ferrule_verify_result *r);
size_t fr_verify_result_path_length(const struct ferrule_verify_result *r);
int fr_verify_result_path_cert(const struct ferrule_verify_result *r, size_t i,
                               const uint8_t **der, size_t *len);
void fr_verify_result_free(struct ferrule_verify_result *r); /* NULL: nothing */

/* ---- server selection (the ClientHello view) ---------------------------- */
/* docs/server-callbacks.md.  Settings of a server's certificate and ALPN
 * selection (the host has checked the config for freezing), and what the
 * host reads of the view (hs/hello_view.c): pointers into the view or its
 * decoded copies, valid while the view is. */
FR_MUST_CHECK fr_err fr_cfg_set_sni_policy(fr_config *cfg, uint32_t policy); /* FERRULE_SNI_* */
size_t fr_cfg_chain_count(const fr_config *cfg);
/* The synchronous selection callbacks (NULL: the default; ctx dropped). */
void fr_cfg_set_cert_select(fr_config *cfg,
                            int (*cb)(void *ctx, const fr_conn *conn,
                                      const fr_client_hello *hello),
                            void *ctx);
void fr_cfg_set_alpn_select(fr_config *cfg,
                            int (*cb)(void *ctx, const fr_conn *conn,
                                      const fr_client_hello *hello, const uint8_t **proto,
                                      size_t *len),
                            void *ctx);
/* The index of the chain the connection uses, -1 if none (or resumed). */
int fr_conn_cert_index(const fr_conn *c);
const char *fr_hello_server_name(const fr_client_hello *h); /* NULL: no SNI */
/* A list of the ClientHello, decoded on first use (*n 0 and NULL when
 * the copy cannot be allocated). */
const uint16_t *fr_hello_signature_schemes(const fr_client_hello *h, size_t *n);
const uint16_t *fr_hello_signature_schemes_cert(const fr_client_hello *h, size_t *n);
const uint16_t *fr_hello_cipher_suites(const fr_client_hello *h, size_t *n);
size_t fr_hello_alpn_count(const fr_client_hello *h);
/* ALPN name `index`: NOT_FOUND beyond the list, a memory reason when the
 * index of the names cannot be allocated. */
FR_MUST_CHECK fr_err fr_hello_alpn(const fr_client_hello *h, size_t index,
                                   const uint8_t **proto, size_t *len);
/* How a chain suits a ClientHello: FERRULE_CHAIN_FIT_* bits, and in
 * *scheme (may be NULL) the signature scheme we would sign with. */
uint32_t fr_chain_fit(const fr_client_hello *h, size_t index, uint16_t *scheme);

/* ---- certificates (X.509 accessors) ------------------------------------- */
/*
 * A read-only view of one certificate (core/x509/access.c): the strict
 * parser's fr_cert plus indexes of the lists it holds (name attributes,
 * subjectAltName, extKeyUsage, authorityInfoAccess, cRLDistributionPoints,
 * extensions) and their text forms (dotted OIDs, RFC 4514 names), all made
 * once by fr_cert_view_new.  The view never changes afterwards, so any
 * number of threads may read it at once; every pointer below points into
 * it (or into its copy of the DER) and lives as long as it does.
 * Functions returning uint32_t return a FERRULE_R_* reason (0 = success).
 */
#ifndef FR_MUST_CHECK
#define FR_MUST_CHECK __attribute__((warn_unused_result))
#endif
typedef struct fr_cert_view fr_cert_view;

/* One AttributeTypeAndValue of a Name (RFC 5280 §4.1.2.4). */
typedef struct fr_x509_attr {
    size_t rdn;                                 /* RDN index, 0 = first encoded */
    uint32_t tag;                               /* the value's ASN.1 tag octet */
    const char *oid;                            /* attribute type, dotted */
    const uint8_t *value;     size_t value_len; /* the value's content octets */
    const uint8_t *value_der; size_t value_der_len; /* the value's whole TLV */
} fr_x509_attr;

/* A distinguished name: its DER, attributes in encoding order, and its
 * RFC 4514 string. */
typedef struct fr_x509_name {
    const uint8_t *der; size_t der_len;         /* the Name TLV */
    const fr_x509_attr *attrs; size_t n_attrs;
    const char *text; size_t text_len;          /* RFC 4514, NUL-terminated */
} fr_x509_name;

/* One entry of a list (FR_CERT_LIST_*).  GeneralName lists (SAN, AIA
 * locations, CRL distribution point names): `type` is the GeneralName tag
 * number 0..8 and value/len its content (for a directoryName the Name
 * TLV; for an otherName the type-id and [0] value).  EKU: `oid` only.
 * Extensions: `oid`, `type` = critical (0/1), value/len the extnValue
 * content. */
typedef struct fr_x509_entry {
    uint32_t type;
    size_t group;                                /* CRLDP: the DistributionPoint index */
    const char *oid;                             /* otherName type-id, registeredID, EKU purpose,
                                                    AIA accessMethod, extnID; else NULL */
    const uint8_t *oid_der; size_t oid_der_len;  /* that OID's content octets */
    const uint8_t *value; size_t len;
    uint32_t inner_tag;                          /* otherName: the tag of the value in [0] */
    const uint8_t *inner; size_t inner_len;      /* ... and its content octets */
    const fr_x509_name *name;                    /* directoryName: the parsed Name */
} fr_x509_entry;

#define FR_CERT_LIST_SAN 0
#define FR_CERT_LIST_EKU 1
#define FR_CERT_LIST_AIA 2
#define FR_CERT_LIST_CRLDP 3
#define FR_CERT_LIST_EXT 4
#define FR_CERT_LISTS 5

/* Names of fr_cert_view_name: subject, issuer, or the directoryName in
 * subjectAltName entry i (FR_CERT_NAME_SAN + i). */
#define FR_CERT_NAME_SUBJECT 0u
#define FR_CERT_NAME_ISSUER 1u
#define FR_CERT_NAME_SAN 2u

/* Key types of fr_cert_facts.key_type (the SubjectPublicKeyInfo
 * algorithm, decoded or not). */
#define FR_CERT_KEYTYPE_OTHER 0u
#define FR_CERT_KEYTYPE_RSA 1u
#define FR_CERT_KEYTYPE_RSA_PSS 2u
#define FR_CERT_KEYTYPE_EC 3u
#define FR_CERT_KEYTYPE_ED25519 4u

/* The scalar facts of a certificate. */
typedef struct fr_cert_facts {
    const uint8_t *der;    size_t der_len;
    uint32_t version;                            /* 1, 2 or 3 */
    const uint8_t *serial; size_t serial_len;    /* INTEGER content octets */
    int64_t not_before, not_after;               /* seconds since the epoch */
    const char *sig_oid;                         /* signatureAlgorithm, dotted */
    uint16_t sig_scheme;                         /* its TLS SignatureScheme, 0 if none */
    uint32_t key_type;                           /* FR_CERT_KEYTYPE_* */
    uint32_t key_bits;                           /* 0 when ferrule does not decode the key */
    const char *key_oid;                         /* SPKI algorithm, dotted */
    const char *curve_oid;                       /* id-ecPublicKey namedCurve, else NULL */
    const uint8_t *spki;   size_t spki_len;      /* SubjectPublicKeyInfo TLV */
    uint8_t spki_sha256[32];
    uint32_t bc_present, is_ca, has_path_len, path_len; /* basicConstraints */
    uint32_t ku_present, key_usage;              /* keyUsage: bit n = 1 << n */
} fr_cert_facts;

/* Parse `der` strictly (fr_cert_parse) and build the view, allocating
 * from libc.  NULL_ARGUMENT, CERT_MALFORMED, OUT_OF_MEMORY. */
FR_MUST_CHECK uint32_t fr_cert_view_new(const uint8_t *der, size_t len, fr_cert_view **out);
void fr_cert_view_free(fr_cert_view *v);
const fr_cert_facts *fr_cert_view_facts(const fr_cert_view *v);
/* FERRULE_R_NOT_FOUND for an unknown `which` or a SAN entry that is not a
 * directoryName. */
FR_MUST_CHECK uint32_t fr_cert_view_name(const fr_cert_view *v, size_t which,
                                         const fr_x509_name **out);
size_t fr_cert_view_count(const fr_cert_view *v, int list);
/* FERRULE_R_NOT_FOUND for an index out of range. */
FR_MUST_CHECK uint32_t fr_cert_view_entry(const fr_cert_view *v, int list, size_t i,
                                          const fr_x509_entry **out);

/* ---- reasons ------------------------------------------------------------ */

/* Status class of a reason (core/err.c). */
int fr_err_class(uint32_t e);

#endif
