/*
 * trust.c - PEM decoding (RFC 7468) and trust anchor stores.
 *
 * Anchors arrive as bytes: files, directories and the system's locations
 * are read by the host (abi/src/trust_files.c).
 */
#include "x509.h"

#define INVALID FERRULE_R_CONFIG_PEM

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

void fr_trust_truncate(fr_mem *m, fr_trust_store *t, size_t n0) {
    while (t->n > n0) fr_cert_free(m, t->certs[--t->n]);
}

void fr_trust_free(fr_mem *m, fr_trust_store *t) {
    fr_trust_truncate(m, t, 0);
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

typedef struct pem_ctx {
    fr_mem *m;
    fr_trust_store *t;
    size_t good;
} pem_ctx;

static fr_err pem_add_cb(void *ctx, const uint8_t *der, size_t len) {
    pem_ctx *pc = ctx;
    fr_err e = fr_trust_add_der(pc->m, pc->t, der, len);
    /* Bundles carry odd certificates; skip those we cannot parse. */
    if (e != FR_OK && !fr_err_is_resource(e)) return FR_OK;
    FR_TRY(e);
    pc->good++;
    return FR_OK;
}

fr_err fr_trust_add_pem(fr_mem *m, fr_trust_store *t, const uint8_t *pem, size_t len) {
    size_t n0 = t->n;
    pem_ctx pc = {m, t, 0};
    fr_err e = fr_pem_each_cert(m, pem, len, pem_add_cb, &pc);
    if (e == FR_OK && pc.good == 0) e = INVALID;
    if (e != FR_OK) fr_trust_truncate(m, t, n0); /* all or nothing */
    return e;
}

fr_err fr_trust_add_blob(fr_mem *m, fr_trust_store *t, const uint8_t *p, size_t len) {
    FR_ENSURE(p != NULL || len == 0, FERRULE_R_NULL_ARGUMENT);
    if (find(p, len, "-----BEGIN") != NULL) return fr_trust_add_pem(m, t, p, len);
    fr_err e = fr_trust_add_der(m, t, p, len);
    return e == FR_OK || fr_err_is_resource(e) ? e : INVALID;
}
