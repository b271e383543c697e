/* clock.c (ABI) - the host's clock: the engine is given the time, it never
 * reads one (core/engine.h, fr_conn_set_time). */
#include <time.h>

#include "abi.h"
#include "host.h"

int64_t fr_abi_now(const fr_config *cfg) {
    const fr_abi_config_host *h = fr_abi_cfg_host(cfg);
    if (h->now != NULL) return h->now(h->now_ctx);
    return (int64_t)time(NULL);
}

void fr_abi_conn_clock(fr_conn *c) { fr_conn_set_time(c, fr_abi_now(fr_conn_config(c))); }
