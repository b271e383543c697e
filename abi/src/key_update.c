/* key_update.c (ABI) - KeyUpdate configuration and counters
 * (RFC 8446 §4.6.3, §5.5); ferrule_conn_key_update is with the other send
 * half entry points in conn.c. */
#include "abi.h"

FERRULE_API int ferrule_config_set_key_update_interval(ferrule_config *cfg, uint64_t records) {
    if (cfg == NULL) return FERRULE_USAGE;
    if (atomic_load(&cfg->frozen)) {
        cfg->reason = FERRULE_R_CONFIG_FROZEN;
        return FERRULE_USAGE;
    }
    /* At least one record per key; never beyond the default, which is
     * already the most RFC 8446 §5.5 allows with margin (docs/key-update.md). */
    if (records == 0 || records > FR_KU_DEFAULT_INTERVAL) {
        cfg->reason = FERRULE_R_CONFIG_INVALID;
        return FERRULE_USAGE;
    }
    cfg->ku.interval = records;
    cfg->reason = FR_OK;
    return FERRULE_OK;
}

FERRULE_API uint64_t ferrule_conn_key_updates_sent(const ferrule_conn *c) {
    return c != NULL ? atomic_load(&c->ku.sent) : 0;
}

FERRULE_API uint64_t ferrule_conn_key_updates_received(const ferrule_conn *c) {
    return c != NULL ? atomic_load(&c->ku.received) : 0;
}
