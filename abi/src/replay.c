/*
 * replay.c (ABI) - the built-in 0-RTT replay store: a pair of Bloom
 * filters that rotate every `period` seconds (RFC 8446 §8).  It answers
 * the core's REPLAY decisions (abi/src/decisions.c) for a server without a
 * store of its own; it is shared by every connection of a config, hence
 * its lock, which is why it lives here and not in the sans-I/O core.
 *
 * An entry inserted into the current generation survives one rotation (it
 * moves to the previous generation) and is dropped at the second, so it is
 * remembered for at least one full period.  An entry whose expiry lies
 * more than one period ahead cannot be kept that long and is refused
 * (-1), as is any insertion once the current generation holds `capacity`
 * entries: the store fails closed (0-RTT refused, 1-RTT continues), it
 * never forgets early.
 *
 * Shape: nbits = the power of two >= 10 * capacity bits per generation,
 * k = 7 probes by double hashing over the 32-byte key (itself a SHA-256
 * output over ticket or binder bytes the attacker cannot choose).  At
 * capacity the false-positive rate of one generation is at most
 * (1 - e^(-7/10))^7 = 0.82%; both generations are queried, so at most
 * 1.64%.  A false positive refuses 0-RTT for a fresh ClientHello; it never
 * accepts a replay.  docs/early-data.md; measured in test_early_data.
 */
#include "replay.h"

#include <pthread.h>
#include <string.h>

#define BLOOM_K 7u
#define BLOOM_BITS_PER_ENTRY 10u

struct fr_bloom {
    pthread_mutex_t lock;
    uint64_t *bits[2]; /* [0] current generation, [1] previous */
    size_t words;      /* per generation; nbits = 64 * words, a power of two */
    size_t count[2];
    size_t capacity;
    int64_t started; /* start of the current generation */
    int64_t period;
};

fr_err fr_bloom_new(fr_mem *m, size_t capacity, int64_t period, int64_t now, fr_bloom **out) {
    *out = NULL;
    /* (The caller bounds the capacity: FR_EARLY_MAX_CAPACITY.) */
    FR_ENSURE(capacity >= 1 && capacity <= SIZE_MAX / (2 * BLOOM_BITS_PER_ENTRY) && period > 0,
              FERRULE_R_CONFIG_INVALID);
    size_t nbits = 64;
    while (nbits < capacity * BLOOM_BITS_PER_ENTRY) nbits *= 2;
    fr_bloom *b = fr_mem_alloc(m, sizeof(*b));
    FR_ENSURE(b != NULL, fr_mem_error(m, sizeof(*b)));
    memset(b, 0, sizeof(*b));
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        fr_mem_free(m, b, sizeof(*b));
        return FERRULE_R_INTERNAL;
    }
    b->words = nbits / 64;
    for (int g = 0; g < 2; g++) {
        b->bits[g] = fr_mem_alloc(m, b->words * sizeof(uint64_t));
        if (b->bits[g] == NULL) {
            fr_err e = fr_mem_error(m, b->words * sizeof(uint64_t));
            fr_bloom_free(m, b);
            return e;
        }
        memset(b->bits[g], 0, b->words * sizeof(uint64_t));
    }
    b->capacity = capacity;
    b->period = period;
    b->started = now;
    *out = b;
    return FR_OK;
}

void fr_bloom_free(fr_mem *m, fr_bloom *b) {
    if (b == NULL) return;
    for (int g = 0; g < 2; g++)
        if (b->bits[g] != NULL) fr_mem_free(m, b->bits[g], b->words * sizeof(uint64_t));
    pthread_mutex_destroy(&b->lock);
    fr_mem_free(m, b, sizeof(*b));
}

void fr_bloom_shape(const fr_bloom *b, size_t *nbits, unsigned *k) {
    *nbits = b->words * 64;
    *k = BLOOM_K;
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Probe positions by double hashing: h1 + i * h2 (h2 odd, so the k probes
 * are distinct in a power-of-two table). */
static void probes(const fr_bloom *b, const uint8_t *key, size_t pos[BLOOM_K]) {
    uint64_t h1 = le64(key), h2 = le64(key + 8) | 1u;
    uint64_t mask = (uint64_t)b->words * 64u - 1u;
    for (unsigned i = 0; i < BLOOM_K; i++) pos[i] = (size_t)((h1 + i * h2) & mask);
}

/* Every probe, both generations, no early exit: a lookup takes the same
 * time whether the key was seen or not (timing/harness.c, replay-store).
 * The keys are hashes of bytes the client sent in the clear, so this hides
 * nothing secret; it keeps the lookup from telling, through its time, how
 * many of a fresh key's probes other entries have set. */
static int has(const uint64_t *bits, const size_t pos[BLOOM_K]) {
    uint64_t all = 1;
    for (unsigned i = 0; i < BLOOM_K; i++) all &= bits[pos[i] / 64] >> (pos[i] % 64);
    return (int)(all & 1u);
}

static void rotate(fr_bloom *b, int64_t now) {
    if (now < b->started + b->period) return;
    size_t bytes = b->words * sizeof(uint64_t);
    if (now >= b->started + 2 * b->period) {
        /* Two periods passed: everything is older than a period. */
        memset(b->bits[1], 0, bytes);
        b->count[1] = 0;
    } else {
        uint64_t *t = b->bits[1];
        b->bits[1] = b->bits[0];
        b->count[1] = b->count[0];
        b->bits[0] = t;
    }
    memset(b->bits[0], 0, bytes);
    b->count[0] = 0;
    /* Generations start on period boundaries, so the guarantee holds
     * however late the first insertion after a rotation comes. */
    b->started = now - (now - b->started) % b->period;
}

int fr_bloom_check_and_insert(fr_bloom *b, const uint8_t key[FR_BLOOM_KEY_LEN], int64_t expires,
                              int64_t now) {
    size_t pos[BLOOM_K];
    probes(b, key, pos);
    pthread_mutex_lock(&b->lock);
    /* A clock that went backwards keeps the current generation. */
    rotate(b, now);
    int r;
    /* The entry must outlive its expiry: it lives at least until
     * started + 2 * period > now + period. */
    int seen = has(b->bits[0], pos) | has(b->bits[1], pos);
    if (seen) {
        r = 0;
    } else if (expires > b->started + 2 * b->period || b->count[0] >= b->capacity) {
        r = -1;
    } else {
        for (unsigned i = 0; i < BLOOM_K; i++) b->bits[0][pos[i] / 64] |= (uint64_t)1 << (pos[i] % 64);
        b->count[0]++;
        r = 1;
    }
    pthread_mutex_unlock(&b->lock);
    return r;
}
