/* hello_retry.c - HelloRetryRequest: the server's stateless cookie
 * (RFC 8446 §4.2.2), the message_hash transcript substitution (§4.4.1)
 * and the server's checks of the second ClientHello (§4.1.2, §4.1.4). */
#include "../conn.h"

/* Format 3: the digest covers the invariant extensions in type order
 * (hello_digest); formats 1 and 2 covered them in the order sent. */
#define COOKIE_FORMAT 3
/* Up to this many invariant extensions are compared as a set; a
 * ClientHello with more (none seen in practice) is compared in order. */
#define HRR_SET_MAX 128
#define COOKIE_TAG_LEN 32 /* HMAC-SHA256 */

/* Extensions a second ClientHello may change, drop or add (RFC 8446
 * §4.1.2): key_share, early_data, cookie, pre_shared_key, padding. */
static int may_change(uint16_t type) {
    return type == FR_EXT_KEY_SHARE || type == FR_EXT_EARLY_DATA || type == FR_EXT_COOKIE ||
           type == FR_EXT_PRE_SHARED_KEY || type == FR_EXT_PADDING;
}

static fr_err digest_vec(fr_transcript *t, const fr_reader *r) {
    size_t n = fr_reader_left(r);
    const uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    FR_TRY(fr_transcript_update(t, len, 2));
    return fr_transcript_update(t, r->p, n);
}

static fr_err ext_digest(fr_transcript *t, const fr_ext *e) {
    const uint8_t type[2] = {(uint8_t)(e->type >> 8), (uint8_t)e->type};
    FR_TRY(fr_transcript_update(t, type, 2));
    return digest_vec(t, &e->body);
}

/* The invariant extensions in type order, for a comparison that does not
 * depend on where the client put them.  Returns 0 (nothing digested) when
 * there are more than HRR_SET_MAX: then the caller digests them in order. */
static int exts_by_type(const fr_hello_view *h, fr_ext *out, size_t *n_out) {
    size_t n = 0;
    fr_reader it = h->exts;
    fr_ext e;
    while (fr_exts_next(&it, &e)) {
        if (may_change(e.type)) continue;
        if (n == HRR_SET_MAX) return 0;
        /* Insertion sort: the types are distinct (fr_exts_parse). */
        size_t i = n++;
        while (i > 0 && out[i - 1].type > e.type) {
            out[i] = out[i - 1];
            i--;
        }
        out[i] = e;
    }
    *n_out = n;
    return 1;
}

static fr_err hello_digest(fr_transcript *t, const fr_hello_view *h, int by_type) {
    const uint8_t v[2] = {(uint8_t)(h->legacy_version >> 8), (uint8_t)h->legacy_version};
    FR_TRY(fr_transcript_update(t, v, 2));
    FR_TRY(fr_transcript_update(t, h->random, 32));
    FR_TRY(digest_vec(t, &h->sid));
    FR_TRY(digest_vec(t, &h->suites));
    FR_TRY(digest_vec(t, &h->comp));
    /* The extensions that may not change (RFC 8446 §4.1.2), each byte for
     * byte.  Their order is not compared: extensions may come in any order
     * (§4.2), and clients in the field (wolfSSL 5.5) move some in their
     * second ClientHello; what a server relies on is the content.  Past
     * HRR_SET_MAX extensions the order counts too, in one pass. */
    if (by_type) {
        fr_ext sorted[HRR_SET_MAX];
        size_t n = 0;
        if (exts_by_type(h, sorted, &n)) {
            for (size_t i = 0; i < n; i++) FR_TRY(ext_digest(t, &sorted[i]));
            return FR_OK;
        }
    }
    fr_reader it = h->exts;
    fr_ext e;
    while (fr_exts_next(&it, &e)) {
        if (may_change(e.type)) continue;
        FR_TRY(ext_digest(t, &e));
    }
    return FR_OK;
}

fr_err fr_hrr_hello_digest(const fr_hello_view *h, int format, uint8_t out[FR_HRR_DIGEST_LEN]) {
    fr_transcript t = {0};
    FR_TRY(fr_transcript_init(&t, FR_HASH_SHA256));
    fr_err e = hello_digest(&t, h, format >= 3);
    if (e == FR_OK) e = fr_transcript_current(&t, out);
    fr_transcript_free(&t);
    return e;
}

/* The key exists from the config's creation on (fr_hrr_config_init), and
 * changes only before the config is frozen (ferrule_config_set_cookie_key):
 * connections, on any thread, only read it. */
fr_err fr_hrr_config_init(fr_config *cfg) {
    return fr_random(cfg->hrr.cookie_key, sizeof(cfg->hrr.cookie_key));
}

const uint8_t *fr_hrr_cookie_key(const fr_config *cfg) { return cfg->hrr.cookie_key; }

/* Cookie layout (opaque to the client, RFC 8446 §4.2.2):
 *   u8 format, u16 suite, u16 group, u8 hash_len, ch1_hash[hash_len],
 *   digest[32], u8 psk_state, psk_digest[32] for FR_HRR_PSK_DIGEST (formats 2, 3),
 *   HMAC-SHA256(cookie_key, everything before)[32].
 * Format 3 differs from 2 only in the digest (extensions in type order).
 * Formats 1 (no PSK fields, as FR_HRR_PSK_UNCHECKED) and 2 are still read,
 * their digests compared in the order sent: a fleet
 * may run both versions while it upgrades. */
fr_err fr_hrr_cookie_seal(fr_config *cfg, const fr_hrr_cookie *ck, uint8_t *out, size_t cap,
                          size_t *len) {
    const uint8_t *key = fr_hrr_cookie_key(cfg);
    FR_ENSURE(ck->hash_len > 0 && ck->hash_len <= FR_MAX_HASH, FERRULE_R_INTERNAL);
    fr_writer w;
    fr_writer_init(&w, out, cap);
    fr_write_u8(&w, COOKIE_FORMAT);
    fr_write_u16(&w, ck->suite);
    fr_write_u16(&w, ck->group);
    fr_write_open_vec(&w, 1);
    fr_write_bytes(&w, ck->ch1_hash, ck->hash_len);
    fr_write_close_vec(&w);
    fr_write_bytes(&w, ck->digest, FR_HRR_DIGEST_LEN);
    fr_write_u8(&w, ck->psk_state);
    if (ck->psk_state == FR_HRR_PSK_DIGEST) fr_write_bytes(&w, ck->psk_digest, FR_HRR_DIGEST_LEN);
    FR_TRY(fr_write_finish(&w));
    FR_ENSURE(cap - w.len >= COOKIE_TAG_LEN, FERRULE_R_INTERNAL);
    FR_TRY(fr_hmac(FR_HASH_SHA256, key, FR_HRR_COOKIE_KEY_LEN, out, w.len, out + w.len));
    *len = w.len + COOKIE_TAG_LEN;
    return FR_OK;
}

/* The fields of an authentic cookie's body (after the tag check). */
static fr_err cookie_parse(fr_reader r, fr_hrr_cookie *ck) {
    uint8_t format, state = FR_HRR_PSK_UNCHECKED;
    fr_reader h;
    const uint8_t *digest, *psk_digest = NULL;
    FR_TRY(fr_read_u8(&r, &format));
    FR_ENSURE(format >= 1 && format <= COOKIE_FORMAT, FERRULE_R_ILLEGAL_PARAMETER);
    ck->format = format;
    FR_TRY(fr_read_u16(&r, &ck->suite));
    FR_TRY(fr_read_u16(&r, &ck->group));
    FR_TRY(fr_read_vec8(&r, &h));
    FR_TRY(fr_read_bytes(&r, FR_HRR_DIGEST_LEN, &digest));
    if (format >= 2) {
        FR_TRY(fr_read_u8(&r, &state));
        FR_ENSURE(state <= FR_HRR_PSK_UNCHECKED, FERRULE_R_ILLEGAL_PARAMETER);
        if (state == FR_HRR_PSK_DIGEST) FR_TRY(fr_read_bytes(&r, FR_HRR_DIGEST_LEN, &psk_digest));
    }
    FR_TRY(fr_read_done(&r));
    const fr_suite_info *si = fr_suite_lookup(ck->suite);
    FR_ENSURE(si != NULL && fr_reader_left(&h) == fr_hash_len(si->hash),
              FERRULE_R_ILLEGAL_PARAMETER);
    ck->hash_len = fr_reader_left(&h);
    memcpy(ck->ch1_hash, h.p, ck->hash_len);
    memcpy(ck->digest, digest, FR_HRR_DIGEST_LEN);
    ck->psk_state = state;
    if (psk_digest != NULL) memcpy(ck->psk_digest, psk_digest, FR_HRR_DIGEST_LEN);
    return FR_OK;
}

fr_err fr_hrr_cookie_open(fr_config *cfg, const uint8_t *p, size_t n, fr_hrr_cookie *ck) {
    const uint8_t *key = fr_hrr_cookie_key(cfg);
    FR_ENSURE(n > COOKIE_TAG_LEN, FERRULE_R_ILLEGAL_PARAMETER);
    size_t signed_len = n - COOKIE_TAG_LEN;
    uint8_t tag[COOKIE_TAG_LEN];
    FR_TRY(fr_hmac(FR_HASH_SHA256, key, FR_HRR_COOKIE_KEY_LEN, p, signed_len, tag));
    /* Constant time: the tag is a MAC over attacker-chosen input. */
    FR_ENSURE(fr_ct_equal(tag, p + signed_len, COOKIE_TAG_LEN), FERRULE_R_ILLEGAL_PARAMETER);
    /* Authentic, hence written by a server holding the key; still parse
     * it strictly (the key may be shared by a fleet of other versions). */
    return cookie_parse(fr_reader_init(p, signed_len), ck) == FR_OK ? FR_OK
                                                                   : FERRULE_R_ILLEGAL_PARAMETER;
}

fr_err fr_hrr_transcript_start(fr_transcript *th, int hash, const uint8_t *ch1_hash) {
    /* RFC 8446 §4.4.1: ClientHello1 is replaced by the synthetic
     * handshake message message_hash: 254, 00 00 Hash.length, Hash(CH1). */
    size_t hl = fr_hash_len(hash);
    FR_ENSURE(hl > 0 && hl <= FR_MAX_HASH, FERRULE_R_INTERNAL);
    const uint8_t hdr[4] = {FR_HS_MESSAGE_HASH, 0, 0, (uint8_t)hl};
    FR_TRY(fr_transcript_init(th, hash));
    FR_TRY(fr_transcript_update(th, hdr, sizeof(hdr)));
    return fr_transcript_update(th, ch1_hash, hl);
}

fr_err fr_server_send_hrr(fr_conn *c, const fr_hello_view *h) {
    const fr_suite_info *si = fr_suite_lookup(c->suite);
    FR_ENSURE(si != NULL, FERRULE_R_INTERNAL);
    fr_hrr_cookie ck;
    memset(&ck, 0, sizeof(ck));
    ck.suite = c->suite;
    ck.group = c->group;
    ck.hash_len = fr_hash_len(si->hash);
    ck.psk_state = c->hrr.psk_state;
    memcpy(ck.psk_digest, c->hrr.psk_digest, FR_HRR_DIGEST_LEN);
    FR_TRY(fr_hash(si->hash, c->cur_msg, c->cur_msg_len, ck.ch1_hash));
    FR_TRY(fr_hrr_hello_digest(h, COOKIE_FORMAT, ck.digest));
    uint8_t cookie[FR_HRR_COOKIE_MAX];
    size_t cookie_len;
    FR_TRY(fr_hrr_cookie_seal(c->cfg, &ck, cookie, sizeof(cookie), &cookie_len));

    FR_TRY(fr_hrr_transcript_start(&c->th, si->hash, ck.ch1_hash));
    c->th_ready = 1;
    fr_msgbuf m;
    FR_TRY(fr_msg_begin(c, &m, FR_HS_SERVER_HELLO, 128 + cookie_len));
    fr_hrr_write_body(&m.w, c->session_id, c->session_id_len, c->suite, c->group, cookie,
                      cookie_len);
    FR_TRY(fr_msg_send(c, &m));
    c->hrr.done = 1;
    c->hrr.suite = c->suite;
    c->hrr.group = c->group;
    /* RFC 8446 Appendix D.4: the compatibility change_cipher_spec follows
     * our first handshake message, here the HelloRetryRequest. */
    if (c->session_id_len > 0) FR_TRY(fr_conn_send_ccs(c));
    return FR_OK;
}

fr_err fr_server_check_second_hello(fr_conn *c, const fr_hello_view *h, fr_ext *cookie) {
    /* RFC 8446 §4.2.2: the cookie we sent must come back, intact. */
    FR_ENSURE(cookie != NULL, FERRULE_R_ILLEGAL_PARAMETER);
    fr_reader body = cookie->body, ck_bytes;
    FR_TRY(fr_read_vec16(&body, &ck_bytes));
    FR_TRY(fr_read_done(&body));
    fr_hrr_cookie ck;
    FR_TRY(fr_hrr_cookie_open(c->cfg, ck_bytes.p, fr_reader_left(&ck_bytes), &ck));
    /* RFC 8446 §4.1.2: the same ClientHello apart from what may change. */
    uint8_t digest[FR_HRR_DIGEST_LEN];
    FR_TRY(fr_hrr_hello_digest(h, ck.format, digest));
    FR_ENSURE(fr_ct_equal(digest, ck.digest, FR_HRR_DIGEST_LEN), FERRULE_R_ILLEGAL_PARAMETER);
    /* Everything below uses the cookie alone, as a server of a fleet that
     * never saw ClientHello1 would; this connection's memory only
     * cross-checks it. */
    FR_ENSURE(!c->hrr.done || (ck.suite == c->hrr.suite && ck.group == c->hrr.group),
              FERRULE_R_ILLEGAL_PARAMETER);
    const fr_suite_info *si = fr_suite_lookup(ck.suite);
    FR_ENSURE(si != NULL, FERRULE_R_ILLEGAL_PARAMETER);
    c->suite = ck.suite;
    c->group = ck.group;
    c->hrr.done = 1;
    c->hrr.suite = ck.suite;
    c->hrr.group = ck.group;
    c->hrr.psk_state = ck.psk_state;
    memcpy(c->hrr.psk_digest, ck.psk_digest, FR_HRR_DIGEST_LEN);

    /* Transcript: message_hash(CH1), the HelloRetryRequest rebuilt
     * byte for byte (RFC 8446 §4.4.1); this ClientHello joins it in
     * fr_server_on_client_hello, after a PSK binder over the transcript so
     * far has been checked (§4.2.11.2). */
    FR_TRY(fr_hrr_transcript_start(&c->th, si->hash, ck.ch1_hash));
    c->th_ready = 1;
    size_t cap = 128 + fr_reader_left(&ck_bytes);
    uint8_t *buf = fr_mem_alloc(&c->mem, cap);
    FR_ENSURE(buf != NULL, fr_mem_error(&c->mem, cap));
    fr_writer w;
    fr_writer_init(&w, buf, cap);
    fr_write_u8(&w, FR_HS_SERVER_HELLO);
    fr_write_open_vec(&w, 3);
    fr_hrr_write_body(&w, h->sid.p, fr_reader_left(&h->sid), ck.suite, ck.group, ck_bytes.p,
                      fr_reader_left(&ck_bytes));
    fr_write_close_vec(&w);
    fr_err e = fr_write_finish(&w);
    if (e == FR_OK) e = fr_transcript_update(&c->th, buf, w.len);
    fr_mem_free(&c->mem, buf, cap);
    return e;
}
