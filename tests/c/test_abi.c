/* test_abi.c - misuse of the public API: NULL handles and arguments, calls
 * in the wrong state, versioned structs, frozen configs, invalid values,
 * custom allocators (every byte returned, with the right size), allocation
 * failure at every point of a handshake, callback I/O failures, and the
 * static name tables.  Uses only ferrule.h (and the pair helpers). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferrule.h"
#include "support_pair.h"
#include "testlib.h"

static ferrule_config *client_cfg(void) { return pair_client_config(); }
static ferrule_config *server_cfg(void) { return pair_server_config("ecdsa-p256"); }

/* Read a whole file (for the *_pem / *_der setters). */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    uint8_t *buf = malloc(1 << 20);
    *len = buf != NULL ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

/* ---- NULL handles and arguments ---------------------------------------- */

static void dummy_keylog(void *ctx, const ferrule_conn *c, const char *line) {
    (void)ctx;
    (void)c;
    (void)line;
}
static int64_t dummy_now(void *ctx) {
    (void)ctx;
    return 0;
}

TEST(null_config_functions) {
    static const uint16_t suite = FERRULE_TLS_AES_128_GCM_SHA256;
    static const uint8_t bytes[4] = {1, 2, 3, 4};
    CHECK_EQ(ferrule_config_new(NULL, FERRULE_ROLE_CLIENT, NULL), FERRULE_USAGE);
    ferrule_config *cfg = (ferrule_config *)&cfg; /* must be overwritten */
    CHECK_EQ(ferrule_config_new(&cfg, 0, NULL), FERRULE_USAGE);
    CHECK(cfg == NULL);
    CHECK_EQ(ferrule_config_new(&cfg, 3, NULL), FERRULE_USAGE);
    ferrule_config_ref(NULL);
    ferrule_config_free(NULL);
    CHECK_EQ(ferrule_config_reason(NULL), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_config_set_cipher_suites(NULL, &suite, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_groups(NULL, &suite, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_signature_schemes(NULL, &suite, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_add_alpn(NULL, bytes, 2), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_add_trust_pem(NULL, bytes, 4), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_add_trust_der(NULL, bytes, 4), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_add_trust_file(NULL, "x"), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_add_trust_dir(NULL, "x"), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_add_trust_system(NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_trust_count(NULL), 0);
    CHECK_EQ(ferrule_config_add_cert_chain_pem(NULL, bytes, 4, bytes, 4), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_add_cert_chain_file(NULL, "a", "b"), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_time_callback(NULL, dummy_now, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_memory_limit(NULL, 1 << 20), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_max_handshake_message(NULL, 4096), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_keylog_callback(NULL, dummy_keylog, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_dangerous_no_hostname_check(NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_dangerous_no_verification(NULL), FERRULE_USAGE);
}

TEST(null_arguments_on_a_config) {
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    CHECK_EQ(ferrule_config_set_cipher_suites(cfg, NULL, 1), FERRULE_USAGE);
    CHECK(ferrule_config_reason(cfg) != FERRULE_R_NONE);
    CHECK_EQ(ferrule_config_set_groups(cfg, NULL, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_set_signature_schemes(cfg, NULL, 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_add_alpn(cfg, NULL, 2), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_add_trust_pem(cfg, NULL, 10), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_config_add_trust_der(cfg, NULL, 10), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_config_add_trust_file(cfg, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_config_add_trust_dir(cfg, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_config_add_cert_chain_pem(cfg, NULL, 1, (const uint8_t *)"k", 1),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_config_add_cert_chain_file(cfg, "a", NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NULL_ARGUMENT);
    /* The config is still usable after the errors. */
    CHECK_EQ(ferrule_config_trust_count(cfg), 1);
    CHECK_EQ(ferrule_config_set_memory_limit(cfg, 1 << 20), FERRULE_OK);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NONE);
    ferrule_config_free(cfg);
}

TEST(null_conn_functions) {
    uint8_t buf[16];
    size_t n = 5;
    const uint8_t *p = buf;
    ferrule_conn *c = (ferrule_conn *)&c;
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    CHECK_EQ(ferrule_conn_new(NULL, cfg, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_new(&c, NULL, NULL), FERRULE_USAGE);
    ferrule_conn_free(NULL);
    ferrule_io_callbacks io;
    memset(&io, 0, sizeof(io));
    io.struct_size = sizeof(io);
    CHECK_EQ(ferrule_conn_set_io(NULL, &io), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_feed(NULL, buf, 1, &n), FERRULE_USAGE);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_feed_eof(NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_pending_output(NULL), 0);
    n = 5;
    CHECK_EQ(ferrule_conn_take(NULL, buf, sizeof(buf), &n), FERRULE_USAGE);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_handshake(NULL), FERRULE_USAGE);
    n = 5;
    CHECK_EQ(ferrule_conn_read(NULL, buf, sizeof(buf), &n), FERRULE_USAGE);
    CHECK_EQ(n, 0);
    n = 5;
    CHECK_EQ(ferrule_conn_write(NULL, buf, 1, &n), FERRULE_USAGE);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_close(NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_status(NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(NULL), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_alert(NULL), -1);
    CHECK(ferrule_conn_error_message(NULL) != NULL);
    CHECK_EQ(ferrule_conn_role(NULL), 0);
    CHECK_EQ(ferrule_conn_handshake_state(NULL), FERRULE_HS_FAILED);
    CHECK_EQ(ferrule_conn_version(NULL), 0);
    CHECK_EQ(ferrule_conn_cipher_suite(NULL), 0);
    CHECK_EQ(ferrule_conn_group(NULL), 0);
    CHECK_EQ(ferrule_conn_peer_signature_scheme(NULL), 0);
    CHECK_EQ(ferrule_conn_signature_scheme(NULL), 0);
    n = 5;
    ferrule_conn_alpn(NULL, &p, &n);
    CHECK(p == NULL);
    CHECK_EQ(n, 0);
    ferrule_conn_alpn(NULL, NULL, NULL);
    CHECK(ferrule_conn_server_name(NULL) == NULL);
    CHECK_EQ(ferrule_conn_peer_cert_count(NULL), 0);
    CHECK_EQ(ferrule_conn_peer_cert(NULL, 0, &p, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_resumed(NULL), 0);
    CHECK_EQ(ferrule_conn_hrr(NULL), 0);
    CHECK_EQ(ferrule_conn_memory_used(NULL), 0);
    CHECK_EQ(ferrule_conn_export_keying_material(NULL, "l", 1, NULL, 0, buf, 16), FERRULE_USAGE);
    ferrule_config_free(cfg);
}

TEST(null_arguments_on_a_conn) {
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    if (c == NULL) return;
    uint8_t buf[16];
    size_t n = 7;
    const uint8_t *p = NULL;
    /* Each misuse: USAGE, reason null_argument, not sticky. */
    CHECK_EQ(ferrule_conn_set_io(c, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_feed(c, NULL, 5, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_take(c, NULL, 16, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_take(c, buf, sizeof(buf), NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_read(c, NULL, 16, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_read(c, buf, sizeof(buf), NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_read(c, buf, 0, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_BUFFER_TOO_SMALL);
    CHECK_EQ(ferrule_conn_write(c, NULL, 5, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_write(c, buf, 1, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_peer_cert(c, 0, NULL, &n), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_peer_cert(c, 0, &p, &n), FERRULE_USAGE); /* no peer yet */
    CHECK_EQ(ferrule_conn_export_keying_material(c, NULL, 1, NULL, 0, buf, 16), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_export_keying_material(c, "l", 1, NULL, 4, buf, 16), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(ferrule_conn_export_keying_material(c, "l", 1, NULL, 0, NULL, 16), FERRULE_USAGE);
    ferrule_conn_alpn(c, NULL, NULL);
    /* None of this was fatal: the connection still handshakes. */
    CHECK_EQ(ferrule_conn_status(c), FERRULE_OK);
    CHECK_EQ(ferrule_conn_alert(c), -1);
    CHECK_EQ(ferrule_conn_handshake_state(c), FERRULE_HS_START);
    CHECK_EQ(ferrule_conn_handshake(c), FERRULE_WANT_READ);
    CHECK(ferrule_conn_pending_output(c) > 0);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

/* ---- versioned structs --------------------------------------------------- */

TEST(conn_options_struct_size) {
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    ferrule_conn *c = NULL;
    struct {
        ferrule_conn_options o;
        uint8_t extra[16];
    } big;
    CHECK_EQ(ferrule_sizeof_conn_options(), sizeof(ferrule_conn_options));

    /* struct_size 0 */
    memset(&big, 0, sizeof(big));
    CHECK_EQ(ferrule_conn_new(&c, cfg, &big.o), FERRULE_USAGE);
    CHECK(c == NULL);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_BAD_STRUCT);
    /* struct_size 3: smaller than the size field itself */
    big.o.struct_size = 3;
    CHECK_EQ(ferrule_conn_new(&c, cfg, &big.o), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_BAD_STRUCT);
    /* larger, non-zero unknown trailing bytes */
    big.o.struct_size = (uint32_t)sizeof(big);
    big.o.server_name = "localhost";
    big.extra[15] = 1;
    CHECK_EQ(ferrule_conn_new(&c, cfg, &big.o), FERRULE_USAGE);
    CHECK(c == NULL);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_BAD_STRUCT);
    /* larger, zero trailing bytes: accepted, known fields used */
    big.extra[15] = 0;
    CHECK_EQ(ferrule_conn_new(&c, cfg, &big.o), FERRULE_OK);
    CHECK(c != NULL && ferrule_conn_server_name(c) != NULL &&
          strcmp(ferrule_conn_server_name(c), "localhost") == 0);
    ferrule_conn_free(c);
    c = NULL;
    /* reserved0 must be zero */
    memset(&big, 0, sizeof(big));
    big.o.struct_size = (uint32_t)sizeof(big.o);
    big.o.reserved0 = 1;
    CHECK_EQ(ferrule_conn_new(&c, cfg, &big.o), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_BAD_STRUCT);
    /* just struct_size: every field defaults (no name, config's limit),
     * even though garbage follows in the caller's memory */
    memset(&big, 0, sizeof(big));
    big.o.struct_size = (uint32_t)sizeof(uint32_t);
    big.o.server_name = "ignored.example";
    big.o.memory_limit = 1; /* would be invalid if read */
    CHECK_EQ(ferrule_conn_new(&c, cfg, &big.o), FERRULE_OK);
    CHECK(c != NULL && ferrule_conn_server_name(c) == NULL);
    ferrule_conn_free(c);
    c = NULL;
    /* up to server_name only: memory_limit beyond struct_size is ignored */
    big.o.struct_size = (uint32_t)offsetof(ferrule_conn_options, memory_limit);
    CHECK_EQ(ferrule_conn_new(&c, cfg, &big.o), FERRULE_OK);
    CHECK(c != NULL && ferrule_conn_server_name(c) != NULL &&
          strcmp(ferrule_conn_server_name(c), "ignored.example") == 0);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

static void *plain_alloc(void *ctx, size_t n) {
    (void)ctx;
    return malloc(n);
}
static void plain_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    (void)n;
    free(p);
}

TEST(allocator_struct_size) {
    ferrule_config *cfg = NULL;
    struct {
        ferrule_allocator a;
        uint8_t extra[8];
    } big;
    CHECK_EQ(ferrule_sizeof_allocator(), sizeof(ferrule_allocator));
    memset(&big, 0, sizeof(big));
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, &big.a), FERRULE_USAGE);
    CHECK(cfg == NULL);
    big.a.struct_size = (uint32_t)sizeof(big);
    big.a.alloc = plain_alloc;
    big.a.free = plain_free;
    big.extra[0] = 0xff;
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, &big.a), FERRULE_USAGE);
    CHECK(cfg == NULL);
    big.extra[0] = 0;
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, &big.a), FERRULE_OK);
    ferrule_config_free(cfg);
    cfg = NULL;
    /* Only one of the two hooks. */
    big.a.struct_size = (uint32_t)sizeof(big.a);
    big.a.free = NULL;
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, &big.a), FERRULE_USAGE);
    CHECK(cfg == NULL);
    /* Just struct_size: libc defaults, the stale hooks are not read. */
    big.a.struct_size = (uint32_t)sizeof(uint32_t);
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, &big.a), FERRULE_OK);
    ferrule_config_free(cfg);
}

static long never_send(void *ctx, const uint8_t *d, size_t n) {
    (void)ctx;
    (void)d;
    (void)n;
    return FERRULE_IO_WOULD_BLOCK;
}
static long never_recv(void *ctx, uint8_t *d, size_t n) {
    (void)ctx;
    (void)d;
    (void)n;
    return FERRULE_IO_WOULD_BLOCK;
}

TEST(io_callbacks_struct_size) {
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    if (c == NULL) return;
    struct {
        ferrule_io_callbacks io;
        uint8_t extra[8];
    } big;
    CHECK_EQ(ferrule_sizeof_io_callbacks(), sizeof(ferrule_io_callbacks));
    memset(&big, 0, sizeof(big));
    CHECK_EQ(ferrule_conn_set_io(c, &big.io), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_BAD_STRUCT);
    big.io.struct_size = (uint32_t)sizeof(big);
    big.io.send = never_send;
    big.io.recv = never_recv;
    big.extra[7] = 1;
    CHECK_EQ(ferrule_conn_set_io(c, &big.io), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_BAD_STRUCT);
    /* Just struct_size: the callbacks default to NULL, which is refused. */
    big.io.struct_size = (uint32_t)sizeof(uint32_t);
    CHECK_EQ(ferrule_conn_set_io(c, &big.io), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_NULL_ARGUMENT);
    /* Only one callback. */
    big.io.struct_size = (uint32_t)sizeof(big.io);
    big.io.recv = NULL;
    CHECK_EQ(ferrule_conn_set_io(c, &big.io), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_NULL_ARGUMENT);
    /* Larger with zero trailing bytes: accepted. */
    big.io.recv = never_recv;
    big.io.struct_size = (uint32_t)sizeof(big);
    big.extra[7] = 0;
    CHECK_EQ(ferrule_conn_set_io(c, &big.io), FERRULE_OK);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

/* ---- configs ---------------------------------------------------------------- */

TEST(config_frozen_after_conn_new) {
    ferrule_config *cfg = server_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    static const uint16_t suite = FERRULE_TLS_AES_128_GCM_SHA256;
    static const uint16_t group = FERRULE_GROUP_X25519;
    static const uint16_t sig = FERRULE_SIG_ED25519;
    size_t plen = 0, klen = 0, clen = 0;
    uint8_t *pem = slurp(pair_pki("root.pem"), &plen);
    uint8_t *key = slurp(pair_pki("ecdsa-p256.key"), &klen);
    uint8_t *chain = slurp(pair_pki("ecdsa-p256.chain.pem"), &clen);
    CHECK(pem != NULL && key != NULL && chain != NULL);
#define FROZEN(call)                                                                               \
    do {                                                                                           \
        CHECK_EQ(call, FERRULE_USAGE);                                                             \
        CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_FROZEN);                             \
    } while (0)
    FROZEN(ferrule_config_set_cipher_suites(cfg, &suite, 1));
    FROZEN(ferrule_config_set_groups(cfg, &group, 1));
    FROZEN(ferrule_config_set_signature_schemes(cfg, &sig, 1));
    FROZEN(ferrule_config_add_alpn(cfg, (const uint8_t *)"h2", 2));
    FROZEN(ferrule_config_add_trust_pem(cfg, pem, plen));
    FROZEN(ferrule_config_add_trust_der(cfg, pem, 10));
    FROZEN(ferrule_config_add_trust_file(cfg, pair_pki("root.pem")));
    FROZEN(ferrule_config_add_trust_dir(cfg, pair_pki_dir()));
    FROZEN(ferrule_config_add_trust_system(cfg));
    FROZEN(ferrule_config_add_cert_chain_pem(cfg, chain, clen, key, klen));
    FROZEN(ferrule_config_add_cert_chain_file(cfg, pair_pki("ecdsa-p256.chain.pem"),
                                              pair_pki("ecdsa-p256.key")));
    FROZEN(ferrule_config_set_time_callback(cfg, dummy_now, NULL));
    FROZEN(ferrule_config_set_memory_limit(cfg, 1 << 20));
    FROZEN(ferrule_config_set_max_handshake_message(cfg, 4096));
    FROZEN(ferrule_config_set_keylog_callback(cfg, dummy_keylog, NULL));
    FROZEN(ferrule_config_dangerous_no_hostname_check(cfg));
    FROZEN(ferrule_config_dangerous_no_verification(cfg));
#undef FROZEN
    CHECK_EQ(ferrule_config_trust_count(cfg), 0);
    /* Still frozen after the connection is gone; still usable. */
    ferrule_conn_free(c);
    c = NULL;
    CHECK_EQ(ferrule_config_set_memory_limit(cfg, 1 << 20), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    ferrule_conn_free(c);
    free(pem);
    free(key);
    free(chain);
    ferrule_config_free(cfg);
}

TEST(config_invalid_lists) {
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
#define INVALID(call)                                                                              \
    do {                                                                                           \
        CHECK_EQ(call, FERRULE_USAGE);                                                             \
        CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);                            \
    } while (0)
    static const uint16_t ccm = 0x1304, tls12 = 0xc02f, x448 = 0x001e, sha1 = 0x0201;
    static const uint16_t dup[2] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                    FERRULE_TLS_AES_128_GCM_SHA256};
    static const uint16_t mixed[2] = {FERRULE_TLS_AES_128_GCM_SHA256, 0x1305};
    static const uint16_t many[9] = {FERRULE_TLS_AES_128_GCM_SHA256};
    INVALID(ferrule_config_set_cipher_suites(cfg, &ccm, 1));
    INVALID(ferrule_config_set_cipher_suites(cfg, &tls12, 1));
    INVALID(ferrule_config_set_cipher_suites(cfg, mixed, 2));
    INVALID(ferrule_config_set_cipher_suites(cfg, dup, 2));
    INVALID(ferrule_config_set_cipher_suites(cfg, dup, 0));
    INVALID(ferrule_config_set_cipher_suites(cfg, many, 9));
    INVALID(ferrule_config_set_groups(cfg, &x448, 1));
    INVALID(ferrule_config_set_groups(cfg, &ccm, 0));
    INVALID(ferrule_config_set_signature_schemes(cfg, &sha1, 1));
    INVALID(ferrule_config_set_signature_schemes(cfg, &ccm, 1));
    /* A valid setting after the failures works and is used. */
    static const uint16_t one = FERRULE_TLS_CHACHA20_POLY1305_SHA256;
    CHECK_EQ(ferrule_config_set_cipher_suites(cfg, &one, 1), FERRULE_OK);
    ferrule_config *scfg = server_cfg();
    pair p;
    CHECK(pair_new(&p, cfg, scfg, NULL));
    CHECK(pair_handshake(&p, NULL, NULL));
    CHECK_EQ(ferrule_conn_cipher_suite(p.client), one);
    pair_free(&p);
    ferrule_config_free(scfg);
    ferrule_config_free(cfg);
}

TEST(config_alpn_lengths) {
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    uint8_t proto[256];
    memset(proto, 'a', sizeof(proto));
    INVALID(ferrule_config_add_alpn(cfg, proto, 0));
    INVALID(ferrule_config_add_alpn(cfg, proto, 256));
    CHECK_EQ(ferrule_config_add_alpn(cfg, proto, 255), FERRULE_OK);
    /* The wire list is bounded: keep adding until it refuses, cleanly. */
    int st = FERRULE_OK;
    for (int i = 0; i < 10 && st == FERRULE_OK; i++) st = ferrule_config_add_alpn(cfg, proto, 255);
    CHECK_EQ(st, FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    ferrule_config_free(cfg);
}

TEST(config_limits) {
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    INVALID(ferrule_config_set_memory_limit(cfg, 0));
    INVALID(ferrule_config_set_memory_limit(cfg, 64 * 1024 - 1));
    CHECK_EQ(ferrule_config_set_memory_limit(cfg, 64 * 1024), FERRULE_OK);
    INVALID(ferrule_config_set_max_handshake_message(cfg, 1023));
    INVALID(ferrule_config_set_max_handshake_message(cfg, 1u << 24));
    CHECK_EQ(ferrule_config_set_max_handshake_message(cfg, 1024), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_max_handshake_message(cfg, (1u << 24) - 1), FERRULE_OK);
    /* A per-connection limit below the minimum is refused too. */
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.memory_limit = 1000;
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, &o), FERRULE_USAGE);
    CHECK(c == NULL);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    o.memory_limit = 64 * 1024;
    CHECK_EQ(ferrule_conn_new(&c, cfg, &o), FERRULE_OK);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}
#undef INVALID

TEST(server_needs_a_certificate) {
    ferrule_config *cfg = NULL;
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, NULL), FERRULE_OK);
    if (cfg == NULL) return;
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_USAGE);
    CHECK(c == NULL);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    /* Not frozen by the failed attempt: a certificate can still be added. */
    CHECK_EQ(ferrule_config_add_cert_chain_file(cfg, pair_pki("ecdsa-p256.chain.pem"),
                                                pair_pki("ecdsa-p256.key")),
             FERRULE_OK);
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

TEST(server_name_option_rules) {
    ferrule_config *scfg = server_cfg(), *ccfg = client_cfg();
    CHECK(scfg != NULL && ccfg != NULL);
    if (scfg == NULL || ccfg == NULL) return;
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.server_name = "localhost";
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, scfg, &o), FERRULE_USAGE); /* servers take no name */
    CHECK(c == NULL);
    o.server_name = "";
    CHECK_EQ(ferrule_conn_new(&c, ccfg, &o), FERRULE_USAGE);
    CHECK(c == NULL);
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    o.server_name = longname;
    CHECK_EQ(ferrule_conn_new(&c, ccfg, &o), FERRULE_USAGE);
    CHECK(c == NULL);
    ferrule_config_free(scfg);
    ferrule_config_free(ccfg);
}

TEST(certificate_and_key_loading) {
    ferrule_config *cfg = NULL;
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, NULL), FERRULE_OK);
    if (cfg == NULL) return;
    /* Key of another certificate. */
    CHECK_EQ(ferrule_config_add_cert_chain_file(cfg, pair_pki("ecdsa-p256.chain.pem"),
                                                pair_pki("ecdsa-p384.key")),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_KEY_MISMATCH);
    CHECK_EQ(ferrule_config_add_cert_chain_file(cfg, pair_pki("rsa.chain.pem"),
                                                pair_pki("ed25519.key")),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_KEY_MISMATCH);
    /* Missing files. */
    CHECK_EQ(ferrule_config_add_cert_chain_file(cfg, "/nonexistent/chain.pem",
                                                pair_pki("ecdsa-p256.key")),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_FILE);
    /* Garbage and empty PEM. */
    static const uint8_t junk[] = "-----BEGIN CERTIFICATE-----\nnot base64!\n"
                                  "-----END CERTIFICATE-----\n";
    size_t klen = 0;
    uint8_t *key = slurp(pair_pki("ecdsa-p256.key"), &klen);
    CHECK(key != NULL);
    CHECK_EQ(ferrule_config_add_cert_chain_pem(cfg, junk, sizeof(junk) - 1, key, klen),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_PEM);
    CHECK_EQ(ferrule_config_add_cert_chain_pem(cfg, (const uint8_t *)"", 0, key, klen),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_PEM);
    size_t clen = 0;
    uint8_t *chain = slurp(pair_pki("ecdsa-p256.chain.pem"), &clen);
    CHECK_EQ(ferrule_config_add_cert_chain_pem(cfg, chain, clen, junk, sizeof(junk) - 1),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_PEM);
    /* None of the failures left a half-loaded chain behind. */
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_add_cert_chain_pem(cfg, chain, clen, key, klen), FERRULE_OK);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_NONE);
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    ferrule_conn_free(c);
    free(key);
    free(chain);
    ferrule_config_free(cfg);
}

TEST(trust_loading_failures) {
    ferrule_config *cfg = NULL;
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, NULL), FERRULE_OK);
    if (cfg == NULL) return;
    CHECK_EQ(ferrule_config_add_trust_file(cfg, "/nonexistent/root.pem"), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cfg), FERRULE_R_CONFIG_FILE);
    static const uint8_t der[4] = {0x30, 0x03, 0x02, 0x01};
    CHECK(ferrule_config_add_trust_der(cfg, der, sizeof(der)) != FERRULE_OK);
    CHECK(ferrule_config_add_trust_der(cfg, der, 0) != FERRULE_OK);
    CHECK_EQ(ferrule_config_trust_count(cfg), 0);
    CHECK_EQ(ferrule_config_add_trust_file(cfg, pair_pki("root.pem")), FERRULE_OK);
    CHECK_EQ(ferrule_config_trust_count(cfg), 1);
    ferrule_config_free(cfg);
}

/* ---- state rules -------------------------------------------------------------- */

TEST(write_and_close_before_handshake) {
    ferrule_config *ccfg = client_cfg(), *scfg = server_cfg();
    CHECK(ccfg != NULL && scfg != NULL);
    if (ccfg == NULL || scfg == NULL) return;
    pair p;
    CHECK(pair_new(&p, ccfg, scfg, NULL));
    /* close before the handshake: refused, not fatal */
    CHECK_EQ(ferrule_conn_close(p.client), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    CHECK_EQ(ferrule_conn_status(p.client), FERRULE_OK);
    /* export before the handshake */
    uint8_t km[32];
    CHECK_EQ(ferrule_conn_export_keying_material(p.client, "EXPORTER-test", 13, NULL, 0, km, 32),
             FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    /* write drives the handshake: the ClientHello goes out, nothing taken */
    size_t n = 99;
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"early", 5, &n), FERRULE_WANT_READ);
    CHECK_EQ(n, 0);
    CHECK(ferrule_conn_pending_output(p.client) > 0);
    CHECK_EQ(ferrule_conn_handshake_state(p.client), FERRULE_HS_WAIT_SERVER_HELLO);
    /* read likewise */
    uint8_t buf[64];
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_WANT_READ);
    CHECK(pair_handshake(&p, NULL, NULL));
    /* After the handshake: exporters agree. */
    uint8_t km2[32];
    CHECK_EQ(ferrule_conn_export_keying_material(p.client, "EXPORTER-test", 13, NULL, 0, km, 32),
             FERRULE_OK);
    CHECK_EQ(ferrule_conn_export_keying_material(p.server, "EXPORTER-test", 13, NULL, 0, km2, 32),
             FERRULE_OK);
    CHECK_MEM(km, km2, 32);
    CHECK_EQ(ferrule_conn_export_keying_material(p.server, "EXPORTER-tesu", 13, NULL, 0, km2, 32),
             FERRULE_OK);
    CHECK(memcmp(km, km2, 32) != 0);
    /* close, then write: refused (not fatal); close again is harmless */
    CHECK_EQ(ferrule_conn_close(p.client), FERRULE_OK);
    CHECK_EQ(ferrule_conn_close(p.client), FERRULE_OK);
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"late", 4, &n), FERRULE_USAGE);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_reason(p.client), FERRULE_R_WRONG_STATE);
    CHECK_EQ(ferrule_conn_status(p.client), FERRULE_OK);
    /* The server can still send; the client still reads (half close). */
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_CLOSED);
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"bye", 3, &n), FERRULE_OK);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_read(p.client, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 3 && memcmp(buf, "bye", 3) == 0);
    /* peer_cert bounds */
    const uint8_t *der = NULL;
    size_t len = 0;
    size_t count = ferrule_conn_peer_cert_count(p.client);
    CHECK_EQ(count, 2);
    CHECK_EQ(ferrule_conn_peer_cert(p.client, 0, &der, &len), FERRULE_OK);
    CHECK(der != NULL && len > 0 && der[0] == 0x30);
    CHECK_EQ(ferrule_conn_peer_cert(p.client, count, &der, &len), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_peer_cert_count(p.server), 0);
    pair_free(&p);
    ferrule_config_free(ccfg);
    ferrule_config_free(scfg);
}

TEST(buffer_io_refused_with_callback_io) {
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    if (c == NULL) return;
    ferrule_io_callbacks io = {sizeof(io), never_send, never_recv, NULL};
    CHECK_EQ(ferrule_conn_set_io(c, &io), FERRULE_OK);
    uint8_t buf[16] = {22, 3, 3, 0, 0};
    size_t n = 9;
    CHECK_EQ(ferrule_conn_feed(c, buf, 5, &n), FERRULE_USAGE);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_WRONG_STATE);
    n = 9;
    CHECK_EQ(ferrule_conn_take(c, buf, sizeof(buf), &n), FERRULE_USAGE);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_WRONG_STATE);
    CHECK_EQ(ferrule_conn_status(c), FERRULE_OK);
    /* The send callback blocks: the handshake reports WANT_WRITE. */
    CHECK_EQ(ferrule_conn_handshake(c), FERRULE_WANT_WRITE);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

TEST(set_io_after_handshake_started) {
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    if (c == NULL) return;
    CHECK_EQ(ferrule_conn_handshake(c), FERRULE_WANT_READ);
    ferrule_io_callbacks io = {sizeof(io), never_send, never_recv, NULL};
    CHECK_EQ(ferrule_conn_set_io(c, &io), FERRULE_USAGE);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_WRONG_STATE);
    CHECK_EQ(ferrule_conn_status(c), FERRULE_OK);
    /* Buffer I/O still works. */
    CHECK(ferrule_conn_pending_output(c) > 0);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

/* ---- callback I/O -------------------------------------------------------------- */

typedef struct pipe_end {
    uint8_t *buf; /* incoming bytes */
    size_t len;
    struct pipe_end *peer;
    int fail_send, fail_recv, eof;
} pipe_end;

static long pipe_send(void *ctx, const uint8_t *d, size_t n) {
    pipe_end *e = ctx;
    if (e->fail_send) return FERRULE_IO_ERROR;
    pipe_end *to = e->peer;
    size_t room = 65536 - to->len;
    if (room == 0) return FERRULE_IO_WOULD_BLOCK;
    if (n > room) n = room;
    if (n > 1000) n = 1000; /* short writes on purpose */
    memcpy(to->buf + to->len, d, n);
    to->len += n;
    return (long)n;
}

static long pipe_recv(void *ctx, uint8_t *d, size_t cap) {
    pipe_end *e = ctx;
    if (e->fail_recv) return FERRULE_IO_ERROR;
    if (e->len == 0) return e->eof ? 0 : FERRULE_IO_WOULD_BLOCK;
    size_t n = e->len < cap ? e->len : cap;
    if (n > 777) n = 777; /* short reads on purpose */
    memcpy(d, e->buf, n);
    memmove(e->buf, e->buf + n, e->len - n);
    e->len -= n;
    return (long)n;
}

typedef struct io_pair {
    ferrule_config *ccfg, *scfg;
    ferrule_conn *c, *s;
    pipe_end ce, se;
} io_pair;

static int io_pair_new(io_pair *p) {
    memset(p, 0, sizeof(*p));
    p->ccfg = client_cfg();
    p->scfg = server_cfg();
    p->ce.buf = malloc(65536);
    p->se.buf = malloc(65536);
    p->ce.peer = &p->se;
    p->se.peer = &p->ce;
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.server_name = "localhost";
    if (p->ccfg == NULL || p->scfg == NULL || ferrule_conn_new(&p->c, p->ccfg, &o) != FERRULE_OK ||
        ferrule_conn_new(&p->s, p->scfg, NULL) != FERRULE_OK)
        return 0;
    ferrule_io_callbacks ci = {sizeof(ci), pipe_send, pipe_recv, &p->ce};
    ferrule_io_callbacks si = {sizeof(si), pipe_send, pipe_recv, &p->se};
    return ferrule_conn_set_io(p->c, &ci) == FERRULE_OK &&
           ferrule_conn_set_io(p->s, &si) == FERRULE_OK;
}

static void io_pair_free(io_pair *p) {
    ferrule_conn_free(p->c);
    ferrule_conn_free(p->s);
    ferrule_config_free(p->ccfg);
    ferrule_config_free(p->scfg);
    free(p->ce.buf);
    free(p->se.buf);
}

TEST(callback_io_handshake_and_data) {
    io_pair p;
    CHECK(io_pair_new(&p));
    int cs = FERRULE_WANT_READ, ss = FERRULE_WANT_READ;
    for (int i = 0; i < 64 && (cs != FERRULE_OK || ss != FERRULE_OK); i++) {
        if (cs != FERRULE_OK) cs = ferrule_conn_handshake(p.c);
        if (ss != FERRULE_OK) ss = ferrule_conn_handshake(p.s);
        CHECK(cs == FERRULE_OK || cs == FERRULE_WANT_READ || cs == FERRULE_WANT_WRITE);
        CHECK(ss == FERRULE_OK || ss == FERRULE_WANT_READ || ss == FERRULE_WANT_WRITE);
    }
    CHECK_EQ(cs, FERRULE_OK);
    CHECK_EQ(ss, FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(p.c, (const uint8_t *)"ping", 4, &n), FERRULE_OK);
    CHECK_EQ(n, 4);
    uint8_t buf[16];
    CHECK_EQ(ferrule_conn_read(p.s, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK(n == 4 && memcmp(buf, "ping", 4) == 0);
    CHECK_EQ(ferrule_conn_read(p.s, buf, sizeof(buf), &n), FERRULE_WANT_READ);
    /* EOF without close_notify is truncation. */
    p.se.eof = 1;
    CHECK_EQ(ferrule_conn_read(p.s, buf, sizeof(buf), &n), FERRULE_TRUNCATED);
    CHECK_EQ(ferrule_conn_reason(p.s), FERRULE_R_TRUNCATED);
    io_pair_free(&p);
}

TEST(callback_io_send_failure) {
    io_pair p;
    CHECK(io_pair_new(&p));
    p.ce.fail_send = 1;
    int st = ferrule_conn_handshake(p.c);
    CHECK_EQ(st, FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_reason(p.c), FERRULE_R_IO);
    CHECK_EQ(ferrule_conn_handshake(p.c), FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_status(p.c), FERRULE_INTERNAL);
    io_pair_free(&p);
}

TEST(callback_io_recv_failure_and_eof) {
    io_pair p;
    CHECK(io_pair_new(&p));
    p.se.fail_recv = 1;
    CHECK_EQ(ferrule_conn_handshake(p.s), FERRULE_INTERNAL);
    CHECK_EQ(ferrule_conn_reason(p.s), FERRULE_R_IO);
    /* The client: EOF before the ServerHello. */
    p.ce.eof = 1;
    CHECK_EQ(ferrule_conn_handshake(p.c), FERRULE_TRUNCATED);
    CHECK_EQ(ferrule_conn_reason(p.c), FERRULE_R_TRUNCATED);
    CHECK_EQ(ferrule_conn_alert(p.c), -1);
    io_pair_free(&p);
}

/* ---- allocator ------------------------------------------------------------------ */

typedef struct counting {
    long long outstanding; /* bytes */
    long live;             /* blocks */
    long allocs;
    long bad_frees; /* size given to free differs from the allocation */
    long fail_at;   /* -1: never fail; else fail the fail_at-th allocation */
    size_t peak;
} counting;

#define HDR 16
static void *count_alloc(void *ctx, size_t n) {
    counting *k = ctx;
    if (k->fail_at >= 0 && k->allocs++ == k->fail_at) return NULL;
    if (k->fail_at < 0) k->allocs++;
    uint8_t *p = malloc(n + HDR);
    if (p == NULL) return NULL;
    memcpy(p, &n, sizeof(n));
    k->outstanding += (long long)n;
    k->live++;
    if ((size_t)k->outstanding > k->peak) k->peak = (size_t)k->outstanding;
    return p + HDR;
}
static void count_free(void *ctx, void *ptr, size_t n) {
    counting *k = ctx;
    if (ptr == NULL) return;
    uint8_t *p = (uint8_t *)ptr - HDR;
    size_t got;
    memcpy(&got, p, sizeof(got));
    if (got != n) k->bad_frees++;
    k->outstanding -= (long long)got;
    k->live--;
    free(p);
}

/* One handshake plus data with both configs on `k`.  Returns 1 if the
 * whole run succeeded. */
static int counted_run(counting *k, size_t *mem_used) {
    ferrule_allocator a = {sizeof(a), count_alloc, count_free, k};
    ferrule_config *cc = NULL, *sc = NULL;
    pair p;
    memset(&p, 0, sizeof(p));
    int ok = ferrule_config_new(&cc, FERRULE_ROLE_CLIENT, &a) == FERRULE_OK &&
             ferrule_config_new(&sc, FERRULE_ROLE_SERVER, &a) == FERRULE_OK &&
             ferrule_config_add_trust_file(cc, pair_pki("root.pem")) == FERRULE_OK &&
             ferrule_config_add_cert_chain_file(sc, pair_pki("ecdsa-p256.chain.pem"),
                                                pair_pki("ecdsa-p256.key")) == FERRULE_OK &&
             pair_new(&p, cc, sc, NULL) && pair_handshake(&p, NULL, NULL);
    if (ok) {
        size_t n = 0;
        uint8_t buf[32];
        ok = ferrule_conn_write(p.client, (const uint8_t *)"counted", 7, &n) == FERRULE_OK &&
             pair_move(p.client, p.server) > 0 &&
             ferrule_conn_read(p.server, buf, sizeof(buf), &n) == FERRULE_OK && n == 7;
        if (mem_used != NULL) {
            mem_used[0] = ferrule_conn_memory_used(p.client);
            mem_used[1] = ferrule_conn_memory_used(p.server);
        }
    } else if (p.client != NULL) {
        /* Whatever failed, the handles answer. */
        int st = ferrule_conn_status(p.client);
        (void)st;
        (void)ferrule_conn_error_message(p.client);
    }
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return ok;
}

TEST(custom_allocator_every_byte_returned) {
    counting k;
    memset(&k, 0, sizeof(k));
    k.fail_at = -1;
    size_t used[2] = {0, 0};
    CHECK(counted_run(&k, used));
    CHECK(k.allocs > 0);
    CHECK(k.peak > 0);
    CHECK_EQ(k.outstanding, 0);
    CHECK_EQ(k.live, 0);
    CHECK_EQ(k.bad_frees, 0);
    CHECK(used[0] > 0 && used[0] < ferrule_default_memory_limit());
    CHECK(used[1] > 0 && used[1] < ferrule_default_memory_limit());
}

TEST(allocation_failure_at_every_point) {
    /* Fail the n-th allocation for every n of a full run: every run ends
     * cleanly (no crash, no leak, sized frees right). */
    counting k;
    memset(&k, 0, sizeof(k));
    k.fail_at = -1;
    CHECK(counted_run(&k, NULL));
    long total = k.allocs;
    CHECK(total > 0);
    int any_failed = 0;
    for (long i = 0; i < total; i++) {
        memset(&k, 0, sizeof(k));
        k.fail_at = i;
        if (!counted_run(&k, NULL)) any_failed = 1;
        if (k.outstanding != 0 || k.live != 0 || k.bad_frees != 0) {
            fprintf(stderr, "  failing allocation %ld of %ld: %lld bytes / %ld blocks left, "
                            "%ld bad frees\n",
                    i, total, k.outstanding, k.live, k.bad_frees);
            tl_failures_in_test++;
            break;
        }
    }
    CHECK(any_failed);
}

TEST(memory_ceiling_handshake) {
    /* The smallest allowed ceiling still fits an ordinary handshake. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK_EQ(ferrule_config_set_memory_limit(cc, 64 * 1024), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_memory_limit(sc, 64 * 1024), FERRULE_OK);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK(pair_handshake(&p, NULL, NULL));
    CHECK(ferrule_conn_memory_used(p.client) <= 64 * 1024);
    CHECK(ferrule_conn_memory_used(p.server) <= 64 * 1024);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
}

TEST(config_outlives_its_creator_reference) {
    /* The connection holds a reference: dropping ours early is fine. */
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    ferrule_config_ref(sc);
    ferrule_config_free(sc); /* back to creator + conn */
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    CHECK(pair_handshake(&p, NULL, NULL));
    pair_free(&p);
}

/* ---- names ------------------------------------------------------------------------ */

TEST(names_round_trip) {
    static const uint16_t suites[3] = {FERRULE_TLS_AES_128_GCM_SHA256,
                                       FERRULE_TLS_AES_256_GCM_SHA384,
                                       FERRULE_TLS_CHACHA20_POLY1305_SHA256};
    static const uint16_t groups[3] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1,
                                       FERRULE_GROUP_SECP384R1};
    static const uint16_t sigs[12] = {
        FERRULE_SIG_RSA_PKCS1_SHA256,       FERRULE_SIG_RSA_PKCS1_SHA384,
        FERRULE_SIG_RSA_PKCS1_SHA512,       FERRULE_SIG_ECDSA_SECP256R1_SHA256,
        FERRULE_SIG_ECDSA_SECP384R1_SHA384, FERRULE_SIG_RSA_PSS_RSAE_SHA256,
        FERRULE_SIG_RSA_PSS_RSAE_SHA384,    FERRULE_SIG_RSA_PSS_RSAE_SHA512,
        FERRULE_SIG_ED25519,                FERRULE_SIG_RSA_PSS_PSS_SHA256,
        FERRULE_SIG_RSA_PSS_PSS_SHA384,     FERRULE_SIG_RSA_PSS_PSS_SHA512};
    uint16_t v = 0;
    for (size_t i = 0; i < 3; i++) {
        const char *name = ferrule_cipher_suite_name(suites[i]);
        CHECK(name != NULL);
        if (name == NULL) continue;
        CHECK_EQ(ferrule_cipher_suite_from_name(name, &v), FERRULE_OK);
        CHECK_EQ(v, suites[i]);
        name = ferrule_group_name(groups[i]);
        CHECK(name != NULL);
        if (name == NULL) continue;
        CHECK_EQ(ferrule_group_from_name(name, &v), FERRULE_OK);
        CHECK_EQ(v, groups[i]);
    }
    for (size_t i = 0; i < 12; i++) {
        const char *name = ferrule_signature_scheme_name(sigs[i]);
        CHECK(name != NULL);
        if (name == NULL) continue;
        CHECK_EQ(ferrule_signature_scheme_from_name(name, &v), FERRULE_OK);
        CHECK_EQ(v, sigs[i]);
    }
    CHECK(strcmp(ferrule_cipher_suite_name(FERRULE_TLS_AES_128_GCM_SHA256),
                 "TLS_AES_128_GCM_SHA256") == 0);
    CHECK(strcmp(ferrule_group_name(FERRULE_GROUP_X25519), "x25519") == 0);
    CHECK(strcmp(ferrule_signature_scheme_name(FERRULE_SIG_ECDSA_SECP256R1_SHA256),
                 "ecdsa_secp256r1_sha256") == 0);
    /* Unknown values and names. */
    CHECK(ferrule_cipher_suite_name(0x1304) == NULL);
    CHECK(ferrule_cipher_suite_name(0) == NULL);
    CHECK(ferrule_group_name(0x001e) == NULL);
    CHECK(ferrule_signature_scheme_name(0x0201) == NULL);
    v = 0x4242;
    CHECK_EQ(ferrule_cipher_suite_from_name("TLS_AES_128_CCM_SHA256", &v), FERRULE_USAGE);
    CHECK_EQ(v, 0x4242);
    CHECK_EQ(ferrule_cipher_suite_from_name("tls_aes_128_gcm_sha256x", &v), FERRULE_USAGE);
    CHECK_EQ(ferrule_cipher_suite_from_name("", &v), FERRULE_USAGE);
    CHECK_EQ(ferrule_cipher_suite_from_name(NULL, &v), FERRULE_USAGE);
    CHECK_EQ(ferrule_cipher_suite_from_name("TLS_AES_128_GCM_SHA256", NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_group_from_name("x448", &v), FERRULE_USAGE);
    CHECK_EQ(ferrule_group_from_name(NULL, &v), FERRULE_USAGE);
    CHECK_EQ(ferrule_group_from_name("x25519", NULL), FERRULE_USAGE);
    CHECK_EQ(ferrule_signature_scheme_from_name("ecdsa_sha1", &v), FERRULE_USAGE);
    CHECK_EQ(ferrule_signature_scheme_from_name(NULL, &v), FERRULE_USAGE);
    CHECK_EQ(ferrule_signature_scheme_from_name("ed25519", NULL), FERRULE_USAGE);
}

TEST(alert_and_state_names) {
    static const uint8_t alerts[] = {0,  10, 20, 22, 40, 42, 43,  44,  45,  46,  47,  48,  49, 50,
                                     51, 70, 71, 80, 86, 90, 109, 110, 112, 113, 115, 116, 120};
    for (size_t i = 0; i < sizeof(alerts); i++) CHECK(ferrule_alert_name(alerts[i]) != NULL);
    CHECK(strcmp(ferrule_alert_name(FERRULE_ALERT_DECRYPT_ERROR), "decrypt_error") == 0);
    CHECK(ferrule_alert_name(255) == NULL);
    CHECK(ferrule_alert_name(21) == NULL);
    for (uint32_t s = FERRULE_HS_START; s <= FERRULE_HS_WAIT_END_OF_EARLY_DATA; s++)
        CHECK(ferrule_handshake_state_name(s) != NULL);
    CHECK(ferrule_handshake_state_name(FERRULE_HS_WAIT_END_OF_EARLY_DATA + 1) == NULL);
    CHECK(ferrule_handshake_state_name(UINT32_MAX) == NULL);
}

TEST(status_and_reason_names_never_null) {
    for (int s = -5; s <= 200; s++) CHECK(ferrule_status_name(s) != NULL);
    CHECK(ferrule_status_name(INT32_MIN) != NULL);
    CHECK(ferrule_status_name(INT32_MAX) != NULL);
    for (uint32_t r = 0; r <= 200; r++) {
        CHECK(ferrule_reason_name(r) != NULL);
        CHECK(ferrule_reason_message(r) != NULL);
    }
    CHECK(ferrule_reason_name(UINT32_MAX) != NULL);
    CHECK(ferrule_reason_message(UINT32_MAX) != NULL);
    /* Distinct names for the status classes. */
    for (int a = FERRULE_OK; a <= FERRULE_INTERNAL; a++)
        for (int b = a + 1; b <= FERRULE_INTERNAL; b++)
            CHECK(strcmp(ferrule_status_name(a), ferrule_status_name(b)) != 0);
    CHECK(strcmp(ferrule_status_name(FERRULE_WANT_READ), "want-read") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_CERT_EXPIRED), "cert_expired") == 0);
    CHECK(strcmp(ferrule_reason_name(FERRULE_R_NONE), "none") == 0);
    /* Every defined reason has its own name (none says "unknown"). */
    static const uint32_t defined[] = {122, 123, 124,
        1,  2,  3,  4,  5,  6,  16, 17, 18, 19, 20, 21, 22,  23,  24,  25,  26,  27,  28,  29,
        30, 31, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74,  75,  76,  77,  78,  79,  80,  81,
        96, 97, 98, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121};
    const char *unknown = ferrule_reason_name(0xdead);
    for (size_t i = 0; i < sizeof(defined) / sizeof(defined[0]); i++) {
        CHECK(strcmp(ferrule_reason_name(defined[i]), unknown) != 0);
        CHECK(strcmp(ferrule_reason_message(defined[i]), ferrule_reason_message(0xdead)) != 0);
    }
}

TEST(version_and_sizes) {
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", FERRULE_VERSION_MAJOR, FERRULE_VERSION_MINOR,
             FERRULE_VERSION_PATCH);
    CHECK(ferrule_version_string() != NULL && strcmp(ferrule_version_string(), want) == 0);
    CHECK_EQ(ferrule_version(), ((uint32_t)FERRULE_VERSION_MAJOR << 16) |
                                    ((uint32_t)FERRULE_VERSION_MINOR << 8) |
                                    (uint32_t)FERRULE_VERSION_PATCH);
    CHECK_EQ(ferrule_max_plaintext_record(), 16384);
    CHECK_EQ(ferrule_max_ciphertext_record(), 16384 + 256 + 5);
    CHECK(ferrule_default_memory_limit() >= 64 * 1024);
}

TEST(feed_nothing_with_null_pointer) {
    /* ferrule_conn_feed only refuses data == NULL when len > 0, so
     * (NULL, 0) is a valid call that must do nothing.  Kept last: under
     * UBSan with -fno-sanitize-recover a failure aborts the binary. */
    ferrule_config *cfg = client_cfg();
    CHECK(cfg != NULL);
    if (cfg == NULL) return;
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    if (c == NULL) return;
    size_t n = 9;
    /* Regression: fr_conn_in_append() once did memcpy(dst, NULL, 0),
     * undefined behaviour (C11 7.24.1p2) that UBSan aborts on. */
    CHECK_EQ(ferrule_conn_feed(c, NULL, 0, &n), FERRULE_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_status(c), FERRULE_OK);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

TEST(take_from_a_fresh_connection) {
    /* Nothing has been written yet: the output buffer does not exist.
     * Regression: ferrule_conn_take did memcpy(out, NULL + 0, 0), which
     * UBSan aborts on (C11 7.24.1p2, 6.5.6p8). */
    ferrule_config *cfg = client_cfg();
    REQUIRE(cfg != NULL);
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cfg, NULL), FERRULE_OK);
    REQUIRE(c != NULL);
    uint8_t buf[16];
    size_t n = 9;
    CHECK_EQ(ferrule_conn_pending_output(c), 0);
    CHECK_EQ(ferrule_conn_take(c, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_take(c, buf, 0, &n), FERRULE_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(ferrule_conn_status(c), FERRULE_OK);
    /* The connection still works afterwards. */
    CHECK_EQ(ferrule_conn_handshake(c), FERRULE_WANT_READ);
    CHECK(ferrule_conn_pending_output(c) > 0);
    ferrule_conn_free(c);
    ferrule_config_free(cfg);
}

TEST_MAIN("abi", TL_CASE(take_from_a_fresh_connection), TL_CASE(null_config_functions), TL_CASE(null_arguments_on_a_config),
          TL_CASE(null_conn_functions), TL_CASE(null_arguments_on_a_conn),
          TL_CASE(conn_options_struct_size), TL_CASE(allocator_struct_size),
          TL_CASE(io_callbacks_struct_size), TL_CASE(config_frozen_after_conn_new),
          TL_CASE(config_invalid_lists), TL_CASE(config_alpn_lengths), TL_CASE(config_limits),
          TL_CASE(server_needs_a_certificate), TL_CASE(server_name_option_rules),
          TL_CASE(certificate_and_key_loading), TL_CASE(trust_loading_failures),
          TL_CASE(write_and_close_before_handshake), TL_CASE(buffer_io_refused_with_callback_io),
          TL_CASE(set_io_after_handshake_started), TL_CASE(callback_io_handshake_and_data),
          TL_CASE(callback_io_send_failure), TL_CASE(callback_io_recv_failure_and_eof),
          TL_CASE(custom_allocator_every_byte_returned), TL_CASE(allocation_failure_at_every_point),
          TL_CASE(memory_ceiling_handshake), TL_CASE(config_outlives_its_creator_reference),
          TL_CASE(names_round_trip), TL_CASE(alert_and_state_names),
          TL_CASE(status_and_reason_names_never_null), TL_CASE(version_and_sizes),
          TL_CASE(feed_nothing_with_null_pointer))
