/* certificate_request.c - the server's CertificateRequest and its handling
 * of the client's Certificate / CertificateVerify (RFC 8446 §4.3.2,
 * §4.4.2, §4.4.3).  Client authentication lands with issue 4. */
#include "../conn.h"

int fr_server_wants_client_cert(const ferrule_conn *c) {
    return c->cfg->cauth.mode != FERRULE_CLIENT_AUTH_NONE;
}

fr_err fr_send_certificate_request(ferrule_conn *c) {
    (void)c;
    return FERRULE_R_INTERNAL; /* not reachable until client auth lands */
}

fr_err fr_server_on_certificate(ferrule_conn *c, fr_reader *body) {
    (void)c;
    (void)body;
    return FERRULE_R_UNEXPECTED_MESSAGE;
}

fr_err fr_server_on_certificate_verify(ferrule_conn *c, fr_reader *body) {
    (void)c;
    (void)body;
    return FERRULE_R_UNEXPECTED_MESSAGE;
}
