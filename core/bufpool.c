/*
 * bufpool.c - record buffers and their reuse across idle periods
 * (docs/buffers.md, "Buffer reuse").
 *
 * A connection gives its input buffer back when it is empty after the
 * handshake, and its output buffer once drained, so that an idle
 * connection holds neither.  The buffers go to a few slots in the config
 * rather than to the allocator: the next record (of this connection or
 * another of the config) takes one back without an allocation, so a
 * connection in steady traffic allocates nothing however often it drains.
 *
 * What a buffer held stays its connection's: behind the FR_POOL_BUF bytes
 * the connection uses, each buffer carries a tag with its owner and how
 * many leading bytes it wrote.  The owner takes it back as it is; any other
 * connection gets it with those bytes wiped first (input_buf would lend
 * them otherwise).  A connection being freed wipes its input buffer as it
 * gives it back, and the content of its own that still waits in the pool
 * in buffers it gave back before (fr_buf_pool_forget): nothing it
 * received outlives it (docs/secrets.md).
 */
#include "conn.h"

typedef struct fr_buf_tag {
    uint64_t owner; /* fr_conn.pool_id; 0: nobody's */
    size_t used;    /* leading bytes holding the owner's content */
} fr_buf_tag;

#define ALLOC_LEN (FR_POOL_BUF + sizeof(fr_buf_tag))

/* The tag sits at an odd offset (FR_POOL_BUF is 16,645): copied, never
 * dereferenced in place. */
static fr_buf_tag tag_get(const uint8_t *p) {
    fr_buf_tag t;
    memcpy(&t, p + FR_POOL_BUF, sizeof(t));
    return t;
}

static void tag_set(uint8_t *p, uint64_t owner, size_t used) {
    fr_buf_tag t = {owner, used};
    memcpy(p + FR_POOL_BUF, &t, sizeof(t));
}

/* Move `n` accounted bytes into `m`, within its ceiling. */
static int charge(fr_mem *m, size_t n) {
    size_t cur = atomic_load(&m->used);
    do {
        if (m->limit != 0 && (n > m->limit || cur > m->limit - n)) return 0;
    } while (!atomic_compare_exchange_weak(&m->used, &cur, cur + n));
    size_t now = cur + n, peak = atomic_load(&m->peak);
    while (peak < now && !atomic_compare_exchange_weak(&m->peak, &peak, now)) {
    }
    return 1;
}

static uint64_t pool_id(fr_conn *c) {
    /* Tags are unique per config for its lifetime: a connection freed and
     * another allocated at the same address never share one. */
    if (c->pool_id == 0) c->pool_id = atomic_fetch_add(&c->cfg->pool.ids, 1) + 1;
    return c->pool_id;
}

static uint8_t *pool_take(fr_config *cfg) {
    for (size_t i = 0; i < FR_POOL_SLOTS; i++) {
        if (atomic_load_explicit(&cfg->pool.slot[i], memory_order_relaxed) == NULL) continue;
        uint8_t *p = atomic_exchange(&cfg->pool.slot[i], NULL);
        if (p != NULL) return p;
    }
    return NULL;
}

uint8_t *fr_buf_get(fr_conn *c, size_t *used, fr_err *e) {
    *used = 0;
    fr_config *cfg = c->cfg;
    uint8_t *p = pool_take(cfg);
    if (p != NULL) {
        fr_buf_tag t = tag_get(p);
        if (!charge(&c->mem, ALLOC_LEN)) {
            *e = FERRULE_R_MEMORY_LIMIT;
            /* Back where it was, as it was (someone else's to wipe). */
            for (size_t i = 0; i < FR_POOL_SLOTS; i++) {
                uint8_t *none = NULL;
                if (atomic_compare_exchange_strong(&cfg->pool.slot[i], &none, p)) return NULL;
            }
            fr_wipe(p, t.used);
            atomic_fetch_sub(&cfg->pool.bytes, ALLOC_LEN);
            fr_mem_free_public(&cfg->mem, p, ALLOC_LEN);
            return NULL;
        }
        atomic_fetch_sub(&cfg->pool.bytes, ALLOC_LEN);
        atomic_fetch_sub(&cfg->mem.used, ALLOC_LEN);
        if (t.owner == pool_id(c)) {
            *used = t.used;
        } else {
            fr_wipe(p, t.used); /* another connection's content */
        }
        return p;
    }
    p = fr_mem_alloc(&c->mem, ALLOC_LEN); /* zeroed: input_buf lends its tail */
    if (p == NULL) {
        *e = fr_mem_error(&c->mem, ALLOC_LEN);
        return NULL;
    }
    return p;
}

void fr_buf_free(fr_conn *c, uint8_t *p, size_t used) {
    if (p == NULL) return;
    fr_wipe(p, used);
    fr_mem_free_public(&c->mem, p, ALLOC_LEN);
}

void fr_buf_put(fr_conn *c, uint8_t *p, size_t used) {
    if (p == NULL) return;
    fr_config *cfg = c->cfg;
    tag_set(p, pool_id(c), used);
    /* Counted in the config while it waits there (never against the
     * config's nonexistent ceiling: a slot is only ever this size). */
    atomic_fetch_add(&cfg->mem.used, ALLOC_LEN);
    atomic_fetch_add(&cfg->pool.bytes, ALLOC_LEN);
    atomic_fetch_sub(&c->mem.used, ALLOC_LEN);
    for (size_t i = 0; i < FR_POOL_SLOTS; i++) {
        uint8_t *none = NULL;
        /* The exchange publishes the tag with the buffer. */
        if (atomic_compare_exchange_strong(&cfg->pool.slot[i], &none, p)) return;
    }
    atomic_fetch_sub(&cfg->pool.bytes, ALLOC_LEN);
    atomic_fetch_sub(&cfg->mem.used, ALLOC_LEN);
    atomic_fetch_add(&c->mem.used, ALLOC_LEN);
    fr_buf_free(c, p, used); /* every slot taken */
}

void fr_buf_pool_drain(fr_config *cfg) {
    for (size_t i = 0; i < FR_POOL_SLOTS; i++) {
        uint8_t *p = atomic_exchange(&cfg->pool.slot[i], NULL);
        if (p == NULL) continue;
        fr_wipe(p, tag_get(p).used);
        atomic_fetch_sub(&cfg->pool.bytes, ALLOC_LEN);
        fr_mem_free_public(&cfg->mem, p, ALLOC_LEN);
    }
}

void fr_buf_pool_forget(fr_conn *c) {
    if (c->pool_id == 0) return; /* it never gave a buffer back */
    fr_config *cfg = c->cfg;
    for (size_t i = 0; i < FR_POOL_SLOTS; i++) {
        uint8_t *p = atomic_exchange(&cfg->pool.slot[i], NULL);
        if (p == NULL) continue;
        fr_buf_tag t = tag_get(p);
        if (t.owner == c->pool_id) {
            fr_wipe(p, t.used);
            tag_set(p, 0, 0);
        }
        /* Back into the pool (a slot another connection filled meanwhile
         * leaves it to the allocator). */
        uint8_t *none = NULL;
        if (atomic_compare_exchange_strong(&cfg->pool.slot[i], &none, p)) continue;
        fr_wipe(p, tag_get(p).used);
        atomic_fetch_sub(&cfg->pool.bytes, ALLOC_LEN);
        fr_mem_free_public(&cfg->mem, p, ALLOC_LEN);
    }
}

size_t fr_buf_pool_bytes(const fr_config *cfg) { return atomic_load(&cfg->pool.bytes); }
