/*
 * conn.h - the internal shape of a configuration and a connection.
 * Only core/ (and white-box tests) include this: abi/src/ reaches the engine
 * through engine.h only; applications see opaque handles.
 */
#ifndef FR_CONN_H
#define FR_CONN_H

#include <stdatomic.h>

/* The public numbers come from codes.h (generated from ferrule.h); the
 * engine includes nothing of abi/. */
#include "codes.h"

#include "common.h"
#include "engine.h"
#include "crypto/crypto.h"
#include "keysched.h"
#include "record.h"
#include "x509/x509.h"
/* Feature state kept in its own structs (config and connection parts). */
#include "hs/hrr.h"
#include "hs/client_auth.h"
#include "key_update.h"
#include "hs/resume.h"
#include "hs/server_select.h"
#include "hs/early_data.h"
#include "hs/decision.h"
#include "record_size_limit.h"

#define FR_MAX_SUITES 8
#define FR_MAX_GROUPS 8
/* Key shares a ClientHello of ours carries: one for the first configured
 * group, plus an x25519 one when that group is X25519MLKEM768 and x25519
 * is configured (client_hello.c; RFC 8446 §4.2.8 allows more). */
#define FR_MAX_KEY_SHARES 2
#define FR_MAX_SIGS 16
#define FR_MAX_CHAINS 16
#define FR_MAX_ALPN_WIRE 1024
#define FR_MAX_CHAIN_CERTS 16 /* certificates in one of our configured chains */
/* Certificates accepted in a peer's Certificate message: the default and
 * the largest value ferrule_config_set_max_peer_certificates takes (what
 * ferrule_verify_chain's path builder is ever given, FR_VERIFY_MAX_INPUT). */
#define FR_DEFAULT_MAX_PEER_CERTS 64
#define FR_MAX_PEER_CERTS_LIMIT FR_VERIFY_MAX_INPUT
#define FR_DEFAULT_MEMORY_LIMIT (256u * 1024u)
#define FR_MIN_MEMORY_LIMIT (64u * 1024u)
/* The largest ClientHello whose lists all stay within their RFC 8446
 * §4.1.2 maxima: legacy_version, random, legacy_session_id<0..32>,
 * cipher_suites<2..2^16-2>, legacy_compression_methods<1..2^8-1>,
 * extensions<8..2^16-1>.  The default handshake message cap admits it. */
#define FR_MAX_CLIENT_HELLO (2u + 32u + (1u + 32u) + (2u + 65534u) + (1u + 255u) + (2u + 65535u))
#define FR_DEFAULT_MAX_HS_MSG FR_MAX_CLIENT_HELLO
#define FR_MAX_EMPTY_RECORDS 32 /* consecutive empty records tolerated */
#define FR_MAX_CCS 8 /* change_cipher_spec records dropped per handshake */
#define FR_MAX_USER_CANCELED 4 /* user_canceled alerts in a row, nothing else between */

/* Handshake message types (RFC 8446 §4) */
#define FR_HS_CLIENT_HELLO 1
#define FR_HS_SERVER_HELLO 2
#define FR_HS_NEW_SESSION_TICKET 4
#define FR_HS_END_OF_EARLY_DATA 5
#define FR_HS_ENCRYPTED_EXTENSIONS 8
#define FR_HS_CERTIFICATE 11
#define FR_HS_CERTIFICATE_REQUEST 13
#define FR_HS_CERTIFICATE_VERIFY 15
#define FR_HS_FINISHED 20
#define FR_HS_KEY_UPDATE 24
#define FR_HS_MESSAGE_HASH 254
#define FR_HS_NONE 0xffff /* a transition taken without a message (send) */

/* Extension code points (RFC 8446 §4.2) */
#define FR_EXT_SERVER_NAME 0
#define FR_EXT_MAX_FRAGMENT_LENGTH 1
#define FR_EXT_STATUS_REQUEST 5
#define FR_EXT_SUPPORTED_GROUPS 10
#define FR_EXT_SIGNATURE_ALGORITHMS 13
#define FR_EXT_USE_SRTP 14
#define FR_EXT_HEARTBEAT 15
#define FR_EXT_ALPN 16
#define FR_EXT_SCT 18
#define FR_EXT_CLIENT_CERT_TYPE 19
#define FR_EXT_SERVER_CERT_TYPE 20
#define FR_EXT_PADDING 21
#define FR_EXT_RECORD_SIZE_LIMIT 28
#define FR_EXT_PRE_SHARED_KEY 41
#define FR_EXT_EARLY_DATA 42
#define FR_EXT_SUPPORTED_VERSIONS 43
#define FR_EXT_COOKIE 44
#define FR_EXT_PSK_KEY_EXCHANGE_MODES 45
#define FR_EXT_CERTIFICATE_AUTHORITIES 47
#define FR_EXT_OID_FILTERS 48
#define FR_EXT_POST_HANDSHAKE_AUTH 49
#define FR_EXT_SIGNATURE_ALGORITHMS_CERT 50
#define FR_EXT_KEY_SHARE 51

/* One certificate chain with its private key. */
typedef struct fr_chain {
    uint8_t *ders[FR_MAX_CHAIN_CERTS];
    size_t lens[FR_MAX_CHAIN_CERTS];
    size_t n;
    EVP_PKEY *key;
    uint8_t *staple; /* DER OCSP response to staple, or NULL */
    size_t staple_len;
    /* Facts noted when the chain is loaded (fr_chain_note): the leaf's
     * subjectAltName (a copy, or NULL) for SNI matching, and the TLS
     * signature scheme of each certificate signature a client judges
     * with signature_algorithms_cert (self-issued certificates, i.e.
     * trust anchors, are exempt: RFC 8446 §4.4.2.2). */
    uint8_t *san;
    size_t san_len;
    uint16_t cert_sigs[FR_MAX_CHAIN_CERTS];
    size_t n_cert_sigs;
    /* The issuer Name of each certificate (its TLV, inside ders[i]; length
     * 0 if the certificate could not be read), for a server's
     * certificate_authorities (RFC 8446 §4.2.4). */
    size_t issuer_off[FR_MAX_CHAIN_CERTS], issuer_len[FR_MAX_CHAIN_CERTS];
} fr_chain;

/* Idle record buffers a config keeps for its connections to reuse
 * (core/bufpool.c, docs/buffers.md "Buffer reuse"): an input buffer, or an
 * output buffer of the standard size, both FR_POOL_BUF bytes.  Slots are
 * taken and filled with atomic exchanges, so connections on different
 * threads share them without a lock. */
#define FR_POOL_SLOTS 4
#define FR_POOL_BUF FR_MAX_RECORD
typedef struct fr_buf_pool {
    uint8_t *_Atomic slot[FR_POOL_SLOTS];
    atomic_size_t bytes;      /* held in the slots (counted in the config's fr_mem) */
    atomic_uint_fast64_t ids; /* owner tags handed to connections */
} fr_buf_pool;

struct ferrule_config {
    fr_mem mem;
    fr_sync sync; /* the host's locks (sync.h): FR_LOCK_CFG_* */
    fr_allocator alloc; /* copied to every connection */
    uint32_t role;
    atomic_uint refs;
    atomic_int frozen;
    _Atomic uint32_t reason; /* written by ferrule_conn_new on a shared config */
    uint16_t suites[FR_MAX_SUITES];
    size_t n_suites;
    uint16_t groups[FR_MAX_GROUPS];
    size_t n_groups;
    /* 1 if libcrypto provides ML-KEM-768 (fr_kex_mlkem_available, asked
     * once in fr_cfg_new): only then may groups hold X25519MLKEM768. */
    int mlkem;
    uint16_t sigs[FR_MAX_SIGS]; /* what we sign with (and accept, unless vsigs is set) */
    size_t n_sigs;
    uint16_t vsigs[FR_MAX_SIGS]; /* what we offer and accept from the peer, when n_vsigs > 0 */
    size_t n_vsigs;
    uint8_t alpn[FR_MAX_ALPN_WIRE]; /* wire format: u8 len || proto ... */
    size_t alpn_len;
    fr_trust_store trust;
    fr_chain chains[FR_MAX_CHAINS];
    size_t n_chains;
    void *host; /* the host's per-config block (fr_cfg_host) */
    size_t memory_limit;
    size_t max_hs_msg;
    uint32_t max_peer_certs; /* certificates accepted in a peer's Certificate */
    void (*keylog)(void *ctx, const fr_conn *conn, const char *line);
    void *keylog_ctx;
    int no_hostname_check;
    int no_verification;
    uint32_t purpose;     /* FERRULE_PURPOSE_*; 0 = by role */
    uint32_t max_depth;   /* 0 = default */
    uint32_t ocsp_policy; /* FERRULE_OCSP_* */
    int cn_in_san;        /* ferrule_config_set_verify_cn_in_san */
    int (*verify_cb)(void *ctx, const fr_conn *conn, const ferrule_verify_result *r);
    void *verify_cb_ctx;
    fr_hrr_config hrr;
    fr_client_auth_config cauth;
    fr_ku_config ku;
    fr_resume_config resume;
    fr_select_config select;
    fr_early_config early;
    fr_rsl_config rsl;
    fr_dec_config dec;
    fr_buf_pool pool;
};

/* Verification parameters of a config for verifying its peer. */
void fr_config_verify_params(const fr_config *cfg, fr_verify_params *p);

struct ferrule_conn {
    fr_config *cfg;
    fr_mem mem;
    uint32_t role;
    /* FERRULE_HS_*; assigned only in state.c: by the dispatcher, and by
     * fr_state_init / fr_state_fail.  Atomic: both halves read it. */
    _Atomic uint32_t state;
    _Atomic uint32_t failed_in; /* the state the connection failed in (fr_state_fail) */

    fr_sync sync; /* the host's locks (sync.h): FR_LOCK_CONN_* */
    /* The host's clock, passed in (fr_conn_set_time) at each call that may
     * advance or verify; seconds since the Unix epoch.  Atomic: the two
     * halves set it from their own threads. */
    _Atomic int64_t now;
    /* Sticky failure (guarded by the host's FR_LOCK_CONN_ERR). */
    atomic_int status;
    uint32_t reason;
    int alert;
    uint32_t usage_reason; /* last API misuse (not sticky) */

    /* Callback I/O is installed (the callbacks are the host's). */
    int has_io;
    void *host; /* the host's per-connection block (fr_conn_host) */

    /* Receive side: raw records in `in[in_off .. in_off+in_len)`.  `in`
     * is allocated when input is first wanted and released when empty
     * after the handshake (buffers.c). */
    uint8_t *in;
    size_t in_cap, in_off, in_len;
    size_t in_used; /* bytes of `in` ever written (what a release wipes) */
    uint64_t pool_id; /* tags the buffers this connection gives back (bufpool.c) */
    int out_pooled;   /* `out` is a standard FR_POOL_BUF buffer (else grown) */
    size_t out_used;  /* leading bytes of a pooled `out` that held our input
                       * before (plaintext: wiped before another takes it) */
    /* The buffer API's loans (buffers.c): while one is out, what it lends
     * stays where it is (no compaction, growth or release). */
    int in_lent;    /* `in` tail from in_off+in_len, in_lent_cap bytes */
    size_t in_lent_cap;
    int out_lent;   /* `out` from out_off, out_lent_len bytes */
    size_t out_lent_len;
    int app_lent;   /* decrypted data (app, or early data), app_lent_len bytes */
    size_t app_lent_len;
    uint8_t *app;      /* decrypted application data not yet read (inside in) */
    size_t app_len;
    size_t app_rec;    /* bytes of `in` to drop once app_len reaches 0 */
    int eof;           /* transport EOF seen */
    int peer_closed;   /* close_notify received */
    unsigned empty_records;
    unsigned user_canceled; /* user_canceled alerts since the last other record */
    unsigned ccs_seen;
    fr_aead rd;
    uint8_t *hs_buf; /* handshake reassembly */
    size_t hs_len, hs_cap;
    size_t hs_after; /* handshake bytes held after the message being dispatched */

    /* Output the receive half owes, performed by whoever next holds the
     * send lock (see fr_conn_service_send): never blocks the reader. */
    atomic_int pending_alert; /* -1: none */
    atomic_int pending_key_update;
    atomic_int want_send; /* fr_conn_do_pending has work (fr_conn_wants_send) */

    /* Send side: records in `out[out_off .. out_off+out_len)`. */
    uint8_t *out;
    size_t out_cap, out_off, out_len;
    int closed_sent;
    fr_aead wr;

    /* Key schedule and transcript. */
    fr_keysched ks;
    fr_transcript th;
    int th_ready;
    uint8_t th_before[FR_MAX_HASH]; /* transcript hash before the current message */
    const uint8_t *cur_msg;         /* the message being dispatched (header included) */
    size_t cur_msg_len;
    unsigned rd_epoch;              /* bumped at every read key change */

    /* Handshake-scoped. */
    fr_kex kex[FR_MAX_KEY_SHARES];
    size_t n_kex;
    uint8_t *ch_copy; /* client: our ClientHello until the suite is known */
    size_t ch_len;
    uint8_t client_random[32];
    uint8_t server_random[32];
    uint8_t session_id[32];
    size_t session_id_len;
    int sent_sni;
    int sent_alpn;
    int sent_status_request; /* client: we asked for an OCSP staple */
    int peer_wants_status;   /* server: the client asked for one (RFC 6066 §8) */
    const fr_chain *our_chain;
    int cert_requested; /* client: the server sent CertificateRequest */

    /* Negotiated. */
    uint16_t version;
    uint16_t suite;
    uint16_t group;
    uint16_t peer_sig;
    uint16_t our_sig;
    uint8_t alpn[256];
    size_t alpn_len;
    char server_name[256];
    int has_server_name;
    /* The peer's chain as sent, DER only: what introspection, session
     * blobs and tickets need (ferrule_conn_peer_cert_parse parses on
     * demand).  One allocation of peer_ders_size bytes: n_peer_ders
     * big-endian u32 end offsets, then the certificates back to back
     * (fr_conn_set_peer_ders). */
    uint8_t *peer_ders;
    size_t peer_ders_size, n_peer_ders;
    /* The chain parsed, only while the handshake uses it (path validation,
     * OCSP, the peer's CertificateVerify): fr_conn_drop_parsed_peer frees
     * it, so an established connection does not hold every fr_cert of a
     * long chain (grown by fr_conn_add_peer_cert). */
    fr_cert **peer_certs;
    size_t n_peer_certs, peer_certs_cap;
    ferrule_verify_result *verify_result; /* the validated path */
    int ocsp_stapled;
    uint8_t *peer_ocsp; /* client: the OCSP response the server stapled, as sent */
    size_t peer_ocsp_len;
    fr_hrr_conn hrr;
    fr_client_auth_conn cauth;
    fr_ku_conn ku;
    fr_resume_conn resume;
    fr_early_conn early;
    fr_rsl_conn rsl;
    fr_dec_conn dec;
};

/* ---- conn.c: records, alerts, failure ------------------------------------- */
/* Record a fatal local error: sets the sticky status and queues the alert
 * (if any) for fr_conn_do_pending.  Returns `e` for chaining. */
fr_err fr_conn_fail(fr_conn *c, fr_err e);
/* Ask the host to run fr_conn_do_pending (send-side work the receive half
 * or the handshake queued: tickets); see fr_conn_wants_send (engine.h). */
void fr_conn_service_send(fr_conn *c);
/* Queue a handshake message (header included in `msg`), adding it to the
 * transcript if ready, fragmented into records under the write keys. */
FR_MUST_CHECK fr_err fr_conn_send_handshake(fr_conn *c, const uint8_t *msg, size_t len);
/* Queue a post-handshake message (KeyUpdate, NewSessionTicket; header
 * included, fragmented like handshake messages) without adding it to the
 * transcript. */
FR_MUST_CHECK fr_err fr_conn_send_post_handshake(fr_conn *c, const uint8_t *msg, size_t len);
/* Queue one record of `type` (len <= 2^14) under the current write keys. */
FR_MUST_CHECK fr_err fr_conn_send_record(fr_conn *c, uint8_t type, const uint8_t *data,
                                         size_t len);
/* Queue an alert record (level, description) under the current write keys. */
FR_MUST_CHECK fr_err fr_conn_send_alert(fr_conn *c, uint8_t level, uint8_t desc);
/* Queue the middlebox-compatibility change_cipher_spec record. */
FR_MUST_CHECK fr_err fr_conn_send_ccs(fr_conn *c);
/* Client in compatibility mode (RFC 8446 Appendix D.4): queue its one
 * change_cipher_spec unless it went already.  It goes before the first
 * record the client sends after its first ClientHello: the second
 * ClientHello after a HelloRetryRequest, 0-RTT data, or, once the
 * ServerHello is processed, the encrypted records (its second flight, or
 * an alert). */
FR_MUST_CHECK fr_err fr_client_compat_ccs(fr_conn *c);
/* Install a traffic secret for reading or writing. */
FR_MUST_CHECK fr_err fr_conn_set_read_secret(fr_conn *c, const uint8_t *secret);
FR_MUST_CHECK fr_err fr_conn_set_write_secret(fr_conn *c, const uint8_t *secret);
/* Emit an NSS key log line for `label` if a key-log callback is set. */
void fr_conn_keylog(fr_conn *c, const char *label, const uint8_t *secret);
void fr_conn_keylog_len(fr_conn *c, const char *label, const uint8_t *secret, size_t len);
/* Ensure `out` can take `n` more bytes (grows within the memory ceiling;
 * BUFFER_LENT if that would move output the host has borrowed). */
FR_MUST_CHECK fr_err fr_conn_out_reserve(fr_conn *c, size_t n);
/* Drop the (drained) output buffer: a standard one to the config's pool,
 * or to the allocator if `to_allocator`; a grown one to the allocator. */
void fr_conn_out_release(fr_conn *c, int to_allocator);
/* The time the host last passed in (fr_conn_set_time, engine.h): what
 * verification, ticket ages and lifetimes and the 0-RTT window use. */
int64_t fr_conn_now(const fr_conn *c);
/* The schemes we offer and accept from the peer (config.c). */
const uint16_t *fr_cfg_verify_sigs(const fr_config *cfg, size_t *n);
/* Set up and tear down a connection's engine state. */
FR_MUST_CHECK fr_err fr_conn_init(fr_conn *c, fr_config *cfg, const char *server_name,
                                  size_t memory_limit);
void fr_conn_release(fr_conn *c);

/* ---- recv.c: record reception ------------------------------------------- */
/* Receive and process one record from `in`: FR_OK with *pr DONE when one
 * was handled, NEED_INPUT when a whole record is not buffered yet,
 * PEER_CLOSED after close_notify, WANT_APP while a handshake message
 * waits for a decision (no record is read then; once the decision is
 * answered the paused message is dispatched again first); or a failure
 * reason (not yet recorded). */
FR_MUST_CHECK fr_err fr_conn_next_record(fr_conn *c, fr_progress *pr);
/* Drop n processed bytes from the front of `in`. */
void fr_conn_in_consume(fr_conn *c, size_t n);
/* Buffer in `in` for the next received bytes (allocated when missing). */
FR_MUST_CHECK fr_err fr_conn_in_ensure(fr_conn *c);

/* ---- bufpool.c: record buffers and their reuse ------------------------- */
/* A FR_POOL_BUF-byte record buffer charged to c->mem: one the config
 * keeps if any (the connection's own, or another's with what that one
 * wrote wiped), else a fresh zeroed one.  *used: how many leading bytes
 * hold this connection's earlier content.  NULL with the reason in *e. */
uint8_t *fr_buf_get(fr_conn *c, size_t *used, fr_err *e);
/* Give a buffer from fr_buf_get back: to the config's pool if a slot is
 * free (its first `used` bytes, the connection's own, are wiped when
 * another connection takes it), else wiped that far and freed. */
void fr_buf_put(fr_conn *c, uint8_t *p, size_t used);
/* Free such a buffer to the allocator (first `used` bytes wiped). */
void fr_buf_free(fr_conn *c, uint8_t *p, size_t used);
/* A connection being freed: wipe its content in the buffers it gave back
 * to the pool earlier (they stay pooled, nobody's). */
void fr_buf_pool_forget(fr_conn *c);
/* The config's pooled buffers go back to its allocator (config free). */
void fr_buf_pool_drain(fr_config *cfg);
size_t fr_buf_pool_bytes(const fr_config *cfg);


/* ---- state.c: the transition table and dispatcher ------------------------ */
/* Process one complete handshake message (header included): *pr DONE,
 * or WANT_APP when its handler paused for a decision (hs/decision.h: the
 * state stays, the message must stay where it is until it is dispatched
 * again). */
FR_MUST_CHECK fr_err fr_dispatch(fr_conn *c, const uint8_t *msg, size_t len,
                                 fr_progress *pr);
/* Take transitions that need no message (client START -> send ClientHello). */
FR_MUST_CHECK fr_err fr_dispatch_start(fr_conn *c);
/* 1 if a handshake message of type `msg` may come next in this state. */
int fr_state_accepts(const fr_conn *c, uint8_t msg);
/* 1 if handshake records may still be received in this state. */
int fr_state_expects_handshake(const fr_conn *c);
/* 1 if a change_cipher_spec record may be dropped in this state. */
int fr_state_allows_ccs(const fr_conn *c);
/* 1 if accepted 0-RTT application data records are read in this state. */
int fr_state_reads_early_data(const fr_conn *c);
/* The first state of a connection of c->role. */
void fr_state_init(fr_conn *c);
/* Move to FAILED: the one place besides the dispatcher that sets the
 * state (fr_conn_fail and a received alert call it). */
void fr_state_fail(fr_conn *c);

/* ---- handshake messages (core/hs/) ------------------------------------- */
/* A handler returns a reason only (FR_OK or why it failed).  A step that
 * can end in more than one state also reports which branch it took; each
 * state.c row names the state of every branch its handler may report. */
typedef enum fr_branch {
    FR_BRANCH_NEXT = 0,       /* the row's usual next state */
    FR_BRANCH_HRR,            /* a HelloRetryRequest was sent or received */
    FR_BRANCH_RESUMED,        /* PSK accepted: no certificate messages follow */
    FR_BRANCH_CLIENT_CERT,    /* we sent CertificateRequest: the client's Certificate next */
    FR_BRANCH_NO_CLIENT_CERT, /* the client's Certificate was empty: no CertificateVerify */
    FR_BRANCH_EARLY,          /* 0-RTT accepted: early data, then EndOfEarlyData */
    /* The handler asked the host for a decision (fr_dec_ask): the state
     * stays (the row names its own), and the message is dispatched again
     * once the decision is answered. */
    FR_BRANCH_APP,
    FR_BRANCH_COUNT
} fr_branch;
typedef fr_err (*fr_handler)(fr_conn *c, fr_reader *body);
typedef fr_err (*fr_branch_handler)(fr_conn *c, fr_reader *body, fr_branch *branch);
fr_err fr_client_send_hello(fr_conn *c, fr_reader *unused);
fr_err fr_server_on_client_hello(fr_conn *c, fr_reader *body, fr_branch *branch);
fr_err fr_client_on_server_hello(fr_conn *c, fr_reader *body, fr_branch *branch);
fr_err fr_client_on_encrypted_extensions(fr_conn *c, fr_reader *body, fr_branch *branch);
fr_err fr_client_on_certificate(fr_conn *c, fr_reader *body, fr_branch *branch);
fr_err fr_client_on_certificate_request(fr_conn *c, fr_reader *body);
/* certificate_authorities (RFC 8446 §4.2.4): the syntax of the list (the
 * names are not decoded); *cas = the list.  certificate.c; also checked,
 * and not used, in a ClientHello. */
FR_MUST_CHECK fr_err fr_parse_authorities(fr_reader *body, fr_reader *cas);
fr_err fr_client_on_certificate_verify(fr_conn *c, fr_reader *body);
fr_err fr_client_on_finished(fr_conn *c, fr_reader *body);
fr_err fr_server_on_finished(fr_conn *c, fr_reader *body);
fr_err fr_server_on_certificate(fr_conn *c, fr_reader *body, fr_branch *branch);
fr_err fr_server_on_certificate_verify(fr_conn *c, fr_reader *body);
/* Ask the host for decision `d` (FERRULE_DECISION_*, hs/decision.h): the
 * handler then reports *branch FR_BRANCH_APP and returns FR_OK. */
void fr_dec_ask(fr_conn *c, uint32_t d, fr_branch *branch);
/* Parse a Certificate's certificate_list into c->peer_certs and keep its
 * DER in c->peer_ders (entry extensions: only a stapled OCSP response the
 * client asked for). */
FR_MUST_CHECK fr_err fr_parse_certificate_list(fr_conn *c, fr_reader *list,
                                               const uint8_t **staple, size_t *staple_len);
/* Append a parsed peer certificate to c->peer_certs (taking it; freed on
 * failure): CERT_CHAIN_TOO_LONG past the config's max_peer_certs. */
FR_MUST_CHECK fr_err fr_conn_add_peer_cert(fr_conn *c, fr_cert *cert);
/* Replace the peer chain's DER (c->peer_ders) by n certificates, copied
 * into one allocation; n == 0 clears it. */
FR_MUST_CHECK fr_err fr_conn_set_peer_ders(fr_conn *c, const uint8_t *const *ders,
                                           const size_t *lens, size_t n);
/* c->peer_ders from the parsed chain c->peer_certs (after the last
 * fr_conn_add_peer_cert). */
FR_MUST_CHECK fr_err fr_conn_keep_peer_ders(fr_conn *c);
/* Certificate i of c->peer_ders; 0 past the end. */
int fr_conn_peer_der(const fr_conn *c, size_t i, const uint8_t **der, size_t *len);
/* Free the parsed chain once nothing in the handshake needs it (the DER
 * stays); fr_conn_forget_peer_chain frees both. */
void fr_conn_drop_parsed_peer(fr_conn *c);
void fr_conn_forget_peer_chain(fr_conn *c);
/* Verify c->peer_certs for either role (purpose by role, the server name
 * for a client, OCSP for a client), then ask for the application's
 * verdict (decision VERIFY: may pause, *branch FR_BRANCH_APP).  For the
 * Certificate handlers; a handler run again after the pause ends with
 * fr_verify_resume. */
FR_MUST_CHECK fr_err fr_verify_peer_chain(fr_conn *c, const uint8_t *staple,
                                          size_t staple_len, fr_branch *branch);
/* A Certificate handler resumed after VERIFY was answered: skip its body
 * (parsed before the pause) and apply the verdict. */
FR_MUST_CHECK fr_err fr_verify_resume(fr_conn *c, fr_reader *body);
/* Our own checks of c->peer_certs as of time `now`, without the
 * application's verdict (a server validating the client chain a ticket
 * carries: psk.c; the verdict is asked by the ClientHello handler). */
FR_MUST_CHECK fr_err fr_verify_peer_chain_at(fr_conn *c, const uint8_t *staple,
                                             size_t staple_len, int64_t now);
/* Server: does this connection request a client certificate; send the
 * CertificateRequest (after EncryptedExtensions). */
int fr_server_wants_client_cert(const fr_conn *c);
FR_MUST_CHECK fr_err fr_send_certificate_request(fr_conn *c);
fr_err fr_on_new_session_ticket(fr_conn *c, fr_reader *body);
fr_err fr_on_key_update(fr_conn *c, fr_reader *body);
/* Senders used by the server flight. */
FR_MUST_CHECK fr_err fr_send_encrypted_extensions(fr_conn *c);
/* Our Certificate: the chosen chain, or (client without one) an empty list. */
FR_MUST_CHECK fr_err fr_send_certificate(fr_conn *c);
FR_MUST_CHECK fr_err fr_send_certificate_verify(fr_conn *c);
FR_MUST_CHECK fr_err fr_send_finished(fr_conn *c);
FR_MUST_CHECK fr_err fr_send_key_update(fr_conn *c, int request);
/* Finished verify_data check shared by both roles. */
FR_MUST_CHECK fr_err fr_check_finished(fr_conn *c, fr_reader *body, const uint8_t *base_key);

/* ---- extensions.c ------------------------------------------------------ */
/* A parsed extensions<..> block.  Any number of extensions (RFC 8446 sets
 * no limit; unknown ones are ignored, §4.2): the block is validated once,
 * duplicates refused in linear time, and the body of each extension type
 * below FR_EXT_SLOTS (every type the core understands) is found in O(1).
 * fr_exts_next walks all of them in wire order. */
#define FR_EXT_SLOTS 64
typedef struct fr_ext {
    uint16_t type;
    fr_reader body;
} fr_ext;
typedef struct fr_exts {
    fr_reader block; /* the whole validated block */
    size_t n;        /* number of extensions */
    uint16_t last;   /* type of the last one (n > 0) */
    uint64_t present; /* bit t: an extension of type t < FR_EXT_SLOTS */
    fr_ext slot[FR_EXT_SLOTS];
} fr_exts;
/* Parse an extensions<..> block; duplicates -> DUPLICATE_EXTENSION. */
FR_MUST_CHECK fr_err fr_exts_parse(fr_reader *block, fr_exts *out);
/* The extension of `type` (< FR_EXT_SLOTS), or NULL. */
fr_ext *fr_exts_find(fr_exts *x, uint16_t type);
/* RFC 8446 §4.2: a block holding an extension ferrule implements (server_name,
 * status_request, supported_groups, signature_algorithms, ALPN, padding,
 * record_size_limit, pre_shared_key, early_data, supported_versions, cookie,
 * psk_key_exchange_modes, certificate_authorities, oid_filters,
 * post_handshake_auth, signature_algorithms_cert, key_share) that is not
 * among `allowed` (bits 1 << type) -> ILLEGAL_PARAMETER.  Unknown types are
 * left to the caller (ignored where the RFC says so). */
FR_MUST_CHECK fr_err fr_exts_known_only(const fr_exts *x, uint64_t allowed);
/* The result of parsing one extension's body: a malformed body is
 * BAD_EXTENSION (still a decode_error alert), any other result unchanged. */
static inline fr_err fr_ext_result(fr_err e) {
    return e == FERRULE_R_DECODE_ERROR ? FERRULE_R_BAD_EXTENSION : e;
}
/* Iterate a parsed block: `it` starts as x->block; 1 while *e was filled
 * with the next extension (its body as sent, independent of the slots). */
int fr_exts_next(fr_reader *it, fr_ext *e);
/* Build the handshake header + body into a fresh buffer from c->mem. */
typedef struct fr_msgbuf {
    uint8_t *buf;
    size_t cap;
    fr_writer w;
} fr_msgbuf;
FR_MUST_CHECK fr_err fr_msg_begin(fr_conn *c, fr_msgbuf *m, uint8_t type, size_t cap);
/* Finish, send via fr_conn_send_handshake, free the buffer. */
FR_MUST_CHECK fr_err fr_msg_send(fr_conn *c, fr_msgbuf *m);
void fr_msg_abort(fr_conn *c, fr_msgbuf *m);
/* Signature schemes allowed in TLS 1.3 CertificateVerify. */
int fr_sig_allowed_in_cv(uint16_t scheme);
/* Write signature_algorithms and signature_algorithms_cert for `sigs`
 * (ClientHello, CertificateRequest). */
void fr_write_sig_alg_exts(fr_writer *w, const uint16_t *sigs, size_t n);
/* The bit of a signature scheme the core knows in a set of them, 0 for any
 * other value; the set of the known schemes in a (validated) u16 list, in
 * one pass, so that "did the peer offer s" costs O(1) however long the
 * peer's list. */
uint32_t fr_sig_bit(uint16_t scheme);
uint32_t fr_sig_mask(fr_reader list);
/* 1 if v is in list. */
int fr_u16_in(uint16_t v, const uint16_t *list, size_t n);

/* ---- psk.c, ticket.c: resumption (RFC 8446 §4.2.11, §4.6.1) ------------ */
/* Client: append pre_shared_key (last) to the ClientHello being written if
 * a usable session is set; fr_client_psk_binder fills the binder in. */
FR_MUST_CHECK fr_err fr_client_write_psk(fr_conn *c, fr_writer *w);
/* Client: is the session set by ferrule_conn_set_session offerable now? */
int fr_client_session_usable(fr_conn *c);
FR_MUST_CHECK fr_err fr_client_psk_binder(fr_conn *c, uint8_t *msg, size_t len);
/* Client: ServerHello's pre_shared_key (RFC 8446 §4.2.11). */
FR_MUST_CHECK fr_err fr_client_on_psk(fr_conn *c, fr_reader *body, uint16_t suite);
/* Server: note the ClientHello's psk_key_exchange_modes (NULL if absent)
 * as c->resume.peer_modes, the modes both sides accept. */
FR_MUST_CHECK fr_err fr_server_note_psk_modes(fr_conn *c, fr_ext *modes);
/* Server, ClientHello answered by a HelloRetryRequest: note in c->hrr
 * whether it offered PSKs (psk may be NULL) and a digest of those we would
 * accept with the suite chosen, which the second ClientHello must offer
 * again (RFC 8446 §4.1.2 lets it drop only PSKs incompatible with that
 * suite, and never add one). */
FR_MUST_CHECK fr_err fr_server_note_hrr_psks(fr_conn *c, fr_ext *psk);
/* Server, second ClientHello: ILLEGAL_PARAMETER unless its PSKs agree with
 * what was noted before the HelloRetryRequest (as carried by the cookie). */
FR_MUST_CHECK fr_err fr_server_check_hrr_psks(fr_conn *c, fr_ext *psk);
/* Server: try the client's PSK offer with c->resume.peer_modes; sets
 * c->resume.resumed if one is accepted; an unusable ticket is not an
 * error, a bad binder is. */
FR_MUST_CHECK fr_err fr_server_try_psk(fr_conn *c, fr_ext *psk);
/* Server: schedule NewSessionTickets (after the client's Finished) and
 * send them (send half, caller holds wr_lock). */
void fr_server_schedule_tickets(fr_conn *c);
void fr_server_send_pending_tickets(fr_conn *c);

/* ---- server_select.c: certificate and ALPN selection ------------------ */
/* Note the facts selection needs about a freshly loaded chain. */
FR_MUST_CHECK fr_err fr_chain_note(fr_mem *m, fr_chain *ch);
/* Free what fr_chain_note allocated. */
void fr_chain_forget(fr_mem *m, fr_chain *ch);
/* Server, every ClientHello: validate ALPN and signature_algorithms_cert
 * and build the selection view (c->dec.hello) over the message. */
FR_MUST_CHECK fr_err fr_server_hello_view(fr_conn *c, fr_exts *x, fr_reader peer_sigs,
                                          fr_reader suites);
/* Server, the ClientHello a ServerHello answers: choose the ALPN protocol,
 * then our chain and scheme -- the host's answers (decisions ALPN and
 * CERTIFICATE, which may pause: *branch FR_BRANCH_APP), else the
 * defaults. */
FR_MUST_CHECK fr_err fr_server_select(fr_conn *c, fr_branch *branch);
/* Did the client offer ALPN protocol p (n bytes)?  One pass over its list. */
int fr_alpn_offered(const fr_client_hello *h, const uint8_t *p, size_t n);
/* ---- early_data.c: 0-RTT (RFC 8446 §2.3, §4.2.10, §8) ----------------- */
/* Client: append early_data to the ClientHello being written if the
 * application asked for 0-RTT and the offered session allows it. */
void fr_client_write_early_data_ext(fr_conn *c, fr_writer *w);
/* Client: could 0-RTT be attempted with the session set (config enabled,
 * ticket allows it, session usable, ALPN compatible)? */
int fr_client_early_possible(fr_conn *c);
/* Client: early data offered and the server's answer not known yet. */
int fr_client_early_pending(const fr_conn *c);
/* Client: after the first ClientHello went out with early_data: the
 * compatibility CCS and the early write keys. */
FR_MUST_CHECK fr_err fr_client_start_early_data(fr_conn *c, const uint8_t *ch, size_t ch_len);
/* Client: queue early data records (core of ferrule_conn_write_early_data). */
FR_MUST_CHECK fr_err fr_client_write_early(fr_conn *c, const uint8_t *buf, size_t len,
                                           size_t *n);
/* Client: the server answered with a HelloRetryRequest: 0-RTT is over. */
void fr_client_early_on_hrr(fr_conn *c);
/* Client: EncryptedExtensions' early_data (ext NULL if absent). */
FR_MUST_CHECK fr_err fr_client_on_early_data_ext(fr_conn *c, fr_ext *ext);
/* Client, after the server's Finished: EndOfEarlyData if accepted, then
 * the handshake write keys. */
FR_MUST_CHECK fr_err fr_client_end_early_data(fr_conn *c);
/* Server: remember what the accepted PSK says about 0-RTT. */
FR_MUST_CHECK fr_err fr_server_note_psk_for_early(fr_conn *c, uint32_t max_early,
                                                  const uint8_t *store_id, uint16_t suite,
                                                  uint64_t issued, uint32_t lifetime,
                                                  uint32_t client_age_ms, const uint8_t *identity,
                                                  size_t identity_len, const uint8_t *binder,
                                                  size_t binder_len);
/* Server: decide on the ClientHello's early_data (NULL if absent); `hrr`:
 * we answer with a HelloRetryRequest; `second`: this is the second hello.
 * The host's consent and its replay store may pause (*branch
 * FR_BRANCH_APP). */
FR_MUST_CHECK fr_err fr_server_early_decide(fr_conn *c, fr_ext *ext, int hrr, int second,
                                            fr_branch *branch);
/* Server: after our flight, read with the early keys (accepted). */
FR_MUST_CHECK fr_err fr_server_start_early_read(fr_conn *c);
fr_err fr_server_on_end_of_early_data(fr_conn *c, fr_reader *body);
/* Server: an accepted early data record's plaintext. */
FR_MUST_CHECK fr_err fr_server_early_data_record(fr_conn *c, const uint8_t *pt, size_t len);
/* Server: count a skipped record of refused early data against the
 * budget (RFC 8446 §4.2.10); EARLY_DATA_LIMIT beyond it. */
FR_MUST_CHECK fr_err fr_server_skip_early(fr_conn *c, size_t body_len);
/* fr_early_take and the host's other 0-RTT calls: engine.h, "0-RTT". */

/* ---- hello_retry.c: HelloRetryRequest (RFC 8446 §4.1.4, §4.2.2) ------- */
/* The fields of a ClientHello a second ClientHello must repeat. */
typedef struct fr_hello_view {
    uint16_t legacy_version;
    const uint8_t *random; /* 32 bytes */
    fr_reader sid, suites, comp;
    fr_reader exts; /* the validated extension block (fr_exts.block) */
} fr_hello_view;
/* SHA-256 over the invariant parts of a ClientHello (RFC 8446 §4.1.2), as
 * cookie `format` defines it: from 3 on, the invariant extensions are
 * taken in type order (their order is not compared). */
FR_MUST_CHECK fr_err fr_hrr_hello_digest(const fr_hello_view *h, int format,
                                         uint8_t out[FR_HRR_DIGEST_LEN]);
/* What a stateless cookie carries. */
typedef struct fr_hrr_cookie {
    uint8_t format; /* as read (fr_hrr_cookie_open); sealing writes the newest */
    uint16_t suite;
    uint16_t group;
    size_t hash_len;
    uint8_t ch1_hash[FR_MAX_HASH]; /* Hash(ClientHello1) for message_hash */
    uint8_t digest[FR_HRR_DIGEST_LEN];
    uint8_t psk_state; /* FR_HRR_PSK_*, and for FR_HRR_PSK_DIGEST: */
    uint8_t psk_digest[FR_HRR_DIGEST_LEN]; /* see fr_server_note_hrr_psks */
} fr_hrr_cookie;
#define FR_HRR_COOKIE_MAX (7 + FR_MAX_HASH + 2 * FR_HRR_DIGEST_LEN + 32)
/* The config's cookie key (fr_hrr_config_init made it). */
const uint8_t *fr_hrr_cookie_key(const fr_config *cfg);
FR_MUST_CHECK fr_err fr_hrr_cookie_seal(fr_config *cfg, const fr_hrr_cookie *ck, uint8_t *out,
                                        size_t cap, size_t *len);
/* ILLEGAL_PARAMETER unless authentic and well formed. */
FR_MUST_CHECK fr_err fr_hrr_cookie_open(fr_config *cfg, const uint8_t *p, size_t n,
                                        fr_hrr_cookie *ck);
/* (Re)start `th` with message_hash(ClientHello1) (RFC 8446 §4.4.1). */
FR_MUST_CHECK fr_err fr_hrr_transcript_start(fr_transcript *th, int hash, const uint8_t *ch1_hash);
/* Server: send a HelloRetryRequest for c->suite / c->group, answering the
 * ClientHello being dispatched. */
FR_MUST_CHECK fr_err fr_server_send_hrr(fr_conn *c, const fr_hello_view *h);
/* Server: check the second ClientHello's cookie against it and rebuild the
 * transcript from the cookie alone. */
FR_MUST_CHECK fr_err fr_server_check_second_hello(fr_conn *c, const fr_hello_view *h,
                                                  fr_ext *cookie);
/* server_hello.c: a HelloRetryRequest body (after the handshake header). */
void fr_hrr_write_body(fr_writer *w, const uint8_t *sid, size_t sid_len, uint16_t suite,
                       uint16_t group, const uint8_t *cookie, size_t cookie_len);
/* client_hello.c: the second ClientHello, after a HelloRetryRequest
 * (RFC 8446 §4.1.2): with a new share for c->hrr.group if `new_share` (the
 * HelloRetryRequest had a key_share), else with the same shares again. */
FR_MUST_CHECK fr_err fr_client_send_second_hello(fr_conn *c, const uint8_t *cookie,
                                                 size_t cookie_len, int new_share);

#endif
