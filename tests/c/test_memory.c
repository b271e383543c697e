/* test_memory.c - memory accounting and the per-connection ceiling.
 *
 *  - A counting ferrule_allocator checks that ferrule_conn_memory_used()
 *    is exactly what the connection holds through our allocator, that
 *    every sized free matches its allocation, and that freeing the
 *    connections and configs returns every byte (also after failures and
 *    under injected allocation failures).
 *  - The libcrypto heap held by a connection (contexts, keys) does not go
 *    through our allocator; it is measured separately with
 *    CRYPTO_set_mem_functions installed before main().
 *  - The ceiling: a forged handshake message that makes the reassembly
 *    buffer grow past a 64 KiB limit fails with FERRULE_POLICY /
 *    FERRULE_R_MEMORY_LIMIT.
 *
 * The figures quoted in docs/memory.md are the "memory:" lines this test
 * prints. */
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <string.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

#include "conn.h" /* white-box: the config's buffer pool, a connection's peak */
#include "support_pair.h"
#include "testlib.h"

/* ---- counting allocator ---------------------------------------------------- */

#define HDR 16 /* keeps the caller's pointer 16-byte aligned */

typedef struct counting {
    size_t live, peak, total;
    unsigned long allocs, frees;
    unsigned long bad_frees; /* size passed to free != size allocated */
    unsigned long fail_at;   /* fail the allocation with this ordinal (0 = never) */
    unsigned long failed;
} counting;

static void *count_alloc(void *ctx, size_t n) {
    counting *k = ctx;
    if (k->fail_at != 0 && k->allocs + 1 == k->fail_at) {
        k->allocs++;
        k->failed++;
        return NULL;
    }
    uint8_t *p = malloc(n + HDR);
    if (p == NULL) return NULL;
    memcpy(p, &n, sizeof(n));
    k->allocs++;
    k->live += n;
    k->total += n;
    if (k->live > k->peak) k->peak = k->live;
    return p + HDR;
}

static void count_free(void *ctx, void *ptr, size_t n) {
    counting *k = ctx;
    if (ptr == NULL) return;
    uint8_t *p = (uint8_t *)ptr - HDR;
    size_t stored;
    memcpy(&stored, p, sizeof(stored));
    if (stored != n) k->bad_frees++;
    k->frees++;
    k->live -= stored;
    free(p);
}

static ferrule_allocator allocator_for(counting *k) {
    ferrule_allocator a;
    memset(&a, 0, sizeof(a));
    a.struct_size = sizeof(a);
    a.alloc = count_alloc;
    a.free = count_free;
    a.ctx = k;
    return a;
}

static ferrule_config *client_cfg(counting *k) {
    ferrule_allocator a = allocator_for(k);
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, &a) != FERRULE_OK) return NULL;
    if (ferrule_config_add_trust_file(cfg, pair_pki("root.pem")) != FERRULE_OK) {
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static ferrule_config *server_cfg(counting *k, const char *kind) {
    ferrule_allocator a = allocator_for(k);
    ferrule_config *cfg = NULL;
    char chain[64], key[64];
    snprintf(chain, sizeof(chain), "%s.chain.pem", kind);
    snprintf(key, sizeof(key), "%s.key", kind);
    if (ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, &a) != FERRULE_OK) return NULL;
    if (ferrule_config_add_cert_chain_file(cfg, pair_pki(chain), pair_pki(key)) != FERRULE_OK) {
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* ---- libcrypto heap counter (installed before main) ------------------------ */

static atomic_long g_crypto_live;
static int g_crypto_hooked;

static void *crypto_malloc(size_t n, const char *file, int line) {
    (void)file;
    (void)line;
    uint8_t *p = malloc(n + HDR);
    if (p == NULL) return NULL;
    memcpy(p, &n, sizeof(n));
    atomic_fetch_add(&g_crypto_live, (long)n);
    return p + HDR;
}

static void crypto_free(void *ptr, const char *file, int line) {
    (void)file;
    (void)line;
    if (ptr == NULL) return;
    uint8_t *p = (uint8_t *)ptr - HDR;
    size_t n;
    memcpy(&n, p, sizeof(n));
    atomic_fetch_sub(&g_crypto_live, (long)n);
    free(p);
}

static void *crypto_realloc(void *ptr, size_t n, const char *file, int line) {
    if (ptr == NULL) return crypto_malloc(n, file, line);
    if (n == 0) {
        crypto_free(ptr, file, line);
        return NULL;
    }
    uint8_t *q = crypto_malloc(n, file, line);
    if (q == NULL) return NULL;
    size_t old;
    memcpy(&old, (uint8_t *)ptr - HDR, sizeof(old));
    memcpy(q, ptr, old < n ? old : n);
    crypto_free(ptr, file, line);
    return q;
}

__attribute__((constructor)) static void hook_libcrypto(void) {
#ifdef RUNNING_ON_VALGRIND
    /* Our header makes libcrypto's pointers interior ones, which memcheck
     * reports as "possibly lost"; under valgrind, leave libcrypto alone. */
    if (RUNNING_ON_VALGRIND) return;
#endif
    /* Only possible before libcrypto's first allocation. */
    g_crypto_hooked = CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free);
}

/* ---- helpers ----------------------------------------------------------------- */

static void exchange(pair *p, const char *msg) {
    size_t n = 0, len = strlen(msg);
    uint8_t buf[256];
    CHECK_EQ(ferrule_conn_write(p->client, (const uint8_t *)msg, len, &n), FERRULE_OK);
    pair_move(p->client, p->server);
    CHECK_EQ(ferrule_conn_read(p->server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, len);
    CHECK_EQ(ferrule_conn_write(p->server, buf, n, &n), FERRULE_OK);
    pair_move(p->server, p->client);
    CHECK_EQ(ferrule_conn_read(p->client, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(n, len);
    CHECK_MEM(buf, msg, len);
}

/* Like exchange() but without asserting: 1 if the data made it. */
static int try_exchange(pair *p) {
    size_t n = 0;
    uint8_t buf[16];
    if (ferrule_conn_write(p->client, (const uint8_t *)"ping", 4, &n) != FERRULE_OK) return 0;
    pair_move(p->client, p->server);
    if (ferrule_conn_read(p->server, buf, sizeof(buf), &n) != FERRULE_OK || n != 4) return 0;
    if (ferrule_conn_write(p->server, (const uint8_t *)"pong", 4, &n) != FERRULE_OK) return 0;
    pair_move(p->server, p->client);
    if (ferrule_conn_read(p->client, buf, sizeof(buf), &n) != FERRULE_OK || n != 4) return 0;
    return memcmp(buf, "pong", 4) == 0;
}

static void close_both(pair *p) {
    uint8_t buf[16];
    size_t n;
    CHECK_EQ(ferrule_conn_close(p->client), FERRULE_OK);
    pair_move(p->client, p->server);
    CHECK_EQ(ferrule_conn_read(p->server, buf, sizeof(buf), &n), FERRULE_CLOSED);
    CHECK_EQ(ferrule_conn_close(p->server), FERRULE_OK);
    pair_move(p->server, p->client);
    CHECK_EQ(ferrule_conn_read(p->client, buf, sizeof(buf), &n), FERRULE_CLOSED);
}

/* The input buffer every connection holds: one maximal ciphertext record. */
static size_t input_buffer(void) { return ferrule_max_ciphertext_record(); }

/* ---- idle connection figures -------------------------------------------------- */

/* What the config itself holds: everything live in its allocator but the
 * idle record buffers it keeps for its connections (core/bufpool.c). */
static size_t cfg_own(const counting *k, const ferrule_config *cfg) {
    return k->live - fr_buf_pool_bytes(cfg);
}

/* libcrypto bytes of the two record-protection contexts a connection
 * keeps (one EVP_CIPHER_CTX per direction, keyed once). */
static long aead_pair_bytes(void) {
    uint8_t secret[FR_MAX_HASH] = {1};
    fr_aead w, r;
    memset(&w, 0, sizeof(w));
    memset(&r, 0, sizeof(r));
    long before = atomic_load(&g_crypto_live);
    CHECK_EQ(fr_aead_init(&w, FERRULE_TLS_AES_128_GCM_SHA256, secret, 1), FR_OK);
    CHECK_EQ(fr_aead_init(&r, FERRULE_TLS_AES_128_GCM_SHA256, secret, 0), FR_OK);
    long n = atomic_load(&g_crypto_live) - before;
    fr_aead_free(&w);
    fr_aead_free(&r);
    return n;
}

/* Idle heap per connection (ferrule + libcrypto) must stay within these:
 * the figures of docs/memory.md with a little headroom (server 5,728,
 * ECDSA client 7,066, RSA client 7,470 bytes).  The client's includes the
 * peer's chain as DER, kept for ferrule_conn_peer_cert, which the
 * verified path points into (it copies nothing). */
#define IDLE_SERVER_MAX 6000u
#define IDLE_CLIENT_MAX 7800u
/* A connection moving full records holds one input and one output buffer
 * (one maximal record each) beside its idle state. */
#define ACTIVE_SERVER_MAX (40u * 1024u)

static void idle_figures(const char *kind) {
    counting kc, ks;
    memset(&kc, 0, sizeof(kc));
    memset(&ks, 0, sizeof(ks));
    ferrule_config *cc = client_cfg(&kc), *sc = server_cfg(&ks, kind);
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;

    /* Warm-up: libcrypto caches fetched algorithms on first use; those
     * process-wide caches are not the connection's. */
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK(pair_handshake(&p, NULL, NULL));
    exchange(&p, "warm-up");
    pair_free(&p);
    long aead2 = aead_pair_bytes();

    size_t cfg_c = cfg_own(&kc, cc), cfg_s = cfg_own(&ks, sc);
    long crypto0 = atomic_load(&g_crypto_live);

    CHECK(pair_new(&p, cc, sc, NULL));
    size_t new_c = ferrule_conn_memory_used(p.client), new_s = ferrule_conn_memory_used(p.server);
    CHECK_EQ(new_c, cfg_own(&kc, cc) - cfg_c);
    CHECK_EQ(new_s, cfg_own(&ks, sc) - cfg_s);
    /* Nothing but the struct: the input buffer comes with the first input. */
    CHECK(new_c < input_buffer());
    CHECK(new_s < input_buffer());

    int cs = -1, ss = -1;
    CHECK(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(cs, FERRULE_OK);
    CHECK_EQ(ss, FERRULE_OK);
    exchange(&p, "a little application data, both ways");
    CHECK_EQ(ferrule_conn_pending_output(p.client), 0);
    CHECK_EQ(ferrule_conn_pending_output(p.server), 0);

    size_t used_c = ferrule_conn_memory_used(p.client);
    size_t used_s = ferrule_conn_memory_used(p.server);
    size_t peak_c = atomic_load(&p.client->mem.peak), peak_s = atomic_load(&p.server->mem.peak);
    size_t idle_c = cfg_own(&kc, cc) - cfg_c, idle_s = cfg_own(&ks, sc) - cfg_s;
    /* memory_used is exactly what the connection holds through our
     * allocator (the configs' own allocations are the baseline). */
    CHECK_EQ(used_c, idle_c);
    CHECK_EQ(used_s, idle_s);
    CHECK(used_c < ferrule_default_memory_limit());
    CHECK(used_s < ferrule_default_memory_limit());
    /* Idle and established: the input buffer (empty after the handshake)
     * and the output buffer (drained) were given back. */
    CHECK(used_c < input_buffer());
    CHECK(used_s < input_buffer());
    CHECK(p.client->in == NULL && p.client->out == NULL);
    CHECK(p.server->in == NULL && p.server->out == NULL);
    /* The handshake took more than the idle connection keeps: the
     * reassembly buffer and handshake-only state are gone. */
    CHECK(peak_c > used_c);
    CHECK(peak_s > used_s);
    CHECK(peak_c < ferrule_default_memory_limit());
    CHECK(peak_s < ferrule_default_memory_limit());

    long crypto_pair = atomic_load(&g_crypto_live) - crypto0;

    /* The output buffer is one record and goes once drained: after one
     * 64 KiB write the idle connection is back to its idle size. */
    static uint8_t big[64 * 1024], got[64 * 1024];
    memset(big, 0x5a, sizeof(big));
    size_t wn = 0, rn = 0, total = 0;
    atomic_store(&p.client->mem.peak, used_c);
    atomic_store(&p.server->mem.peak, used_s);
    CHECK_EQ(ferrule_conn_write(p.client, big, sizeof(big), &wn), FERRULE_OK);
    CHECK(wn > 0);
    for (int i = 0; i < 64 && total < wn; i++) {
        pair_move(p.client, p.server);
        while (total < wn && ferrule_conn_read(p.server, got, sizeof(got), &rn) == FERRULE_OK)
            total += rn;
        size_t more = 0;
        if (wn < sizeof(big) &&
            ferrule_conn_write(p.client, big + wn, sizeof(big) - wn, &more) == FERRULE_OK)
            wn += more;
    }
    CHECK_EQ(wn, sizeof(big));
    CHECK_EQ(total, sizeof(big));
    size_t after_write_c = ferrule_conn_memory_used(p.client);
    size_t active_c = atomic_load(&p.client->mem.peak), active_s = atomic_load(&p.server->mem.peak);
    CHECK_EQ(after_write_c, cfg_own(&kc, cc) - cfg_c);
    CHECK_EQ(after_write_c, used_c);
    CHECK_EQ(ferrule_conn_memory_used(p.server), used_s);
    /* Active: the idle state plus at most one buffer each way. */
    CHECK(active_c <= used_c + 2 * (input_buffer() + 16));
    CHECK(active_s <= used_s + 2 * (input_buffer() + 16));
    printf("memory: %-10s client: during 64 KiB of 16 KiB records: peak %zu (sender), "
           "server peak %zu (receiver)\n",
           kind, active_c, active_s);
    long before = atomic_load(&g_crypto_live);
    ferrule_conn_free(p.client);
    long crypto_c = before - atomic_load(&g_crypto_live);
    before = atomic_load(&g_crypto_live);
    ferrule_conn_free(p.server);
    long crypto_s = before - atomic_load(&g_crypto_live);
    long residue = atomic_load(&g_crypto_live) - crypto0;

    printf("memory: %-10s client: at-new %zu, handshake peak %zu, idle %zu (memory_used %zu), "
           "libcrypto %ld\n",
           kind, new_c, peak_c, idle_c, used_c, g_crypto_hooked ? crypto_c : -1);
    printf("memory: %-10s server: at-new %zu, handshake peak %zu, idle %zu (memory_used %zu), "
           "libcrypto %ld\n",
           kind, new_s, peak_s, idle_s, used_s, g_crypto_hooked ? crypto_s : -1);
    printf("memory: %-10s configs: client %zu, server %zu (pooled buffers: client %zu, server "
           "%zu); libcrypto pair %ld, residue after free %ld; two AEAD contexts %ld\n",
           kind, cfg_c, cfg_s, fr_buf_pool_bytes(cc), fr_buf_pool_bytes(sc),
           g_crypto_hooked ? crypto_pair : -1, residue, g_crypto_hooked ? aead2 : -1);
    if (g_crypto_hooked) {
        /* Everything libcrypto allocated for the pair went back on free. */
        CHECK_EQ(residue, 0);
        CHECK(crypto_c > 0);
        CHECK(crypto_s > 0);
        CHECK_EQ(crypto_c + crypto_s, crypto_pair);
        /* An idle server keeps nothing of libcrypto's but its two record
         * contexts: no transcript hash, no key shares. */
        CHECK_EQ(crypto_s, aead2);
        CHECK(idle_s + (size_t)crypto_s <= IDLE_SERVER_MAX);
        CHECK(idle_c + (size_t)crypto_c <= IDLE_CLIENT_MAX);
        CHECK(active_s + (size_t)crypto_s <= ACTIVE_SERVER_MAX);
    } else {
        printf("memory: libcrypto allocator hook unavailable, libcrypto not measured\n");
    }

    /* Connections give back exactly what they took. */
    CHECK_EQ(cfg_own(&kc, cc), cfg_c);
    CHECK_EQ(cfg_own(&ks, sc), cfg_s);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    CHECK_EQ(kc.live, 0);
    CHECK_EQ(ks.live, 0);
    CHECK_EQ(kc.bad_frees, 0);
    CHECK_EQ(ks.bad_frees, 0);
    CHECK_EQ(kc.allocs, kc.frees);
    CHECK_EQ(ks.allocs, ks.frees);
}

TEST(idle_connection_ecdsa) { idle_figures("ecdsa-p256"); }
TEST(idle_connection_rsa) { idle_figures("rsa"); }

/* ---- a long peer chain ---------------------------------------------------------- */

/* An established client's memory_used and libcrypto heap (freed with
 * it) against server config sc; *certs and *der: the peer chain held. */
static void held_by_client(ferrule_config *sc, size_t *used, long *crypto, size_t *certs,
                           size_t *der) {
    counting kc;
    memset(&kc, 0, sizeof(kc));
    ferrule_config *cc = client_cfg(&kc);
    REQUIRE(cc != NULL && sc != NULL);
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL)); /* warm-up: libcrypto's caches */
    CHECK(pair_handshake(&p, NULL, NULL));
    pair_free(&p);
    CHECK(pair_new(&p, cc, sc, NULL));
    CHECK(pair_handshake(&p, NULL, NULL));
    exchange(&p, "held");
    *used = ferrule_conn_memory_used(p.client);
    *certs = ferrule_conn_peer_cert_count(p.client);
    *der = 0;
    for (size_t i = 0; i < *certs; i++) {
        const uint8_t *d;
        size_t n = 0;
        CHECK_EQ(ferrule_conn_peer_cert(p.client, i, &d, &n), FERRULE_OK);
        *der += n;
    }
    long before = atomic_load(&g_crypto_live);
    ferrule_conn_free(p.client);
    *crypto = before - atomic_load(&g_crypto_live);
    ferrule_conn_free(p.server);
    ferrule_config_free(cc);
}

TEST(long_peer_chain) {
    /* A client keeps its peer's chain as DER once it is verified: eight
     * more certificates cost their bytes and a 4-byte offset each, and no
     * libcrypto key each (parsed certificates are freed after the
     * server's CertificateVerify). */
    counting ks;
    memset(&ks, 0, sizeof(ks));
    ferrule_config *small = server_cfg(&ks, "ecdsa-p256"), *big = pair_big_chain_server_config();
    size_t used[2], certs[2], der[2];
    long crypto[2];
    held_by_client(small, &used[0], &crypto[0], &certs[0], &der[0]);
    held_by_client(big, &used[1], &crypto[1], &certs[1], &der[1]);
    for (int k = 0; k < 2; k++)
        printf("memory: peer chain of %2zu certificates (%zu DER bytes): client idle memory_used "
               "%zu, libcrypto %ld\n",
               certs[k], der[k], used[k], g_crypto_hooked ? crypto[k] : -1);
    CHECK_EQ(certs[0], 2);
    CHECK_EQ(certs[1], 10);
    CHECK(used[1] <= used[0] + (der[1] - der[0]) + 4 * (certs[1] - certs[0]));
    if (g_crypto_hooked) CHECK(crypto[1] <= crypto[0] + 256);
    ferrule_config_free(small);
    ferrule_config_free(big);
}

/* ---- the ceiling ------------------------------------------------------------------- */

/* Feed `conn` plaintext handshake records carrying one handshake message of
 * `type` that claims `claimed` body bytes, 16 KiB per record, until the
 * connection stops asking for more.  Returns the final status. */
static int feed_forged_message(ferrule_conn *conn, uint8_t type, size_t claimed, size_t limit) {
    static uint8_t rec[5 + 16384];
    size_t body = 16384;
    memset(rec, 0, sizeof(rec));
    rec[0] = 22; /* handshake */
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = (uint8_t)(body >> 8);
    rec[4] = (uint8_t)body;
    int st = FERRULE_WANT_READ;
    size_t sent = 0;
    for (int i = 0; st == FERRULE_WANT_READ && sent < claimed + 4; i++) {
        if (i == 0) {
            rec[5] = type;
            rec[6] = (uint8_t)(claimed >> 16);
            rec[7] = (uint8_t)(claimed >> 8);
            rec[8] = (uint8_t)claimed;
        } else {
            memset(rec + 5, 0, 4);
        }
        size_t n = 0;
        CHECK_EQ(ferrule_conn_feed(conn, rec, sizeof(rec), &n), FERRULE_OK);
        CHECK_EQ(n, sizeof(rec));
        sent += body;
        st = ferrule_conn_handshake(conn);
        /* Never above the ceiling, at any point. */
        CHECK(ferrule_conn_memory_used(conn) <= limit);
    }
    return st;
}

/* The fatal alert the connection queued: a plaintext internal_error. */
static void check_internal_error_alert(ferrule_conn *conn) {
    static const uint8_t ALERT[] = {21, 3, 3, 0, 2, 2, FERRULE_ALERT_INTERNAL_ERROR};
    uint8_t out[64];
    size_t n = 0;
    CHECK_EQ(ferrule_conn_alert(conn), FERRULE_ALERT_INTERNAL_ERROR);
    CHECK_EQ(ferrule_conn_take(conn, out, sizeof(out), &n), FERRULE_OK);
    CHECK_EQ(n, sizeof(ALERT));
    CHECK_MEM(out, ALERT, sizeof(ALERT));
}

TEST(ceiling_client_reassembly) {
    const size_t LIMIT = 64 * 1024;
    counting k;
    memset(&k, 0, sizeof(k));
    ferrule_config *cc = client_cfg(&k);
    CHECK(cc != NULL);
    if (cc == NULL) return;
    CHECK_EQ(ferrule_config_set_memory_limit(cc, LIMIT), FERRULE_OK);
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.server_name = "localhost";
    ferrule_conn *c = NULL;
    CHECK_EQ(ferrule_conn_new(&c, cc, &o), FERRULE_OK);
    if (c == NULL) return;
    CHECK_EQ(ferrule_conn_handshake(c), FERRULE_WANT_READ);
    uint8_t ch[4096];
    size_t n = 0;
    CHECK_EQ(ferrule_conn_take(c, ch, sizeof(ch), &n), FERRULE_OK);
    CHECK(n > 0);
    /* A "ServerHello" claiming 65,000 bytes: a length its syntax allows
     * (up to 65,606) and the default cap admits, more than 64 KiB can
     * buffer next to the connection's other memory. */
    int st = feed_forged_message(c, 2, 65000, LIMIT);
    CHECK_EQ(st, FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_reason(c), FERRULE_R_MEMORY_LIMIT);
    CHECK(strcmp(ferrule_reason_name(ferrule_conn_reason(c)), "memory_limit") == 0);
    CHECK_EQ(ferrule_conn_status(c), FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_handshake_state(c), FERRULE_HS_FAILED);
    check_internal_error_alert(c);
    CHECK_EQ(ferrule_conn_handshake(c), FERRULE_POLICY); /* sticky */
    ferrule_conn_free(c);
    ferrule_config_free(cc);
    CHECK_EQ(k.live, 0);
    CHECK_EQ(k.bad_frees, 0);
}

TEST(ceiling_server_reassembly) {
    const size_t LIMIT = 64 * 1024;
    counting k;
    memset(&k, 0, sizeof(k));
    ferrule_config *sc = server_cfg(&k, "ecdsa-p256");
    CHECK(sc != NULL);
    if (sc == NULL) return;
    CHECK_EQ(ferrule_config_set_memory_limit(sc, LIMIT), FERRULE_OK);
    ferrule_conn *s = NULL;
    CHECK_EQ(ferrule_conn_new(&s, sc, NULL), FERRULE_OK);
    if (s == NULL) return;
    /* A "ClientHello" of 131,000 bytes: legal, admitted by the cap. */
    int st = feed_forged_message(s, 1, 131000, LIMIT);
    CHECK_EQ(st, FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_reason(s), FERRULE_R_MEMORY_LIMIT);
    check_internal_error_alert(s);
    ferrule_conn_free(s);
    ferrule_config_free(sc);
    CHECK_EQ(k.live, 0);
    CHECK_EQ(k.bad_frees, 0);
}

/* The per-connection option overrides the config's (default) ceiling. */
TEST(ceiling_from_conn_options) {
    counting k;
    memset(&k, 0, sizeof(k));
    ferrule_config *sc = server_cfg(&k, "ecdsa-p256");
    CHECK(sc != NULL);
    if (sc == NULL) return;
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.memory_limit = 64 * 1024;
    ferrule_conn *s = NULL;
    CHECK_EQ(ferrule_conn_new(&s, sc, &o), FERRULE_OK);
    if (s == NULL) return;
    /* 60000 bytes is within the default 64 KiB message cap. */
    int st = feed_forged_message(s, 1, 60000, o.memory_limit);
    CHECK_EQ(st, FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_reason(s), FERRULE_R_MEMORY_LIMIT);
    ferrule_conn_free(s);

    /* The same message under the default ceiling is just buffered... */
    CHECK_EQ(ferrule_conn_new(&s, sc, NULL), FERRULE_OK);
    if (s == NULL) return;
    st = feed_forged_message(s, 1, 60000, ferrule_default_memory_limit());
    /* ...until it is complete and turns out to be garbage. */
    CHECK_EQ(st, FERRULE_DECODE);
    CHECK(ferrule_conn_reason(s) != FERRULE_R_MEMORY_LIMIT);
    ferrule_conn_free(s);

    /* Ceilings below 64 KiB are refused. */
    o.memory_limit = 64 * 1024 - 1;
    CHECK_EQ(ferrule_conn_new(&s, sc, &o), FERRULE_USAGE);
    CHECK(s == NULL);
    CHECK_EQ(ferrule_config_reason(sc), FERRULE_R_CONFIG_INVALID);
    ferrule_config_free(sc);
    CHECK_EQ(k.live, 0);

    ferrule_config *cc = client_cfg(&k);
    CHECK(cc != NULL);
    if (cc == NULL) return;
    CHECK_EQ(ferrule_config_set_memory_limit(cc, 64 * 1024 - 1), FERRULE_USAGE);
    CHECK_EQ(ferrule_config_reason(cc), FERRULE_R_CONFIG_INVALID);
    CHECK_EQ(ferrule_config_set_memory_limit(cc, 64 * 1024), FERRULE_OK);
    ferrule_config_free(cc);
    CHECK_EQ(k.live, 0);
}

/* Above the message cap, the cap (not the ceiling) stops it at once. */
TEST(message_cap_before_ceiling) {
    counting k;
    memset(&k, 0, sizeof(k));
    ferrule_config *sc = server_cfg(&k, "ecdsa-p256");
    CHECK(sc != NULL);
    if (sc == NULL) return;
    CHECK_EQ(ferrule_config_set_max_handshake_message(sc, 100000), FERRULE_OK);
    ferrule_conn *s = NULL;
    CHECK_EQ(ferrule_conn_new(&s, sc, NULL), FERRULE_OK);
    if (s == NULL) return;
    int st = feed_forged_message(s, 1, 120000, ferrule_default_memory_limit());
    CHECK_EQ(st, FERRULE_POLICY);
    CHECK_EQ(ferrule_conn_reason(s), FERRULE_R_HANDSHAKE_TOO_LARGE);
    ferrule_conn_free(s);
    ferrule_config_free(sc);
    CHECK_EQ(k.live, 0);
}

/* The documented minimum ceiling (64 KiB) still carries a handshake and
 * application data.  `chunk` is the size handed to each ferrule_conn_write
 * call; 64 KiB are sent in total. */
static void minimum_ceiling(const char *kind, size_t chunk) {
    counting kc, ks;
    memset(&kc, 0, sizeof(kc));
    memset(&ks, 0, sizeof(ks));
    ferrule_config *cc = client_cfg(&kc), *sc = server_cfg(&ks, kind);
    CHECK(cc != NULL && sc != NULL);
    if (cc == NULL || sc == NULL) return;
    CHECK_EQ(ferrule_config_set_memory_limit(cc, 64 * 1024), FERRULE_OK);
    CHECK_EQ(ferrule_config_set_memory_limit(sc, 64 * 1024), FERRULE_OK);
    size_t cfg_c = kc.live;
    kc.peak = kc.live; /* loading the config had its own, earlier peak */
    pair p;
    CHECK(pair_new(&p, cc, sc, NULL));
    int cs = -1, ss = -1;
    CHECK(pair_handshake(&p, &cs, &ss));
    static uint8_t big[64 * 1024], got[64 * 1024];
    for (size_t j = 0; j < sizeof(big); j++) big[j] = (uint8_t)(j * 7u);
    size_t off = 0, rd = 0;
    int guard = 0, st = FERRULE_OK;
    while (cs == FERRULE_OK && (off < sizeof(big) || rd < sizeof(big)) && guard++ < 1000) {
        size_t n = 0, len = sizeof(big) - off < chunk ? sizeof(big) - off : chunk;
        st = ferrule_conn_write(p.client, big + off, len, &n);
        if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) break;
        off += n;
        pair_move(p.client, p.server);
        while (rd < sizeof(got)) {
            st = ferrule_conn_read(p.server, got + rd, sizeof(got) - rd, &n);
            if (st != FERRULE_OK) break;
            rd += n;
        }
        if (st != FERRULE_OK && st != FERRULE_WANT_READ) break;
        st = FERRULE_OK;
    }
    if (st != FERRULE_OK)
        fprintf(stderr, "  %s, %zu-byte writes under a 64 KiB ceiling: %s (%s) after %zu bytes\n",
                kind, chunk, ferrule_status_name(st),
                ferrule_reason_name(ferrule_conn_reason(p.client)), off);
    CHECK_EQ(st, FERRULE_OK);
    CHECK_EQ(ferrule_conn_status(p.client), FERRULE_OK);
    CHECK_EQ(rd, sizeof(big));
    CHECK(memcmp(big, got, sizeof(big)) == 0);
    printf("memory: %-10s 64 KiB ceiling, %5zu-byte writes: client connection peak %zu, "
           "idle after %zu\n",
           kind, chunk, kc.peak - cfg_c, ferrule_conn_memory_used(p.client));
    CHECK(kc.peak - cfg_c <= 64 * 1024);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    CHECK_EQ(kc.live, 0);
    CHECK_EQ(ks.live, 0);
}

TEST(minimum_ceiling_handshake_and_small_writes) {
    minimum_ceiling("ecdsa-p256", 16384);
    minimum_ceiling("rsa", 16384);
}

/* One write call of more than a record must not need more than the
 * ceiling: it may accept fewer bytes, but must not kill the connection. */
TEST(minimum_ceiling_large_writes) {
    minimum_ceiling("ecdsa-p256", 64 * 1024);
}

/* ---- everything comes back ------------------------------------------------------ */

TEST(free_returns_everything) {
    /* Success with a clean close, a verification failure, a truncation,
     * an abandoned half-done handshake: each time the allocator ends at 0. */
    for (int scenario = 0; scenario < 4; scenario++) {
        counting kc, ks;
        memset(&kc, 0, sizeof(kc));
        memset(&ks, 0, sizeof(ks));
        ferrule_config *cc = client_cfg(&kc), *sc = server_cfg(&ks, "rsa");
        CHECK(cc != NULL && sc != NULL);
        if (cc == NULL || sc == NULL) return;
        pair p;
        CHECK(pair_new(&p, cc, sc, scenario == 1 ? "wrong.example" : NULL));
        int cs = -1, ss = -1;
        switch (scenario) {
        case 0:
            CHECK(pair_handshake(&p, &cs, &ss));
            exchange(&p, "bye");
            close_both(&p);
            break;
        case 1:
            CHECK(!pair_handshake(&p, &cs, &ss));
            CHECK_EQ(cs, FERRULE_CERTIFICATE);
            CHECK_EQ(ss, FERRULE_ALERT_RECEIVED);
            break;
        case 2:
            CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
            pair_move(p.client, p.server);
            CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
            CHECK_EQ(ferrule_conn_feed_eof(p.client), FERRULE_OK);
            CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_TRUNCATED);
            break;
        default:
            /* Freed in the middle: the server has sent its flight, the
             * client has not answered. */
            CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
            pair_move(p.client, p.server);
            CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
            break;
        }
        pair_free(&p);
        /* The configs may outlive their connections, and vice versa. */
        ferrule_config_free(sc);
        ferrule_config_free(cc);
        CHECK_EQ(kc.live, 0);
        CHECK_EQ(ks.live, 0);
        CHECK_EQ(kc.bad_frees, 0);
        CHECK_EQ(ks.bad_frees, 0);
        CHECK_EQ(kc.allocs, kc.frees);
        CHECK_EQ(ks.allocs, ks.frees);
    }

    /* A connection keeps its config alive after the caller's reference is
     * dropped; the last free returns everything. */
    counting k;
    memset(&k, 0, sizeof(k));
    ferrule_config *sc = server_cfg(&k, "ecdsa-p256");
    CHECK(sc != NULL);
    if (sc == NULL) return;
    ferrule_conn *s = NULL;
    CHECK_EQ(ferrule_conn_new(&s, sc, NULL), FERRULE_OK);
    ferrule_config_free(sc);
    CHECK(k.live > 0);
    ferrule_conn_free(s);
    CHECK_EQ(k.live, 0);
}

/* Every allocation of a handshake, made to fail in turn: the connection
 * fails cleanly (no crash, no leak, a sized free for every allocation). */
static void inject(int server_side) {
    int completed = 0;
    for (unsigned long nth = 1; nth < 400 && !completed; nth++) {
        counting kc, ks;
        memset(&kc, 0, sizeof(kc));
        memset(&ks, 0, sizeof(ks));
        ferrule_config *cc = client_cfg(&kc), *sc = server_cfg(&ks, "ecdsa-p256");
        CHECK(cc != NULL && sc != NULL);
        if (cc == NULL || sc == NULL) return;
        counting *victim = server_side ? &ks : &kc;
        victim->fail_at = victim->allocs + nth;
        pair p;
        int made = pair_new(&p, cc, sc, NULL);
        int cs = -1, ss = -1;
        if (made) {
            int hs = pair_handshake(&p, &cs, &ss);
            int ok = hs && try_exchange(&p);
            if (victim->failed == 0) CHECK(ok);
            ferrule_conn *v = server_side ? p.server : p.client;
            if (victim->failed > 0) {
                /* The failure surfaced as an allocation failure. */
                int st = ferrule_conn_status(v);
                uint32_t r = ferrule_conn_reason(v);
                CHECK_EQ(st, FERRULE_INTERNAL);
                CHECK_EQ(r, FERRULE_R_OUT_OF_MEMORY);
                if (st != FERRULE_INTERNAL)
                    fprintf(stderr, "  allocation #%lu: status %s reason %s\n", nth,
                            ferrule_status_name(st), ferrule_reason_name(r));
            }
        } else {
            CHECK(victim->failed > 0); /* conn_new fails only when we made it fail */
        }
        if (victim->failed == 0) completed = 1;
        pair_free(&p);
        ferrule_config_free(cc);
        ferrule_config_free(sc);
        CHECK_EQ(kc.live, 0);
        CHECK_EQ(ks.live, 0);
        CHECK_EQ(kc.bad_frees, 0);
        CHECK_EQ(ks.bad_frees, 0);
        if (kc.live != 0 || ks.live != 0)
            fprintf(stderr, "  leak after failing allocation #%lu (%s)\n", nth,
                    server_side ? "server" : "client");
    }
    CHECK(completed);
}

TEST(allocation_failures_client) { inject(0); }
TEST(allocation_failures_server) { inject(1); }

TEST_MAIN("memory", TL_CASE(idle_connection_ecdsa), TL_CASE(idle_connection_rsa),
          TL_CASE(long_peer_chain),
          TL_CASE(ceiling_client_reassembly), TL_CASE(ceiling_server_reassembly),
          TL_CASE(ceiling_from_conn_options), TL_CASE(message_cap_before_ceiling),
          TL_CASE(minimum_ceiling_handshake_and_small_writes),
          TL_CASE(minimum_ceiling_large_writes), TL_CASE(free_returns_everything),
          TL_CASE(allocation_failures_client), TL_CASE(allocation_failures_server))
