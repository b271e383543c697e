/*
 * config_host.c - what the host's loaders (abi/src/trust_files.c) need of a
 * config: memory accounted to it, and trust anchors from bytes.  The host
 * reads files and directories; the engine only ever sees their content.
 */
#include "conn.h"

fr_err fr_config_mem_alloc(fr_config *cfg, size_t n, void **out) {
    *out = fr_mem_alloc(&cfg->mem, n);
    return *out != NULL ? FR_OK : fr_mem_error(&cfg->mem, n);
}

void fr_config_mem_free(fr_config *cfg, void *p, size_t n) { fr_mem_free(&cfg->mem, p, n); }

fr_err fr_config_trust_add_bytes(fr_config *cfg, const uint8_t *p, size_t n) {
    return fr_trust_add_blob(&cfg->mem, &cfg->trust, p, n);
}

size_t fr_config_trust_mark(const fr_config *cfg) { return cfg->trust.n; }

void fr_config_trust_rollback(fr_config *cfg, size_t mark) {
    fr_trust_truncate(&cfg->mem, &cfg->trust, mark);
}
