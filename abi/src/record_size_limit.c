/* record_size_limit.c (ABI) - RFC 8449: the negotiated
 * value (docs/record-size-limit.md). */
#include "abi.h"

FERRULE_API uint32_t ferrule_conn_peer_record_size_limit(const ferrule_conn *c) {
    /* send_limit is set once both sides sent the extension, and only then. */
    return c != NULL ? c->rsl.send_limit : 0;
}
