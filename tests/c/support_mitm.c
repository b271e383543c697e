/* support_mitm.c - see support_mitm.h.  Uses the internal record and AEAD
 * functions (tests link libferrule.a) to re-protect edited records. */
#include "support_mitm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "record.h"

/* ---- records ------------------------------------------------------------ */

mflight *mf_new(void) { return calloc(1, sizeof(mflight)); }
void mf_free(mflight *f) { free(f); }

int mf_parse(mflight *f, const uint8_t *p, size_t n) {
    size_t off = 0;
    while (n - off >= 5) {
        size_t len = ((size_t)p[off + 3] << 8) | p[off + 4];
        if (len > n - off - 5 || len > MITM_REC_CAP || f->n >= MITM_MAX_RECS) return 0;
        mrec *r = &f->r[f->n++];
        memset(r, 0, offsetof(mrec, data));
        r->type = p[off];
        r->version = (uint16_t)(p[off + 1] << 8 | p[off + 2]);
        r->len = len;
        memcpy(r->data, p + off + 5, len);
        off += 5 + len;
    }
    return off == n;
}

int mf_take(mflight *f, ferrule_conn *from) {
    size_t pending = ferrule_conn_pending_output(from);
    uint8_t *buf = malloc(pending + 1);
    size_t got = 0;
    int ok = buf != NULL && ferrule_conn_take(from, buf, pending, &got) == FERRULE_OK &&
             got == pending && mf_parse(f, buf, got);
    free(buf);
    return ok;
}

int mf_open(mflight *f, size_t from, size_t to, const uint8_t *secret) {
    fr_aead a;
    memset(&a, 0, sizeof(a));
    if (fr_aead_init(&a, f->suite, secret, 0) != FR_OK) return -1;
    int opened = 0;
    uint8_t rec[5 + MITM_REC_CAP];
    for (size_t i = from; i < to && i < f->n; i++) {
        mrec *r = &f->r[i];
        if (r->type != FR_CT_APPLICATION_DATA || r->prot) continue;
        rec[0] = r->type;
        rec[1] = (uint8_t)(r->version >> 8);
        rec[2] = (uint8_t)r->version;
        rec[3] = (uint8_t)(r->len >> 8);
        rec[4] = (uint8_t)r->len;
        memcpy(rec + 5, r->data, r->len);
        uint8_t type = 0, *pt = NULL;
        size_t pt_len = 0;
        if (fr_record_open(&a, rec, 5 + r->len, &type, &pt, &pt_len) != FR_OK) {
            opened = -1;
            break;
        }
        r->prot = 1;
        r->inner = type;
        r->pad = 0;
        r->key = secret;
        r->len = pt_len;
        memcpy(r->data, pt, pt_len);
        opened++;
    }
    fr_aead_free(&a);
    return opened;
}

mrec *mf_add_plain(mflight *f, uint8_t type, const uint8_t *data, size_t len) {
    if (f->n >= MITM_MAX_RECS || len > MITM_REC_CAP) return NULL;
    mrec *r = &f->r[f->n++];
    memset(r, 0, offsetof(mrec, data));
    r->type = type;
    r->version = 0x0303;
    r->len = len;
    if (len > 0) memcpy(r->data, data, len);
    return r;
}

mrec *mf_add_prot(mflight *f, uint8_t inner, const uint8_t *data, size_t len,
                  const uint8_t *secret) {
    mrec *r = mf_add_plain(f, FR_CT_APPLICATION_DATA, data, len);
    if (r == NULL) return NULL;
    r->prot = 1;
    r->inner = inner;
    r->key = secret;
    return r;
}

mrec *mf_insert_copy(mflight *f, size_t pos, size_t src) {
    if (f->n >= MITM_MAX_RECS || pos > f->n || src >= f->n) return NULL;
    memmove(&f->r[pos + 1], &f->r[pos], (f->n - pos) * sizeof(mrec));
    f->n++;
    if (src >= pos) src++;
    memcpy(&f->r[pos], &f->r[src], sizeof(mrec));
    return &f->r[pos];
}

void mf_remove(mflight *f, size_t pos) {
    if (pos >= f->n) return;
    memmove(&f->r[pos], &f->r[pos + 1], (f->n - pos - 1) * sizeof(mrec));
    f->n--;
}

int mrec_is_ccs(const mrec *r) {
    return r->type == FR_CT_CHANGE_CIPHER_SPEC && r->version == 0x0303 && !r->prot &&
           r->len == 1 && r->data[0] == 1;
}

size_t mf_count_ccs(const mflight *f) {
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) n += f->r[i].type == FR_CT_CHANGE_CIPHER_SPEC;
    return n;
}

/* Seal one protected record.  Valid inner types go through
 * fr_record_seal; anything else (no type byte, change_cipher_spec, an
 * unknown type) is built by hand so that tests can send what the library
 * itself never would. */
static int seal_one(fr_aead *a, const mrec *r, uint8_t *out, size_t cap, size_t *n) {
    if (r->inner == FR_CT_ALERT || r->inner == FR_CT_HANDSHAKE ||
        r->inner == FR_CT_APPLICATION_DATA) {
        if (r->len + r->pad <= FR_MAX_PLAINTEXT)
            return fr_record_seal(a, r->inner, r->data, r->len, r->pad, out, cap, n) == FR_OK;
    }
    size_t inner = r->len + (r->inner != 0 ? 1 : 0) + r->pad;
    size_t body = inner + FR_AEAD_TAG_LEN;
    if (body > 0xffff || cap < 5 + body) return 0;
    out[0] = FR_CT_APPLICATION_DATA;
    out[1] = 3;
    out[2] = 3;
    out[3] = (uint8_t)(body >> 8);
    out[4] = (uint8_t)body;
    uint8_t *p = out + 5;
    memcpy(p, r->data, r->len);
    if (r->inner != 0) p[r->len] = r->inner;
    memset(p + r->len + (r->inner != 0 ? 1 : 0), 0, r->pad);
    if (fr_aead_seal(a, out, 5, p, inner, p + inner) != FR_OK) return 0;
    *n = 5 + body;
    return 1;
}

size_t mf_serialize(const mflight *f, uint64_t seq0, uint8_t *out, size_t cap) {
    enum { KEYS = 6 };
    const uint8_t *keys[KEYS];
    fr_aead aeads[KEYS];
    size_t nkeys = 0, off = 0;
    int ok = 1;
    memset(aeads, 0, sizeof(aeads));
    for (size_t i = 0; i < f->n && ok; i++) {
        const mrec *r = &f->r[i];
        if (!r->prot) {
            if (cap - off < 5 + r->len) {
                ok = 0;
                break;
            }
            out[off] = r->type;
            out[off + 1] = (uint8_t)(r->version >> 8);
            out[off + 2] = (uint8_t)r->version;
            out[off + 3] = (uint8_t)(r->len >> 8);
            out[off + 4] = (uint8_t)r->len;
            memcpy(out + off + 5, r->data, r->len);
            off += 5 + r->len;
            continue;
        }
        size_t k = 0;
        while (k < nkeys && keys[k] != r->key) k++;
        if (k == nkeys) {
            if (nkeys == KEYS || r->key == NULL ||
                fr_aead_init(&aeads[k], f->suite, r->key, 1) != FR_OK) {
                ok = 0;
                break;
            }
            aeads[k].seq = seq0;
            keys[nkeys++] = r->key;
        }
        size_t n = 0;
        if (!seal_one(&aeads[k], r, out + off, cap - off, &n)) ok = 0;
        off += n;
    }
    for (size_t k = 0; k < nkeys; k++) fr_aead_free(&aeads[k]);
    return ok ? off : 0;
}

int mitm_feed(ferrule_conn *to, const uint8_t *p, size_t n) {
    size_t used = 0;
    if (ferrule_conn_feed(to, p, n, &used) != FERRULE_OK) return 0;
    return used == n;
}

int mf_send_seq(const mflight *f, ferrule_conn *to, uint64_t seq0) {
    size_t cap = (f->n + 1) * (5 + MITM_REC_CAP + 64);
    uint8_t *buf = malloc(cap);
    if (buf == NULL) return 0;
    size_t n = mf_serialize(f, seq0, buf, cap);
    int ok = (n > 0 || f->n == 0) && mitm_feed(to, buf, n);
    free(buf);
    return ok;
}

int mf_send(const mflight *f, ferrule_conn *to) { return mf_send_seq(f, to, 0); }

int mf_deliver(const mflight *f, ferrule_conn *to) {
    size_t cap = (f->n + 1) * (5 + MITM_REC_CAP + 64);
    uint8_t *buf = malloc(cap);
    if (buf == NULL) return -1;
    size_t n = mf_serialize(f, 0, buf, cap), off = 0;
    int st = n > 0 ? FERRULE_WANT_READ : -1;
    for (int guard = 0; st == FERRULE_WANT_READ && guard < 256; guard++) {
        size_t used = 0;
        if (off < n && ferrule_conn_feed(to, buf + off, n - off, &used) != FERRULE_OK) {
            st = -1;
            break;
        }
        off += used;
        st = ferrule_conn_handshake(to);
        if (off == n) break;
    }
    if (st == FERRULE_OK && off < n) {
        size_t used = 0;
        if (ferrule_conn_feed(to, buf + off, n - off, &used) != FERRULE_OK) st = -1;
    }
    free(buf);
    return st;
}

int mitm_pass(ferrule_conn *from, ferrule_conn *to) {
    size_t pending = ferrule_conn_pending_output(from);
    uint8_t *buf = malloc(pending + 1);
    size_t got = 0;
    int ok = buf != NULL && ferrule_conn_take(from, buf, pending, &got) == FERRULE_OK &&
             got == pending && mitm_feed(to, buf, got);
    free(buf);
    return ok;
}

/* ---- key log -------------------------------------------------------------- */

static const char *const LABELS[MK_COUNT] = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"};

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static void keylog_cb(void *ctx, const ferrule_conn *conn, const char *line) {
    mitm *m = ctx;
    uint32_t role = ferrule_conn_role(conn);
    if (role != FERRULE_ROLE_CLIENT && role != FERRULE_ROLE_SERVER) return;
    const char *sp1 = strchr(line, ' ');
    if (sp1 == NULL) return;
    const char *sp2 = strchr(sp1 + 1, ' ');
    if (sp2 == NULL || sp2 - sp1 - 1 != 64) return;
    size_t label_len = (size_t)(sp1 - line);
    for (int k = 0; k < MK_COUNT; k++) {
        if (strlen(LABELS[k]) != label_len || memcmp(line, LABELS[k], label_len) != 0) continue;
        const char *hex = sp2 + 1;
        size_t hn = strlen(hex);
        if (hn % 2 != 0 || hn / 2 > sizeof(m->sec[role][k].v)) return;
        for (size_t i = 0; i < hn / 2; i++) {
            int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) return;
            m->sec[role][k].v[i] = (uint8_t)(hi << 4 | lo);
        }
        m->sec[role][k].len = hn / 2;
        m->sec[role][k].set = 1;
    }
}

int mitm_init(mitm *m, ferrule_config *cc, ferrule_config *sc) {
    memset(m, 0, sizeof(*m));
    m->ccfg = cc;
    m->scfg = sc;
    if (cc == NULL || sc == NULL) return 0;
    if (ferrule_config_set_keylog_callback(cc, keylog_cb, m) != FERRULE_OK) return 0;
    if (ferrule_config_set_keylog_callback(sc, keylog_cb, m) != FERRULE_OK) return 0;
    m->ok = pair_new(&m->p, cc, sc, NULL);
    return m->ok;
}

int mitm_init_default(mitm *m, const char *kind) {
    return mitm_init(m, pair_client_config(), pair_server_config(kind));
}

void mitm_free(mitm *m) {
    pair_free(&m->p);
    ferrule_config_free(m->ccfg);
    ferrule_config_free(m->scfg);
    memset(m, 0, sizeof(*m));
}

const uint8_t *mitm_secret(mitm *m, uint32_t role, int which) {
    if (role > 2 || which < 0 || which >= MK_COUNT || !m->sec[role][which].set) return NULL;
    return m->sec[role][which].v;
}

int mitm_client_adopt_hello(ferrule_conn *client, const uint8_t *msg, size_t len) {
    if (client->ch_copy == NULL) return 0;
    uint8_t *copy = fr_mem_alloc(&client->mem, len);
    if (copy == NULL) return 0;
    memcpy(copy, msg, len);
    fr_mem_free(&client->mem, client->ch_copy, client->ch_len);
    client->ch_copy = copy;
    client->ch_len = len;
    return 1;
}

/* ---- hello messages ------------------------------------------------------ */

int hello_parse(hello *h, const uint8_t *msg, size_t len) {
    memset(h, 0, sizeof(*h));
    if (len < 4 || (msg[0] != 1 && msg[0] != 2)) return 0;
    h->server = msg[0] == 2;
    size_t body = ((size_t)msg[1] << 16) | ((size_t)msg[2] << 8) | msg[3];
    if (body != len - 4) return 0;
    fr_reader r = fr_reader_init(msg + 4, body), sid, v;
    const uint8_t *rnd;
    if (fr_read_u16(&r, &h->version) != FR_OK || fr_read_bytes(&r, 32, &rnd) != FR_OK ||
        fr_read_vec8(&r, &sid) != FR_OK || fr_reader_left(&sid) > sizeof(h->sid))
        return 0;
    memcpy(h->random, rnd, 32);
    h->sid_len = fr_reader_left(&sid);
    memcpy(h->sid, sid.p, h->sid_len);
    if (h->server) {
        uint8_t comp;
        if (fr_read_u16(&r, &h->suites[0]) != FR_OK || fr_read_u8(&r, &comp) != FR_OK) return 0;
        h->n_suites = 1;
        h->comp[0] = comp;
        h->n_comp = 1;
    } else {
        if (fr_read_vec16(&r, &v) != FR_OK) return 0;
        while (!fr_reader_empty(&v)) {
            if (h->n_suites == 64 || fr_read_u16(&v, &h->suites[h->n_suites++]) != FR_OK) return 0;
        }
        if (fr_read_vec8(&r, &v) != FR_OK || fr_reader_left(&v) > sizeof(h->comp)) return 0;
        h->n_comp = fr_reader_left(&v);
        memcpy(h->comp, v.p, h->n_comp);
    }
    if (fr_reader_empty(&r)) return 1;
    h->has_exts = 1;
    if (fr_read_vec16(&r, &v) != FR_OK) return 0;
    while (!fr_reader_empty(&v)) {
        fr_reader eb;
        if (h->n_ext == 40) return 0;
        hext *e = &h->ext[h->n_ext++];
        if (fr_read_u16(&v, &e->type) != FR_OK || fr_read_vec16(&v, &eb) != FR_OK ||
            fr_reader_left(&eb) > sizeof(e->body))
            return 0;
        e->len = fr_reader_left(&eb);
        memcpy(e->body, eb.p, e->len);
    }
    return fr_reader_empty(&r);
}

size_t hello_encode(const hello *h, uint8_t *out, size_t cap) {
    fr_writer w;
    fr_writer_init(&w, out, cap);
    fr_write_u8(&w, h->server ? 2 : 1);
    fr_write_open_vec(&w, 3);
    fr_write_u16(&w, h->version);
    fr_write_bytes(&w, h->random, 32);
    /* Raw length byte: tests may send 33-byte session ids. */
    fr_write_u8(&w, (uint8_t)h->sid_len);
    fr_write_bytes(&w, h->sid, h->sid_len);
    if (h->server) {
        fr_write_u16(&w, h->suites[0]);
        fr_write_u8(&w, h->comp[0]);
    } else {
        fr_write_open_vec(&w, 2);
        for (size_t i = 0; i < h->n_suites; i++) fr_write_u16(&w, h->suites[i]);
        fr_write_close_vec(&w);
        fr_write_open_vec(&w, 1);
        fr_write_bytes(&w, h->comp, h->n_comp);
        fr_write_close_vec(&w);
    }
    if (h->has_exts) {
        fr_write_open_vec(&w, 2);
        for (size_t i = 0; i < h->n_ext; i++) {
            fr_write_u16(&w, h->ext[i].type);
            fr_write_open_vec(&w, 2);
            fr_write_bytes(&w, h->ext[i].body, h->ext[i].len);
            fr_write_close_vec(&w);
        }
        fr_write_close_vec(&w);
    }
    fr_write_bytes(&w, h->trailing, h->n_trailing);
    fr_write_close_vec(&w);
    return fr_write_finish(&w) == FR_OK ? w.len : 0;
}

size_t hello_index(const hello *h, uint16_t type) {
    for (size_t i = 0; i < h->n_ext; i++)
        if (h->ext[i].type == type) return i;
    return h->n_ext;
}

hext *hello_find(hello *h, uint16_t type) {
    size_t i = hello_index(h, type);
    return i < h->n_ext ? &h->ext[i] : NULL;
}

int hello_remove(hello *h, uint16_t type) {
    size_t i = hello_index(h, type);
    if (i == h->n_ext) return 0;
    memmove(&h->ext[i], &h->ext[i + 1], (h->n_ext - i - 1) * sizeof(hext));
    h->n_ext--;
    return 1;
}

hext *hello_add(hello *h, size_t pos, uint16_t type, const uint8_t *body, size_t len) {
    if (h->n_ext == 40 || len > HELLO_EXT_CAP) return NULL;
    if (pos > h->n_ext) pos = h->n_ext;
    memmove(&h->ext[pos + 1], &h->ext[pos], (h->n_ext - pos) * sizeof(hext));
    h->n_ext++;
    h->has_exts = 1;
    hext *e = &h->ext[pos];
    e->type = type;
    e->len = len;
    if (len > 0) memcpy(e->body, body, len);
    return e;
}

size_t u16_vec(uint8_t *out, int width, const uint16_t *v, size_t n) {
    size_t off = 0;
    size_t body = 2 * n;
    if (width == 2) out[off++] = (uint8_t)(body >> 8);
    out[off++] = (uint8_t)body;
    for (size_t i = 0; i < n; i++) {
        out[off++] = (uint8_t)(v[i] >> 8);
        out[off++] = (uint8_t)v[i];
    }
    return off;
}
