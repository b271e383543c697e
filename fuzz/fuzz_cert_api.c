/*
 * fuzz_cert_api.c - the public X.509 accessors (abi/src/cert.c over
 * core/x509/access*.c) on arbitrary bytes: ferrule_cert_parse, then every
 * accessor with every index (and one past the end).
 * Checks: no crash or leak; the handle parses exactly when fr_cert_parse
 * accepts the bytes (the view adds no rule); parse failures report a
 * documented status and reason; every accessor succeeds inside its count
 * and fails with not_found past it; texts are NUL-terminated at their
 * length, dotted OIDs are digits and dots, byte strings lie inside the
 * handle's copy of the DER.
 */
#include "fuzz_common.h"

#include "x509/x509.h"

static const uint8_t *g_der;
static size_t g_len;

static void in_der(const uint8_t *p, size_t n) {
    FUZZ_CHECK(n == 0 || (p >= g_der && n <= g_len && p - g_der <= (ptrdiff_t)(g_len - n)));
}

static void dotted(const char *oid) {
    FUZZ_CHECK(oid != NULL && oid[0] >= '0' && oid[0] <= '2' && oid[1] == '.');
    for (const char *s = oid; *s != 0; s++) FUZZ_CHECK((*s >= '0' && *s <= '9') || *s == '.');
}

static void past_end(const ferrule_cert *c, int st) {
    FUZZ_CHECK(st == FERRULE_USAGE && ferrule_cert_reason(c) == FERRULE_R_NOT_FOUND);
}

static void names(const ferrule_cert *c, size_t which) {
    size_t n = 0, rdn, len;
    const char *oid, *s;
    uint32_t tag;
    const uint8_t *v;
    FUZZ_CHECK(ferrule_cert_name_count(c, which, &n) == FERRULE_OK);
    for (size_t i = 0; i <= n; i++) {
        int st = ferrule_cert_name_attr(c, which, i, &rdn, &oid, &tag, &v, &len);
        if (i == n) {
            past_end(c, st);
            break;
        }
        FUZZ_CHECK(st == FERRULE_OK && rdn <= i);
        dotted(oid);
        in_der(v, len);
    }
    FUZZ_CHECK(ferrule_cert_name_string(c, which, &s, &len) == FERRULE_OK);
    FUZZ_CHECK(strlen(s) == len);
    FUZZ_CHECK(ferrule_cert_name_der(c, which, &v, &len) == FERRULE_OK);
    in_der(v, len);
}

static void sans(const ferrule_cert *c) {
    size_t n = ferrule_cert_san_count(c), len;
    uint32_t type, tag;
    const uint8_t *v;
    const char *oid;
    for (size_t i = 0; i <= n; i++) {
        int st = ferrule_cert_san(c, i, &type, &v, &len);
        if (i == n) {
            past_end(c, st);
            break;
        }
        FUZZ_CHECK(st == FERRULE_OK && type <= FERRULE_GN_REGISTERED_ID);
        in_der(v, len);
        st = ferrule_cert_san_oid(c, i, &oid);
        FUZZ_CHECK((st == FERRULE_OK) == (type == FERRULE_GN_OTHER_NAME ||
                                           type == FERRULE_GN_REGISTERED_ID));
        if (st == FERRULE_OK) dotted(oid);
        if (ferrule_cert_san_other_name(c, i, &tag, &v, &len) == FERRULE_OK) {
            FUZZ_CHECK(type == FERRULE_GN_OTHER_NAME);
            in_der(v, len);
        }
        if (type == FERRULE_GN_DIRECTORY_NAME) names(c, FERRULE_CERT_SAN_NAME(i));
        else past_end(c, ferrule_cert_name_count(c, FERRULE_CERT_SAN_NAME(i), &len));
    }
}

static void lists(const ferrule_cert *c) {
    size_t len, point;
    uint32_t type, crit;
    const uint8_t *v;
    const char *oid;
    size_t n = ferrule_cert_eku_count(c);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(ferrule_cert_eku(c, i, &oid) == FERRULE_OK);
        dotted(oid);
    }
    past_end(c, ferrule_cert_eku(c, n, &oid));
    n = ferrule_cert_aia_count(c);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(ferrule_cert_aia(c, i, &oid, &type, &v, &len) == FERRULE_OK);
        dotted(oid);
        in_der(v, len);
    }
    past_end(c, ferrule_cert_aia(c, n, &oid, &type, &v, &len));
    n = ferrule_cert_crl_dp_count(c);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(ferrule_cert_crl_dp(c, i, &point, &type, &v, &len) == FERRULE_OK);
        in_der(v, len);
    }
    past_end(c, ferrule_cert_crl_dp(c, n, &point, &type, &v, &len));
    n = ferrule_cert_extension_count(c);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(ferrule_cert_extension(c, i, &oid, &crit, &v, &len) == FERRULE_OK);
        FUZZ_CHECK(crit <= 1);
        dotted(oid);
        in_der(v, len);
    }
    past_end(c, ferrule_cert_extension(c, n, &oid, &crit, &v, &len));
}

static void facts(const ferrule_cert *c) {
    const uint8_t *p;
    size_t n;
    int64_t nb, na;
    uint32_t a, b, d, e;
    uint16_t scheme;
    const char *oid, *curve;
    FUZZ_CHECK(ferrule_cert_version(c) >= 1 && ferrule_cert_version(c) <= 3);
    FUZZ_CHECK(ferrule_cert_serial(c, &p, &n) == FERRULE_OK && n >= 1 && n <= 21);
    FUZZ_CHECK(ferrule_cert_validity(c, &nb, &na) == FERRULE_OK);
    FUZZ_CHECK(ferrule_cert_signature_algorithm(c, &oid, &scheme) == FERRULE_OK);
    dotted(oid);
    FUZZ_CHECK(ferrule_cert_public_key(c, &a, &b, &oid, &curve) == FERRULE_OK);
    dotted(oid);
    FUZZ_CHECK(a <= FERRULE_KEY_ED25519 && (curve == NULL || a == FERRULE_KEY_EC));
    FUZZ_CHECK(ferrule_cert_spki(c, &p, &n) == FERRULE_OK);
    in_der(p, n);
    FUZZ_CHECK(ferrule_cert_spki_sha256(c, &p, &n) == FERRULE_OK && n == 32);
    FUZZ_CHECK(ferrule_cert_basic_constraints(c, &a, &b, &d, &e) == FERRULE_OK);
    FUZZ_CHECK(a <= 1 && b <= a && d <= a && e <= 255);
    FUZZ_CHECK(ferrule_cert_key_usage(c, &a, &b) == FERRULE_OK && b < (1u << 16));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ferrule_cert *c = NULL;
    uint32_t reason = 0;
    int st = ferrule_cert_parse(data, size, &c, &reason);
    /* The same verdict as the handshake's parser. */
    fr_mem m;
    fr_mem_init(&m, NULL, 0);
    fr_cert *ref = NULL;
    fr_err e = data != NULL ? fr_cert_parse(&m, data, size, &ref) : FERRULE_R_NULL_ARGUMENT;
    fr_cert_free(&m, ref);
    FUZZ_CHECK((st == FERRULE_OK) == (e == FR_OK));
    if (st != FERRULE_OK) {
        FUZZ_CHECK(c == NULL && reason == e);
        FUZZ_CHECK((st == FERRULE_CERTIFICATE &&
                    (reason == FERRULE_R_CERT_MALFORMED || reason == FERRULE_R_CERT_WEAK_KEY ||
                     reason == FERRULE_R_CERT_UNSUPPORTED)) ||
                   (st == FERRULE_USAGE && reason == FERRULE_R_NULL_ARGUMENT) ||
                   (st == FERRULE_INTERNAL && reason == FERRULE_R_OUT_OF_MEMORY));
        return 0;
    }
    FUZZ_CHECK(c != NULL && reason == FERRULE_R_NONE);
    /* Byte strings point into the handle's copy of the DER. */
    FUZZ_CHECK(ferrule_cert_der(c, &g_der, &g_len) == FERRULE_OK && g_len == size &&
               memcmp(g_der, data, size) == 0);
    facts(c);
    names(c, FERRULE_CERT_SUBJECT);
    names(c, FERRULE_CERT_ISSUER);
    sans(c);
    lists(c);
    ferrule_cert_free(c);
    return 0;
}
