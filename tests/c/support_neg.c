/* support_neg.c - the runner of the table-driven negative tests (see
 * support_neg.h). */
#include "support_neg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fx *neg_begin(const neg_row *r) {
    ferrule_config *cc = r->client_cfg != NULL ? r->client_cfg(r->arg) : fx_client_config();
    ferrule_config *sc = r->server_cfg != NULL ? r->server_cfg(r->arg) : fx_server_config();
    switch (r->stage) {
    case NEG_SERVER_FRESH: return fx_server_fresh(cc, sc);
    case NEG_CLIENT_HELLO: return fx_ch_begin(cc, sc);
    case NEG_FLIGHT: return fx_flight_begin(cc, sc);
    case NEG_CONNECTED: return fx_connected_begin(cc, sc);
    case NEG_CLIENT_FINISHED: return fx_client_finished_begin(cc, sc);
    case NEG_NONE: break;
    }
    ferrule_config_free(cc);
    ferrule_config_free(sc);
    return NULL;
}

/* A status that ends the connection (FERRULE_OK, the WANT_* flow codes
 * and FERRULE_CLOSED do not). */
static int neg_is_failure(int status) {
    return status != FERRULE_OK && status != FERRULE_WANT_READ && status != FERRULE_WANT_WRITE &&
           status != FERRULE_CLOSED;
}

static const uint8_t COMPAT_CCS[6] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};

/* NEG_PEER_CCS_ALERT: the detector's whole output is the compatibility CCS
 * followed by one protected record, and the peer, fed those bytes, reports
 * the row's alert. */
static void expect_ccs_then_alert_at(const char *name, int line, ferrule_conn *det,
                                     ferrule_conn *peer, int alert) {
    uint8_t buf[256];
    size_t n = 0;
    tl_checks++;
    if (ferrule_conn_take(det, buf, sizeof(buf), &n) != FERRULE_OK ||
        ferrule_conn_pending_output(det) != 0) {
        fx_failat(name, line, "could not take the output");
        return;
    }
    if (n < sizeof(COMPAT_CCS) + 5 || memcmp(buf, COMPAT_CCS, sizeof(COMPAT_CCS)) != 0) {
        fx_failat(name, line, "output (%zu bytes) does not start with the CCS", n);
        return;
    }
    const uint8_t *rec = buf + sizeof(COMPAT_CCS);
    size_t len = (size_t)rec[3] << 8 | rec[4];
    if (rec[0] != 23 || rec[1] != 3 || rec[2] != 3 || sizeof(COMPAT_CCS) + 5 + len != n) {
        fx_failat(name, line, "after the CCS: %zu bytes, want one protected record",
                  n - sizeof(COMPAT_CCS));
        return;
    }
    if (!mitm_feed(peer, buf, n)) fx_failat(name, line, "peer did not accept the bytes");
    uint8_t tmp[64];
    size_t got = 0;
    int st = ferrule_conn_read(peer, tmp, sizeof(tmp), &got);
    if (st != FERRULE_ALERT_RECEIVED || ferrule_conn_reason(peer) != FERRULE_R_PEER_ALERT ||
        ferrule_conn_alert(peer) != alert)
        fx_failat(name, line, "peer got %s alert %d, want alert-received %d",
                  ferrule_status_name(st), ferrule_conn_alert(peer), alert);
}

static void neg_peer_check(const neg_row *r, fx *x, ferrule_conn *det, ferrule_conn *peer,
                           int line) {
    switch (r->peer) {
    case NEG_PEER_ALERT: expect_peer_alert_at(r->name, line, det, peer, r->alert); break;
    case NEG_PEER_WIRE: expect_wire_alert_at(r->name, line, det, peer, r->alert); break;
    case NEG_PEER_SILENT:
        tl_checks++;
        if (ferrule_conn_pending_output(det) != 0)
            fx_failat(r->name, line, "output queued (%zu bytes), want none",
                      ferrule_conn_pending_output(det));
        break;
    case NEG_PEER_CCS_ONLY: {
        uint8_t buf[64];
        size_t n = 0;
        tl_checks++;
        if (ferrule_conn_take(det, buf, sizeof(buf), &n) != FERRULE_OK ||
            n != sizeof(COMPAT_CCS) || memcmp(buf, COMPAT_CCS, sizeof(COMPAT_CCS)) != 0 ||
            ferrule_conn_pending_output(det) != 0)
            fx_failat(r->name, line, "output %zu bytes, want only the CCS 14 03 03 00 01 01", n);
        break;
    }
    case NEG_PEER_CCS_ALERT: expect_ccs_then_alert_at(r->name, line, det, peer, r->alert); break;
    case NEG_PEER_NONE: break;
    }
    (void)x;
}

/* `line` is the row's index in its table (failures print "name:index"). */
static void neg_play(const neg_row *r, int line) {
    fx *x = NULL;
    if (r->stage != NEG_NONE) {
        x = neg_begin(r);
        REQUIRE(x != NULL);
    }
    int got = r->edit(x, r->arg);
    if (got != NEG_DONE && x != NULL) {
        ferrule_conn *det = r->side == NEG_CLIENT ? CL(x) : SV(x);
        ferrule_conn *peer = r->side == NEG_CLIENT ? SV(x) : CL(x);
        if (neg_is_failure(r->status)) {
            expect_fail_at(r->name, line, det, got, r->status, r->reason, r->alert);
        } else {
            tl_checks++;
            if (got != r->status)
                fx_failat(r->name, line, "returned %s (%d, %s), want %s",
                          ferrule_status_name(got), got,
                          ferrule_reason_name(ferrule_conn_reason(det)),
                          ferrule_status_name(r->status));
        }
        if (r->post != NULL) r->post(x, r->arg);
        neg_peer_check(r, x, det, peer, line);
    } else if (got != NEG_DONE) {
        fx_failat(r->name, line, "a row without a fixture must return NEG_DONE");
    } else if (r->post != NULL) {
        r->post(x, r->arg);
    }
    fx_free(x);
}

void neg_post_connect(fx *x, int arg) {
    (void)arg;
    CHECK(mitm_pass(CL(x), SV(x)));
    CHECK_EQ(ferrule_conn_handshake(SV(x)), FERRULE_OK);
    EXCHANGE(CL(x), SV(x), "the connection goes on");
}

void neg_post_exchange(fx *x, int arg) {
    (void)arg;
    EXCHANGE(CL(x), SV(x), "the connection goes on");
}

/* TL_ONLY=name runs that row; TL_ONLY=case also every "case/variant". */
static int neg_selected(const char *name) {
    const char *only = getenv("TL_ONLY");
    if (only == NULL || strcmp(only, name) == 0) return 1;
    size_t n = strlen(only);
    return strncmp(only, name, n) == 0 && name[n] == '/';
}

int neg_main(const char *suite, const neg_row *rows, size_t n) {
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!neg_selected(rows[i].name)) continue;
        tl_begin();
        neg_play(&rows[i], (int)i);
        if (tl_end(suite, rows[i].name))
            passed++;
        else
            failed++;
    }
    return tl_summary(suite, passed, failed);
}
