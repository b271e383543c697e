/* key_update.c (ABI) - KeyUpdate configuration and counters
 * (RFC 8446 §4.6.3, §5.5); ferrule_conn_key_update is with the other send
 * half entry points in conn.c. */
#include "abi.h"

FERRULE_API int ferrule_config_set_key_update_interval(ferrule_config *cfg, uint64_t records) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    /* At least one record per key; never beyond the default, which is
     * already the most RFC 8446 §5.5 allows with margin (docs/key-update.md). */
    if (records == 0 || records > FR_KU_DEFAULT_INTERVAL)
        return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->ku.interval = records;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API uint64_t ferrule_conn_key_updates_sent(const ferrule_conn *c) {
    return c != NULL ? atomic_load(&c->ku.sent) : 0;
}

FERRULE_API uint64_t ferrule_conn_key_updates_received(const ferrule_conn *c) {
    return c != NULL ? atomic_load(&c->ku.received) : 0;
}
