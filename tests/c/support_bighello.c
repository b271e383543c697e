/* support_bighello.c - see support_bighello.h. */
#include "support_bighello.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "support_pair.h"

#define PADDING 21
#define PRE_SHARED_KEY 41

static int grow(bighello *h) {
    if (h->n_ext < h->cap_ext) return 1;
    size_t cap = h->cap_ext ? 2 * h->cap_ext : 64;
    bh_ext *e = realloc(h->ext, cap * sizeof(*e));
    if (e == NULL) return 0;
    h->ext = e;
    h->cap_ext = cap;
    return 1;
}

int bh_insert(bighello *h, size_t pos, uint16_t type, const uint8_t *body, size_t len) {
    if (!grow(h)) return 0;
    uint8_t *copy = malloc(len + 1);
    if (copy == NULL) return 0;
    if (len > 0) memcpy(copy, body, len);
    if (pos > h->n_ext) pos = h->n_ext;
    memmove(&h->ext[pos + 1], &h->ext[pos], (h->n_ext - pos) * sizeof(bh_ext));
    h->ext[pos] = (bh_ext){type, copy, len};
    h->n_ext++;
    return 1;
}

int bh_parse(bighello *h, const uint8_t *msg, size_t len) {
    memset(h, 0, sizeof(*h));
    if (len < 4 || msg[0] != 1) return 0;
    size_t body = ((size_t)msg[1] << 16) | ((size_t)msg[2] << 8) | msg[3];
    if (body != len - 4) return 0;
    fr_reader r = fr_reader_init(msg + 4, body), v;
    const uint8_t *rnd;
    if (fr_read_u16(&r, &h->version) != FR_OK || fr_read_bytes(&r, 32, &rnd) != FR_OK ||
        fr_read_vec8(&r, &v) != FR_OK || fr_reader_left(&v) > 32)
        return 0;
    memcpy(h->random, rnd, 32);
    h->sid_len = fr_reader_left(&v);
    memcpy(h->sid, v.p, h->sid_len);
    if (fr_read_vec16(&r, &v) != FR_OK) return 0;
    h->suites = malloc(fr_reader_left(&v) + 2);
    if (h->suites == NULL) return 0;
    while (!fr_reader_empty(&v))
        if (fr_read_u16(&v, &h->suites[h->n_suites++]) != FR_OK) return 0;
    if (fr_read_vec8(&r, &v) != FR_OK) return 0;
    h->n_comp = fr_reader_left(&v);
    memcpy(h->comp, v.p, h->n_comp);
    if (fr_read_vec16(&r, &v) != FR_OK || !fr_reader_empty(&r)) return 0;
    while (!fr_reader_empty(&v)) {
        uint16_t type;
        fr_reader eb;
        if (fr_read_u16(&v, &type) != FR_OK || fr_read_vec16(&v, &eb) != FR_OK ||
            !bh_insert(h, h->n_ext, type, eb.p, fr_reader_left(&eb)))
            return 0;
    }
    return 1;
}

void bh_free(bighello *h) {
    for (size_t i = 0; i < h->n_ext; i++) free(h->ext[i].body);
    free(h->ext);
    free(h->suites);
    memset(h, 0, sizeof(*h));
}

size_t bh_index(const bighello *h, uint16_t type) {
    for (size_t i = 0; i < h->n_ext; i++)
        if (h->ext[i].type == type) return i;
    return h->n_ext;
}

bh_ext *bh_find(bighello *h, uint16_t type) {
    size_t i = bh_index(h, type);
    return i < h->n_ext ? &h->ext[i] : NULL;
}

int bh_remove(bighello *h, uint16_t type) {
    size_t i = bh_index(h, type);
    if (i == h->n_ext) return 0;
    free(h->ext[i].body);
    memmove(&h->ext[i], &h->ext[i + 1], (h->n_ext - i - 1) * sizeof(bh_ext));
    h->n_ext--;
    return 1;
}

int bh_set(bighello *h, uint16_t type, const uint8_t *body, size_t len) {
    bh_ext *e = bh_find(h, type);
    if (e != NULL) {
        uint8_t *copy = malloc(len + 1);
        if (copy == NULL) return 0;
        if (len > 0) memcpy(copy, body, len);
        free(e->body);
        e->body = copy;
        e->len = len;
        return 1;
    }
    size_t psk = bh_index(h, PRE_SHARED_KEY);
    return bh_insert(h, psk, type, body, len);
}

int bh_set_suites(bighello *h, const uint16_t *v, size_t n) {
    uint16_t *s = malloc(2 * n + 2);
    if (s == NULL) return 0;
    memcpy(s, v, 2 * n);
    free(h->suites);
    h->suites = s;
    h->n_suites = n;
    return 1;
}

size_t bh_exts_size(const bighello *h) {
    size_t n = 0;
    for (size_t i = 0; i < h->n_ext; i++) n += 4 + h->ext[i].len;
    return n;
}

size_t bh_size(const bighello *h) {
    return 4 + 2 + 32 + 1 + h->sid_len + 2 + 2 * h->n_suites + 1 + h->n_comp + 2 +
           bh_exts_size(h);
}

size_t bh_encode(const bighello *h, uint8_t **out) {
    size_t cap = bh_size(h);
    uint8_t *buf = malloc(cap);
    *out = buf;
    if (buf == NULL) return 0;
    fr_writer w;
    fr_writer_init(&w, buf, cap);
    fr_write_u8(&w, 1);
    fr_write_open_vec(&w, 3);
    fr_write_u16(&w, h->version);
    fr_write_bytes(&w, h->random, 32);
    fr_write_open_vec(&w, 1);
    fr_write_bytes(&w, h->sid, h->sid_len);
    fr_write_close_vec(&w);
    fr_write_open_vec(&w, 2);
    for (size_t i = 0; i < h->n_suites; i++) fr_write_u16(&w, h->suites[i]);
    fr_write_close_vec(&w);
    fr_write_open_vec(&w, 1);
    fr_write_bytes(&w, h->comp, h->n_comp);
    fr_write_close_vec(&w);
    fr_write_open_vec(&w, 2);
    for (size_t i = 0; i < h->n_ext; i++) {
        fr_write_u16(&w, h->ext[i].type);
        fr_write_open_vec(&w, 2);
        fr_write_bytes(&w, h->ext[i].body, h->ext[i].len);
        fr_write_close_vec(&w);
    }
    fr_write_close_vec(&w);
    fr_write_close_vec(&w);
    if (fr_write_finish(&w) != FR_OK) {
        free(buf);
        *out = NULL;
        return 0;
    }
    return w.len;
}

int bh_pad_to(bighello *h, size_t total) {
    (void)bh_remove(h, PADDING);
    size_t now = bh_size(h);
    if (now + 4 > total) return now == total;
    size_t pad = total - now - 4;
    if (bh_exts_size(h) + 4 + pad > 0xffff) return 0;
    uint8_t *zeros = calloc(1, pad + 1);
    int ok = zeros != NULL && bh_set(h, PADDING, zeros, pad);
    free(zeros);
    return ok;
}

uint8_t *bh_u16_list(int width, const uint16_t *v, size_t n, size_t *len) {
    uint8_t *out = malloc(2 * n + 2);
    if (out == NULL) return NULL;
    size_t off = 0, body = 2 * n;
    if (width == 2) out[off++] = (uint8_t)(body >> 8);
    out[off++] = (uint8_t)body;
    for (size_t i = 0; i < n; i++) {
        out[off++] = (uint8_t)(v[i] >> 8);
        out[off++] = (uint8_t)v[i];
    }
    *len = off;
    return out;
}

int bh_deliver(ferrule_conn *to, const uint8_t *msg, size_t len) {
    /* Records: 5-byte header, at most 2^14 bytes of the message each. */
    size_t n_rec = len / 16384 + 1, cap = len + 5 * n_rec, n = 0;
    uint8_t *wire = malloc(cap);
    if (wire == NULL) return -1;
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off < 16384 ? len - off : 16384;
        const uint8_t hdr[5] = {22, 3, 3, (uint8_t)(chunk >> 8), (uint8_t)chunk};
        memcpy(wire + n, hdr, 5);
        memcpy(wire + n + 5, msg + off, chunk);
        n += 5 + chunk;
        off += chunk;
    }
    int st = FERRULE_WANT_READ;
    size_t off = 0;
    while (st == FERRULE_WANT_READ && off < n) {
        size_t used = 0;
        if (ferrule_conn_feed(to, wire + off, n - off, &used) != FERRULE_OK) {
            st = -1;
            break;
        }
        off += used;
        st = ferrule_conn_handshake(to);
        if (used == 0 && st == FERRULE_WANT_READ) st = -1; /* stuck */
    }
    free(wire);
    return st;
}

int bh_capture_client_hello(ferrule_conn *client, uint8_t **msg, size_t *len) {
    *msg = NULL;
    *len = 0;
    if (ferrule_conn_handshake(client) != FERRULE_WANT_READ) return 0;
    size_t pending = ferrule_conn_pending_output(client), got = 0;
    uint8_t *rec = malloc(pending + 1);
    if (rec == NULL || pending < 5 || ferrule_conn_take(client, rec, pending, &got) != FERRULE_OK ||
        got != pending || rec[0] != 22 || (size_t)(rec[3] << 8 | rec[4]) != pending - 5) {
        free(rec);
        return 0;
    }
    memmove(rec, rec + 5, pending - 5);
    *msg = rec;
    *len = pending - 5;
    return 1;
}

/* ---- shapes ---------------------------------------------------------------- */

#define EXT_SERVER_NAME 0
#define EXT_STATUS_REQUEST 5
#define EXT_SUPPORTED_GROUPS 10
#define EXT_SIGNATURE_ALGORITHMS 13
#define EXT_ALPN 16
#define EXT_CERTIFICATE_AUTHORITIES 47
#define EXT_SIGNATURE_ALGORITHMS_CERT 50
#define EXT_KEY_SHARE 51
#define EXT_BLOCK_MAX 0xffffu

static const char *const SHAPE_NAMES[BH_SHAPES] = {
    "padded", "extensions", "key_shares", "supported_groups", "signature_algorithms",
    "signature_algorithms_cert", "alpn", "psk_foreign", "psk_ours", "certificate_authorities",
    "cipher_suites", "server_name", "status_request"};

const char *bh_shape_name(int shape) {
    return shape >= 0 && shape < BH_SHAPES ? SHAPE_NAMES[shape] : "?";
}

/* A growable byte string. */
typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
    int failed;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (q == NULL) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    if (n > 0) memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void put8(bytes *b, unsigned v) {
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}
static void put16(bytes *b, unsigned v) {
    put8(b, v >> 8);
    put8(b, v);
}

/* Bytes an extension of `type` may take (its body) so that the message
 * stays within `total` and the block within 2^16-1: the current body (if
 * any) is replaced. */
static size_t ext_room(const bighello *h, uint16_t type, size_t total) {
    const bh_ext *e = NULL;
    for (size_t i = 0; i < h->n_ext; i++)
        if (h->ext[i].type == type) e = &h->ext[i];
    size_t cur = e != NULL ? e->len : 0, hdr = e != NULL ? 0 : 4;
    /* The block keeps 4 bytes for the padding extension's header. */
    size_t size = bh_size(h), block = bh_exts_size(h), max = EXT_BLOCK_MAX - 4;
    if (size + hdr > total || block + hdr > max) return 0;
    size_t by_total = total - size - hdr + cur, by_block = max - block - hdr + cur;
    return by_total < by_block ? by_total : by_block;
}

/* The body of a u16-list extension (2-byte prefix): n made-up values
 * from `first`, then the values of `tail` (a u16 list body as sent). */
static int made_up_u16_list(bytes *b, size_t n, unsigned first, const bh_ext *tail) {
    size_t tail_n = tail != NULL && tail->len >= 2 ? tail->len - 2 : 0;
    put16(b, (unsigned)(2 * n + tail_n));
    for (size_t i = 0; i < n; i++) put16(b, first + (unsigned)i);
    if (tail_n > 0) put(b, tail->body + 2, tail_n);
    return !b->failed;
}

static int set_body(bighello *h, uint16_t type, bytes *b) {
    int ok = !b->failed && bh_set(h, type, b->p, b->n);
    free(b->p);
    return ok;
}

int bh_make_shape(bighello *h, int shape, size_t total, const uint8_t key_name[16]) {
    bytes b = {0};
    bh_ext *e;
    /* Leave room for a padding extension's header: bh_pad_to fills the
     * rest exactly. */
    if (total < 4) return 0;
    size_t t = total - 4;
    switch (shape) {
    case BH_PADDED: break;
    case BH_EXTENSIONS: {
        size_t room = ext_room(h, 0xffff, t) + 4; /* a new ext, header included */
        for (size_t i = 0; i < room / 4 && i < 0x4000; i++)
            if (!bh_insert(h, 0, (uint16_t)(0x4000 + i), NULL, 0)) return 0;
        break;
    }
    case BH_SHARES: {
        bh_ext *g = bh_find(h, EXT_SUPPORTED_GROUPS), *ks = bh_find(h, EXT_KEY_SHARE);
        if (g == NULL || ks == NULL || ks->len < 2) return 0;
        /* 2 bytes in supported_groups, 5 in key_share (a 1-byte share). */
        size_t room = ext_room(h, EXT_KEY_SHARE, t) - ks->len;
        size_t n = room / 7;
        bytes gb = {0};
        if (!made_up_u16_list(&gb, n, 0x2000, g) || !set_body(h, EXT_SUPPORTED_GROUPS, &gb))
            return 0;
        ks = bh_find(h, EXT_KEY_SHARE);
        put16(&b, (unsigned)(5 * n + ks->len - 2));
        for (size_t i = 0; i < n; i++) {
            put16(&b, 0x2000 + (unsigned)i);
            put16(&b, 1);
            put8(&b, 0x42);
        }
        put(&b, ks->body + 2, ks->len - 2);
        if (!set_body(h, EXT_KEY_SHARE, &b)) return 0;
        break;
    }
    case BH_GROUPS:
    case BH_SIGS:
    case BH_SIGS_CERT: {
        uint16_t type = shape == BH_GROUPS  ? EXT_SUPPORTED_GROUPS
                        : shape == BH_SIGS ? EXT_SIGNATURE_ALGORITHMS
                                           : EXT_SIGNATURE_ALGORITHMS_CERT;
        e = bh_find(h, type);
        if (e == NULL) return 0;
        size_t n = (ext_room(h, type, t) - e->len) / 2;
        /* Made-up values: groups 0x2000.., schemes 0x1000.. (no scheme the
         * library knows has a first byte of 0x10 or more). */
        bh_ext tail = *e;
        if (!made_up_u16_list(&b, n, type == EXT_SUPPORTED_GROUPS ? 0x2000 : 0x1000, &tail) ||
            !set_body(h, type, &b))
            return 0;
        break;
    }
    case BH_ALPN: {
        size_t room = ext_room(h, EXT_ALPN, t);
        if (room < 5) return 0;
        size_t n = (room - 2 - 3) / 4;
        put16(&b, (unsigned)(4 * n + 3));
        for (size_t i = 0; i < n; i++) {
            put8(&b, 3);
            put8(&b, 'z');
            put16(&b, (unsigned)i);
        }
        put8(&b, 2);
        put(&b, "h2", 2);
        if (!set_body(h, EXT_ALPN, &b)) return 0;
        break;
    }
    case BH_PSK_FOREIGN:
    case BH_PSK_OURS: {
        /* OfferedPsks: identities (u16 id length, id, u32 age), binders
         * (u8 length, 32 bytes); pre_shared_key goes last. */
        size_t id_len = shape == BH_PSK_OURS ? 16 + 12 + 1 + 16 : 1;
        size_t per = 2 + id_len + 4 + 1 + 32, room = ext_room(h, 41, t);
        if (room < 4 + per) return 0;
        size_t n = (room - 4) / per;
        put16(&b, (unsigned)(n * (2 + id_len + 4)));
        for (size_t i = 0; i < n; i++) {
            put16(&b, (unsigned)id_len);
            if (shape == BH_PSK_OURS) {
                put(&b, key_name, 16);
                for (size_t k = 16; k < id_len; k++) put8(&b, (unsigned)(i + k));
            } else {
                put8(&b, (unsigned)i);
            }
            put16(&b, 0);
            put16(&b, 0);
        }
        put16(&b, (unsigned)(n * 33));
        for (size_t i = 0; i < n; i++) {
            put8(&b, 32);
            for (size_t k = 0; k < 32; k++) put8(&b, 0x5a);
        }
        if (b.failed) return 0;
        (void)bh_remove(h, 41);
        if (!bh_insert(h, h->n_ext, 41, b.p, b.n)) return 0;
        free(b.p);
        /* The padding goes before it (RFC 8446 §4.2.11: it stays last). */
        break;
    }
    case BH_CAS: {
        size_t room = ext_room(h, EXT_CERTIFICATE_AUTHORITIES, t);
        if (room < 5) return 0;
        size_t n = (room - 2) / 3;
        put16(&b, (unsigned)(3 * n));
        for (size_t i = 0; i < n; i++) {
            put16(&b, 1);
            put8(&b, 0x30);
        }
        if (!set_body(h, EXT_CERTIFICATE_AUTHORITIES, &b)) return 0;
        break;
    }
    case BH_SUITES: {
        size_t size = bh_size(h);
        if (size > t) return 0;
        size_t n = (t - size) / 2;
        if (h->n_suites + n > 32767) n = 32767 - h->n_suites;
        uint16_t *v = malloc(2 * (n + h->n_suites));
        if (v == NULL) return 0;
        for (size_t i = 0; i < n; i++) v[i] = (uint16_t)(0x2000 + i);
        memcpy(v + n, h->suites, 2 * h->n_suites);
        int ok = bh_set_suites(h, v, n + h->n_suites);
        free(v);
        if (!ok) return 0;
        break;
    }
    case BH_SNI: {
        e = bh_find(h, EXT_SERVER_NAME);
        if (e == NULL || e->len < 2) return 0;
        size_t n = (ext_room(h, EXT_SERVER_NAME, t) - e->len) / 4;
        put16(&b, (unsigned)(4 * n + e->len - 2));
        for (size_t i = 0; i < n; i++) {
            put8(&b, 1 + (unsigned)(i % 255)); /* not host_name(0) */
            put16(&b, 1);
            put8(&b, 'x');
        }
        put(&b, e->body + 2, e->len - 2);
        if (!set_body(h, EXT_SERVER_NAME, &b)) return 0;
        break;
    }
    case BH_STATUS: {
        size_t room = ext_room(h, EXT_STATUS_REQUEST, t);
        if (room < 8) return 0;
        size_t n = (room - 5) / 3;
        put8(&b, 1); /* ocsp */
        put16(&b, (unsigned)(3 * n));
        for (size_t i = 0; i < n; i++) {
            put16(&b, 1);
            put8(&b, 0xa1);
        }
        put16(&b, 0);
        if (!set_body(h, EXT_STATUS_REQUEST, &b)) return 0;
        break;
    }
    default: return 0;
    }
    return bh_pad_to(h, total);
}

ferrule_config *bh_server_config(const uint8_t key_name[16]) {
    static const uint8_t KEY[32] = {42};
    ferrule_config *sc = pair_server_config("ecdsa-p256");
    if (sc == NULL || ferrule_config_add_alpn(sc, (const uint8_t *)"h2", 2) != FERRULE_OK ||
        ferrule_config_set_ticket_key(sc, key_name, KEY) != FERRULE_OK) {
        ferrule_config_free(sc);
        return NULL;
    }
    return sc;
}

ferrule_config *bh_client_config(void) {
    ferrule_config *cc = pair_client_config();
    if (cc == NULL || ferrule_config_add_alpn(cc, (const uint8_t *)"h2", 2) != FERRULE_OK) {
        ferrule_config_free(cc);
        return NULL;
    }
    return cc;
}
