/* clock.c - the connection's time, which the host passes in (engine.h).
 * Relaxed atomics: a plain value each half may update; nothing else is
 * ordered by it. */
#include "conn.h"

void fr_conn_set_time(fr_conn *c, int64_t now) {
    atomic_store_explicit(&c->now, now, memory_order_relaxed);
}

int64_t fr_conn_now(const fr_conn *c) {
    return atomic_load_explicit(&c->now, memory_order_relaxed);
}
