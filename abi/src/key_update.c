/* key_update.c (ABI) - KeyUpdate counters
 * (RFC 8446 §4.6.3, §5.5); ferrule_conn_key_update is with the other send
 * half entry points in conn.c. */
#include "abi.h"

FERRULE_API uint64_t ferrule_conn_key_updates_sent(const ferrule_conn *c) {
    return c != NULL ? atomic_load(&c->ku.sent) : 0;
}

FERRULE_API uint64_t ferrule_conn_key_updates_received(const ferrule_conn *c) {
    return c != NULL ? atomic_load(&c->ku.received) : 0;
}
