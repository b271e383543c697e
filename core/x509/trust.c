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

/* The index: every anchor is in a chain by the hash of its subject
 * (fr_name_hash, the same normalised form fr_name_equal compares, so an
 * issuer whose name matches only after normalisation is still found), one
 * by its subjectKeyIdentifier (anchors without one are in none), and one by
 * a hash of its whole DER (to find duplicates; unlike the subject, it tells
 * apart anchors re-issued under one name, and unlike the signature, copies
 * of one certificate with other names).  The chains keep the order of
 * addition, which is the order the path builder tries candidates in, as it
 * did walking the whole store. */

static uint64_t bytes_hash(const uint8_t *p, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static size_t slot_of(const fr_trust_store *t, uint64_t h) {
    return (size_t)(h ^ (h >> 32)) & (t->n_slots - 1);
}

static void chain_append(fr_trust_chain *ch, uint32_t *link_of_tail, uint32_t i) {
    if (ch->head == FR_TRUST_END)
        ch->head = i;
    else
        *link_of_tail = i;
    ch->tail = i;
}

static void index_add(fr_trust_store *t, uint32_t i) {
    const fr_cert *c = t->certs[i];
    t->links[i].by_subject = t->links[i].by_ski = t->links[i].by_der = FR_TRUST_END;
    fr_trust_chain *s = &t->by_subject[slot_of(t, c->subject_hash)];
    chain_append(s, s->head == FR_TRUST_END ? NULL : &t->links[s->tail].by_subject, i);
    fr_trust_chain *g = &t->by_der[slot_of(t, t->links[i].der_hash)];
    chain_append(g, g->head == FR_TRUST_END ? NULL : &t->links[g->tail].by_der, i);
    if (c->ski == NULL) return;
    fr_trust_chain *k = &t->by_ski[slot_of(t, bytes_hash(c->ski, c->ski_len))];
    chain_append(k, k->head == FR_TRUST_END ? NULL : &t->links[k->tail].by_ski, i);
}

static void index_rebuild(fr_trust_store *t) {
    for (size_t i = 0; i < t->n_slots; i++) {
        t->by_subject[i].head = t->by_subject[i].tail = FR_TRUST_END;
        t->by_ski[i].head = t->by_ski[i].tail = FR_TRUST_END;
        t->by_der[i].head = t->by_der[i].tail = FR_TRUST_END;
    }
    for (size_t i = 0; i < t->n; i++) index_add(t, (uint32_t)i);
}

uint32_t fr_trust_next_by_subject(const fr_trust_store *t, uint32_t i) {
    uint64_t h = t->certs[i]->subject_hash;
    for (i = t->links[i].by_subject; i != FR_TRUST_END; i = t->links[i].by_subject)
        if (t->certs[i]->subject_hash == h) return i;
    return FR_TRUST_END;
}

uint32_t fr_trust_first_by_subject(const fr_trust_store *t, uint64_t name_hash) {
    if (t->n == 0) return FR_TRUST_END;
    uint32_t i = t->by_subject[slot_of(t, name_hash)].head;
    if (i == FR_TRUST_END || t->certs[i]->subject_hash == name_hash) return i;
    /* Another hash shares the slot: the next one of ours, if any. */
    for (i = t->links[i].by_subject; i != FR_TRUST_END; i = t->links[i].by_subject)
        if (t->certs[i]->subject_hash == name_hash) return i;
    return FR_TRUST_END;
}

static uint32_t ski_from(const fr_trust_store *t, uint32_t i, const uint8_t *id, size_t len) {
    for (; i != FR_TRUST_END; i = t->links[i].by_ski) {
        const fr_cert *c = t->certs[i];
        if (c->ski_len == len && memcmp(c->ski, id, len) == 0) return i;
    }
    return FR_TRUST_END;
}

uint32_t fr_trust_first_by_ski(const fr_trust_store *t, const uint8_t *id, size_t len) {
    if (t->n == 0 || id == NULL) return FR_TRUST_END;
    return ski_from(t, t->by_ski[slot_of(t, bytes_hash(id, len))].head, id, len);
}

uint32_t fr_trust_next_by_ski(const fr_trust_store *t, uint32_t i) {
    const fr_cert *c = t->certs[i];
    return ski_from(t, t->links[i].by_ski, c->ski, c->ski_len);
}

void fr_trust_truncate(fr_mem *m, fr_trust_store *t, size_t n0) {
    if (t->n <= n0) return;
    if (n0 == 0) {
        fr_trust_free(m, t); /* back to an empty store, arrays and all */
        return;
    }
    while (t->n > n0) fr_cert_free(m, t->certs[--t->n]);
    index_rebuild(t); /* rare (an addition undone): rebuilt, not unlinked */
}

/* Release a store's arrays (sized by its cap and n_slots; NULL ones are
 * skipped), not the anchors. */
static void free_arrays(fr_mem *m, const fr_trust_store *a) {
    fr_mem_free(m, a->certs, a->cap * sizeof(*a->certs));
    fr_mem_free(m, a->links, a->cap * sizeof(*a->links));
    fr_mem_free(m, a->by_subject, a->n_slots * sizeof(*a->by_subject));
    fr_mem_free(m, a->by_ski, a->n_slots * sizeof(*a->by_ski));
    fr_mem_free(m, a->by_der, a->n_slots * sizeof(*a->by_der));
}

void fr_trust_free(fr_mem *m, fr_trust_store *t) {
    while (t->n > 0) fr_cert_free(m, t->certs[--t->n]);
    free_arrays(m, t);
    fr_trust_init(t);
}

/* Double the capacity: new arrays, then the index rebuilt over them (one
 * slot per anchor of capacity keeps the chains short). */
static fr_err grow(fr_mem *m, fr_trust_store *t) {
    size_t ncap = t->cap ? t->cap * 2 : 16;
    /* Positions are uint32_t with FR_TRUST_END reserved. */
    FR_ENSURE(ncap < FR_TRUST_END && ncap <= SIZE_MAX / sizeof(fr_cert *) / 2,
              FERRULE_R_OUT_OF_MEMORY);
    fr_trust_store g = *t;
    g.cap = g.n_slots = ncap;
    g.certs = fr_mem_alloc(m, ncap * sizeof(*g.certs));
    g.links = fr_mem_alloc(m, ncap * sizeof(*g.links));
    g.by_subject = fr_mem_alloc(m, ncap * sizeof(*g.by_subject));
    g.by_ski = fr_mem_alloc(m, ncap * sizeof(*g.by_ski));
    g.by_der = fr_mem_alloc(m, ncap * sizeof(*g.by_der));
    if (g.certs == NULL || g.links == NULL || g.by_subject == NULL || g.by_ski == NULL ||
        g.by_der == NULL) {
        free_arrays(m, &g);
        return fr_mem_error(m, ncap * sizeof(*g.certs));
    }
    if (t->n) memcpy(g.certs, t->certs, t->n * sizeof(*g.certs));
    if (t->n) memcpy(g.links, t->links, t->n * sizeof(*g.links));
    free_arrays(m, t);
    *t = g;
    index_rebuild(t);
    return FR_OK;
}

/* Takes ownership of c.  Duplicates (same DER) are dropped: directories
 * such as /etc/ssl/certs hold each anchor under several names.  A
 * duplicate is in the chain of its DER's hash. */
static fr_err store_add(fr_mem *m, fr_trust_store *t, fr_cert *c) {
    uint64_t der_hash = bytes_hash(c->der, c->der_len);
    uint32_t i = t->n ? t->by_der[slot_of(t, der_hash)].head : FR_TRUST_END;
    for (; i != FR_TRUST_END; i = t->links[i].by_der) {
        const fr_cert *o = t->certs[i];
        if (o->der_len == c->der_len && memcmp(o->der, c->der, c->der_len) == 0) {
            fr_cert_free(m, c);
            return FR_OK;
        }
    }
    if (t->n == t->cap) {
        fr_err e = grow(m, t);
        if (e != FR_OK) {
            fr_cert_free(m, c);
            return e;
        }
    }
    t->certs[t->n] = c;
    t->links[t->n].der_hash = der_hash;
    index_add(t, (uint32_t)t->n);
    t->n++;
    return FR_OK;
}

fr_err fr_trust_add_der(fr_mem *m, fr_trust_store *t, const uint8_t *der, size_t len) {
    fr_cert *c;
    FR_TRY(fr_cert_parse_anchor(m, der, len, &c));
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
