/*
 * record_size_limit.c - RFC 8449 for TLS 1.3.  The client offers the
 * extension in ClientHello; a server answers it in EncryptedExtensions
 * (never in ServerHello).  Once both have sent it, each side fragments
 * what it protects to the peer's value and refuses protected records above
 * its own (record_overflow).  Plaintext records (ClientHello, ServerHello,
 * HelloRetryRequest, change_cipher_spec, an early clear alert) are not
 * affected.  See docs/record-size-limit.md.
 */
#include "conn.h"

uint16_t fr_rsl_ours(const fr_config *cfg) {
    return cfg->rsl.limit != 0 ? cfg->rsl.limit : (uint16_t)FR_RSL_MAX;
}

static void write_ext(fr_writer *w, uint16_t value) {
    /* RFC 8449 §4: extension_data is a single uint16 RecordSizeLimit. */
    fr_write_u16(w, FR_EXT_RECORD_SIZE_LIMIT);
    fr_write_u16(w, 2);
    fr_write_u16(w, value);
}

/* The uint16 value, exactly two bytes; below 64 is illegal_parameter
 * (RFC 8449 §4: "MUST treat receipt of a smaller value as a fatal error"). */
static fr_err parse_value(fr_reader *body, uint16_t *value) {
    FR_TRY(fr_read_u16(body, value));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(*value >= FR_RSL_MIN, FERRULE_R_ILLEGAL_PARAMETER);
    return FR_OK;
}

void fr_rsl_client_write(fr_conn *c, fr_writer *w) {
    /* RFC 8449 §4: "Endpoints SHOULD advertise the record_size_limit
     * extension, even if they have no need to limit the size of records":
     * always sent, with 2^14 + 1 unless configured lower. */
    write_ext(w, fr_rsl_ours(c->cfg));
    c->rsl.offered = 1;
}

fr_err fr_rsl_server_on_client_hello(fr_conn *c, fr_reader *body) {
    uint16_t v;
    FR_TRY(parse_value(body, &v));
    /* RFC 8449 §4: "A server MUST NOT enforce this restriction" (a value
     * above 2^14 + 1): the client may know a larger-record extension we do
     * not.  TLS 1.3 records never carry more, so the value is clamped. */
    c->rsl.peer = v > FR_RSL_MAX ? (uint16_t)FR_RSL_MAX : v;
    return FR_OK;
}

void fr_rsl_server_write_ee(fr_conn *c, fr_writer *w) {
    /* RFC 8446 §4.2: no response to an extension the client did not send.
     * RFC 8449 §4: in TLS 1.3 the server's value goes in EncryptedExtensions. */
    if (c->rsl.peer == 0) return;
    uint16_t ours = fr_rsl_ours(c->cfg);
    write_ext(w, ours);
    /* Both sides have now sent it: EncryptedExtensions itself is the first
     * record that obeys the client's limit, and every protected record the
     * client sends us from now on must obey ours. */
    c->rsl.send_limit = c->rsl.peer;
    c->rsl.recv_limit = ours;
}

fr_err fr_rsl_client_on_ee(fr_conn *c, fr_reader *body) {
    /* RFC 8446 §4.2: a response to an extension we did not send. */
    FR_ENSURE(c->rsl.offered, FERRULE_R_UNSUPPORTED_EXTENSION);
    uint16_t v;
    FR_TRY(parse_value(body, &v));
    /* RFC 8449 §4: "A client MAY abort the handshake with an
     * illegal_parameter alert" above the protocol's maximum; we offered no
     * extension that allows larger records, so such a server is broken. */
    FR_ENSURE(v <= FR_RSL_MAX, FERRULE_R_ILLEGAL_PARAMETER);
    c->rsl.peer = v;
    /* Negotiated: the server's remaining handshake records, and all we
     * protect from now on (our second flight included), obey the limits. */
    c->rsl.send_limit = v;
    c->rsl.recv_limit = fr_rsl_ours(c->cfg);
    return FR_OK;
}

size_t fr_rsl_max_fragment(const fr_conn *c) {
    /* RFC 8449 §4: "Unprotected messages are not subject to this limit";
     * the limit counts the inner content type byte (we add no padding). */
    if (c->rsl.send_limit == 0 || !fr_aead_active(&c->wr)) return FR_MAX_PLAINTEXT;
    return (size_t)c->rsl.send_limit - 1;
}

fr_err fr_rsl_check_received(const fr_conn *c, size_t body_len) {
    /* RFC 8449 §4: "A TLS endpoint that receives a record larger than its
     * advertised limit MUST generate a fatal record_overflow alert." */
    if (c->rsl.recv_limit == 0) return FR_OK;
    return fr_record_check_inner_limit(body_len, c->rsl.recv_limit);
}
