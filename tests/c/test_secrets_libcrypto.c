/* test_secrets_libcrypto.c - private keys (docs/secrets.md): ferrule keeps
 * a configured private key as a libcrypto EVP_PKEY, so what holds its
 * bytes is libcrypto's heap.  This binary installs CRYPTO_set_mem_functions
 * before libcrypto's first allocation (a constructor, as test_memory.c
 * does) with hooks that keep a list of libcrypto's live blocks and search
 * every block handed to CRYPTO_free / CRYPTO_realloc (the old block) for
 * the key's private numbers.  A server config loads the key, serves a
 * handshake (signing with it), and is freed: no block libcrypto released
 * on the way held a private number unwiped, and none is live afterwards.
 * A block the test frees unwiped itself is reported (the scan can fail),
 * and while the config lives its key is found (the scan sees the key). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

#include "crypto/crypto.h" /* white-box: fr_hkdf_expand_label, fr_suite_lookup */
#include "support_pair.h"
#include "testlib.h"

/* ---- libcrypto heap scanner (installed before main) ------------------------ */

#define HDR 32
#define MAX_SECRETS 16
#define PIECE 32 /* bytes of a private number searched for */

typedef struct block {
    struct block *next, *prev;
    size_t n;
    size_t magic;
} block;

typedef struct secret {
    char label[48];
    uint8_t b[PIECE];
    size_t n;
} secret;

static block g_head = {&g_head, &g_head, 0, 0};
static secret g_sec[MAX_SECRETS];
static atomic_size_t g_n_sec;
static atomic_ulong g_freed_hits;
/* Of those, freed by a call from ferrule's own sources rather than from
 * libcrypto's: OPENSSL_free passes its caller's __FILE__, which for
 * ferrule (and this test) starts with the repository's path, while a
 * libcrypto build passes its own relative paths ("../crypto/..." in
 * Debian's, "providers/..." in the OpenSSL 3.5 of check-mlkem). */
static atomic_ulong g_freed_hits_outside;

/* The repository's root as this file was compiled: __FILE__ without
 * "tests/c/test_secrets_libcrypto.c". */
static int from_ferrule(const char *file) {
    static const char self[] = __FILE__, tail[] = "tests/c/test_secrets_libcrypto.c";
    size_t root = sizeof(self) - sizeof(tail);
    if (file == NULL) return 0;
    if (sizeof(self) < sizeof(tail) || strcmp(self + root, tail) != 0)
        return strncmp(file, "../", 3) != 0; /* a relative build: the old rule */
    return root > 0 && strncmp(file, self, root) == 0;
}
static int g_hooked;
/* Count, but do not print, hits in blocks libcrypto frees itself (while
 * a key is loaded: see key_lifecycle). */
static int g_quiet_inside;

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k) {
    if (n < k) return 0;
    for (size_t i = 0; i + k <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0) return 1;
    return 0;
}

static void *hook_malloc(size_t n, const char *file, int line) {
    (void)file;
    (void)line;
    uint8_t *p = malloc(n + HDR);
    if (p == NULL) return NULL;
    block *b = (block *)p;
    b->n = n;
    b->magic = 0x11bc;
    b->next = g_head.next;
    b->prev = &g_head;
    g_head.next->prev = b;
    g_head.next = b;
    return p + HDR;
}

static void hook_free(void *ptr, const char *file, int line) {
    if (ptr == NULL) return;
    block *b = (block *)((uint8_t *)ptr - HDR);
    if (b->magic != 0x11bc) abort();
    size_t n_sec = atomic_load(&g_n_sec);
    for (size_t i = 0; i < n_sec; i++)
        if (contains(ptr, b->n, g_sec[i].b, g_sec[i].n)) {
            atomic_fetch_add(&g_freed_hits, 1);
            int inside = !from_ferrule(file);
            if (!inside) atomic_fetch_add(&g_freed_hits_outside, 1);
            if (inside && g_quiet_inside) continue;
            fprintf(stderr, "  freed unwiped: %s in a libcrypto block of %zu bytes (%s:%d)\n",
                    g_sec[i].label, b->n, file != NULL ? file : "?", line);
        }
    b->prev->next = b->next;
    b->next->prev = b->prev;
    /* Wiped here so that a later block on the same memory is judged by
     * what libcrypto writes into it, not by what this one held. */
    memset(b, 0, b->n + HDR);
    free(b);
}

/* A new block, the old one copied and freed (so searched): what libc's
 * realloc leaves behind in a moved block is not wiped either. */
static void *hook_realloc(void *ptr, size_t n, const char *file, int line) {
    if (ptr == NULL) return hook_malloc(n, file, line);
    if (n == 0) {
        hook_free(ptr, file, line);
        return NULL;
    }
    uint8_t *q = hook_malloc(n, file, line);
    if (q == NULL) return NULL;
    size_t old = ((block *)((uint8_t *)ptr - HDR))->n;
    memcpy(q, ptr, old < n ? old : n);
    hook_free(ptr, file, line);
    return q;
}

__attribute__((constructor)) static void hook_libcrypto(void) {
#ifdef RUNNING_ON_VALGRIND
    if (RUNNING_ON_VALGRIND) return;
#endif
    g_hooked = CRYPTO_set_mem_functions(hook_malloc, hook_realloc, hook_free);
}

static unsigned long live_hits(void) {
    unsigned long hits = 0;
    size_t n_sec = atomic_load(&g_n_sec);
    for (block *b = g_head.next; b != &g_head; b = b->next)
        for (size_t i = 0; i < n_sec; i++)
            if (contains((uint8_t *)b + HDR, b->n, g_sec[i].b, g_sec[i].n)) hits++;
    return hits;
}

static void add_secret(const char *label, const uint8_t *b, size_t n) {
    size_t i = atomic_load(&g_n_sec);
    if (i == MAX_SECRETS || n > PIECE) abort();
    snprintf(g_sec[i].label, sizeof(g_sec[i].label), "%s", label);
    memcpy(g_sec[i].b, b, n);
    g_sec[i].n = n;
    atomic_store(&g_n_sec, i + 1);
}
static void add_piece(const char *label, const uint8_t *b) { add_secret(label, b, PIECE); }

/* Register private number `param` of `key`: its low PIECE bytes as a BIGNUM
 * holds them (little-endian limbs on the machines we run on) and its high
 * PIECE bytes big-endian (DER, the SEC1 octet string). */
static int add_private(EVP_PKEY *key, const char *param) {
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) return 0;
    int len = BN_num_bytes(bn);
    if (len < PIECE) len = PIECE; /* leading zero bytes: as stored, padded */
    uint8_t buf[1024];
    int ok = (size_t)len <= sizeof(buf);
    char label[48];
    if (ok) ok = BN_bn2lebinpad(bn, buf, len) == len;
    if (ok) {
        snprintf(label, sizeof(label), "%s (limbs)", param);
        add_piece(label, buf);
        ok = BN_bn2binpad(bn, buf, len) == len;
    }
    if (ok) {
        snprintf(label, sizeof(label), "%s (big-endian)", param);
        add_piece(label, buf);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    BN_clear_free(bn);
    return ok;
}

/* The private numbers of KIND's key, registered; 0 if unreadable. */
static int register_key(const char *kind) {
    char file[64];
    snprintf(file, sizeof(file), "%s.key", kind);
    FILE *f = fopen(pair_pki(file), "r");
    if (f == NULL) return 0;
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL) return 0;
    int ok;
    if (EVP_PKEY_is_a(key, "EC"))
        ok = add_private(key, OSSL_PKEY_PARAM_PRIV_KEY);
    else
        ok = add_private(key, OSSL_PKEY_PARAM_RSA_D) &&
             add_private(key, OSSL_PKEY_PARAM_RSA_FACTOR1) &&
             add_private(key, OSSL_PKEY_PARAM_RSA_FACTOR2);
    EVP_PKEY_free(key);
    return ok;
}

static void forget_secrets(void) {
    atomic_store(&g_n_sec, 0);
    atomic_store(&g_freed_hits, 0);
    atomic_store(&g_freed_hits_outside, 0);
}

/* ---- tests -------------------------------------------------------------------- */

TEST(scanner_reports_an_unwiped_libcrypto_block) {
    REQUIRE(g_hooked);
    forget_secrets();
    uint8_t k[PIECE];
    for (size_t i = 0; i < sizeof(k); i++) k[i] = (uint8_t)(i * 53 + 7);
    add_piece("self-check", k);
    uint8_t *p = OPENSSL_malloc(200);
    REQUIRE(p != NULL);
    memset(p, 0, 200);
    memcpy(p + 100, k, sizeof(k));
    CHECK_EQ(live_hits(), 1);
    OPENSSL_free(p);
    CHECK_EQ(atomic_load(&g_freed_hits), 1);
    CHECK_EQ(atomic_load(&g_freed_hits_outside), 1); /* freed from this file */
    p = OPENSSL_malloc(200);
    REQUIRE(p != NULL);
    memcpy(p + 3, k, sizeof(k));
    OPENSSL_clear_free(p, 200);
    CHECK_EQ(atomic_load(&g_freed_hits), 1);
    CHECK_EQ(live_hits(), 0);
    forget_secrets();
}

static void key_lifecycle(const char *kind) {
    REQUIRE(g_hooked);
    forget_secrets();
    REQUIRE(register_key(kind));
    /* From here on every libcrypto block freed is searched. */
    CHECK_EQ(live_hits(), 0);
    g_quiet_inside = 1;
    ferrule_config *sc = pair_server_config(kind), *cc = pair_client_config();
    g_quiet_inside = 0;
    REQUIRE(sc != NULL && cc != NULL);
    /* Loading: PEM_read_bio_PrivateKey (fr_pkey_from_pem) leaves unwiped
     * copies in blocks that OpenSSL 3.0's decoders free with OPENSSL_free
     * (decode_pem2der.c, decode_der2key.c, the SEC1 / PKCS#8 ASN.1
     * strings): libcrypto's, listed in docs/secrets.md.  None was freed
     * by a call from ferrule. */
    printf("secrets: %s: libcrypto's decoder freed %lu unwiped copies while loading\n", kind,
           atomic_load(&g_freed_hits));
    CHECK_EQ(atomic_load(&g_freed_hits_outside), 0);
    atomic_store(&g_freed_hits, 0);
    /* Positive control: the loaded key's numbers are in libcrypto's heap. */
    CHECK(live_hits() >= 1);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    int cs, ss;
    CHECK(pair_handshake(&p, &cs, &ss));
    pair_free(&p);
    ferrule_config_free(cc);
    CHECK(live_hits() >= 1);
    ferrule_config_free(sc);
    CHECK_EQ(live_hits(), 0);
    CHECK_EQ(atomic_load(&g_freed_hits), 0);
    forget_secrets();
}

TEST(ecdsa_key_wiped_when_the_config_is_freed) { key_lifecycle("ecdsa-p256"); }
TEST(rsa_key_wiped_when_the_config_is_freed) { key_lifecycle("rsa"); }

/* ---- record keys in the AEAD contexts ----------------------------------- */

/* Traffic secrets from the key log, by label (the last one logged). */
static struct {
    char label[48];
    uint8_t b[64];
    size_t n;
} g_log[16];
static size_t g_n_log;

static void keylog(void *ctx, const ferrule_conn *conn, const char *line) {
    (void)ctx;
    (void)conn;
    char label[48], random[80], hex[130];
    if (g_n_log == 16 || sscanf(line, "%47s %79s %129s", label, random, hex) != 3) return;
    size_t n = strlen(hex) / 2;
    if (n > 64) return;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return;
        g_log[g_n_log].b[i] = (uint8_t)v;
    }
    snprintf(g_log[g_n_log].label, sizeof(g_log[g_n_log].label), "%s", label);
    g_log[g_n_log].n = n;
    g_n_log++;
}

/* Register the record key (RFC 8446 §7.3: HKDF-Expand-Label(secret,
 * "key", "", key_length)) of the logged secret `label`. */
static int add_record_key(const char *label, uint16_t suite) {
    const fr_suite_info *si = fr_suite_lookup(suite);
    for (size_t i = 0; si != NULL && i < g_n_log; i++)
        if (strcmp(g_log[i].label, label) == 0) {
            uint8_t key[32];
            if (fr_hkdf_expand_label(si->hash, g_log[i].b, "key", NULL, 0, key, si->key_len) !=
                FR_OK)
                return 0;
            char l[48];
            snprintf(l, sizeof(l), "key of %s", label);
            add_secret(l, key, si->key_len);
            return 1;
        }
    return 0;
}

/* The libcrypto cipher contexts hold the expanded record keys (AES: the
 * first round key is the key itself).  Re-keying for the application
 * keys overwrites the handshake keys in place; a KeyUpdate overwrites
 * generation 0; EVP_CIPHER_CTX_free cleanses what is left. */
static void record_keys(uint16_t suite) {
    REQUIRE(g_hooked);
    forget_secrets();
    g_n_log = 0;
    ferrule_config *sc = pair_server_config("ecdsa-p256"), *cc = pair_client_config();
    REQUIRE(sc != NULL && cc != NULL);
    REQUIRE(ferrule_config_set_cipher_suites(cc, &suite, 1) == FERRULE_OK);
    REQUIRE(ferrule_config_set_keylog_callback(cc, keylog, NULL) == FERRULE_OK);
    pair p;
    REQUIRE(pair_new(&p, cc, sc, NULL));
    int cs, ss;
    REQUIRE(pair_handshake(&p, &cs, &ss));
    CHECK_EQ(ferrule_conn_cipher_suite(p.client), suite);
    REQUIRE(add_record_key("CLIENT_HANDSHAKE_TRAFFIC_SECRET", suite));
    REQUIRE(add_record_key("SERVER_HANDSHAKE_TRAFFIC_SECRET", suite));
    size_t hs_keys = atomic_load(&g_n_sec);
    /* The handshake keys are gone from every cipher context. */
    CHECK_EQ(live_hits(), 0);
    REQUIRE(add_record_key("CLIENT_TRAFFIC_SECRET_0", suite));
    REQUIRE(add_record_key("SERVER_TRAFFIC_SECRET_0", suite));
    /* Positive control: the application keys are found, in the contexts
     * of both connections. */
    CHECK(live_hits() >= 4);
    uint8_t buf[64];
    size_t n = 0;
    CHECK_EQ(ferrule_conn_key_update(p.client, 1), FERRULE_OK);
    CHECK_EQ(ferrule_conn_write(p.client, (const uint8_t *)"x", 1, &n), FERRULE_OK);
    pair_move(p.client, p.server);
    CHECK_EQ(ferrule_conn_read(p.server, buf, sizeof(buf), &n), FERRULE_OK);
    CHECK_EQ(ferrule_conn_write(p.server, (const uint8_t *)"y", 1, &n), FERRULE_OK);
    pair_move(p.server, p.client);
    /* WANT_READ: the client also takes the server's tickets first. */
    int st = ferrule_conn_read(p.client, buf, sizeof(buf), &n);
    CHECK(st == FERRULE_OK && n == 1);
    CHECK_EQ(ferrule_conn_key_updates_received(p.client), 1);
    /* Generation 0 is gone too. */
    CHECK_EQ(live_hits(), 0);
    pair_free(&p);
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    CHECK_EQ(live_hits(), 0);
    CHECK(hs_keys == 2);
    CHECK_EQ(atomic_load(&g_freed_hits), 0);
    forget_secrets();
}

TEST(aes128_record_keys_overwritten_and_cleansed) { record_keys(FERRULE_TLS_AES_128_GCM_SHA256); }
TEST(aes256_record_keys_overwritten_and_cleansed) { record_keys(FERRULE_TLS_AES_256_GCM_SHA384); }
TEST(chacha_record_keys_overwritten_and_cleansed) {
    record_keys(FERRULE_TLS_CHACHA20_POLY1305_SHA256);
}

TEST_MAIN("test_secrets_libcrypto", TL_CASE(scanner_reports_an_unwiped_libcrypto_block),
          TL_CASE(ecdsa_key_wiped_when_the_config_is_freed),
          TL_CASE(rsa_key_wiped_when_the_config_is_freed),
          TL_CASE(aes128_record_keys_overwritten_and_cleansed),
          TL_CASE(aes256_record_keys_overwritten_and_cleansed),
          TL_CASE(chacha_record_keys_overwritten_and_cleansed))
