/* support_fx.c - see support_fx.h. */
#include "support_fx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "record.h"
#include "testlib.h"

void fx_failat(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    tl_failures_in_test++;
}

/* ---- fixtures --------------------------------------------------------------- */

ferrule_config *fx_client_config(void) { return pair_client_config(); }

ferrule_config *fx_client_classic_config(void) {
    static const uint16_t g[3] = {FERRULE_GROUP_X25519, FERRULE_GROUP_SECP256R1,
                                  FERRULE_GROUP_SECP384R1};
    ferrule_config *cc = pair_client_config();
    if (cc != NULL && ferrule_config_set_groups(cc, g, 3) != FERRULE_OK) {
        ferrule_config_free(cc);
        cc = NULL;
    }
    return cc;
}

ferrule_config *fx_server_config(void) {
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    if (sc != NULL && ferrule_config_set_tickets(sc, 0) != FERRULE_OK) {
        ferrule_config_free(sc);
        sc = NULL;
    }
    return sc;
}

void fx_free(fx *x) {
    if (x == NULL) return;
    mitm_free(&x->m);
    mf_free(x->f);
    free(x);
}

fx *fx_new(ferrule_config *cc, ferrule_config *sc) {
    fx *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        ferrule_config_free(cc);
        ferrule_config_free(sc);
        return NULL;
    }
    x->f = mf_new();
    /* mitm_init owns the configs from here on, also when it fails. */
    if (!mitm_init(&x->m, cc, sc) || x->f == NULL) {
        fprintf(stderr, "  fixture set-up failed\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

fx *fx_server_fresh(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_new(cc, sc);
    if (x == NULL) return NULL;
    uint8_t sink[4096];
    size_t n;
    if (ferrule_conn_handshake(CL(x)) != FERRULE_WANT_READ ||
        ferrule_conn_take(CL(x), sink, sizeof(sink), &n) != FERRULE_OK) {
        fprintf(stderr, "  could not start the client\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

fx *fx_ch_begin(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_new(cc, sc);
    if (x == NULL) return NULL;
    int ok = ferrule_conn_handshake(CL(x)) == FERRULE_WANT_READ && mf_take(x->f, CL(x)) &&
             x->f->n == 1 && x->f->r[0].type == FR_CT_HANDSHAKE &&
             hello_parse(&x->h, x->f->r[0].data, x->f->r[0].len) && !x->h.server;
    if (!ok) {
        fprintf(stderr, "  could not capture the ClientHello\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

fx *fx_flight_begin(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_new(cc, sc);
    if (x == NULL) return NULL;
    int ok = ferrule_conn_handshake(CL(x)) == FERRULE_WANT_READ && mitm_pass(CL(x), SV(x)) &&
             ferrule_conn_handshake(SV(x)) == FERRULE_WANT_READ;
    x->f->suite = ferrule_conn_cipher_suite(SV(x));
    ok = ok && mf_take(x->f, SV(x)) && x->f->n == 6 && x->f->r[0].type == FR_CT_HANDSHAKE &&
         x->f->r[1].type == FR_CT_CHANGE_CIPHER_SPEC && SEC(x, SERVER, SHS) != NULL &&
         mf_open(x->f, 2, 6, SEC(x, SERVER, SHS)) == 4;
    static const uint8_t types[6] = {FR_HS_SERVER_HELLO, 0, FR_HS_ENCRYPTED_EXTENSIONS,
                                     FR_HS_CERTIFICATE, FR_HS_CERTIFICATE_VERIFY, FR_HS_FINISHED};
    for (size_t i = 2; ok && i < 6; i++)
        ok = x->f->r[i].inner == FR_CT_HANDSHAKE && x->f->r[i].data[0] == types[i];
    ok = ok && x->f->r[0].data[0] == types[0] &&
         hello_parse(&x->h, x->f->r[0].data, x->f->r[0].len) && x->h.server;
    if (!ok) {
        fprintf(stderr, "  could not capture the server flight\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

/* Forget the records of x->f, keeping its suite. */
static void fx_reset_flight(fx *x) {
    uint16_t suite = x->f->suite;
    memset(x->f, 0, offsetof(mflight, r));
    x->f->suite = suite;
}

fx *fx_connected_begin(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_flight_begin(cc, sc);
    if (x == NULL) return NULL;
    int ok = fx_flight_deliver(x) == FERRULE_OK && mitm_pass(CL(x), SV(x)) &&
             ferrule_conn_handshake(SV(x)) == FERRULE_OK && SEC(x, SERVER, SAP) != NULL &&
             SEC(x, CLIENT, CAP) != NULL;
    fx_reset_flight(x);
    if (!ok) {
        fprintf(stderr, "  could not connect\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

fx *fx_client_finished_begin(ferrule_config *cc, ferrule_config *sc) {
    fx *x = fx_flight_begin(cc, sc);
    if (x == NULL) return NULL;
    int ok = fx_flight_deliver(x) == FERRULE_OK;
    fx_reset_flight(x);
    ok = ok && mf_take(x->f, CL(x)) && x->f->n == 2 &&
         x->f->r[0].type == FR_CT_CHANGE_CIPHER_SPEC &&
         mf_open(x->f, 1, 2, SEC(x, CLIENT, CHS)) == 1 && x->f->r[1].data[0] == FR_HS_FINISHED;
    if (!ok) {
        fprintf(stderr, "  could not capture the client Finished\n");
        fx_free(x);
        return NULL;
    }
    return x;
}

/* ---- delivery ---------------------------------------------------------------- */

int fx_ch_deliver(fx *x, int adopt) {
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    if (n == 0) return -1;
    x->f->r[0].len = n;
    if (adopt && !mitm_client_adopt_hello(CL(x), x->f->r[0].data, n)) return -1;
    if (!mf_send(x->f, SV(x))) return -1;
    return ferrule_conn_handshake(SV(x));
}

int fx_flight_deliver(fx *x) { return mf_deliver(x->f, CL(x)); }

int fx_sh_deliver(fx *x) {
    size_t n = hello_encode(&x->h, x->f->r[0].data, MITM_REC_CAP);
    if (n == 0) return -1;
    x->f->r[0].len = n;
    return fx_flight_deliver(x);
}

int fx_to_server(fx *x) {
    if (!mf_send(x->f, SV(x))) return -1;
    return ferrule_conn_handshake(SV(x));
}

int fx_server_gets(fx *x, const uint8_t *p, size_t n) {
    if (!mitm_feed(SV(x), p, n)) return -1;
    return ferrule_conn_handshake(SV(x));
}

int fx_server_injects(fx *x, const uint8_t *msg, size_t len) {
    if (mf_add_prot(x->f, FR_CT_HANDSHAKE, msg, len, SEC(x, SERVER, SAP)) == NULL) return 0;
    return mf_send(x->f, CL(x));
}

int fx_read(ferrule_conn *c) {
    uint8_t buf[16];
    size_t n = 0;
    return ferrule_conn_read(c, buf, sizeof(buf), &n);
}

int fx_client_reads(fx *x) {
    if (!mf_send(x->f, CL(x))) return -1;
    return fx_read(CL(x));
}

void fx_set_msg(mrec *r, uint8_t type, const uint8_t *body, size_t len) {
    r->data[0] = type;
    r->data[1] = (uint8_t)(len >> 16);
    r->data[2] = (uint8_t)(len >> 8);
    r->data[3] = (uint8_t)len;
    if (len > 0) memmove(r->data + 4, body, len);
    r->len = 4 + len;
}

int fx_ch_succeed_at(const char *file, int line, fx *x) {
    tl_expects++;
    int st = fx_ch_deliver(x, 1);
    if (st != FERRULE_WANT_READ)
        fx_failat(file, line, "server: %s (%s)", ferrule_status_name(st),
                  ferrule_reason_name(ferrule_conn_reason(SV(x))));
    mitm_pass(SV(x), CL(x));
    st = ferrule_conn_handshake(CL(x));
    if (st != FERRULE_OK)
        fx_failat(file, line, "client: %s (%s)", ferrule_status_name(st),
                  ferrule_reason_name(ferrule_conn_reason(CL(x))));
    mitm_pass(CL(x), SV(x));
    return ferrule_conn_handshake(SV(x));
}

/* ---- expectations ------------------------------------------------------------ */

/* The failure stays: every driver returns the same class, nothing changes. */
static void expect_sticky(const char *file, int line, ferrule_conn *c, int status,
                          uint32_t reason, int alert) {
    uint8_t buf[32];
    size_t n = 99;
    int st = ferrule_conn_handshake(c);
    if (st != status) fx_failat(file, line, "handshake again: %s", ferrule_status_name(st));
    st = ferrule_conn_read(c, buf, sizeof(buf), &n);
    if (st != status || n != 0)
        fx_failat(file, line, "read again: %s n=%zu", ferrule_status_name(st), n);
    n = 99;
    st = ferrule_conn_write(c, (const uint8_t *)"x", 1, &n);
    if (st != status || n != 0)
        fx_failat(file, line, "write again: %s n=%zu", ferrule_status_name(st), n);
    if (ferrule_conn_reason(c) != reason || ferrule_conn_alert(c) != alert)
        fx_failat(file, line, "reason/alert changed after more calls");
    const char *msg = ferrule_conn_error_message(c);
    if (msg == NULL || strcmp(msg, ferrule_reason_message(reason)) != 0)
        fx_failat(file, line, "error message '%s'", msg != NULL ? msg : "(null)");
}

void expect_fail_at(const char *file, int line, ferrule_conn *c, int got, int status,
                    uint32_t reason, int alert) {
    tl_expects++;
    if (c == NULL) {
        fx_failat(file, line, "no connection");
        return;
    }
    if (got != status)
        fx_failat(file, line, "returned %s (%d), want %s", ferrule_status_name(got), got,
                  ferrule_status_name(status));
    if (ferrule_conn_status(c) != status)
        fx_failat(file, line, "status %s, want %s", ferrule_status_name(ferrule_conn_status(c)),
                  ferrule_status_name(status));
    if (ferrule_conn_reason(c) != reason)
        fx_failat(file, line, "reason %s (%u), want %s (%u)",
                  ferrule_reason_name(ferrule_conn_reason(c)), ferrule_conn_reason(c),
                  ferrule_reason_name(reason), reason);
    if (ferrule_conn_alert(c) != alert)
        fx_failat(file, line, "alert %d, want %d", ferrule_conn_alert(c), alert);
    if (ferrule_conn_handshake_state(c) != FERRULE_HS_FAILED)
        fx_failat(file, line, "state %s, want failed",
                  ferrule_handshake_state_name(ferrule_conn_handshake_state(c)));
    expect_sticky(file, line, c, status, reason, alert);
}

void expect_peer_alert_at(const char *file, int line, ferrule_conn *from, ferrule_conn *to,
                          int alert) {
    tl_expects++;
    if (ferrule_conn_pending_output(from) == 0) fx_failat(file, line, "no alert was queued");
    if (!mitm_pass(from, to)) fx_failat(file, line, "peer did not accept the bytes");
    uint8_t buf[64];
    size_t n = 0;
    int st = ferrule_conn_read(to, buf, sizeof(buf), &n);
    if (st != FERRULE_ALERT_RECEIVED)
        fx_failat(file, line, "peer got %s (%s), want alert-received", ferrule_status_name(st),
                  ferrule_reason_name(ferrule_conn_reason(to)));
    if (ferrule_conn_reason(to) != FERRULE_R_PEER_ALERT)
        fx_failat(file, line, "peer reason %s", ferrule_reason_name(ferrule_conn_reason(to)));
    if (ferrule_conn_alert(to) != alert)
        fx_failat(file, line, "peer alert %d, want %d", ferrule_conn_alert(to), alert);
    if (ferrule_conn_handshake(to) != FERRULE_ALERT_RECEIVED)
        fx_failat(file, line, "peer not sticky");
    /* A peer that received a fatal alert sends nothing back. */
    if (ferrule_conn_pending_output(to) != 0) fx_failat(file, line, "peer answered an alert");
}

void expect_wire_alert_at(const char *file, int line, ferrule_conn *from, ferrule_conn *peer,
                          int alert) {
    tl_expects++;
    uint8_t buf[64];
    size_t n = 0;
    size_t pending = ferrule_conn_pending_output(from);
    if (pending != 7)
        fx_failat(file, line, "pending output %zu, want one 7-byte alert record", pending);
    if (pending > sizeof(buf)) return;
    if (ferrule_conn_take(from, buf, sizeof(buf), &n) != FERRULE_OK || n != 7) {
        fx_failat(file, line, "take failed");
        return;
    }
    const uint8_t want[7] = {21, 3, 3, 0, 2, 2, (uint8_t)alert};
    if (memcmp(buf, want, 7) != 0)
        fx_failat(file, line, "wire %02x %02x%02x %02x%02x %02x %02x, want alert %d", buf[0],
                  buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], alert);
    /* The peer (reading under handshake keys) accepts the clear alert. */
    if (!mitm_feed(peer, buf, n)) fx_failat(file, line, "peer did not accept the alert");
    int st = ferrule_conn_handshake(peer);
    if (st != FERRULE_ALERT_RECEIVED || ferrule_conn_alert(peer) != alert)
        fx_failat(file, line, "peer got %s alert %d, want alert-received %d",
                  ferrule_status_name(st), ferrule_conn_alert(peer), alert);
}

void exchange_at(const char *file, int line, ferrule_conn *a, ferrule_conn *b, const char *msg) {
    tl_expects++;
    size_t n = 0, len = strlen(msg);
    int st = ferrule_conn_write(a, (const uint8_t *)msg, len, &n);
    if (st != FERRULE_OK || n != len) fx_failat(file, line, "write: %s", ferrule_status_name(st));
    if (!mitm_pass(a, b)) fx_failat(file, line, "move failed");
    uint8_t buf[256];
    size_t got = 0;
    st = ferrule_conn_read(b, buf, sizeof(buf), &got);
    if (st != FERRULE_OK || got != len || memcmp(buf, msg, len) != 0)
        fx_failat(file, line, "read: %s (%s), %zu bytes", ferrule_status_name(st),
                  ferrule_reason_name(ferrule_conn_reason(b)), got);
}
