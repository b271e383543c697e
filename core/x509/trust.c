/*
 * trust.c - PEM decoding (RFC 7468) and trust anchor stores.
 *
 * The only file-system access in core/: loading anchors is configuration,
 * done once before any connection exists.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* secure_getenv */
#endif
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "x509.h"

#define INVALID FERRULE_R_CONFIG_PEM
#define NOFILE FERRULE_R_CONFIG_FILE
/* Largest trust file we read (the Debian bundle is ~220 KB). */
#define MAX_TRUST_FILE ((size_t)64 << 20)

static const char PEM_BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char PEM_END[] = "-----END CERTIFICATE-----";

/* ---- PEM ---------------------------------------------------------------- */

static const uint8_t *find(const uint8_t *p, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (p[i] == (uint8_t)needle[0] && memcmp(p + i, needle, k) == 0) return p + i;
    return NULL;
}

static int is_space(uint8_t ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

static int b64_value(uint8_t ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

/* Strict base64 (RFC 4648 §4): standard alphabet, whitespace between
 * characters allowed (line breaks, RFC 7468 §3), '=' padding only at the
 * end making a multiple of four, and zero pad bits (§3.5). */
static fr_err b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len) {
    uint32_t acc = 0;
    size_t chars = 0, pad = 0, len = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = in[i];
        if (is_space(ch)) continue;
        if (ch == '=') {
            pad++;
            FR_ENSURE(pad <= 2, INVALID);
            /* An '=' can only fill the 3rd or 4th position of a quantum. */
            FR_ENSURE((chars + pad - 1) % 4 >= 2, INVALID);
            continue;
        }
        FR_ENSURE(pad == 0, INVALID); /* data after padding */
        int v = b64_value(ch);
        FR_ENSURE(v >= 0, INVALID);
        acc = (acc << 6) | (uint32_t)v;
        chars++;
        if (chars % 4 == 0) {
            FR_ENSURE(cap - len >= 3, INVALID);
            out[len++] = (uint8_t)(acc >> 16);
            out[len++] = (uint8_t)(acc >> 8);
            out[len++] = (uint8_t)acc;
            acc = 0;
        }
    }
    FR_ENSURE((chars + pad) % 4 == 0, INVALID);
    size_t rem = chars % 4;
    FR_ENSURE(rem == 0 ? pad == 0 : pad == 4 - rem, INVALID);
    if (rem == 2) {
        FR_ENSURE((acc & 0xf) == 0, INVALID);
        FR_ENSURE(cap - len >= 1, INVALID);
        out[len++] = (uint8_t)(acc >> 4);
    } else if (rem == 3) {
        FR_ENSURE((acc & 0x3) == 0, INVALID);
        FR_ENSURE(cap - len >= 2, INVALID);
        out[len++] = (uint8_t)(acc >> 10);
        out[len++] = (uint8_t)(acc >> 2);
    }
    *out_len = len;
    return FR_OK;
}

fr_err fr_pem_each_cert(fr_mem *m, const uint8_t *pem, size_t len,
                          fr_err (*cb)(void *ctx, const uint8_t *der, size_t len), void *ctx) {
    FR_ENSURE(pem != NULL || len == 0, FERRULE_R_NULL_ARGUMENT);
    FR_ENSURE(len > 0, INVALID);
    fr_reader r = fr_reader_init(pem, len);
    size_t blocks = 0;
    for (;;) {
        const uint8_t *b = find(r.p, fr_reader_left(&r), PEM_BEGIN);
        if (b == NULL) break;
        const uint8_t *body = b + (sizeof(PEM_BEGIN) - 1);
        size_t left = (size_t)(r.end - body);
        const uint8_t *e = find(body, left, PEM_END);
        FR_ENSURE(e != NULL, INVALID); /* missing END line */
        size_t body_len = (size_t)(e - body);
        size_t cap = body_len / 4 * 3 + 3;
        uint8_t *der = fr_mem_alloc(m, cap);
        FR_ENSURE(der != NULL, fr_mem_error(m, cap));
        size_t der_len = 0;
        fr_err err = b64_decode(body, body_len, der, cap, &der_len);
        if (err == FR_OK && der_len == 0) err = INVALID;
        if (err == FR_OK) err = cb(ctx, der, der_len);
        fr_mem_free(m, der, cap);
        FR_TRY(err);
        blocks++;
        r.p = e + (sizeof(PEM_END) - 1);
    }
    FR_ENSURE(blocks > 0, INVALID);
    return FR_OK;
}

/* ---- stores ------------------------------------------------------------- */

void fr_trust_init(fr_trust_store *t) { memset(t, 0, sizeof(*t)); }

/* Drop anchors added after the first n0 (to undo a failed add). */
static void truncate_store(fr_mem *m, fr_trust_store *t, size_t n0) {
    while (t->n > n0) fr_cert_free(m, t->certs[--t->n]);
}

void fr_trust_free(fr_mem *m, fr_trust_store *t) {
    truncate_store(m, t, 0);
    fr_mem_free(m, t->certs, t->cap * sizeof(*t->certs));
    fr_trust_init(t);
}

/* Takes ownership of c.  Duplicates (same DER) are dropped: directories
 * such as /etc/ssl/certs hold each anchor under several names. */
static fr_err store_add(fr_mem *m, fr_trust_store *t, fr_cert *c) {
    for (size_t i = 0; i < t->n; i++) {
        const fr_cert *o = t->certs[i];
        if (o->der_len == c->der_len && memcmp(o->der, c->der, c->der_len) == 0) {
            fr_cert_free(m, c);
            return FR_OK;
        }
    }
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        if (ncap > SIZE_MAX / sizeof(*t->certs)) {
            fr_cert_free(m, c);
            return FERRULE_R_OUT_OF_MEMORY;
        }
        fr_cert **nc = fr_mem_alloc(m, ncap * sizeof(*nc));
        if (nc == NULL) {
            fr_cert_free(m, c);
            return fr_mem_error(m, ncap * sizeof(*nc));
        }
        if (t->n) memcpy(nc, t->certs, t->n * sizeof(*nc));
        fr_mem_free(m, t->certs, t->cap * sizeof(*t->certs));
        t->certs = nc;
        t->cap = ncap;
    }
    t->certs[t->n++] = c;
    return FR_OK;
}

fr_err fr_trust_add_der(fr_mem *m, fr_trust_store *t, const uint8_t *der, size_t len) {
    fr_cert *c;
    FR_TRY(fr_cert_parse(m, der, len, &c));
    return store_add(m, t, c);
}

static int is_resource_error(fr_err e) {
    return e == FERRULE_R_MEMORY_LIMIT || e == FERRULE_R_OUT_OF_MEMORY || e == FERRULE_R_INTERNAL;
}

typedef struct pem_ctx {
    fr_mem *m;
    fr_trust_store *t;
    size_t good;
} pem_ctx;

static fr_err pem_add_cb(void *ctx, const uint8_t *der, size_t len) {
    pem_ctx *pc = ctx;
    fr_err e = fr_trust_add_der(pc->m, pc->t, der, len);
    /* Bundles carry odd certificates; skip those we cannot parse. */
    if (e != FR_OK && !is_resource_error(e)) return FR_OK;
    FR_TRY(e);
    pc->good++;
    return FR_OK;
}

fr_err fr_trust_add_pem(fr_mem *m, fr_trust_store *t, const uint8_t *pem, size_t len) {
    size_t n0 = t->n;
    pem_ctx pc = {m, t, 0};
    fr_err e = fr_pem_each_cert(m, pem, len, pem_add_cb, &pc);
    if (e == FR_OK && pc.good == 0) e = INVALID;
    if (e != FR_OK) truncate_store(m, t, n0); /* all or nothing */
    return e;
}

fr_err fr_trust_add_file(fr_mem *m, fr_trust_store *t, const char *path) {
    FR_ENSURE(path != NULL, FERRULE_R_NULL_ARGUMENT);
    FILE *f = fopen(path, "rb");
    FR_ENSURE(f != NULL, NOFILE);
    size_t cap = 64 * 1024, len = 0;
    uint8_t *buf = fr_mem_alloc(m, cap);
    fr_err e = buf ? FR_OK : fr_mem_error(m, cap);
    while (e == FR_OK) {
        if (len == cap) {
            size_t ncap = cap * 2;
            uint8_t *nb = ncap <= MAX_TRUST_FILE ? fr_mem_alloc(m, ncap) : NULL;
            if (nb == NULL) {
                e = ncap <= MAX_TRUST_FILE ? fr_mem_error(m, ncap) : INVALID;
                break;
            }
            memcpy(nb, buf, len);
            fr_mem_free(m, buf, cap);
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) e = NOFILE;
            break;
        }
    }
    fclose(f);
    if (e == FR_OK) {
        if (find(buf, len, "-----BEGIN") != NULL) {
            e = fr_trust_add_pem(m, t, buf, len);
        } else {
            e = fr_trust_add_der(m, t, buf, len);
            if (e != FR_OK && !is_resource_error(e)) e = INVALID;
        }
    }
    fr_mem_free(m, buf, cap);
    return e;
}

/* Names OpenSSL-style directories use: *.pem, *.crt, *.cer, and the
 * c_rehash links "<8 hex digits>.<digits>" (not the CRL ones, ".r<n>"). */
static int trust_file_name(const char *name) {
    size_t n = strlen(name);
    if (name[0] == '.') return 0;
    if (n > 4) {
        const char *ext = name + n - 4;
        if (strcmp(ext, ".pem") == 0 || strcmp(ext, ".crt") == 0 || strcmp(ext, ".cer") == 0)
            return 1;
    }
    if (n < 10 || name[8] != '.') return 0;
    for (size_t i = 0; i < 8; i++) {
        char ch = name[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return 0;
    }
    for (size_t i = 9; i < n; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    return 1;
}

fr_err fr_trust_add_dir(fr_mem *m, fr_trust_store *t, const char *path) {
    FR_ENSURE(path != NULL, FERRULE_R_NULL_ARGUMENT);
    DIR *d = opendir(path);
    FR_ENSURE(d != NULL, NOFILE);
    size_t n0 = t->n, good = 0;
    fr_err e = FR_OK;
    struct dirent *de;
    char full[PATH_MAX];
    while (e == FR_OK && (de = readdir(d)) != NULL) {
        if (!trust_file_name(de->d_name)) continue;
        int w = snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
        if (w < 0 || (size_t)w >= sizeof(full)) continue;
        struct stat st;
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) continue; /* follows links */
        fr_err fe = fr_trust_add_file(m, t, full);
        if (fe == FR_OK)
            good++;
        else if (is_resource_error(fe))
            e = fe; /* unparsable files are skipped; resource failures are not */
    }
    closedir(d);
    if (e == FR_OK && good == 0) e = INVALID;
    if (e != FR_OK) truncate_store(m, t, n0);
    return e;
}

static int exists(const char *path, int want_dir) {
    struct stat st;
    if (path == NULL || path[0] == 0 || stat(path, &st) != 0) return 0;
    return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

/* Order documented at ferrule_config_add_trust_system (ferrule.h): the
 * first location that exists is used, and only that one.  secure_getenv:
 * a setuid program must not take its anchors from the environment. */
fr_err fr_trust_add_system(fr_mem *m, fr_trust_store *t) {
    const char *env_file = secure_getenv("SSL_CERT_FILE");
    if (exists(env_file, 0)) return fr_trust_add_file(m, t, env_file);
    static const char *const files[] = {"/etc/ssl/certs/ca-certificates.crt",
                                        "/etc/pki/tls/certs/ca-bundle.crt"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (exists(files[i], 0)) return fr_trust_add_file(m, t, files[i]);
    const char *env_dir = secure_getenv("SSL_CERT_DIR");
    if (exists(env_dir, 1)) return fr_trust_add_dir(m, t, env_dir);
    if (exists("/etc/ssl/certs", 1)) return fr_trust_add_dir(m, t, "/etc/ssl/certs");
    return NOFILE;
}
