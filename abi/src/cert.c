/*
 * cert.c (ABI) - the X.509 accessors of ferrule.h: argument checks, the
 * handle's last reason, and calls into the certificate view of the engine
 * (core/engine.h, "certificates").
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "engine.h"
#include "ferrule.h"

/* The public handle: the engine's view and the reason of the last failed
 * call (atomic: a handle may be read from many threads at once). */
struct ferrule_cert {
    fr_cert_view *e;
    _Atomic uint32_t reason;
};

/* Record a failure on the handle and map it to its status class. */
static int fail(const ferrule_cert *cert, uint32_t reason) {
    if (cert != NULL) atomic_store(&((ferrule_cert *)cert)->reason, reason);
    return fr_err_class(reason);
}
static int result(const ferrule_cert *cert, uint32_t reason) {
    return reason == 0 ? FERRULE_OK : fail(cert, reason);
}
#define NEED(cert, cond)                                                                           \
    do {                                                                                           \
        if ((cert) == NULL || !(cond)) return fail((cert), FERRULE_R_NULL_ARGUMENT);               \
    } while (0)

/* Zero a borrowed (pointer, length) out-pair. */
#define CLEAR2(p, n)                                                                               \
    do {                                                                                           \
        if ((p) != NULL) *(p) = NULL;                                                              \
        if ((n) != NULL) *(n) = 0;                                                                 \
    } while (0)
#define SET(p, v)                                                                                  \
    do {                                                                                           \
        if ((p) != NULL) *(p) = (v);                                                               \
    } while (0)

/* ---- handles ------------------------------------------------------------------ */

static int parse_into(const uint8_t *der, size_t len, ferrule_cert **out, uint32_t *reason) {
    fr_cert_view *v = NULL;
    uint32_t e = fr_cert_view_new(der, len, &v);
    ferrule_cert *c = NULL;
    if (e == 0) {
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
            fr_cert_view_free(v);
            e = FERRULE_R_OUT_OF_MEMORY;
        } else {
            c->e = v;
            atomic_init(&c->reason, FERRULE_R_NONE);
        }
    }
    *out = c;
    SET(reason, e);
    return e == 0 ? FERRULE_OK : fr_err_class(e);
}

FERRULE_API int ferrule_cert_parse(const uint8_t *der, size_t len, ferrule_cert **out,
                                   uint32_t *reason) {
    SET(reason, FERRULE_R_NULL_ARGUMENT);
    if (out == NULL) return FERRULE_USAGE;
    *out = NULL;
    if (der == NULL) return FERRULE_USAGE;
    return parse_into(der, len, out, reason);
}

FERRULE_API int ferrule_conn_peer_cert_parse(const ferrule_conn *conn, size_t index,
                                             ferrule_cert **out, uint32_t *reason) {
    SET(reason, FERRULE_R_NULL_ARGUMENT);
    if (out == NULL) return FERRULE_USAGE;
    *out = NULL;
    if (conn == NULL) return FERRULE_USAGE;
    const uint8_t *der = NULL;
    size_t len = 0;
    if (index >= ferrule_conn_peer_cert_count(conn) ||
        ferrule_conn_peer_cert(conn, index, &der, &len) != FERRULE_OK) {
        SET(reason, FERRULE_R_NOT_FOUND);
        return FERRULE_USAGE;
    }
    return parse_into(der, len, out, reason);
}

FERRULE_API void ferrule_cert_free(ferrule_cert *cert) {
    if (cert == NULL) return;
    fr_cert_view_free(cert->e);
    free(cert);
}

FERRULE_API uint32_t ferrule_cert_reason(const ferrule_cert *cert) {
    return cert != NULL ? atomic_load(&((ferrule_cert *)cert)->reason) : FERRULE_R_NULL_ARGUMENT;
}

/* ---- scalar facts ------------------------------------------------------------- */

FERRULE_API int ferrule_cert_der(const ferrule_cert *cert, const uint8_t **der, size_t *len) {
    CLEAR2(der, len);
    NEED(cert, der != NULL && len != NULL);
    const fr_cert_facts *f = fr_cert_view_facts(cert->e);
    *der = f->der;
    *len = f->der_len;
    return FERRULE_OK;
}

FERRULE_API uint32_t ferrule_cert_version(const ferrule_cert *cert) {
    return cert != NULL ? fr_cert_view_facts(cert->e)->version : 0;
}

FERRULE_API int ferrule_cert_serial(const ferrule_cert *cert, const uint8_t **serial,
                                    size_t *len) {
    CLEAR2(serial, len);
    NEED(cert, serial != NULL && len != NULL);
    const fr_cert_facts *f = fr_cert_view_facts(cert->e);
    *serial = f->serial;
    *len = f->serial_len;
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_validity(const ferrule_cert *cert, int64_t *not_before,
                                      int64_t *not_after) {
    SET(not_before, 0);
    SET(not_after, 0);
    NEED(cert, 1);
    const fr_cert_facts *f = fr_cert_view_facts(cert->e);
    SET(not_before, f->not_before);
    SET(not_after, f->not_after);
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_signature_algorithm(const ferrule_cert *cert, const char **oid,
                                                 uint16_t *scheme) {
    SET(oid, NULL);
    SET(scheme, 0);
    NEED(cert, 1);
    const fr_cert_facts *f = fr_cert_view_facts(cert->e);
    SET(oid, f->sig_oid);
    SET(scheme, f->sig_scheme);
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_public_key(const ferrule_cert *cert, uint32_t *type, uint32_t *bits,
                                        const char **alg_oid, const char **curve_oid) {
    SET(type, 0);
    SET(bits, 0);
    SET(alg_oid, NULL);
    SET(curve_oid, NULL);
    NEED(cert, 1);
    const fr_cert_facts *f = fr_cert_view_facts(cert->e);
    SET(type, f->key_type);
    SET(bits, f->key_bits);
    SET(alg_oid, f->key_oid);
    SET(curve_oid, f->curve_oid);
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_spki(const ferrule_cert *cert, const uint8_t **der, size_t *len) {
    CLEAR2(der, len);
    NEED(cert, der != NULL && len != NULL);
    const fr_cert_facts *f = fr_cert_view_facts(cert->e);
    *der = f->spki;
    *len = f->spki_len;
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_spki_sha256(const ferrule_cert *cert, const uint8_t **digest,
                                         size_t *len) {
    CLEAR2(digest, len);
    NEED(cert, digest != NULL && len != NULL);
    const fr_cert_facts *f = fr_cert_view_facts(cert->e);
    *digest = f->spki_sha256;
    *len = sizeof(f->spki_sha256);
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_basic_constraints(const ferrule_cert *cert, uint32_t *present,
                                               uint32_t *ca, uint32_t *has_path_len,
                                               uint32_t *path_len) {
    SET(present, 0);
    SET(ca, 0);
    SET(has_path_len, 0);
    SET(path_len, 0);
    NEED(cert, 1);
    const fr_cert_facts *f = fr_cert_view_facts(cert->e);
    SET(present, f->bc_present);
    SET(ca, f->is_ca);
    SET(has_path_len, f->has_path_len);
    SET(path_len, f->path_len);
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_key_usage(const ferrule_cert *cert, uint32_t *present,
                                       uint32_t *bits) {
    SET(present, 0);
    SET(bits, 0);
    NEED(cert, 1);
    const fr_cert_facts *f = fr_cert_view_facts(cert->e);
    SET(present, f->ku_present);
    SET(bits, f->key_usage);
    return FERRULE_OK;
}

/* ---- names ---------------------------------------------------------------------- */

static int name_of(const ferrule_cert *cert, size_t which, const fr_x509_name **name) {
    return result(cert, fr_cert_view_name(cert->e, which, name));
}

FERRULE_API int ferrule_cert_name_count(const ferrule_cert *cert, size_t which, size_t *count) {
    SET(count, 0);
    NEED(cert, count != NULL);
    const fr_x509_name *n;
    int st = name_of(cert, which, &n);
    if (st == FERRULE_OK) *count = n->n_attrs;
    return st;
}

FERRULE_API int ferrule_cert_name_attr(const ferrule_cert *cert, size_t which, size_t index,
                                       size_t *rdn, const char **oid, uint32_t *tag,
                                       const uint8_t **value, size_t *len) {
    SET(rdn, 0);
    SET(oid, NULL);
    SET(tag, 0);
    CLEAR2(value, len);
    NEED(cert, value != NULL && len != NULL);
    const fr_x509_name *n;
    int st = name_of(cert, which, &n);
    if (st != FERRULE_OK) return st;
    if (index >= n->n_attrs) return fail(cert, FERRULE_R_NOT_FOUND);
    const fr_x509_attr *a = &n->attrs[index];
    SET(rdn, a->rdn);
    SET(oid, a->oid);
    SET(tag, a->tag);
    *value = a->value;
    *len = a->value_len;
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_name_string(const ferrule_cert *cert, size_t which,
                                         const char **str, size_t *len) {
    CLEAR2(str, len);
    NEED(cert, str != NULL && len != NULL);
    const fr_x509_name *n;
    int st = name_of(cert, which, &n);
    if (st != FERRULE_OK) return st;
    *str = n->text;
    *len = n->text_len;
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_name_der(const ferrule_cert *cert, size_t which, const uint8_t **der,
                                      size_t *len) {
    CLEAR2(der, len);
    NEED(cert, der != NULL && len != NULL);
    const fr_x509_name *n;
    int st = name_of(cert, which, &n);
    if (st != FERRULE_OK) return st;
    *der = n->der;
    *len = n->der_len;
    return FERRULE_OK;
}

/* ---- lists ----------------------------------------------------------------------- */

static size_t count_of(const ferrule_cert *cert, int list) {
    return cert != NULL ? fr_cert_view_count(cert->e, list) : 0;
}

/* Entry `index` of `list` into *e, or the failure status. */
static int entry_of(const ferrule_cert *cert, int list, size_t index, const fr_x509_entry **e) {
    return result(cert, fr_cert_view_entry(cert->e, list, index, e));
}

/* The GeneralName of an entry into the caller's out-pointers. */
static int general_name(const ferrule_cert *cert, int list, size_t index, uint32_t *type,
                        const uint8_t **value, size_t *len, const fr_x509_entry **out) {
    SET(type, 0);
    CLEAR2(value, len);
    NEED(cert, value != NULL && len != NULL);
    const fr_x509_entry *e = NULL;
    int st = entry_of(cert, list, index, &e);
    if (st != FERRULE_OK) return st;
    SET(type, e->type);
    *value = e->value;
    *len = e->len;
    *out = e;
    return FERRULE_OK;
}

FERRULE_API size_t ferrule_cert_san_count(const ferrule_cert *cert) {
    return count_of(cert, FR_CERT_LIST_SAN);
}

FERRULE_API int ferrule_cert_san(const ferrule_cert *cert, size_t index, uint32_t *type,
                                 const uint8_t **value, size_t *len) {
    const fr_x509_entry *e = NULL;
    return general_name(cert, FR_CERT_LIST_SAN, index, type, value, len, &e);
}

FERRULE_API int ferrule_cert_san_oid(const ferrule_cert *cert, size_t index, const char **oid) {
    SET(oid, NULL);
    NEED(cert, oid != NULL);
    const fr_x509_entry *e = NULL;
    int st = entry_of(cert, FR_CERT_LIST_SAN, index, &e);
    if (st != FERRULE_OK) return st;
    if (e->oid == NULL) return fail(cert, FERRULE_R_NOT_FOUND);
    *oid = e->oid;
    return FERRULE_OK;
}

FERRULE_API int ferrule_cert_san_other_name(const ferrule_cert *cert, size_t index, uint32_t *tag,
                                            const uint8_t **value, size_t *len) {
    SET(tag, 0);
    CLEAR2(value, len);
    NEED(cert, value != NULL && len != NULL);
    const fr_x509_entry *e = NULL;
    int st = entry_of(cert, FR_CERT_LIST_SAN, index, &e);
    if (st != FERRULE_OK) return st;
    if (e->type != FERRULE_GN_OTHER_NAME || e->inner_tag == 0)
        return fail(cert, FERRULE_R_NOT_FOUND);
    SET(tag, e->inner_tag);
    *value = e->inner;
    *len = e->inner_len;
    return FERRULE_OK;
}

FERRULE_API size_t ferrule_cert_eku_count(const ferrule_cert *cert) {
    return count_of(cert, FR_CERT_LIST_EKU);
}

FERRULE_API int ferrule_cert_eku(const ferrule_cert *cert, size_t index, const char **oid) {
    SET(oid, NULL);
    NEED(cert, oid != NULL);
    const fr_x509_entry *e = NULL;
    int st = entry_of(cert, FR_CERT_LIST_EKU, index, &e);
    if (st == FERRULE_OK) *oid = e->oid;
    return st;
}

FERRULE_API size_t ferrule_cert_aia_count(const ferrule_cert *cert) {
    return count_of(cert, FR_CERT_LIST_AIA);
}

FERRULE_API int ferrule_cert_aia(const ferrule_cert *cert, size_t index, const char **method,
                                 uint32_t *type, const uint8_t **value, size_t *len) {
    SET(method, NULL);
    const fr_x509_entry *e = NULL;
    int st = general_name(cert, FR_CERT_LIST_AIA, index, type, value, len, &e);
    if (st == FERRULE_OK) SET(method, e->oid);
    return st;
}

FERRULE_API size_t ferrule_cert_crl_dp_count(const ferrule_cert *cert) {
    return count_of(cert, FR_CERT_LIST_CRLDP);
}

FERRULE_API int ferrule_cert_crl_dp(const ferrule_cert *cert, size_t index, size_t *point,
                                    uint32_t *type, const uint8_t **value, size_t *len) {
    SET(point, 0);
    const fr_x509_entry *e = NULL;
    int st = general_name(cert, FR_CERT_LIST_CRLDP, index, type, value, len, &e);
    if (st == FERRULE_OK) SET(point, e->group);
    return st;
}

FERRULE_API size_t ferrule_cert_extension_count(const ferrule_cert *cert) {
    return count_of(cert, FR_CERT_LIST_EXT);
}

FERRULE_API int ferrule_cert_extension(const ferrule_cert *cert, size_t index, const char **oid,
                                       uint32_t *critical, const uint8_t **value, size_t *len) {
    SET(oid, NULL);
    SET(critical, 0);
    CLEAR2(value, len);
    NEED(cert, value != NULL && len != NULL);
    const fr_x509_entry *e = NULL;
    int st = entry_of(cert, FR_CERT_LIST_EXT, index, &e);
    if (st != FERRULE_OK) return st;
    SET(oid, e->oid);
    SET(critical, e->type);
    *value = e->value;
    *len = e->len;
    return FERRULE_OK;
}
