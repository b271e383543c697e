/*
 * harness.c - a dudect-style timing test of every secret-dependent
 * comparison or branch the library owns (docs/side-channel-review.md).
 *
 * Method (after Reparaz, Balasch and Verbauwhede, "Dude, is my code
 * constant time?", 2017; this is our own implementation of the method):
 * for each target two classes of input are prepared in advance (pools of
 * inputs per class, so the work done before a measurement is the same for
 * both classes); each measurement picks its class at random, copies an
 * input of that class into place (untimed), then times one call of the
 * smallest library unit that contains the secret-dependent operation with
 * the time-stamp counter (rdtsc between lfences; clock_gettime elsewhere).
 * The measurements feed Welch's t-test on the raw data, on the data
 * cropped at 100 percentiles of the first batch (1 - 0.5^(10 (i+1) / 100)),
 * as dudect does, and a second-order test (the squared distance from the
 * class mean).  The verdict is the largest |t| over the tests with at
 * least TM_MIN_PER_CLASS measurements of each class: above 4.5 the two
 * classes are told apart (a leak), below it they are not.
 *
 * Usage:
 *   timing_harness [--measurements N] [--write FILE] [TARGET...]
 *       the library's targets (default all), a table on stdout; --write
 *       replaces the table between <!-- timing:begin --> and
 *       <!-- timing:end --> in FILE.
 *   timing_harness --selftest [--measurements N] [--runs R]
 *       the synthetic leak and the constant-time control, R runs each:
 *       exit 0 only if every run puts the leak far above 4.5 (|t| >=
 *       TM_LEAK_MIN) and the constant-time function below 4.5.
 *   timing_harness --null [--measurements N] [TARGET...]
 *       the same, but both classes get class 0's inputs (an A/A test):
 *       the |t| the machine's noise alone gives.
 *   timing_harness --list
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "ferrule.h"
#include "conn.h"
#include "hs/ticket.h"
#include "record.h"
#include "../abi/src/replay.h"
#include "units.h"

#define TM_PERCENTILES 100
#define TM_TESTS (1 + TM_PERCENTILES + 1) /* raw, cropped, second order */
#define TM_MIN_PER_CLASS 1000
#define TM_THRESHOLD 4.5
#define TM_LEAK_MIN 50.0 /* the self-test's "far above 4.5" */
#define TM_BATCH 10000
#define TM_WARMUP 2000
#define TM_POOL 16 /* prepared inputs per class */

/* ---- timer ----------------------------------------------------------------- */

static inline uint64_t tm_now(void) {
#if defined(__x86_64__) || defined(__i386__)
    uint32_t lo, hi;
    __asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
    return (uint64_t)hi << 32 | lo;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static const char *tm_unit(void) {
#if defined(__x86_64__) || defined(__i386__)
    return "TSC cycles";
#else
    return "ns";
#endif
}

/* ---- Welch's t-test, online (Welford) -------------------------------------- */

typedef struct tm_ttest {
    double mean[2], m2[2], n[2];
} tm_ttest;

static void tt_push(tm_ttest *t, double x, int cls) {
    t->n[cls] += 1;
    double d = x - t->mean[cls];
    t->mean[cls] += d / t->n[cls];
    t->m2[cls] += d * (x - t->mean[cls]);
}

static double tt_value(const tm_ttest *t) {
    if (t->n[0] < 2 || t->n[1] < 2) return 0;
    double v0 = t->m2[0] / (t->n[0] - 1), v1 = t->m2[1] / (t->n[1] - 1);
    double den = sqrt(v0 / t->n[0] + v1 / t->n[1]);
    if (den == 0) return t->mean[0] == t->mean[1] ? 0 : INFINITY;
    return (t->mean[0] - t->mean[1]) / den;
}

/* ---- targets --------------------------------------------------------------- */

typedef struct tm_target {
    const char *name;
    const char *unit;    /* what one measurement times */
    const char *classes; /* class 0 vs class 1 */
    int same_outcome;    /* 0: the classes differ in outcome (docs say why) */
    int selftest;        /* one of --selftest's two, not a library target */
    void *(*setup)(void);
    void (*prepare)(void *st, int cls, uint32_t pick); /* untimed */
    void (*run)(void *st);                             /* timed */
    int (*check)(void *st, int cls); /* after a run, untimed: 1 if it did what cls expects */
    void (*teardown)(void *st);
} tm_target;

static void die(const char *what) {
    fprintf(stderr, "timing_harness: %s\n", what);
    exit(2);
}

static void *xcalloc(size_t n) {
    void *p = calloc(1, n);
    if (p == NULL) die("out of memory");
    return p;
}

static void rnd(void *p, size_t n) { randombytes_buf(p, n); }

static volatile uint64_t tm_sink;

/* -- self-test: a deliberate ~10x leak ---------------------------------------- */

typedef struct leak_st {
    unsigned iters;
} leak_st;

static void *leak_setup(void) { return xcalloc(sizeof(leak_st)); }
static void leak_prepare(void *p, int cls, uint32_t pick) {
    ((leak_st *)p)->iters = cls ? 1000u : 100u;
}
static void leak_run(void *p) {
    unsigned n = ((leak_st *)p)->iters;
    for (unsigned i = 0; i < n; i++) tm_sink += i;
}

/* -- self-test: CRYPTO_memcmp of equal-length buffers (equal vs random) ------- */

typedef struct cmp_st {
    uint8_t a[64], b[64];
    uint8_t pool[2][TM_POOL][64];
    int r;
} cmp_st;

static void *cmp_setup(void) {
    cmp_st *s = xcalloc(sizeof(*s));
    rnd(s->a, sizeof(s->a));
    for (int k = 0; k < TM_POOL; k++) {
        memcpy(s->pool[0][k], s->a, sizeof(s->a));
        rnd(s->pool[1][k], sizeof(s->a));
    }
    return s;
}
static void cmp_prepare(void *p, int cls, uint32_t pick) {
    cmp_st *s = p;
    memcpy(s->b, s->pool[cls][pick % TM_POOL], sizeof(s->b));
}
static void ctcmp_run(void *p) {
    cmp_st *s = p;
    s->r = CRYPTO_memcmp(s->a, s->b, sizeof(s->a));
}
static int cmp_check(void *p, int cls) { return (((cmp_st *)p)->r == 0) == (cls == 0); }

/* The control that must leak: an early-exit byte loop, the bug a compare
 * of a MAC or verify_data must not have, at the size of one (32 bytes). */
static void naive_run(void *p) {
    cmp_st *s = p;
    const volatile uint8_t *a = s->a, *b = s->b;
    size_t i = 0;
    while (i < 32 && a[i] == b[i]) i++;
    s->r = i != 32;
}

/* -- Finished (core/hs/finished.c: fr_check_finished) -------------------------- */

typedef struct fin_st {
    fr_conn *c;
    uint8_t base[32];
    uint8_t msg[32];
    uint8_t pool[2][TM_POOL][32];
    fr_err e;
} fin_st;

static void *fin_setup(void) {
    fin_st *s = xcalloc(sizeof(*s));
    s->c = xcalloc(sizeof(*s->c));
    s->c->ks.hash = FR_HASH_SHA256;
    s->c->ks.hlen = 32;
    rnd(s->base, sizeof(s->base));
    rnd(s->c->th_before, 32);
    uint8_t want[FR_MAX_HASH];
    if (fr_ks_finished(FR_HASH_SHA256, s->base, s->c->th_before, want) != FR_OK)
        die("fr_ks_finished");
    for (int k = 0; k < TM_POOL; k++) {
        memcpy(s->pool[0][k], want, 32);
        rnd(s->pool[1][k], 32);
    }
    return s;
}
static void fin_prepare(void *p, int cls, uint32_t pick) {
    fin_st *s = p;
    memcpy(s->msg, s->pool[cls][pick % TM_POOL], 32);
}
static void fin_run(void *p) {
    fin_st *s = p;
    fr_reader r = fr_reader_init(s->msg, 32);
    s->e = fr_check_finished(s->c, &r, s->base);
}
static int fin_check(void *p, int cls) {
    fr_err e = ((fin_st *)p)->e;
    return cls == 0 ? e == FR_OK : e == FERRULE_R_BAD_FINISHED;
}
static void fin_teardown(void *p) {
    fin_st *s = p;
    free(s->c);
    free(s);
}

/* -- PSK binder (core/hs/psk.c: check_binder) ------------------------------------ */

#define BINDER_PARTIAL 512
typedef struct bind_st {
    fr_conn *c;
    uint8_t psk[32];
    uint8_t msg[BINDER_PARTIAL + 2 + 1 + 32];
    uint8_t pool[2][TM_POOL][32];
    fr_err e;
} bind_st;

static void *bind_setup(void) {
    bind_st *s = xcalloc(sizeof(*s));
    s->c = xcalloc(sizeof(*s->c));
    s->c->suite = 0x1301;
    rnd(s->psk, sizeof(s->psk));
    rnd(s->msg, BINDER_PARTIAL);
    uint8_t *b = s->msg + BINDER_PARTIAL;
    b[0] = 0, b[1] = 33, b[2] = 32;
    s->c->cur_msg = s->msg;
    s->c->cur_msg_len = sizeof(s->msg);
    uint8_t th[FR_MAX_HASH], want[FR_MAX_HASH];
    if (fr_hash(FR_HASH_SHA256, s->msg, BINDER_PARTIAL, th) != FR_OK ||
        fr_ks_binder(FR_HASH_SHA256, s->psk, 32, th, want) != FR_OK)
        die("fr_ks_binder");
    for (int k = 0; k < TM_POOL; k++) {
        memcpy(s->pool[0][k], want, 32);
        rnd(s->pool[1][k], 32);
    }
    return s;
}
static void bind_prepare(void *p, int cls, uint32_t pick) {
    bind_st *s = p;
    memcpy(s->msg + BINDER_PARTIAL + 3, s->pool[cls][pick % TM_POOL], 32);
}
static void bind_run(void *p) {
    bind_st *s = p;
    s->e = tm_binder_check(s->c, s->msg + BINDER_PARTIAL, 35, s->psk, 32);
}
static int bind_check(void *p, int cls) {
    fr_err e = ((bind_st *)p)->e;
    return cls == 0 ? e == FR_OK : e == FERRULE_R_BAD_BINDER;
}
static void bind_teardown(void *p) {
    bind_st *s = p;
    free(s->c);
    free(s);
}

/* -- session ticket (core/hs/ticket.c: fr_ticket_open) ---------------------------- */

#define TICKET_STATE 200
#define TICKET_MAX (TICKET_STATE + 64)
typedef struct tick_st {
    ferrule_config *cfg;
    fr_conn *conn;
    size_t n;
    uint8_t t[TICKET_MAX];
    uint8_t pool[2][TM_POOL][TICKET_MAX];
    int r;
    int tag_position; /* classes: wrong first vs wrong last tag byte */
} tick_st;

static void *tick_setup_mode(int tag_position) {
    tick_st *s = xcalloc(sizeof(*s));
    s->tag_position = tag_position;
    if (ferrule_config_new(&s->cfg, FERRULE_ROLE_SERVER, NULL) != FERRULE_OK)
        die("ferrule_config_new");
    /* What fr_ticket_open uses of a connection: its config (the key ring),
     * its allocator and its ticket buffer (a server connection proper
     * needs a certificate, which the ticket does not). */
    s->conn = xcalloc(sizeof(*s->conn));
    s->conn->cfg = s->cfg;
    fr_mem_init(&s->conn->mem, NULL, SIZE_MAX);
    s->n = TICKET_STATE + tm_ticket_overhead();
    if (s->n > TICKET_MAX) die("ticket overhead");
    for (int k = 0; k < TM_POOL; k++) {
        uint8_t *t = s->pool[0][k];
        size_t pre = s->n - TICKET_STATE - FR_AEAD_TAG_LEN;
        rnd(t + pre, TICKET_STATE);
        if (tm_ticket_seal(s->cfg, t, TICKET_STATE) != FR_OK) die("ticket_seal");
        memcpy(s->pool[1][k], t, s->n);
        if (tag_position) {
            s->pool[0][k][s->n - FR_AEAD_TAG_LEN] ^= 0x01; /* the tag's first byte */
            s->pool[1][k][s->n - 1] ^= 0x01;               /* its last byte */
        } else {
            s->pool[1][k][s->n - 1] ^= 0x01; /* tampered: the tag's last byte */
        }
    }
    return s;
}
static void *tick_setup(void) { return tick_setup_mode(0); }
static void *tick_pos_setup(void) { return tick_setup_mode(1); }
static void tick_prepare(void *p, int cls, uint32_t pick) {
    tick_st *s = p;
    memcpy(s->t, s->pool[cls][pick % TM_POOL], s->n);
}
static void tick_run(void *p) {
    tick_st *s = p;
    fr_reader state;
    unsigned trials = 0;
    s->r = fr_ticket_open(s->conn, s->t, s->n, &state, &trials);
}
static int tick_check(void *p, int cls) {
    tick_st *s = p;
    int want = cls == 0 && !s->tag_position ? FR_TICKET_OPENED : FR_TICKET_BAD;
    return s->r == want;
}
static void tick_teardown(void *p) {
    tick_st *s = p;
    fr_ticket_forget(s->conn);
    fr_mem_free(&s->conn->mem, s->conn->resume.open_buf, s->conn->resume.open_cap);
    free(s->conn);
    ferrule_config_free(s->cfg);
    free(s);
}

/* -- HRR cookie (core/hs/hello_retry.c: fr_hrr_cookie_open) ------------------------- */

typedef struct ck_st {
    ferrule_config *cfg;
    size_t n;
    uint8_t c[FR_HRR_COOKIE_MAX];
    uint8_t pool[2][TM_POOL][FR_HRR_COOKIE_MAX];
    fr_err e;
    int tag_position;
} ck_st;

static void *ck_setup_mode(int tag_position) {
    ck_st *s = xcalloc(sizeof(*s));
    s->tag_position = tag_position;
    if (ferrule_config_new(&s->cfg, FERRULE_ROLE_SERVER, NULL) != FERRULE_OK)
        die("ferrule_config_new");
    for (int k = 0; k < TM_POOL; k++) {
        fr_hrr_cookie ck;
        memset(&ck, 0, sizeof(ck));
        ck.suite = 0x1301;
        ck.group = 0x001d;
        ck.hash_len = 32;
        rnd(ck.ch1_hash, 32);
        rnd(ck.digest, FR_HRR_DIGEST_LEN);
        ck.psk_state = FR_HRR_PSK_NONE;
        size_t n = 0;
        if (fr_hrr_cookie_seal(s->cfg, &ck, s->pool[0][k], FR_HRR_COOKIE_MAX, &n) != FR_OK)
            die("fr_hrr_cookie_seal");
        s->n = n;
        memcpy(s->pool[1][k], s->pool[0][k], n);
        /* The HMAC-SHA256 tag is the last 32 bytes. */
        if (tag_position) {
            s->pool[0][k][n - 32] ^= 0x01;
            s->pool[1][k][n - 1] ^= 0x01;
        } else {
            s->pool[1][k][n - 1] ^= 0x01;
        }
    }
    return s;
}
static void *ck_setup(void) { return ck_setup_mode(0); }
static void *ck_pos_setup(void) { return ck_setup_mode(1); }
static void ck_prepare(void *p, int cls, uint32_t pick) {
    ck_st *s = p;
    memcpy(s->c, s->pool[cls][pick % TM_POOL], s->n);
}
static void ck_run(void *p) {
    ck_st *s = p;
    fr_hrr_cookie out;
    s->e = fr_hrr_cookie_open(s->cfg, s->c, s->n, &out);
}
static int ck_check(void *p, int cls) {
    ck_st *s = p;
    return cls == 0 && !s->tag_position ? s->e == FR_OK : s->e == FERRULE_R_ILLEGAL_PARAMETER;
}
static void ck_teardown(void *p) {
    ck_st *s = p;
    ferrule_config_free(s->cfg);
    free(s);
}

/* -- records (core/record.c: fr_record_open) --------------------------------------- */

#define REC_INNER 1024 /* TLSInnerPlaintext bytes: content + type + padding */
#define REC_LEN (FR_RECORD_HEADER_LEN + REC_INNER + FR_AEAD_TAG_LEN)
/* Records per class: few enough that both pools stay in L1 with the AEAD
 * state (a class whose inputs evict the key schedule would time slower
 * for a reason that is the harness's, not the library's). */
#define REC_POOL 4
typedef enum { REC_TAG, REC_TAG_POSITION, REC_PADDING } rec_mode;
typedef struct rec_st {
    fr_aead w, r;
    rec_mode mode;
    uint8_t rec[REC_LEN];
    uint8_t pool[2][REC_POOL][REC_LEN];
    fr_err e;
    uint8_t type;
    size_t len;
} rec_st;

static void *rec_setup_mode(uint16_t suite, rec_mode mode) {
    rec_st *s = xcalloc(sizeof(*s));
    s->mode = mode;
    uint8_t secret[FR_MAX_HASH];
    rnd(secret, sizeof(secret));
    if (fr_aead_init(&s->w, suite, secret, 1) != FR_OK ||
        fr_aead_init(&s->r, suite, secret, 0) != FR_OK)
        die("fr_aead_init");
    for (int cls = 0; cls < 2; cls++) {
        for (int k = 0; k < REC_POOL; k++) {
            /* Padding: class 0 none (1023 content bytes), class 1 all
             * padding (no content); otherwise 1023 content bytes. */
            size_t len = mode == REC_PADDING && cls == 1 ? 0 : REC_INNER - 1;
            uint8_t content[REC_INNER];
            rnd(content, sizeof(content));
            size_t out_len = 0;
            s->w.seq = 0; /* every record under sequence number 0: opened as such */
            if (fr_record_seal(&s->w, FR_CT_APPLICATION_DATA, content, len, REC_INNER - 1 - len,
                               s->pool[cls][k], REC_LEN, &out_len) != FR_OK ||
                out_len != REC_LEN)
                die("fr_record_seal");
        }
    }
    for (int k = 0; k < REC_POOL; k++) {
        if (mode == REC_TAG) {
            s->pool[1][k][REC_LEN - 1] ^= 0x01;
        } else if (mode == REC_TAG_POSITION) {
            s->pool[0][k][REC_LEN - FR_AEAD_TAG_LEN] ^= 0x01;
            s->pool[1][k][REC_LEN - 1] ^= 0x01;
        }
    }
    return s;
}
static void *rec_tag_gcm(void) { return rec_setup_mode(0x1301, REC_TAG); }
static void *rec_pos_gcm(void) { return rec_setup_mode(0x1301, REC_TAG_POSITION); }
static void *rec_pos_chacha(void) { return rec_setup_mode(0x1303, REC_TAG_POSITION); }
static void *rec_pad_gcm(void) { return rec_setup_mode(0x1301, REC_PADDING); }
static void rec_prepare(void *p, int cls, uint32_t pick) {
    rec_st *s = p;
    memcpy(s->rec, s->pool[cls][pick % REC_POOL], REC_LEN);
    s->r.seq = 0;
}
static void rec_run(void *p) {
    rec_st *s = p;
    uint8_t *pt = NULL;
    s->e = fr_record_open(&s->r, s->rec, REC_LEN, &s->type, &pt, &s->len);
}
static int rec_check(void *p, int cls) {
    rec_st *s = p;
    if (s->mode == REC_PADDING)
        return s->e == FR_OK && s->type == FR_CT_APPLICATION_DATA &&
               s->len == (cls == 1 ? 0 : REC_INNER - 1);
    if (s->mode == REC_TAG && cls == 0) return s->e == FR_OK && s->len == REC_INNER - 1;
    return s->e == FERRULE_R_BAD_RECORD_MAC;
}
static void rec_teardown(void *p) {
    rec_st *s = p;
    fr_aead_free(&s->w);
    fr_aead_free(&s->r);
    free(s);
}

/* -- 0-RTT replay store (abi/src/replay.c: fr_bloom_check_and_insert) -------------- */

#define BLOOM_CAP 1024
typedef struct bloom_st {
    fr_mem m;
    fr_bloom *b;
    uint8_t key[FR_BLOOM_KEY_LEN];
    uint8_t pool[2][TM_POOL][FR_BLOOM_KEY_LEN];
    int r;
} bloom_st;

/* The store's probe positions (abi/src/replay.c: double hashing over the
 * key's first 16 bytes, k = 7, 64 * words bits), mirrored here to choose
 * misses by how many probes pass before the first clear bit. */
#define BLOOM_NBITS 16384u /* BLOOM_CAP * 10 bits, rounded up to a power of two */
static void bloom_probes(const uint8_t *key, size_t pos[7]) {
    uint64_t h1 = 0, h2 = 0;
    for (int i = 7; i >= 0; i--) h1 = h1 << 8 | key[i], h2 = h2 << 8 | key[8 + i];
    h2 |= 1u;
    for (unsigned i = 0; i < 7; i++) pos[i] = (size_t)((h1 + i * h2) & (BLOOM_NBITS - 1));
}

static void *bloom_setup_mode(int depth) {
    bloom_st *s = xcalloc(sizeof(*s));
    static uint8_t shadow[BLOOM_NBITS / 8];
    memset(shadow, 0, sizeof(shadow));
    fr_mem_init(&s->m, NULL, SIZE_MAX);
    if (fr_bloom_new(&s->m, BLOOM_CAP, 1000, 0, &s->b) != FR_OK) die("fr_bloom_new");
    /* Fill the store to its capacity: a miss is then refused (-1) without
     * an insertion, so both classes only look up. */
    for (int i = 0; i < BLOOM_CAP;) {
        uint8_t key[FR_BLOOM_KEY_LEN];
        rnd(key, sizeof(key));
        int r = fr_bloom_check_and_insert(s->b, key, 10, 1);
        if (r == 0) continue; /* a false positive: not inserted, draw another */
        if (r != 1) die("bloom fill");
        if (i < TM_POOL && !depth) memcpy(s->pool[0][i], key, sizeof(key));
        i++;
        size_t pos[7];
        bloom_probes(key, pos);
        for (int j = 0; j < 7; j++) shadow[pos[j] / 8] |= (uint8_t)(1u << (pos[j] % 8));
    }
    for (int cls = depth ? 0 : 1; cls < 2; cls++) {
        for (int k = 0; k < TM_POOL; k++) {
            /* depth: class 0 misses at the first probe, class 1 at the
             * last (the first six set); else any miss. */
            for (;;) {
                rnd(s->pool[cls][k], FR_BLOOM_KEY_LEN);
                size_t pos[7];
                bloom_probes(s->pool[cls][k], pos);
                int run = 0;
                while (run < 7 && shadow[pos[run] / 8] >> (pos[run] % 8) & 1) run++;
                if (run == 7) continue;
                if (!depth || run == (cls == 0 ? 0 : 6)) break;
            }
            if (fr_bloom_check_and_insert(s->b, s->pool[cls][k], 10, 1) != -1)
                die("bloom miss");
        }
    }
    return s;
}
static void *bloom_setup(void) { return bloom_setup_mode(0); }
static void *bloom_depth_setup(void) { return bloom_setup_mode(1); }
static void bloom_prepare(void *p, int cls, uint32_t pick) {
    bloom_st *s = p;
    memcpy(s->key, s->pool[cls][pick % TM_POOL], FR_BLOOM_KEY_LEN);
}
static void bloom_run(void *p) {
    bloom_st *s = p;
    s->r = fr_bloom_check_and_insert(s->b, s->key, 10, 1);
}
static int bloom_check(void *p, int cls) { return ((bloom_st *)p)->r == (cls == 0 ? 0 : -1); }
static int bloom_depth_check(void *p, int cls) { return ((bloom_st *)p)->r == -1; }
static void bloom_teardown(void *p) {
    bloom_st *s = p;
    fr_bloom_free(&s->m, s->b);
    free(s);
}

static const tm_target targets[] = {
    {"selftest-leak", "a loop of 100 vs 1000 additions", "100 iterations vs 1000", 1, 1,
     leak_setup, leak_prepare, leak_run, NULL, free},
    {"selftest-ct", "CRYPTO_memcmp of two 64-byte buffers", "equal vs random", 1, 1, cmp_setup,
     cmp_prepare, ctcmp_run, cmp_check, free},
    {"control-naive-compare", "an early-exit byte loop over 32 bytes (must leak)",
     "equal vs random", 1, 0, cmp_setup, cmp_prepare, naive_run, cmp_check, free},
    {"finished", "fr_check_finished (HMAC-SHA256 verify_data, then the compare)",
     "valid vs random verify_data", 1, 0, fin_setup, fin_prepare, fin_run, fin_check,
     fin_teardown},
    {"psk-binder", "check_binder (hash of 512 bytes, binder HMAC, compare)",
     "valid vs random binder", 1, 0, bind_setup, bind_prepare, bind_run, bind_check,
     bind_teardown},
    {"ticket", "fr_ticket_open (key lookup, HKDF, ChaCha20-Poly1305 open)",
     "valid vs tampered tag", 0, 0, tick_setup, tick_prepare, tick_run, tick_check,
     tick_teardown},
    {"ticket-tag-position", "fr_ticket_open", "tag wrong in its first vs its last byte", 1, 0,
     tick_pos_setup, tick_prepare, tick_run, tick_check, tick_teardown},
    {"hrr-cookie", "fr_hrr_cookie_open (HMAC-SHA256, compare, parse if authentic)",
     "valid vs tampered tag", 0, 0, ck_setup, ck_prepare, ck_run, ck_check, ck_teardown},
    {"hrr-cookie-tag-position", "fr_hrr_cookie_open", "tag wrong in its first vs its last byte",
     1, 0, ck_pos_setup, ck_prepare, ck_run, ck_check, ck_teardown},
    {"record-tag", "fr_record_open, AES-128-GCM, 1024-byte inner plaintext",
     "good vs bad tag", 0, 0, rec_tag_gcm, rec_prepare, rec_run, rec_check, rec_teardown},
    {"record-tag-position-gcm", "fr_record_open, AES-128-GCM",
     "tag wrong in its first vs its last byte", 1, 0, rec_pos_gcm, rec_prepare, rec_run,
     rec_check, rec_teardown},
    {"record-tag-position-chacha", "fr_record_open, ChaCha20-Poly1305",
     "tag wrong in its first vs its last byte", 1, 0, rec_pos_chacha, rec_prepare, rec_run,
     rec_check, rec_teardown},
    {"record-padding", "fr_record_open, AES-128-GCM, 1024-byte inner plaintext",
     "no padding (1023 content bytes) vs 1023 bytes of padding", 1, 0, rec_pad_gcm,
     rec_prepare, rec_run, rec_check, rec_teardown},
    {"replay-store", "fr_bloom_check_and_insert on a full store (lookup only)",
     "hit (seen key) vs miss (fresh key)", 0, 0, bloom_setup, bloom_prepare, bloom_run,
     bloom_check, bloom_teardown},
    {"replay-store-probe-depth", "fr_bloom_check_and_insert on a full store (lookup only)",
     "miss at the first vs at the last of the 7 probes", 1, 0, bloom_depth_setup, bloom_prepare,
     bloom_run, bloom_depth_check, bloom_teardown},
};
#define N_TARGETS (sizeof(targets) / sizeof(targets[0]))

/* ---- measuring ------------------------------------------------------------------- */

typedef struct tm_result {
    double max_t;      /* largest |t| over the tests with enough measurements */
    int max_test;      /* 0 raw, 1..100 cropped, 101 second order */
    double raw_t;      /* the uncropped test */
    double median[2];  /* per class */
    size_t n;          /* measurements */
} tm_result;

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const uint64_t *sorted, size_t n, double q) {
    size_t i = (size_t)(q * (double)n);
    if (i >= n) i = n - 1;
    return (double)sorted[i];
}

/* --null: both classes get class 0's inputs (an A/A test): what |t| the
 * harness reports on this machine when there is nothing to find. */
static int tm_null;

static int measure(const tm_target *t, size_t n, tm_result *res) {
    void *st = t->setup();
    uint64_t *times = malloc(n * sizeof(*times));
    uint8_t *cls = malloc(n);
    uint32_t *picks = malloc(n * sizeof(*picks));
    if (times == NULL || cls == NULL || picks == NULL) die("out of memory");
    rnd(cls, n);
    rnd(picks, n * sizeof(*picks));
    for (size_t i = 0; i < n; i++) cls[i] &= 1;
    /* Warm up (and check both classes do what they say, untimed). */
    for (size_t i = 0; i < TM_WARMUP; i++) {
        int c = (int)(i & 1);
        t->prepare(st, c, (uint32_t)i);
        t->run(st);
        if (t->check != NULL && !t->check(st, c)) {
            fprintf(stderr, "timing_harness: %s: class %d gave the wrong outcome\n", t->name, c);
            free(times), free(cls), free(picks);
            if (t->teardown) t->teardown(st);
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        t->prepare(st, tm_null ? 0 : cls[i], picks[i]);
        uint64_t a = tm_now();
        t->run(st);
        uint64_t b = tm_now();
        times[i] = b - a;
    }
    if (t->teardown) t->teardown(st);

    /* Percentile thresholds from the first batch (dudect's choice). */
    size_t first = n < TM_BATCH ? n : TM_BATCH;
    uint64_t *sorted = malloc(n * sizeof(*sorted));
    if (sorted == NULL) die("out of memory");
    memcpy(sorted, times, first * sizeof(*sorted));
    qsort(sorted, first, sizeof(*sorted), cmp_u64);
    double thr[TM_PERCENTILES];
    for (int i = 0; i < TM_PERCENTILES; i++)
        thr[i] = percentile(sorted, first,
                            1 - pow(0.5, 10.0 * (double)(i + 1) / TM_PERCENTILES));
    tm_ttest tests[TM_TESTS];
    memset(tests, 0, sizeof(tests));
    /* The first batch only sets the thresholds (and the class means of the
     * second-order test need a first estimate): the tests use the rest. */
    for (size_t i = first; i < n; i++) {
        double x = (double)times[i];
        int c = cls[i];
        if (tests[0].n[c] > 0) {
            double d = x - tests[0].mean[c];
            tt_push(&tests[TM_TESTS - 1], d * d, c);
        }
        tt_push(&tests[0], x, c);
        for (int p = 0; p < TM_PERCENTILES; p++)
            if (x < thr[p]) tt_push(&tests[1 + p], x, c);
    }
    res->n = n - first;
    res->max_t = 0;
    res->max_test = 0;
    for (int k = 0; k < TM_TESTS; k++) {
        if (tests[k].n[0] < TM_MIN_PER_CLASS || tests[k].n[1] < TM_MIN_PER_CLASS) continue;
        double v = fabs(tt_value(&tests[k]));
        if (v > res->max_t) res->max_t = v, res->max_test = k;
    }
    res->raw_t = fabs(tt_value(&tests[0]));
    for (int c = 0; c < 2; c++) {
        size_t m = 0;
        for (size_t i = first; i < n; i++)
            if (cls[i] == c) sorted[m++] = times[i];
        qsort(sorted, m, sizeof(*sorted), cmp_u64);
        res->median[c] = m > 0 ? (double)sorted[m / 2] : 0;
    }
    free(sorted), free(times), free(cls), free(picks);
    return 1;
}

static const char *test_name(int k, char *buf, size_t cap) {
    if (k == 0) return "raw";
    if (k == TM_TESTS - 1) return "2nd order";
    snprintf(buf, cap, "crop %.1f%%",
             100 * (1 - pow(0.5, 10.0 * (double)k / TM_PERCENTILES)));
    return buf;
}

static const char *verdict(const tm_target *t, const tm_result *r) {
    if (r->max_t <= TM_THRESHOLD) return "constant time";
    if (strncmp(t->name, "control", 7) == 0) return "leak (expected: a control)";
    return t->same_outcome ? "LEAK" : "differs (outcome-dependent work, see text)";
}

/* ---- output ---------------------------------------------------------------------- */

static void table_row(FILE *f, const tm_target *t, const tm_result *r) {
    char buf[32];
    fprintf(f, "| %s | %s | %s | %zu | %.2f (%s) | %.0f / %.0f | %s |\n", t->name, t->unit,
            t->classes, r->n, r->max_t, test_name(r->max_test, buf, sizeof(buf)), r->median[0],
            r->median[1], verdict(t, r));
}

static char *table_text(const size_t *which, size_t count, const tm_result *res, size_t n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) die("open_memstream");
    time_t now = time(NULL);
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(f, "Measured %s with `make timing` (timing_harness --measurements %zu), "
               "%zu measurements per target after the first batch of %d, times in %s "
               "(median per class).\n\n",
            date, n, n - (n < TM_BATCH ? n : TM_BATCH), TM_BATCH, tm_unit());
    fprintf(f, "| target | unit timed | class 0 vs class 1 | measurements | max \\|t\\| (test) "
               "| median 0 / 1 | verdict |\n");
    fprintf(f, "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < count; i++) table_row(f, &targets[which[i]], &res[i]);
    fclose(f);
    return buf;
}

static int write_into(const char *path, const char *table) {
    static const char *begin = "<!-- timing:begin -->", *end = "<!-- timing:end -->";
    FILE *f = fopen(path, "rb");
    if (f == NULL) return 0;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *doc = malloc((size_t)sz + 1);
    if (doc == NULL || fread(doc, 1, (size_t)sz, f) != (size_t)sz) die("read");
    doc[sz] = 0;
    fclose(f);
    char *b = strstr(doc, begin), *e = strstr(doc, end);
    if (b == NULL || e == NULL || e < b) {
        fprintf(stderr, "timing_harness: %s has no %s ... %s\n", path, begin, end);
        free(doc);
        return 0;
    }
    f = fopen(path, "wb");
    if (f == NULL) return 0;
    fwrite(doc, 1, (size_t)(b - doc) + strlen(begin), f);
    fprintf(f, "\n%s", table);
    fputs(e, f);
    fclose(f);
    free(doc);
    return 1;
}

static const tm_target *find(const char *name) {
    for (size_t i = 0; i < N_TARGETS; i++)
        if (strcmp(targets[i].name, name) == 0) return &targets[i];
    return NULL;
}

static int selftest(size_t n, int runs) {
    const tm_target *leak = find("selftest-leak"), *ct = find("selftest-ct");
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {0, 0};
    /* The verdict is the majority's: a shared machine can push one run of
     * the constant-time function past the threshold now and then (20
     * runs at load 17-23 gave 0.00..2.73, a make check run 3.32), and one
     * noisy run must not fail the suite; a harness that cannot tell the
     * two apart fails every run. */
    int leak_ok = 0, ct_ok = 0;
    for (int r = 0; r < runs; r++) {
        tm_result a, b;
        if (!measure(leak, n, &a) || !measure(ct, n, &b)) return 1;
        printf("run %d: leak |t| = %.1f (%zu measurements), CRYPTO_memcmp |t| = %.2f (%zu)\n",
               r + 1, a.max_t, a.n, b.max_t, b.n);
        leak_ok += a.max_t >= TM_LEAK_MIN;
        ct_ok += b.max_t <= TM_THRESHOLD;
        lo[0] = fmin(lo[0], a.max_t), hi[0] = fmax(hi[0], a.max_t);
        lo[1] = fmin(lo[1], b.max_t), hi[1] = fmax(hi[1], b.max_t);
    }
    int ok = 2 * leak_ok > runs && 2 * ct_ok > runs;
    printf("check-timing: %d run(s): leak |t| %.1f..%.1f (must be >= %.0f in most runs: %d), "
           "constant-time |t| %.2f..%.2f (must be <= %.1f in most runs: %d): %s\n",
           runs, lo[0], hi[0], TM_LEAK_MIN, leak_ok, lo[1], hi[1], TM_THRESHOLD, ct_ok,
           ok ? "told apart" : "NOT told apart");
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    size_t n = 1000000;
    int runs = 1, self = 0;
    const char *write = NULL;
    const char *names[N_TARGETS];
    size_t n_names = 0;
    if (sodium_init() < 0) die("sodium_init");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--measurements") == 0 && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end != 0 || v < 2 * TM_BATCH || v > 100000000ull)
                die("--measurements: a number from 20000 to 100000000");
            n = (size_t)v;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1 || runs > 1000) die("--runs: 1 to 1000");
        } else if (strcmp(argv[i], "--write") == 0 && i + 1 < argc) {
            write = argv[++i];
        } else if (strcmp(argv[i], "--null") == 0) {
            tm_null = 1;
        } else if (strcmp(argv[i], "--selftest") == 0) {
            self = 1;
        } else if (strcmp(argv[i], "--list") == 0) {
            for (size_t k = 0; k < N_TARGETS; k++)
                printf("%-28s %s: %s\n", targets[k].name, targets[k].unit, targets[k].classes);
            return 0;
        } else if (argv[i][0] != '-' && find(argv[i]) != NULL && n_names < N_TARGETS) {
            names[n_names++] = argv[i];
        } else {
            fprintf(stderr, "timing_harness: unknown argument %s (--list names the targets)\n",
                    argv[i]);
            return 2;
        }
    }
    if (self) return selftest(n, runs);

    size_t which[N_TARGETS], count = 0;
    for (size_t k = 0; k < N_TARGETS; k++) {
        int want = n_names == 0 ? !targets[k].selftest : 0;
        for (size_t j = 0; j < n_names; j++) want |= strcmp(names[j], targets[k].name) == 0;
        if (want) which[count++] = k;
    }
    tm_result res[N_TARGETS];
    int leaks = 0, blind = 0;
    for (size_t i = 0; i < count; i++) {
        const tm_target *t = &targets[which[i]];
        fprintf(stderr, "timing: %s ...\n", t->name);
        if (!measure(t, n, &res[i])) return 1;
        int control = strncmp(t->name, "control", 7) == 0;
        /* Classes of the same outcome told apart: a leak.  A control not
         * told apart: the harness cannot see a compare-sized leak here,
         * so its "constant time" verdicts mean nothing. */
        if (res[i].max_t > TM_THRESHOLD && t->same_outcome && !control) leaks++;
        if (res[i].max_t <= TM_THRESHOLD && control && !tm_null) blind++;
    }
    char *table = table_text(which, count, res, n);
    fputs(table, stdout);
    if (write != NULL && !write_into(write, table)) {
        free(table);
        return 1;
    }
    free(table);
    if (leaks) fprintf(stderr, "timing: %d target(s) above |t| = %.1f\n", leaks, TM_THRESHOLD);
    if (blind) fprintf(stderr, "timing: the control did not leak: the harness is blind here\n");
    return leaks || blind ? 1 : 0;
}
