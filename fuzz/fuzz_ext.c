/*
 * fuzz_ext.c - every extension parser the library has, each through the
 * message that carries it: a valid message from a template, with one
 * extension's body replaced by (or, if the template lacks it, added as)
 * the fuzz input, dispatched with fr_dispatch (fuzz_hs.h) to the handler
 * that parses it.
 *
 * Input: byte 0 picks (message, extension type) from SLOTS (modulo its
 * size), the rest is the extension body.
 *
 * Templates (built once, deterministic streams): the fuzz client's
 * ClientHello (to a fresh fuzz server); the fuzz server's ServerHello to it
 * (to the fuzz client, whose key shares it answers); a HelloRetryRequest
 * (supported_versions, key_share secp384r1); after the real ServerHello:
 * EncryptedExtensions (the fuzzed extension alone), CertificateRequest
 * (signature_algorithms ecdsa_secp256r1_sha256 + the fuzzed one), the
 * server Certificate (the embedded leaf, the fuzzed extension in its entry,
 * status_request asked for); NewSessionTicket on a connected client.
 * Checks: every result is a known reason (fuzz_hs_dispatch), and the
 * unmodified template is accepted (the self-test each run starts with), so
 * a mutation's refusal is the extension's doing.
 */
#include "fuzz_hs.h"

enum { CH, SH, HRR, EE, CR, CERT, NST };

static const struct slot {
    int msg;
    uint16_t type;
} SLOTS[] = {
    {CH, 0},   {CH, 5},   {CH, 10},  {CH, 13},  {CH, 16},  {CH, 28},     {CH, 41},
    {CH, 42},  {CH, 43},  {CH, 44},  {CH, 45},  {CH, 47},  {CH, 49},     {CH, 50},
    {CH, 51},  {CH, 0x3a3a},
    {SH, 41},  {SH, 43},  {SH, 51},  {SH, 28},
    {HRR, 43}, {HRR, 44}, {HRR, 51},
    {EE, 0},   {EE, 10},  {EE, 16},  {EE, 28},  {EE, 42},
    {CR, 13},  {CR, 47},  {CR, 50},  {CR, 5},
    {CERT, 5},
    {NST, 42},
};
#define N_SLOTS (sizeof(SLOTS) / sizeof(SLOTS[0]))

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *v, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        FUZZ_CHECK(q != NULL);
        b->p = q;
        b->cap = cap;
    }
    if (n > 0) memcpy(b->p + b->n, v, n);
    b->n += n;
}
static void put8(buf *b, unsigned v) {
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}
static void put16(buf *b, unsigned v) {
    put8(b, v >> 8);
    put8(b, v);
}
static void put24(buf *b, size_t v) {
    put8(b, (unsigned)(v >> 16));
    put16(b, (unsigned)v);
}
static void put_ext(buf *b, uint16_t type, const uint8_t *body, size_t n) {
    put16(b, type);
    put16(b, (unsigned)n);
    put(b, body, n);
}

/* An extension block (its content, no length) with the extension of type
 * `t` replaced by body[0..n), or added before pre_shared_key / at the end. */
static void rewrite_block(buf *out, const uint8_t *blk, size_t len, uint16_t t,
                          const uint8_t *body, size_t n) {
    int done = 0;
    size_t i = 0;
    while (i + 4 <= len) {
        uint16_t ty = (uint16_t)(blk[i] << 8 | blk[i + 1]);
        size_t l = (size_t)blk[i + 2] << 8 | blk[i + 3];
        FUZZ_CHECK(i + 4 + l <= len);
        if (ty == t || (ty == 41 && !done)) {
            if (!done) put_ext(out, t, body, n);
            done = 1;
            if (ty == t) {
                i += 4 + l;
                continue;
            }
        }
        put(out, blk + i, 4 + l);
        i += 4 + l;
    }
    if (!done) put_ext(out, t, body, n);
}

/* A hello body = fixed part || u16 block; split at the block. */
static void hello_with(buf *out, const buf *tmpl, size_t fixed, uint16_t t, const uint8_t *body,
                       size_t n) {
    put(out, tmpl->p, fixed);
    buf blk = {0};
    rewrite_block(&blk, tmpl->p + fixed + 2, tmpl->n - fixed - 2, t, body, n);
    put16(out, (unsigned)blk.n);
    put(out, blk.p, blk.n);
    free(blk.p);
}

static buf ch_tmpl, sh_tmpl;
static size_t ch_fixed, sh_fixed;

/* The first handshake message of the first record in out[0..n). */
static void first_message(const uint8_t *out, size_t n, uint8_t type, buf *b) {
    FUZZ_CHECK(n >= 9 && out[0] == 0x16 && out[5] == type);
    size_t l = (size_t)out[6] << 16 | (size_t)out[7] << 8 | out[8];
    FUZZ_CHECK(9 + l <= n);
    put(b, out + 9, l);
}

static void templates(void) {
    static uint8_t o[32768];
    if (ch_tmpl.n > 0) return;
    (void)fuzz_server_config();
    (void)fuzz_client_config();
    fuzz_rng_reset();
    fuzz_rng_select(FUZZ_RNG_CLIENT);
    ferrule_conn *cl = fuzz_client_conn();
    FUZZ_CHECK(ferrule_conn_handshake(cl) == FERRULE_WANT_READ);
    size_t n = 0;
    FUZZ_CHECK(ferrule_conn_take(cl, o, sizeof(o), &n) == FERRULE_OK);
    first_message(o, n, 1, &ch_tmpl);
    fuzz_rng_select(FUZZ_RNG_SERVER);
    ferrule_conn *sv = fuzz_server_conn();
    size_t used = 0;
    FUZZ_CHECK(ferrule_conn_feed(sv, o, n, &used) == FERRULE_OK && used == n);
    int s = ferrule_conn_handshake(sv);
    FUZZ_CHECK(s == FERRULE_WANT_READ || s == FERRULE_WANT_WRITE);
    size_t m = 0;
    FUZZ_CHECK(ferrule_conn_take(sv, o, sizeof(o), &m) == FERRULE_OK);
    first_message(o, m, 2, &sh_tmpl);
    ferrule_conn_free(sv);
    ferrule_conn_free(cl);
    /* legacy_version, random, session id, then suites + compression
     * (ClientHello) or suite + compression (ServerHello). */
    size_t k = 2 + 32;
    k += 1 + ch_tmpl.p[k];
    k += 2 + ((size_t)ch_tmpl.p[k] << 8 | ch_tmpl.p[k + 1]);
    k += 1 + ch_tmpl.p[k];
    ch_fixed = k;
    k = 2 + 32;
    k += 1 + sh_tmpl.p[k];
    sh_fixed = k + 3;
}

static const uint8_t HRR_RANDOM[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* A client that got the template ServerHello: WAIT_ENCRYPTED_EXTENSIONS. */
static fr_conn *client_after_sh(void) {
    fr_conn *c = fuzz_hs_client_after_hello();
    FUZZ_CHECK(fuzz_hs_dispatch(c, 2, sh_tmpl.p, sh_tmpl.n) == FR_OK);
    FUZZ_CHECK(c->state == FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS);
    return c;
}

static fr_err run(const struct slot *sl, const uint8_t *b, size_t n) {
    buf m = {0};
    fr_conn *c = NULL;
    fr_err e = FR_OK;
    switch (sl->msg) {
    case CH: {
        fuzz_rng_reset();
        fuzz_rng_select(FUZZ_RNG_SERVER);
        c = fuzz_server_conn();
        FUZZ_CHECK(ferrule_conn_handshake(c) == FERRULE_WANT_READ);
        if (b == NULL)
            put(&m, ch_tmpl.p, ch_tmpl.n);
        else
            hello_with(&m, &ch_tmpl, ch_fixed, sl->type, b, n);
        e = fuzz_hs_dispatch(c, 1, m.p, m.n);
        break;
    }
    case SH:
        c = fuzz_hs_client_after_hello();
        if (b == NULL)
            put(&m, sh_tmpl.p, sh_tmpl.n);
        else
            hello_with(&m, &sh_tmpl, sh_fixed, sl->type, b, n);
        e = fuzz_hs_dispatch(c, 2, m.p, m.n);
        break;
    case HRR: {
        c = fuzz_hs_client_after_hello();
        buf t = {0};
        put(&t, sh_tmpl.p, 2);
        put(&t, HRR_RANDOM, 32);
        put(&t, sh_tmpl.p + 34, sh_fixed - 34 - 3);
        put16(&t, 0x1301);
        put8(&t, 0);
        static const uint8_t sv[] = {0x03, 0x04}, ks[] = {0x00, 0x18};
        buf blk = {0};
        put_ext(&blk, 43, sv, 2);
        put_ext(&blk, 51, ks, 2);
        put16(&t, (unsigned)blk.n);
        put(&t, blk.p, blk.n);
        free(blk.p);
        if (b == NULL)
            put(&m, t.p, t.n);
        else
            hello_with(&m, &t, sh_fixed, sl->type, b, n);
        free(t.p);
        e = fuzz_hs_dispatch(c, 2, m.p, m.n);
        break;
    }
    case EE:
        c = client_after_sh();
        if (b == NULL) {
            put16(&m, 0);
        } else {
            put16(&m, (unsigned)(4 + n));
            put_ext(&m, sl->type, b, n);
        }
        e = fuzz_hs_dispatch(c, 8, m.p, m.n);
        break;
    case CR: {
        c = client_after_sh();
        static const uint8_t empty[2] = {0, 0};
        FUZZ_CHECK(fuzz_hs_dispatch(c, 8, empty, 2) == FR_OK);
        static const uint8_t sigs[] = {0x00, 0x02, 0x04, 0x03};
        buf blk = {0};
        if (b == NULL || sl->type != 13) put_ext(&blk, 13, sigs, sizeof(sigs));
        if (b != NULL) put_ext(&blk, sl->type, b, n);
        put8(&m, 0);
        put16(&m, (unsigned)blk.n);
        put(&m, blk.p, blk.n);
        free(blk.p);
        e = fuzz_hs_dispatch(c, 13, m.p, m.n);
        break;
    }
    case CERT: {
        c = client_after_sh();
        c->sent_status_request = 1;
        static const uint8_t empty[2] = {0, 0};
        FUZZ_CHECK(fuzz_hs_dispatch(c, 8, empty, 2) == FR_OK);
        size_t dl;
        const uint8_t *der = fuzz_leaf_der(&dl);
        buf list = {0};
        put24(&list, dl);
        put(&list, der, dl);
        if (b == NULL) {
            put16(&list, 0);
        } else {
            put16(&list, (unsigned)(4 + n));
            put_ext(&list, sl->type, b, n);
        }
        put8(&m, 0);
        put24(&m, list.n);
        put(&m, list.p, list.n);
        free(list.p);
        e = fuzz_hs_dispatch(c, 11, m.p, m.n);
        break;
    }
    default: { /* NST */
        c = fuzz_hs_client_after_hello();
        fuzz_hs_suite(c, 0x1301, FR_HASH_SHA256, 32);
        fuzz_hs_at(c, FERRULE_HS_CONNECTED);
        static const uint8_t head[] = {0, 0, 0x0e, 0x10, 1, 2, 3, 4, 1, 0, 0, 4, 't', 'k', 't', '!'};
        put(&m, head, sizeof(head));
        if (b == NULL) {
            put16(&m, 0);
        } else {
            put16(&m, (unsigned)(4 + n));
            put_ext(&m, sl->type, b, n);
        }
        e = fuzz_hs_dispatch(c, 4, m.p, m.n);
        break;
    }
    }
    free(m.p);
    ferrule_conn_free(c);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 0xfff0) return 0;
    templates();
    const struct slot *sl = &SLOTS[data[0] % N_SLOTS];
    static int checked[N_SLOTS];
    size_t i = (size_t)(sl - SLOTS);
    if (!checked[i]) {
        /* The template itself is accepted (Certificate: the chain verifies
         * without a staple, which we asked for but do not require). */
        fr_err t = run(sl, NULL, 0);
        if (t != FR_OK) fprintf(stderr, "fuzz_ext: template %zu: %s\n", i, fr_reason_name(t));
        FUZZ_CHECK(t == FR_OK);
        checked[i] = 1;
    }
    (void)run(sl, data + 1, size - 1);
    return 0;
}
