/* errors.h - ferrule failures in BoringSSL's error vocabulary (errors.c). */
#ifndef BOGO_ERRORS_H
#define BOGO_ERRORS_H

#include <ferrule.h>

/* The BoringSSL error string (":DECODE_ERROR:") for a ferrule failure, or
 * NULL when the table has no row for it. */
const char *shim_bssl_error(uint32_t reason, int state, int role, int alert, int received);

/* Print a connection's failure to stderr: ferrule's own account, then the
 * BoringSSL error string on a line of its own. */
void shim_report(const ferrule_conn *c, int status, const char *what);

#endif
