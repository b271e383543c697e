/* names.c (ABI) - the public names of code points, reasons and statuses:
 * the engine's tables (core/names.c, core/err.c) behind the ABI. */
#include "ferrule.h"

#include "engine.h"

FERRULE_API const char *ferrule_cipher_suite_name(uint16_t v) { return fr_cipher_suite_name(v); }
FERRULE_API const char *ferrule_group_name(uint16_t v) { return fr_group_name(v); }
FERRULE_API const char *ferrule_signature_scheme_name(uint16_t v) {
    return fr_signature_scheme_name(v);
}
FERRULE_API const char *ferrule_alert_name(uint8_t v) { return fr_alert_name(v); }
FERRULE_API const char *ferrule_handshake_state_name(uint32_t v) {
    return fr_handshake_state_name(v);
}

FERRULE_API int ferrule_cipher_suite_from_name(const char *name, uint16_t *out) {
    return fr_cipher_suite_from_name(name, out) ? FERRULE_OK : FERRULE_USAGE;
}
FERRULE_API int ferrule_group_from_name(const char *name, uint16_t *out) {
    return fr_group_from_name(name, out) ? FERRULE_OK : FERRULE_USAGE;
}
FERRULE_API int ferrule_signature_scheme_from_name(const char *name, uint16_t *out) {
    return fr_signature_scheme_from_name(name, out) ? FERRULE_OK : FERRULE_USAGE;
}

FERRULE_API const char *ferrule_reason_message(uint32_t reason) { return fr_reason_message(reason); }
FERRULE_API const char *ferrule_reason_name(uint32_t reason) { return fr_reason_name(reason); }
FERRULE_API const char *ferrule_status_name(int status) { return fr_status_name(status); }
