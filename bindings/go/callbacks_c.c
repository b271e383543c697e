/* The C side of callbacks.go: adapters from the library's callback types
 * to the exported Go functions (cgo declares them without const). */
#include <ferrule.h>
#include <stdint.h>

#include "_cgo_export.h"

static int64_t go_time(void *ctx) { return ferruleGoTime(ctx); }

static void go_keylog(void *ctx, const ferrule_conn *conn, const char *line) {
    ferruleGoKeylog(ctx, (ferrule_conn *)conn, (char *)line);
}

int ferrule_go_set_time(ferrule_config *cfg, uintptr_t h) {
    return ferrule_config_set_time_callback(cfg, go_time, (void *)h);
}

int ferrule_go_set_keylog(ferrule_config *cfg, uintptr_t h) {
    return ferrule_config_set_keylog_callback(cfg, go_keylog, (void *)h);
}
