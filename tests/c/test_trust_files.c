/* test_trust_files.c - trust anchors from files, directories and the
 * system's locations (abi/src/trust_files.c: the ABI reads, the core only
 * parses bytes), and the core's side of it (fr_trust_add_blob). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferrule.h"
#include "support_pair.h"
#include "testlib.h"
#include "x509/x509.h"

/* Valid PEM of a DER that is not a certificate (30 0a). */
#define JUNK_PEM "-----BEGIN CERTIFICATE-----\nMAo=\n-----END CERTIFICATE-----\n"

static uint8_t *read_file(const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            if (buf == NULL) break;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        if (got == 0) break;
        *len += got;
    }
    fclose(f);
    return buf;
}

static void write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL) return;
    CHECK_EQ(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* DER of the first certificate of a PEM file (malloc'd), via the core. */
static fr_err first_der(void *ctx, const uint8_t *der, size_t len) {
    uint8_t **out = ctx;
    if (*out != NULL) return FR_OK;
    *out = malloc(len + sizeof(size_t));
    memcpy(*out, &len, sizeof(size_t));
    memcpy(*out + sizeof(size_t), der, len);
    return FR_OK;
}

static ferrule_config *client(void) {
    ferrule_config *cfg = NULL;
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, NULL), FERRULE_OK);
    return cfg;
}

/* The result of one loading call: its reason (FR_OK on success). */
static uint32_t reason_of(ferrule_config *cfg, int st) {
    return st == FERRULE_OK ? FR_OK : ferrule_config_reason(cfg);
}

TEST(blob_bytes) {
    /* The core's part: bytes in, PEM or DER. */
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    fr_trust_store t;
    fr_trust_init(&t);
    size_t pl;
    uint8_t *pem = read_file(pair_pki("root.pem"), &pl);
    REQUIRE(pem != NULL);
    uint8_t *der = NULL;
    CHECK_EQ(fr_pem_each_cert(&m, pem, pl, first_der, &der), FR_OK);
    REQUIRE(der != NULL);
    size_t dl;
    memcpy(&dl, der, sizeof(size_t));
    const uint8_t *d = der + sizeof(size_t);
    CHECK_EQ(fr_trust_add_blob(&m, &t, pem, pl), FR_OK);
    CHECK_EQ(t.n, 1);
    CHECK_EQ(fr_trust_add_blob(&m, &t, d, dl), FR_OK); /* the same anchor: kept once */
    CHECK_EQ(t.n, 1);
    CHECK_EQ(fr_trust_add_blob(&m, &t, d, dl - 1), FERRULE_R_CONFIG_PEM);
    CHECK_EQ(fr_trust_add_blob(&m, &t, (const uint8_t *)JUNK_PEM, sizeof(JUNK_PEM) - 1),
             FERRULE_R_CONFIG_PEM);
    CHECK_EQ(fr_trust_add_blob(&m, &t, (const uint8_t *)"", 0), FERRULE_R_CONFIG_PEM);
    CHECK_EQ(fr_trust_add_blob(&m, &t, NULL, 0), FERRULE_R_CONFIG_PEM);
    CHECK_EQ(fr_trust_add_blob(&m, &t, NULL, 5), FERRULE_R_NULL_ARGUMENT);
    CHECK_EQ(t.n, 1);
    fr_trust_truncate(&m, &t, 0);
    CHECK_EQ(t.n, 0);
    /* A resource failure is reported as such, not as bad input. */
    fr_mem tight;
    fr_mem_init(&tight, NULL, 64);
    CHECK(fr_err_is_resource(fr_trust_add_blob(&tight, &t, d, dl)));
    CHECK_EQ(t.n, 0);
    fr_trust_free(&m, &t);
    CHECK_EQ(m.used, 0);
    CHECK_EQ(tight.used, 0);
    free(der);
    free(pem);
}

TEST(files_and_dirs) {
    ferrule_config *cfg = client();
    REQUIRE(cfg != NULL);
    size_t rl, ol, il;
    uint8_t *root = read_file(pair_pki("root.pem"), &rl);
    uint8_t *other = read_file(pair_pki("other-root.pem"), &ol);
    uint8_t *inter = read_file(pair_pki("inter.pem"), &il);
    REQUIRE(root && other && inter);
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    uint8_t *der = NULL;
    CHECK_EQ(fr_pem_each_cert(&m, root, rl, first_der, &der), FR_OK);
    REQUIRE(der != NULL);
    size_t dl;
    memcpy(&dl, der, sizeof(size_t));
    char dir[] = "/tmp/ferrule-trust-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char p[256];
    /* a single DER file, and a truncated one */
    snprintf(p, sizeof(p), "%s/one.der", dir);
    write_file(p, der + sizeof(size_t), dl);
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_file(cfg, p)), FR_OK);
    CHECK_EQ(ferrule_config_trust_count(cfg), 1);
    write_file(p, der + sizeof(size_t), dl - 1);
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_file(cfg, p)), FERRULE_R_CONFIG_PEM);
    unlink(p);
    snprintf(p, sizeof(p), "%s/missing.pem", dir);
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_file(cfg, p)), FERRULE_R_CONFIG_FILE);
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_file(cfg, dir)), FERRULE_R_CONFIG_FILE);
    CHECK_EQ(ferrule_config_trust_count(cfg), 1);
    ferrule_config_free(cfg);
    cfg = client();
    REQUIRE(cfg != NULL);
    /* an empty directory, then one with only junk */
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_dir(cfg, dir)), FERRULE_R_CONFIG_PEM);
    snprintf(p, sizeof(p), "%s/junk.pem", dir);
    write_file(p, JUNK_PEM, sizeof(JUNK_PEM) - 1);
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_dir(cfg, dir)), FERRULE_R_CONFIG_PEM);
    CHECK_EQ(ferrule_config_trust_count(cfg), 0);
    /* root.pem, other.crt, a c_rehash name, and ignored names */
    snprintf(p, sizeof(p), "%s/root.pem", dir);
    write_file(p, root, rl);
    snprintf(p, sizeof(p), "%s/other.crt", dir);
    write_file(p, other, ol);
    snprintf(p, sizeof(p), "%s/abcdef12.0", dir);
    write_file(p, inter, il);
    snprintf(p, sizeof(p), "%s/abcdef12.r0", dir); /* a CRL name */
    write_file(p, der + sizeof(size_t), dl);
    snprintf(p, sizeof(p), "%s/README", dir);
    write_file(p, der + sizeof(size_t), dl);
    snprintf(p, sizeof(p), "%s/sub.pem", dir); /* not a regular file */
    CHECK_EQ(mkdir(p, 0700), 0);
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_dir(cfg, dir)), FR_OK);
    CHECK_EQ(ferrule_config_trust_count(cfg), 3);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/nonexistent", dir);
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_dir(cfg, p)), FERRULE_R_CONFIG_FILE);
    snprintf(p, sizeof(p), "%s/root.pem", dir); /* a file, not a directory */
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_dir(cfg, p)), FERRULE_R_CONFIG_FILE);
    CHECK_EQ(ferrule_config_trust_count(cfg), 3);
    ferrule_config_free(cfg);
    /* A file larger than the first read buffer (64 KiB): PEM text around
     * the certificate is ignored, however long. */
    size_t big_len = 300 * 1024 + rl;
    char *big = malloc(big_len);
    REQUIRE(big != NULL);
    memset(big, 'x', big_len);
    for (size_t i = 99; i < big_len; i += 100) big[i] = '\n';
    memcpy(big + 200 * 1024, root, rl);
    snprintf(p, sizeof(p), "%s/big.pem", dir);
    write_file(p, big, big_len);
    cfg = client();
    REQUIRE(cfg != NULL);
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_file(cfg, p)), FR_OK);
    CHECK_EQ(ferrule_config_trust_count(cfg), 1);
    ferrule_config_free(cfg);
    unlink(p);
    free(big);
    static const char *const names[] = {"junk.pem", "root.pem", "other.crt", "abcdef12.0",
                                        "abcdef12.r0", "README"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    free(root);
    free(other);
    free(inter);
    free(der);
}

/* An allocator that refuses once its budget is spent. */
static size_t g_budget;
static void *budget_alloc(void *ctx, size_t n) {
    (void)ctx;
    if (n > g_budget) return NULL;
    g_budget -= n;
    return malloc(n);
}
static void budget_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    g_budget += n;
    free(p);
}

TEST(out_of_memory_rolls_back) {
    /* Every budget, from too small for one file buffer to enough for the
     * whole directory: the directory's anchors are all added, or none and
     * every byte is given back, with the allocator's reason (not a bad
     * file) -- also when the first file was added and the second failed. */
    char dir[] = "/tmp/ferrule-trust-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char a_pem[300], b_pem[300];
    snprintf(a_pem, sizeof(a_pem), "%s/a.pem", dir);
    snprintf(b_pem, sizeof(b_pem), "%s/b.pem", dir);
    size_t rl, ol;
    uint8_t *root = read_file(pair_pki("root.pem"), &rl);
    uint8_t *other = read_file(pair_pki("other-root.pem"), &ol);
    REQUIRE(root && other);
    write_file(a_pem, root, rl);
    write_file(b_pem, other, ol);
    ferrule_allocator al = {sizeof(al), budget_alloc, budget_free, NULL};
    size_t ok = 0, failed = 0;
    for (size_t k = 0; k <= 256 * 1024; k += 512) {
        ferrule_config *cfg = NULL;
        g_budget = (size_t)1 << 30;
        CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, &al), FERRULE_OK);
        REQUIRE(cfg != NULL);
        size_t cfg_bytes = ((size_t)1 << 30) - g_budget;
        g_budget = k;
        uint32_t r = reason_of(cfg, ferrule_config_add_trust_dir(cfg, dir));
        if (r == FR_OK) {
            CHECK_EQ(ferrule_config_trust_count(cfg), 2);
            ok++;
        } else {
            CHECK(r == FERRULE_R_OUT_OF_MEMORY || r == FERRULE_R_MEMORY_LIMIT);
            CHECK_EQ(ferrule_config_trust_count(cfg), 0);
            /* No certificate kept; at most the store's (empty) array of 16. */
            CHECK(g_budget <= k && k - g_budget <= 16 * sizeof(void *));
            failed++;
        }
        g_budget += (size_t)1 << 30;
        ferrule_config_free(cfg);
        CHECK_EQ(g_budget, k + cfg_bytes + ((size_t)1 << 30)); /* all given back */
    }
    CHECK(ok > 0 && failed > 0);
    /* One file alone, too. */
    ferrule_config *cfg = NULL;
    g_budget = (size_t)1 << 30;
    CHECK_EQ(ferrule_config_new(&cfg, FERRULE_ROLE_CLIENT, &al), FERRULE_OK);
    REQUIRE(cfg != NULL);
    g_budget = 1000;
    CHECK_EQ(reason_of(cfg, ferrule_config_add_trust_file(cfg, a_pem)), FERRULE_R_OUT_OF_MEMORY);
    CHECK_EQ(ferrule_config_trust_count(cfg), 0);
    CHECK_EQ(g_budget, 1000);
    g_budget += (size_t)1 << 30;
    ferrule_config_free(cfg);
    unlink(a_pem);
    unlink(b_pem);
    rmdir(dir);
    free(root);
    free(other);
}

TEST(system_locations) {
    char *saved_file = getenv("SSL_CERT_FILE") ? strdup(getenv("SSL_CERT_FILE")) : NULL;
    char *saved_dir = getenv("SSL_CERT_DIR") ? strdup(getenv("SSL_CERT_DIR")) : NULL;
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
    /* Debian: /etc/ssl/certs/ca-certificates.crt (package ca-certificates) */
    struct stat st;
    CHECK(stat("/etc/ssl/certs/ca-certificates.crt", &st) == 0);
    ferrule_config *cfg = client();
    REQUIRE(cfg != NULL);
    CHECK_EQ(ferrule_config_add_trust_system(cfg), FERRULE_OK);
    CHECK(ferrule_config_trust_count(cfg) > 50);
    ferrule_config_free(cfg);
    /* $SSL_CERT_FILE comes first... */
    setenv("SSL_CERT_FILE", pair_pki("root.pem"), 1);
    cfg = client();
    REQUIRE(cfg != NULL);
    CHECK_EQ(ferrule_config_add_trust_system(cfg), FERRULE_OK);
    CHECK_EQ(ferrule_config_trust_count(cfg), 1);
    ferrule_config_free(cfg);
    /* ...when it exists */
    setenv("SSL_CERT_FILE", "/nonexistent/ferrule.pem", 1);
    cfg = client();
    REQUIRE(cfg != NULL);
    CHECK_EQ(ferrule_config_add_trust_system(cfg), FERRULE_OK);
    CHECK(ferrule_config_trust_count(cfg) > 50);
    ferrule_config_free(cfg);
    unsetenv("SSL_CERT_FILE");
    if (saved_file) setenv("SSL_CERT_FILE", saved_file, 1);
    if (saved_dir) setenv("SSL_CERT_DIR", saved_dir, 1);
    free(saved_file);
    free(saved_dir);
}

TEST_MAIN("trust_files", TL_CASE(blob_bytes), TL_CASE(files_and_dirs),
          TL_CASE(out_of_memory_rolls_back), TL_CASE(system_locations))
