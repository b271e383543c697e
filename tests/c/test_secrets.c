/* test_secrets.c - the secret lifecycle (docs/secrets.md): after each wipe
 * point, no heap block ferrule holds, and no block it has handed back to
 * its allocator, contains a secret.
 *
 * Method: every config here is built on a scanning ferrule_allocator.  It
 * keeps a list of the live blocks, and on every free it searches the
 * block (as ferrule hands it back, i.e. after any wipe) for each secret
 * registered so far.  At any point a test can also search all live
 * blocks.  The secrets come from
 *   - the key-log callback (NSS lines: the handshake, application and
 *     early traffic secrets, the exporter secret),
 *   - white-box snapshots of the connection after every record of the
 *     handshake (handshake secret, master secret, resumption master
 *     secret, the resumed PSK, the X25519 private scalars of the key
 *     shares) and of the next application secret after a KeyUpdate,
 *   - what the test itself configured or sent (ticket keys, 0-RTT and
 *     1-RTT plaintext), the PSK inside the session blob it was given and
 *     the early secret it computes from that PSK.
 * Every secret is 32 bytes or more of key material, so a chance match is
 * out of the question.  The first test shows the scanner can fail.
 *
 * Not covered here (docs/secrets.md says why): copies on the stack, and
 * copies inside libcrypto's own objects (record keys, private keys:
 * test_secrets_libcrypto.c covers the private key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h" /* white-box: snapshots of the key schedule and key shares */
#include "support_pair.h"
#include "testlib.h"

/* ---- the scanning allocator ---------------------------------------------- */

#define MAX_SECRETS 128
#define SECRET_MAX 64
#define HDR 32 /* keeps the caller's pointer 16-byte aligned */

typedef struct block {
    struct block *next, *prev;
    size_t n;
    size_t magic;
} block;

typedef struct secret {
    char label[64];
    uint8_t b[SECRET_MAX];
    size_t n;
} secret;

typedef struct scanner {
    block head; /* circular list of live blocks */
    size_t live_bytes;
    unsigned long allocs, frees;
    secret sec[MAX_SECRETS];
    size_t n_sec;
    unsigned long freed_hits; /* secrets found in blocks handed to free */
} scanner;

static scanner S;

static void scan_reset(void) {
    /* Blocks still live from a failed test are left alone (leaked). */
    memset(&S, 0, sizeof(S));
    S.head.next = S.head.prev = &S.head;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k) {
    if (k == 0 || n < k) return 0;
    for (size_t i = 0; i + k <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0) return 1;
    return 0;
}

static void *scan_alloc(void *ctx, size_t n) {
    scanner *s = ctx;
    uint8_t *p = malloc(n + HDR);
    if (p == NULL) return NULL;
    block *b = (block *)p;
    b->n = n;
    b->magic = 0x5ec5e7;
    b->next = s->head.next;
    b->prev = &s->head;
    s->head.next->prev = b;
    s->head.next = b;
    s->live_bytes += n;
    s->allocs++;
    return p + HDR;
}

static void scan_free(void *ctx, void *ptr, size_t n) {
    scanner *s = ctx;
    if (ptr == NULL) return;
    block *b = (block *)((uint8_t *)ptr - HDR);
    if (b->magic != 0x5ec5e7 || b->n != n) {
        fprintf(stderr, "  scan_free: foreign block or wrong size (%zu, allocated %zu)\n", n,
                b->n);
        abort();
    }
    for (size_t i = 0; i < s->n_sec; i++)
        if (contains(ptr, n, s->sec[i].b, s->sec[i].n)) {
            s->freed_hits++;
            fprintf(stderr, "  freed unwiped: %s in a block of %zu bytes\n", s->sec[i].label, n);
        }
    b->prev->next = b->next;
    b->next->prev = b->prev;
    s->live_bytes -= n;
    s->frees++;
    /* Wiped here so that a later block on the same memory is judged by
     * what ferrule writes into it, not by what this one held. */
    memset(b, 0, n + HDR);
    free(b);
}

static ferrule_allocator scan_allocator(void) {
    ferrule_allocator a;
    memset(&a, 0, sizeof(a));
    a.struct_size = sizeof(a);
    a.alloc = scan_alloc;
    a.free = scan_free;
    a.ctx = &S;
    return a;
}

/* Register a secret (the same bytes once; an all-zero value never). */
static void add_secret(const char *label, const uint8_t *b, size_t n) {
    if (n == 0 || n > SECRET_MAX) return;
    int zero = 1;
    for (size_t i = 0; i < n; i++) zero &= b[i] == 0;
    if (zero) return;
    for (size_t i = 0; i < S.n_sec; i++)
        if (S.sec[i].n == n && memcmp(S.sec[i].b, b, n) == 0) return;
    if (S.n_sec == MAX_SECRETS) {
        fprintf(stderr, "  too many secrets\n");
        abort();
    }
    secret *s = &S.sec[S.n_sec++];
    snprintf(s->label, sizeof(s->label), "%s", label);
    memcpy(s->b, b, n);
    s->n = n;
}

/* Live blocks holding a secret whose label starts with `prefix` (one count
 * per block and secret; each hit is printed). */
static unsigned long live_hits(const char *prefix) {
    unsigned long hits = 0;
    size_t k = strlen(prefix);
    for (block *b = S.head.next; b != &S.head; b = b->next)
        for (size_t i = 0; i < S.n_sec; i++) {
            if (strncmp(S.sec[i].label, prefix, k) != 0) continue;
            if (contains((uint8_t *)b + HDR, b->n, S.sec[i].b, S.sec[i].n)) {
                hits++;
                fprintf(stderr, "  live: %s in a block of %zu bytes\n", S.sec[i].label, b->n);
            }
        }
    return hits;
}

/* Live blocks holding secret `label` exactly, printing nothing (for the
 * positive controls, where hits are expected). */
static unsigned long live_hits_quiet(const char *label) {
    unsigned long hits = 0;
    for (block *b = S.head.next; b != &S.head; b = b->next)
        for (size_t i = 0; i < S.n_sec; i++)
            if (strcmp(S.sec[i].label, label) == 0 &&
                contains((uint8_t *)b + HDR, b->n, S.sec[i].b, S.sec[i].n))
                hits++;
    return hits;
}

static size_t n_secrets(const char *prefix) {
    size_t k = strlen(prefix), n = 0;
    for (size_t i = 0; i < S.n_sec; i++) n += strncmp(S.sec[i].label, prefix, k) == 0;
    return n;
}

/* ---- secrets from the key log and from snapshots ------------------------- */

static int unhex(const char *h, uint8_t *out, size_t cap, size_t *n) {
    size_t len = strlen(h);
    if (len % 2 != 0 || len / 2 > cap) return 0;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1) return 0;
        out[i] = (uint8_t)v;
    }
    *n = len / 2;
    return 1;
}

/* "LABEL <client_random hex> <secret hex>" */
static void keylog(void *ctx, const ferrule_conn *conn, const char *line) {
    (void)ctx;
    (void)conn;
    char label[64], random[80], hex[2 * SECRET_MAX + 2];
    uint8_t b[SECRET_MAX];
    size_t n;
    if (sscanf(line, "%63s %79s %129s", label, random, hex) != 3 ||
        !unhex(hex, b, sizeof(b), &n)) {
        fprintf(stderr, "  bad key-log line: %s\n", line);
        abort();
    }
    add_secret(label, b, n);
}

/* Register the secrets a connection's key schedule and key shares hold
 * right now.  The early secret of a handshake without PSK is
 * HKDF-Extract(0, 0), a public constant: only a PSK's counts. */
static void snapshot(const ferrule_conn *c) {
    const fr_keysched *ks = &c->ks;
    if (ks->hlen != 0) {
        if (c->resume.resumed) add_secret("ks.early_secret", ks->early_secret, ks->hlen);
        add_secret("ks.handshake_secret", ks->handshake_secret, ks->hlen);
        add_secret("ks.master_secret", ks->master_secret, ks->hlen);
        add_secret("ks.resumption", ks->resumption, ks->hlen);
    }
    for (size_t i = 0; i < FR_MAX_KEY_SHARES; i++)
        add_secret("kex.x25519", c->kex[i].k.x25519, sizeof(c->kex[i].k.x25519));
    if (c->resume.psk_len != 0) add_secret("resume.psk", c->resume.psk, c->resume.psk_len);
}

/* ---- configs and handshakes -------------------------------------------- */

static ferrule_config *client_cfg(void) {
    ferrule_allocator a = scan_allocator();
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, &a) != FERRULE_OK) return NULL;
    if (ferrule_config_add_trust_file(cfg, pair_pki("root.pem")) != FERRULE_OK ||
        ferrule_config_set_keylog_callback(cfg, keylog, NULL) != FERRULE_OK) {
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static ferrule_config *server_cfg(void) {
    ferrule_allocator a = scan_allocator();
    ferrule_config *cfg = NULL;
    if (ferrule_config_new(&cfg, FERRULE_ROLE_SERVER, &a) != FERRULE_OK) return NULL;
    if (ferrule_config_add_cert_chain_file(cfg, pair_pki("ecdsa-p256.chain.pem"),
                                           pair_pki("ecdsa-p256.key")) != FERRULE_OK ||
        ferrule_config_set_keylog_callback(cfg, keylog, NULL) != FERRULE_OK) {
        ferrule_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* x25519 first: its private scalar is in the connection (kex.x25519),
 * where the scan sees it. */
static int x25519_first(ferrule_config *cfg) {
    const uint16_t groups[] = {FERRULE_GROUP_X25519};
    return ferrule_config_set_groups(cfg, groups, 1) == FERRULE_OK;
}

/* Move `from`'s output to `to` one record at a time, running `to`'s
 * handshake and a snapshot after each: the secrets a connection holds
 * between two records are seen (a client derives the handshake secret
 * from the ServerHello record and drops it before the next returns). */
static int step_records(ferrule_conn *from, ferrule_conn *to, int *st) {
    static uint8_t buf[1 << 17];
    size_t len = 0, n = 0;
    while (len < sizeof(buf) &&
           ferrule_conn_take(from, buf + len, sizeof(buf) - len, &n) == FERRULE_OK && n > 0)
        len += n;
    for (size_t off = 0; off + 5 <= len;) {
        size_t rl = 5 + ((size_t)buf[off + 3] << 8 | buf[off + 4]);
        if (rl > len - off) return 0;
        for (size_t done = 0; done < rl;) {
            if (ferrule_conn_feed(to, buf + off + done, rl - done, &n) != FERRULE_OK || n == 0)
                return 0;
            done += n;
        }
        off += rl;
        *st = ferrule_conn_handshake(to);
        snapshot(to);
        if (*st != FERRULE_OK && *st != FERRULE_WANT_READ) return 0;
    }
    return 1;
}

/* pair_handshake, with a snapshot of each side after every record. */
static int handshake(pair *p) {
    int c = ferrule_conn_handshake(p->client), s = FERRULE_WANT_READ;
    snapshot(p->client);
    for (int round = 0; round < 16 && (c == FERRULE_WANT_READ || c == FERRULE_OK); round++) {
        if (!step_records(p->client, p->server, &s) || !step_records(p->server, p->client, &c))
            break;
        if (c == FERRULE_OK && s == FERRULE_OK) return 1;
    }
    fprintf(stderr, "  handshake failed: client %d, server %d\n", c, s);
    return 0;
}

/* Deliver the server's tickets: the client reads them (nothing else). */
static int take_tickets(pair *p) {
    uint8_t buf[16];
    size_t n = 0;
    pair_move(p->server, p->client);
    int st = ferrule_conn_read(p->client, buf, sizeof(buf), &n);
    snapshot(p->client);
    snapshot(p->server);
    return st == FERRULE_WANT_READ;
}

static int xfer(ferrule_conn *from, ferrule_conn *to, const char *msg) {
    size_t len = strlen(msg), n = 0;
    uint8_t buf[256];
    if (ferrule_conn_write(from, (const uint8_t *)msg, len, &n) != FERRULE_OK || n != len)
        return 0;
    pair_move(from, to);
    return ferrule_conn_read(to, buf, sizeof(buf), &n) == FERRULE_OK && n == len &&
           memcmp(buf, msg, len) == 0;
}

/* Free both configs: afterwards nothing is live in the allocator. */
static void free_configs(ferrule_config *cc, ferrule_config *sc) {
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    CHECK_EQ(S.live_bytes, 0);
    CHECK_EQ(S.allocs, S.frees);
}

/* ---- the scanner can fail -------------------------------------------------- */


/* The end of every case: free the pair, then nothing is live; free the
 * configs, then no block was ever freed unwiped.  A macro, so that a
 * failed check names the case's line. */
#define FREE_AND_CHECK_NOTHING_LEFT(pp, cc, sc)                                                      \
    do {                                                                                           \
        pair_free(pp);                                                                             \
        CHECK_EQ(live_hits(""), 0);                                                                \
        free_configs(cc, sc);                                                                      \
        CHECK_EQ(S.freed_hits, 0);                                                                 \
    } while (0)

TEST(scanner_reports_an_unwiped_block) {
    scan_reset();
    uint8_t k[32];
    for (size_t i = 0; i < sizeof(k); i++) k[i] = (uint8_t)(0xa5 ^ (i * 37));
    add_secret("self-check", k, sizeof(k));
    /* A live block holding the secret is found ... */
    uint8_t *b = scan_alloc(&S, 100);
    REQUIRE(b != NULL);
    memset(b, 0x11, 100);
    memcpy(b + 37, k, sizeof(k));
    CHECK_EQ(live_hits_quiet("self-check"), 1);
    /* ... and freeing it unwiped is reported. */
    scan_free(&S, b, 100);
    CHECK_EQ(S.freed_hits, 1);
    CHECK_EQ(live_hits_quiet("self-check"), 0);
    /* A block wiped before its free is not. */
    b = scan_alloc(&S, 64);
    REQUIRE(b != NULL);
    memcpy(b + 32, k, sizeof(k));
    fr_wipe(b, 64);
    scan_free(&S, b, 64);
    CHECK_EQ(S.freed_hits, 1);
    /* Through ferrule: a config's ticket key lives in one of its blocks
     * (the scan sees ferrule's memory), and its free wipes it. */
    ferrule_config *sc = server_cfg();
    REQUIRE(sc != NULL);
    uint8_t name[16] = {1}, key[32];
    memcpy(key, k, sizeof(key));
    key[0] ^= 0xff;
    add_secret("self-check ticket key", key, sizeof(key));
    CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key), FERRULE_OK);
    CHECK_EQ(live_hits_quiet("self-check ticket key"), 1);
    ferrule_config_free(sc);
    CHECK_EQ(S.freed_hits, 1);
    CHECK_EQ(S.live_bytes, 0);
}

/* ---- handshake and application secrets ----------------------------------- */

TEST(handshake_secrets_gone_once_connected) {
    scan_reset();
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    REQUIRE(x25519_first(cc) && x25519_first(sc));
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    /* The client's ClientHello: its X25519 private scalar is live. */
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    snapshot(p.client);
    CHECK_EQ(n_secrets("kex.x25519"), 1);
    CHECK_EQ(live_hits_quiet("kex.x25519"), 1);
    REQUIRE(handshake(&p));
    /* What the scan knows: every key-log secret of a full handshake and
     * the intermediate secrets of the schedule. */
    CHECK_EQ(n_secrets("CLIENT_HANDSHAKE_TRAFFIC_SECRET"), 1);
    CHECK_EQ(n_secrets("SERVER_HANDSHAKE_TRAFFIC_SECRET"), 1);
    CHECK_EQ(n_secrets("CLIENT_TRAFFIC_SECRET_0"), 1);
    CHECK_EQ(n_secrets("SERVER_TRAFFIC_SECRET_0"), 1);
    CHECK_EQ(n_secrets("EXPORTER_SECRET"), 1);
    CHECK_EQ(n_secrets("ks.handshake_secret"), 1);
    CHECK_EQ(n_secrets("ks.master_secret"), 1);
    CHECK_EQ(n_secrets("ks.resumption"), 1);
    /* Positive control: the secrets still in use are found, once in each
     * connection. */
    CHECK_EQ(live_hits_quiet("CLIENT_TRAFFIC_SECRET_0"), 2);
    CHECK_EQ(live_hits_quiet("SERVER_TRAFFIC_SECRET_0"), 2);
    CHECK_EQ(live_hits_quiet("EXPORTER_SECRET"), 2);
    /* Wiped once connected (finished.c, keysched.c, the key exchange). */
    CHECK_EQ(live_hits("CLIENT_HANDSHAKE_TRAFFIC_SECRET"), 0);
    CHECK_EQ(live_hits("SERVER_HANDSHAKE_TRAFFIC_SECRET"), 0);
    CHECK_EQ(live_hits("ks.handshake_secret"), 0);
    CHECK_EQ(live_hits("ks.master_secret"), 0);
    CHECK_EQ(live_hits("kex."), 0);
    /* The resumption master secret: the client keeps it for tickets to
     * come; the server forgets it once its tickets are out. */
    REQUIRE(take_tickets(&p));
    CHECK_EQ(live_hits_quiet("ks.resumption"), 1);
    CHECK_EQ(p.server->ks.resumption[0] | p.server->ks.resumption[1], 0);
    CHECK(xfer(p.client, p.server, "ping"));
    CHECK(xfer(p.server, p.client, "pong"));
    /* Freeing the connections leaves no secret anywhere. */
    FREE_AND_CHECK_NOTHING_LEFT(&p, cc, sc);
}

TEST(key_update_forgets_the_previous_secret) {
    scan_reset();
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(handshake(&p));
    REQUIRE(take_tickets(&p));
    CHECK_EQ(live_hits_quiet("CLIENT_TRAFFIC_SECRET_0"), 2);
    /* The client updates and asks the server to: both directions move to
     * generation 1 on both sides. */
    CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    CHECK(xfer(p.client, p.server, "after the update"));
    CHECK(xfer(p.server, p.client, "answer"));
    CHECK_EQ(ferrule_conn_key_updates_sent(p.server), 1);
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 1);
    add_secret("client_ap_1", p.client->ks.client_ap, p.client->ks.hlen);
    add_secret("server_ap_1", p.client->ks.server_ap, p.client->ks.hlen);
    CHECK_EQ(live_hits_quiet("client_ap_1"), 2);
    CHECK_EQ(live_hits_quiet("server_ap_1"), 2);
    /* Generation 0 is gone everywhere. */
    CHECK_EQ(live_hits("CLIENT_TRAFFIC_SECRET_0"), 0);
    CHECK_EQ(live_hits("SERVER_TRAFFIC_SECRET_0"), 0);
    FREE_AND_CHECK_NOTHING_LEFT(&p, cc, sc);
}

/* ---- ticket keys ------------------------------------------------------------ */

TEST(rotated_out_ticket_key_is_forgotten) {
    scan_reset();
    ferrule_config *sc = server_cfg();
    REQUIRE(sc != NULL);
    /* The random key the config starts with, from the white-box ring. */
    add_secret("ticket key initial", sc->resume.keys[0], FR_TICKET_KEY_LEN);
    CHECK_EQ(live_hits_quiet("ticket key initial"), 1);
    uint8_t name[16], key[4][32];
    char label[32];
    for (int i = 0; i < 4; i++) {
        memset(name, 'a' + i, sizeof(name));
        for (size_t j = 0; j < 32; j++) key[i][j] = (uint8_t)((size_t)i * 71 + j * 13 + 5);
        snprintf(label, sizeof(label), "ticket key %d", i);
        add_secret(label, key[i], 32);
        CHECK_EQ(ferrule_config_set_ticket_key(sc, name, key[i]), FERRULE_OK);
    }
    /* Three are kept (the current and the two before it). */
    CHECK_EQ(live_hits("ticket key initial"), 0);
    CHECK_EQ(live_hits("ticket key 0"), 0);
    CHECK_EQ(live_hits_quiet("ticket key 1"), 1);
    CHECK_EQ(live_hits_quiet("ticket key 2"), 1);
    CHECK_EQ(live_hits_quiet("ticket key 3"), 1);
    ferrule_config_free(sc);
    CHECK_EQ(S.live_bytes, 0);
    CHECK_EQ(S.freed_hits, 0);
}

/* ---- resumption PSKs ---------------------------------------------------- */

/* A full handshake; the client's session blob to out, its PSK registered. */
static size_t get_session(ferrule_config *cc, ferrule_config *sc, uint8_t *out, size_t cap) {
    pair p;
    size_t len = 0;
    if (!pair_new(&p, cc, sc, NULL)) return 0;
    if (handshake(&p) && take_tickets(&p) &&
        ferrule_conn_session(p.client, out, cap, &len) != FERRULE_OK)
        len = 0;
    pair_free(&p);
    fr_session s;
    if (len == 0 || fr_session_parse(out, len, &s) != FR_OK) return 0;
    add_secret("ticket PSK", s.psk, s.psk_len);
    /* The early secret of a handshake resuming it: HKDF-Extract(0, PSK)
     * (RFC 8446 §7.1).  Never held across a call (fr_ks_handshake drops
     * it as the handshake secret is derived), so computed here. */
    const fr_suite_info *si = fr_suite_lookup(s.suite);
    fr_keysched ks;
    memset(&ks, 0, sizeof(ks));
    if (si == NULL || fr_ks_init(&ks, si->hash, s.psk, s.psk_len) != FR_OK) return 0;
    add_secret("early secret", ks.early_secret, ks.hlen);
    fr_ks_wipe(&ks);
    return len;
}

TEST(resumption_psk_gone_once_resumed) {
    scan_reset();
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    uint8_t blob[4096];
    size_t len = get_session(cc, sc, blob, sizeof(blob));
    REQUIRE(len > 0);
    /* The first connection is gone: nothing of it is left. */
    CHECK_EQ(live_hits(""), 0);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_set_session(p.client, blob, len), FERRULE_OK);
    /* Positive control: the client's copy of the offered session. */
    CHECK_EQ(live_hits_quiet("ticket PSK"), 1);
    REQUIRE(handshake(&p));
    CHECK(ferrule_conn_resumed(p.client) && ferrule_conn_resumed(p.server));
    /* (The first connection's and this one's.) */
    CHECK_EQ(n_secrets("ks.handshake_secret"), 2);
    /* Once connected: no PSK, early secret or handshake secret anywhere
     * (the client's offered session, the server's opened ticket). */
    CHECK_EQ(live_hits("ticket PSK"), 0);
    CHECK_EQ(live_hits("resume.psk"), 0);
    CHECK_EQ(live_hits("early secret"), 0);
    CHECK_EQ(live_hits("ks.handshake_secret"), 0);
    CHECK_EQ(live_hits("CLIENT_HANDSHAKE_TRAFFIC_SECRET"), 0);
    CHECK_EQ(live_hits("SERVER_HANDSHAKE_TRAFFIC_SECRET"), 0);
    FREE_AND_CHECK_NOTHING_LEFT(&p, cc, sc);
}

/* A HelloRetryRequest in a resumption: the first key share's private key
 * is dropped when the second ClientHello replaces it, the offered PSK
 * stays for the second ClientHello's binder, and goes with the
 * ServerHello. */
TEST(hello_retry_request_drops_the_first_key_share) {
    scan_reset();
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    const uint16_t cg[] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1};
    const uint16_t sg[] = {FERRULE_GROUP_SECP256R1};
    REQUIRE(ferrule_config_set_groups(cc, cg, 2) == FERRULE_OK);
    REQUIRE(ferrule_config_set_groups(sc, sg, 1) == FERRULE_OK);
    uint8_t blob[4096];
    size_t len = get_session(cc, sc, blob, sizeof(blob));
    REQUIRE(len > 0);
    CHECK_EQ(live_hits(""), 0);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(ferrule_conn_set_session(p.client, blob, len) == FERRULE_OK);
    /* ClientHello 1 carries an x25519 share only (the first group). */
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    snapshot(p.client);
    size_t shares = n_secrets("kex.x25519");
    CHECK(shares >= 1);
    CHECK(live_hits_quiet("kex.x25519") >= 1);
    int st = FERRULE_WANT_READ;
    REQUIRE(step_records(p.client, p.server, &st));
    CHECK_EQ(st, FERRULE_WANT_READ);
    /* The HelloRetryRequest: ClientHello 2 with a P-256 share. */
    REQUIRE(step_records(p.server, p.client, &st));
    CHECK_EQ(st, FERRULE_WANT_READ);
    CHECK(ferrule_conn_hrr(p.client));
    CHECK_EQ(live_hits("kex.x25519"), 0);
    /* Still needed for ClientHello 2's binder, sent now. */
    CHECK_EQ(live_hits_quiet("ticket PSK"), 1);
    REQUIRE(handshake(&p));
    CHECK(ferrule_conn_resumed(p.client) && ferrule_conn_resumed(p.server));
    CHECK_EQ(live_hits("ticket PSK"), 0);
    CHECK_EQ(live_hits("early secret"), 0);
    CHECK_EQ(live_hits("kex."), 0);
    CHECK_EQ(live_hits("CLIENT_HANDSHAKE_TRAFFIC_SECRET"), 0);
    FREE_AND_CHECK_NOTHING_LEFT(&p, cc, sc);
}

TEST(kept_ticket_psk_lives_until_the_connection_is_freed) {
    scan_reset();
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(handshake(&p));
    REQUIRE(take_tickets(&p));
    uint8_t blob[4096];
    size_t len = 0;
    REQUIRE(ferrule_conn_session(p.client, blob, sizeof(blob), &len) == FERRULE_OK);
    fr_session s;
    REQUIRE(fr_session_parse(blob, len, &s) == FR_OK);
    add_secret("ticket PSK", s.psk, s.psk_len);
    /* The client keeps the newest ticket's PSK (ferrule_conn_session may
     * be called again); the server has none. */
    CHECK_EQ(live_hits_quiet("ticket PSK"), 1);
    CHECK(contains((const uint8_t *)p.client, sizeof(*p.client), s.psk, s.psk_len));
    FREE_AND_CHECK_NOTHING_LEFT(&p, cc, sc);
}

/* ---- 0-RTT ------------------------------------------------------------------- */

static int enable_early(ferrule_config *cfg) {
    ferrule_early_data_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    return ferrule_config_set_early_data(cfg, &o) == FERRULE_OK;
}

TEST(early_data_gone_once_read) {
    scan_reset();
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    REQUIRE(enable_early(cc) && enable_early(sc));
    uint8_t blob[4096];
    size_t len = get_session(cc, sc, blob, sizeof(blob));
    REQUIRE(len > 0);
    /* 0-RTT plaintext: 100 bytes the scan looks for (any 48 of them). */
    uint8_t early[100];
    for (size_t i = 0; i < sizeof(early); i++) early[i] = (uint8_t)(i * 29 + 101);
    add_secret("0-RTT plaintext head", early, 48);
    add_secret("0-RTT plaintext tail", early + 52, 48);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(ferrule_conn_set_session(p.client, blob, len) == FERRULE_OK);
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write_early_data(p.client, early, sizeof(early),
                                           FERRULE_EARLY_DATA_REPLAY_SAFE, &n),
             FERRULE_OK);
    CHECK_EQ(n, sizeof(early));
    snapshot(p.client);
    CHECK_EQ(n_secrets("CLIENT_EARLY_TRAFFIC_SECRET"), 1);
    /* The client keeps no plaintext: its output is protected records. */
    CHECK_EQ(live_hits("0-RTT"), 0);
    pair_move(p.client, p.server);
    /* The server's handshake runs until the early data is buffered. */
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    snapshot(p.server);
    CHECK_EQ(ferrule_conn_early_data_status(p.server), FERRULE_EARLY_ACCEPTED);
    /* Positive control: accepted, not read yet: it is in the server. */
    CHECK(live_hits_quiet("0-RTT plaintext head") >= 1);
    uint8_t got[sizeof(early)];
    size_t total = 0;
    while (total < sizeof(got)) {
        int st = ferrule_conn_read_early_data(p.server, got + total, sizeof(got) - total, &n);
        if (st != FERRULE_OK || n == 0) break;
        total += n;
    }
    CHECK_EQ(total, sizeof(early));
    CHECK_MEM(got, early, sizeof(early));
    /* Read out: no copy of it is left in the server. */
    CHECK_EQ(live_hits("0-RTT"), 0);
    REQUIRE(handshake(&p));
    CHECK_EQ(ferrule_conn_early_data_status(p.client), FERRULE_EARLY_ACCEPTED);
    /* The early traffic secret goes with EndOfEarlyData, on both sides. */
    CHECK_EQ(live_hits("CLIENT_EARLY_TRAFFIC_SECRET"), 0);
    CHECK_EQ(live_hits("ticket PSK"), 0);
    CHECK_EQ(live_hits("early secret"), 0);
    CHECK(xfer(p.client, p.server, "1-RTT"));
    CHECK_EQ(live_hits("0-RTT"), 0);
    FREE_AND_CHECK_NOTHING_LEFT(&p, cc, sc);
}

/* ---- application data ------------------------------------------------------ */

/* 1-RTT plaintext is decrypted in place in the input buffer and stays
 * there after it is read, until the buffer is written again or the
 * connection wipes it (docs/secrets.md).  Once the connection is freed,
 * none of it is left: not in the input buffer it gave back to the
 * config's pool while it was idle either. */
TEST(application_data_gone_once_the_connection_is_freed) {
    scan_reset();
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    REQUIRE(handshake(&p));
    REQUIRE(take_tickets(&p));
    uint8_t msg[64];
    for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (uint8_t)(i * 41 + 3);
    add_secret("1-RTT plaintext", msg, sizeof(msg));
    size_t n = 0;
    CHECK_EQ(ferrule_conn_write(p.client, msg, sizeof(msg), &n), FERRULE_OK);
    /* The client's output holds the protected record only. */
    CHECK_EQ(live_hits("1-RTT"), 0);
    pair_move(p.client, p.server);
    uint8_t got[sizeof(msg)];
    CHECK_EQ(ferrule_conn_read(p.server, got, sizeof(got), &n), FERRULE_OK);
    CHECK_EQ(n, sizeof(msg));
    CHECK_MEM(got, msg, sizeof(msg));
    /* Positive control: read, and still in the (now idle) input buffer. */
    CHECK_EQ(live_hits_quiet("1-RTT plaintext"), 1);
    pair_free(&p);
    CHECK_EQ(live_hits("1-RTT"), 0);
    free_configs(cc, sc);
    CHECK_EQ(S.freed_hits, 0);
}

/* ---- failure paths ------------------------------------------------------------ */

/* A connection abandoned mid-handshake: its free wipes what it had. */
TEST(abandoned_handshake_leaves_nothing) {
    scan_reset();
    ferrule_config *cc = client_cfg(), *sc = server_cfg();
    REQUIRE(cc != NULL && sc != NULL);
    REQUIRE(x25519_first(cc) && x25519_first(sc));
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_WANT_READ);
    snapshot(p.client);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_handshake(p.server), FERRULE_WANT_READ);
    snapshot(p.server);
    pair_move(p.server, p.client);
    CHECK_EQ(ferrule_conn_handshake(p.client), FERRULE_OK);
    snapshot(p.client);
    /* The client is done, the server waits for its Finished: the server
     * still holds the client handshake traffic secret. */
    CHECK(live_hits_quiet("CLIENT_HANDSHAKE_TRAFFIC_SECRET") >= 1);
    FREE_AND_CHECK_NOTHING_LEFT(&p, cc, sc);
}

TEST_MAIN("test_secrets", TL_CASE(scanner_reports_an_unwiped_block),
          TL_CASE(handshake_secrets_gone_once_connected),
          TL_CASE(key_update_forgets_the_previous_secret),
          TL_CASE(rotated_out_ticket_key_is_forgotten),
          TL_CASE(resumption_psk_gone_once_resumed),
          TL_CASE(hello_retry_request_drops_the_first_key_share),
          TL_CASE(kept_ticket_psk_lives_until_the_connection_is_freed),
          TL_CASE(early_data_gone_once_read),
          TL_CASE(application_data_gone_once_the_connection_is_freed),
          TL_CASE(abandoned_handshake_leaves_nothing))
