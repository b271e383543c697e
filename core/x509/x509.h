/*
 * x509.h - certificates, trust stores and chain verification (RFC 5280,
 * RFC 6125): the strict parser (cert_parse.c, cert_ext.c, crl.c), the
 * path builder (path.c) and its rules (policy.c, nc.c), host names
 * (hostname.c) and trust stores (trust.c).  Policy: docs/x509.md.
 */
#ifndef FR_X509_H
#define FR_X509_H

#include "../common.h"
#include "../crypto/crypto.h"

/* A parsed certificate.  Owns a copy of its DER; all slices point into it.
 * Well formed but not usable is checked when the certificate is used in a
 * path: sig_kind == 0 means an unsupported signature algorithm (FR_OK for
 * an anchor, whose own signature is never checked); fr_cert_key failing
 * with CERT_UNSUPPORTED means an unsupported key; unknown_critical is set
 * by a critical extension we do not implement (RFC 5280 §4.2). */
typedef struct fr_cert {
    uint8_t *der;
    size_t der_len;
    /* §4.1.1: the signed frame (slices into der). */
    const uint8_t *tbs;       size_t tbs_len;      /* full TBSCertificate TLV */
    const uint8_t *sig;       size_t sig_len;      /* signature bits (no unused-bits byte) */
    int sig_kind, sig_hash;                         /* FR_SIGKIND_*, FR_HASH_* (outer == TBS) */
    /* §4.1.2.1, §4.1.2.2: version and serial. */
    int version;                                    /* 0 = v1 ... 2 = v3 */
    const uint8_t *serial;    size_t serial_len;   /* INTEGER content */
    /* §4.1.2.4, §4.1.2.6: names. */
    const uint8_t *issuer;    size_t issuer_len;   /* Name TLV */
    const uint8_t *subject;   size_t subject_len;  /* Name TLV */
    int self_issued;                                /* issuer == subject (fr_name_equal) */
    uint64_t issuer_hash, subject_hash;             /* fr_name_hash of the two names */
    /* §4.1.2.5: validity. */
    int64_t not_before, not_after;                  /* Unix seconds */
    int time_encoding_bad;  /* UTCTime/GeneralizedTime choice violates RFC 5280 §4.1.2.5 */
    /* §4.1.2.7: the subject public key. */
    const uint8_t *spki;      size_t spki_len;     /* SubjectPublicKeyInfo TLV */
    int key_kind;                                   /* FR_CERT_KEY_*; 0 = not allowed */
    size_t key_bits;                                /* RSA modulus bits, else curve bits */
    /* The decoded key: read it only through fr_cert_key.  Decoded by
     * fr_cert_parse; for a trust anchor (fr_cert_parse_anchor) at first
     * use, by whichever thread gets there first (compare-and-swap), since
     * a store is shared by every connection of its configuration.
     * key_fail caches a permanent decoding failure (an fr_err). */
    _Atomic(EVP_PKEY *) key;
    _Atomic uint32_t key_fail;
    /* §4.2: extensions seen (FR_EXT_* bits) and which of them were marked
     * critical; the profile rules (criticality, presence) are enforced when
     * the certificate is used in a path. */
    unsigned ext_present, ext_critical;
    int unknown_critical;
    /* §4.2.1.1, §4.2.1.2: key identifiers. */
    const uint8_t *ski;       size_t ski_len;       /* keyIdentifier bytes or NULL */
    const uint8_t *aki_keyid; size_t aki_keyid_len; /* AKI keyIdentifier or NULL */
    int aki_issuer_serial;                          /* AKI authorityCertIssuer/SerialNumber */
    /* §4.2.1.3, §4.2.1.12: key usage and extended key usage. */
    int has_key_usage; uint16_t key_usage;          /* bit 0 = digitalSignature ... */
    int has_eku; unsigned eku;                      /* FR_EKU_* bits */
    /* §4.2.1.6: subjectAltName. */
    const uint8_t *san;       size_t san_len;      /* GeneralNames TLV or NULL */
    /* §4.2.1.9, §4.2.1.10: basic and name constraints. */
    int is_ca;                                      /* basicConstraints cA */
    int path_len;                                   /* -1 = none */
    const uint8_t *nc;        size_t nc_len;        /* NameConstraints SEQUENCE TLV or NULL */
    /* §4.2.1.4, §4.2.1.5, §4.2.1.11, §4.2.1.14: policies. */
    const uint8_t *policies;  size_t policies_len;  /* certificatePolicies SEQUENCE TLV */
    const uint8_t *mappings;  size_t mappings_len;  /* policyMappings SEQUENCE TLV */
    int require_explicit, inhibit_mapping;          /* policyConstraints; -1 = absent */
    int inhibit_any;                                /* inhibitAnyPolicy; -1 = absent */
    /* RFC 7633 TLS feature extension (1.3.6.1.5.5.7.1.24) listing
     * status_request(5): the certificate requires an OCSP staple. */
    int must_staple;
} fr_cert;

/* Extensions (fr_cert.ext_present / ext_critical). */
#define FR_EXT_BC (1u << 0)    /* basicConstraints */
#define FR_EXT_KU (1u << 1)    /* keyUsage */
#define FR_EXT_EKU (1u << 2)   /* extKeyUsage */
#define FR_EXT_SAN (1u << 3)   /* subjectAltName */
#define FR_EXT_NC (1u << 4)    /* nameConstraints */
#define FR_EXT_AKI (1u << 5)   /* authorityKeyIdentifier */
#define FR_EXT_SKI (1u << 6)   /* subjectKeyIdentifier */
#define FR_EXT_CP (1u << 7)    /* certificatePolicies */
#define FR_EXT_PC (1u << 8)    /* policyConstraints */
#define FR_EXT_PM (1u << 9)    /* policyMappings */
#define FR_EXT_IAP (1u << 10)  /* inhibitAnyPolicy */
#define FR_EXT_AIA (1u << 11)  /* authorityInfoAccess */
#define FR_EXT_CRLDP (1u << 12) /* cRLDistributionPoints */
#define FR_EXT_TLSF (1u << 13) /* TLS feature (RFC 7633) */

/* Subject public key kinds the verifier accepts (webpki's set). */
#define FR_CERT_KEY_RSA 1
#define FR_CERT_KEY_RSA_PSS 2
#define FR_CERT_KEY_EC_P256 3
#define FR_CERT_KEY_EC_P384 4
#define FR_CERT_KEY_EC_P521 5
#define FR_CERT_KEY_ED25519 6

#define FR_EKU_SERVER 1u /* id-kp-serverAuth */
#define FR_EKU_CLIENT 2u /* id-kp-clientAuth */
#define FR_EKU_ANY 4u    /* anyExtendedKeyUsage */
#define FR_EKU_OTHER 8u  /* some other purpose */
#define FR_EKU_OCSP_SIGNING 16u /* id-kp-OCSPSigning (RFC 6960 §4.2.2.2) */

/* keyUsage bits (RFC 5280 §4.2.1.3): bit n of the BIT STRING = 1 << n. */
#define FR_KU_DIGITAL_SIGNATURE (1u << 0)
#define FR_KU_KEY_CERT_SIGN (1u << 5)
#define FR_KU_CRL_SIGN (1u << 6)

/* Parse one DER certificate (strict DER).  FERRULE_R_CERT_MALFORMED for
 * any encoding error.  A well-formed certificate with an unsupported
 * signature algorithm, key type or critical extension still parses (see
 * the fields above) so that, e.g., SHA-1 self-signed roots remain usable
 * anchors; fr_verify_chain reports FERRULE_R_CERT_UNSUPPORTED when such a
 * certificate would have to be relied on. */
FR_MUST_CHECK fr_err fr_cert_parse(fr_mem *m, const uint8_t *der, size_t len, fr_cert **out);
/* The same for a trust anchor, whose key is decoded only when it has to
 * verify something (most anchors of a large store never do): at parse, a
 * structural reading of the key gives key_bits (RSA: the modulus; EC and
 * Ed25519: the curve's), and a key that reading refuses is CERT_UNSUPPORTED
 * at use, as an undecodable key of fr_cert_parse is. */
FR_MUST_CHECK fr_err fr_cert_parse_anchor(fr_mem *m, const uint8_t *der, size_t len,
                                          fr_cert **out);
/* The certificate's public key, decoded now if it was not yet (thread
 * safe on a shared certificate).  CERT_UNSUPPORTED for a key type we do not
 * accept or libcrypto cannot set up (also when its size disagrees with
 * key_bits), CERT_MALFORMED for a key that does not decode, resource
 * failures as themselves (not remembered: the next call tries again). */
FR_MUST_CHECK fr_err fr_cert_key(const fr_cert *c, EVP_PKEY **out);
void fr_cert_free(fr_mem *m, fr_cert *c);
/* Subject distinguished name as a short one-line string ("CN=foo,O=bar")
 * into out (truncated, always NUL-terminated). */
void fr_cert_subject_string(const fr_cert *c, char *out, size_t cap);

/* Name comparison used for chaining (RFC 5280 §7.1): same number of RDNs
 * in the same order, each RDN the same set of attributes; PrintableString
 * and UTF8String values compare case-insensitively (ASCII) after removing
 * leading/trailing spaces and collapsing inner whitespace runs (RFC 4518
 * §2.6 insignificant space handling, ASCII subset); every other value
 * type compares exactly.  Malformed names are never equal (unless
 * byte-identical). */
int fr_name_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);
/* A hash of a Name TLV consistent with fr_name_equal: equal names have
 * equal hashes (it hashes what the comparison compares: each attribute's
 * OID and prepared value, the attributes of an RDN as a set, the RDNs in
 * order; a name the comparison cannot read hashes as its bytes).  Unequal
 * names may collide: the hash selects candidates, fr_name_equal decides. */
uint64_t fr_name_hash(const uint8_t *name, size_t len);
/* Is `name` within the directoryName subtree `base` (RFC 5280 §4.2.1.10:
 * base's RDNs are a prefix of name's, compared as fr_name_equal does)? */
int fr_name_within(const uint8_t *name, size_t name_len, const uint8_t *base, size_t base_len);

/* Number of labels of a syntactically valid DNS name (LDH labels of 1..63
 * octets, no hyphen at either end, 253 octets at most, no empty label),
 * else 0.  With allow_wild, a wildcard name is accepted too and reported
 * in *wild: "*" as the whole left-most label, then a dot and a valid name
 * of at least two labels ("*.example.com"; never "*", "*.", "*.*" or
 * "*.com").  This is the one definition of a wildcard: host name matching
 * (hostname.c) and name constraints (nc.c) both use it. */
size_t fr_dns_name_check(const uint8_t *p, size_t n, int allow_wild, int *wild);

/* Does a subject CN value look like an IP address to the lenient parsers
 * some software applies (the inet_aton convention, fr_ipv4_parse_loose:
 * hex, octal, leading zeros, short forms such as "127.1"; IPv6 text in any
 * RFC 4291 spelling, fr_ipv6_parse)?  The address
 * (network order) into out and its length (4 or 16), else 0.  This is how
 * ferrule interprets a CN, for the CN rule and for name constraints. */
size_t fr_cn_ip(const uint8_t *v, size_t n, uint8_t out[16]);

/* Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)/(c)) of the CA
 * certificate `ca` applied to the names of `c` (subject DN, subject
 * emailAddress attributes, subjectAltName entries; for a leaf, subject CNs
 * as ferrule interprets them: an IP-looking CN (fr_cn_ip) as an iPAddress
 * when the leaf has no iPAddress SAN, a DNS-looking one (LDH, '.', '_',
 * '*' octets only) as a dNSName when it has no dNSName SAN; other CNs are
 * not names).  *budget counts
 * name/constraint comparisons down; FERRULE_R_CERT_TOO_MUCH_WORK at 0.
 * FERRULE_R_CERT_NAME_CONSTRAINTS when a name is outside the permitted or
 * inside an excluded subtree, when a constraint or a constrained name is
 * malformed, or when a name form we cannot process is constrained. */
FR_MUST_CHECK fr_err fr_nc_check(const fr_cert *ca, const fr_cert *c, int is_leaf,
                                 unsigned *budget);
#define FR_NC_BUDGET 65536u /* name/constraint comparisons per verification */
/* The same rules for one name of GeneralName form `form` (the tag number:
 * 1 rfc822Name, 2 dNSName, 4 directoryName (a Name TLV), 7 iPAddress) under
 * the permittedSubtrees / excludedSubtrees contents perm and excl (NULL:
 * absent).  An internal entry point for fuzz/fuzz_names.c only. */
FR_MUST_CHECK fr_err fr_nc_check_one(const uint8_t *perm, size_t perm_len, const uint8_t *excl,
                                     size_t excl_len, int form, const uint8_t *name, size_t n,
                                     unsigned *budget);

/* A parsed CRL (RFC 5280 §5).  Owns a copy of its DER. */
typedef struct fr_crl {
    uint8_t *der;
    size_t der_len;
    const uint8_t *tbs;       size_t tbs_len;
    const uint8_t *issuer;    size_t issuer_len;   /* Name TLV */
    const uint8_t *sig;       size_t sig_len;
    int sig_kind, sig_hash;                         /* 0 = unsupported algorithm */
    int64_t this_update, next_update;               /* next_update INT64_MAX if absent */
    const uint8_t *revoked;   size_t revoked_len;  /* revokedCertificates content or NULL */
    const uint8_t *aki_keyid; size_t aki_keyid_len;
    /* A well-formed CRL breaking a rule we enforce when it is used (no
     * cRLNumber, critical cRLNumber, unsupported critical extension or
     * entry extension): the reason to report, else FR_OK. */
    fr_err problem;
} fr_crl;
FR_MUST_CHECK fr_err fr_crl_parse(fr_mem *m, const uint8_t *der, size_t len, fr_crl **out);
void fr_crl_free(fr_mem *m, fr_crl *c);
/* Is the serial (INTEGER content) of `c` listed in `crl`?  1 / 0. */
int fr_crl_lists(const fr_crl *crl, const fr_cert *c);

/* A set of trust anchors, indexed (trust.c) by subject name (fr_name_hash)
 * and by subjectKeyIdentifier: chains of anchor positions per hash slot,
 * in the order the anchors were added, so that the issuers of a
 * certificate are found without walking the whole store; and by a hash of
 * the DER, to drop duplicates as they are added. */
typedef struct fr_trust_chain {
    uint32_t head, tail; /* FR_TRUST_END when empty */
} fr_trust_chain;
typedef struct fr_trust_link {
    uint32_t by_subject, by_ski, by_der; /* next anchor in its chains */
    uint64_t der_hash;                   /* kept for rebuilds */
} fr_trust_link;
typedef struct fr_trust_store {
    fr_cert **certs;
    size_t n, cap;
    fr_trust_link *links;       /* cap entries */
    fr_trust_chain *by_subject; /* n_slots entries each */
    fr_trust_chain *by_ski;
    fr_trust_chain *by_der;
    size_t n_slots;             /* a power of two >= cap, or 0 */
} fr_trust_store;
#define FR_TRUST_END UINT32_MAX
/* The first / next anchor whose subject has this fr_name_hash (the caller
 * still compares the names), in the order added; FR_TRUST_END at the end. */
uint32_t fr_trust_first_by_subject(const fr_trust_store *t, uint64_t name_hash);
uint32_t fr_trust_next_by_subject(const fr_trust_store *t, uint32_t i);
/* The same for the anchors whose subjectKeyIdentifier is id[0..len). */
uint32_t fr_trust_first_by_ski(const fr_trust_store *t, const uint8_t *id, size_t len);
uint32_t fr_trust_next_by_ski(const fr_trust_store *t, uint32_t i);
void fr_trust_init(fr_trust_store *t);
void fr_trust_free(fr_mem *m, fr_trust_store *t);
FR_MUST_CHECK fr_err fr_trust_add_der(fr_mem *m, fr_trust_store *t, const uint8_t *der, size_t len);
/* Every CERTIFICATE block of a PEM buffer; CONFIG_INVALID if none parses. */
FR_MUST_CHECK fr_err fr_trust_add_pem(fr_mem *m, fr_trust_store *t, const uint8_t *pem, size_t len);
/* A trust file's content: PEM (fr_trust_add_pem) when it has a
 * "-----BEGIN" line, else one DER certificate (CONFIG_PEM when it does not
 * parse).  Files and directories are read by the host (abi/). */
FR_MUST_CHECK fr_err fr_trust_add_blob(fr_mem *m, fr_trust_store *t, const uint8_t *p, size_t len);
/* Drop the anchors after the first n (undo a failed addition). */
void fr_trust_truncate(fr_mem *m, fr_trust_store *t, size_t n);

/* Decode every CERTIFICATE block of a PEM buffer into DER, allocating the
 * decode buffer through m: calls cb for each, in order, and stops at its
 * first error.  CONFIG_PEM on bad base64, a missing END line, or no block
 * at all.  Text outside the blocks (and other PEM types) is ignored. */
FR_MUST_CHECK fr_err fr_pem_each_cert(fr_mem *m, const uint8_t *pem, size_t len,
                                      fr_err (*cb)(void *ctx, const uint8_t *der, size_t len),
                                      void *ctx);

#define FR_VERIFY_SERVER 1 /* serverAuth purpose */
#define FR_VERIFY_CLIENT 2 /* clientAuth purpose */

typedef struct fr_verify_params {
    int64_t now;            /* Unix seconds */
    const char *peer_name;  /* DNS name or IP literal; NULL = no name check */
    int purpose;            /* FR_VERIFY_SERVER / FR_VERIFY_CLIENT */
    unsigned max_depth;     /* most certificates in a path below the trust
                               anchor, leaf included (1 = leaf signed by an
                               anchor); 0 = default (8), capped at
                               FR_VERIFY_MAX_DEPTH; self-issued
                               intermediates do not count (RFC 5280
                               §4.2.1.9 treats them the same way) */
    /* CRLs to consult: a certificate whose issuer published one of them
     * is checked against it; NULL/0 = no revocation checking. */
    const fr_crl *const *crls;
    size_t n_crls;
    /* Opt-in: a server leaf's subject CN must repeat one of its
     * SAN entries (fr_cert_cn_consistent, CA/B BR 7.1.4.3).  A rule for
     * CAs, not relying parties: off by default. */
    int cn_in_san;
} fr_verify_params;

/* Verify `chain` (chain[0] is the leaf, the rest untrusted intermediates in
 * any order) against the anchors.  FR_OK or a FERRULE_R_CERT_* reason. */
FR_MUST_CHECK fr_err fr_verify_chain(const fr_trust_store *anchors, fr_cert *const *chain,
                                     size_t n, const fr_verify_params *params);

#define FR_VERIFY_MAX_SIG_CHECKS 64 /* budget per call: CERT_TOO_MUCH_WORK */
#define FR_VERIFY_MAX_STEPS 256     /* candidate issuer edges examined per call: the same */
#define FR_VERIFY_MAX_DEPTH 32      /* hard cap on params->max_depth */
#define FR_VERIFY_MAX_INPUT 256     /* most certificates ferrule_verify_chain takes */
#define FR_VERIFY_MAX_CRLS 64       /* most CRLs ferrule_verify_chain takes */

/* What one verification did and found (for tests, diagnostics, and the
 * validated path reported to applications). */
typedef struct fr_verify_stats {
    unsigned sig_checks; /* signature verifications attempted */
    unsigned paths;      /* complete candidate paths evaluated */
    unsigned candidates; /* (certificate, candidate issuer) pairs examined:
                            the store's index keeps this to the anchors of
                            the right name or key identifier */
    /* On success: the validated path, leaf first, trust anchor last. */
    const fr_cert *path[FR_VERIFY_MAX_DEPTH + 1];
    size_t path_len;
} fr_verify_stats;

/* fr_verify_chain that also reports the work done (stats may be NULL). */
FR_MUST_CHECK fr_err fr_verify_chain_ex(const fr_trust_store *anchors, fr_cert *const *chain,
                                        size_t n, const fr_verify_params *params,
                                        fr_verify_stats *stats);

/* The public result object (ferrule.h): the reason and, when valid, copies
 * of the validated path's DER (leaf first, anchor last). */
/* The public ferrule.h declares the same typedef of this (C11 §6.7p3
 * allows the repetition): the object is opaque to applications. */
typedef struct ferrule_verify_result ferrule_verify_result;
/* One allocation of `size` bytes: this header, then the n path entries
 * (ders[], lens[]), then the DER bytes the result copied. */
struct ferrule_verify_result {
    fr_mem *mem;
    uint32_t reason;
    size_t n, size;
    const uint8_t **ders; /* leaf first, the trust anchor last */
    size_t *lens;
};
/* Where the DER of chain[i] lives for as long as the result: a
 * connection's kept peer chain.  With one, a connection's result copies
 * nothing (the anchors live as long as the config the connection holds);
 * without, the result copies every certificate of the path. */
typedef int (*fr_chain_der_fn)(const void *ctx, size_t i, const uint8_t **der, size_t *len);
/* Verify and build a result object from `m` (*out is NULL only when the
 * allocation itself failed).  Returns the verification reason.  `der_of`
 * may be NULL (copy everything). */
FR_MUST_CHECK fr_err fr_verify_chain_result(const fr_trust_store *anchors, fr_cert *const *chain,
                                            size_t n, const fr_verify_params *params, fr_mem *m,
                                            fr_chain_der_fn der_of, const void *der_ctx,
                                            ferrule_verify_result **out);
void fr_verify_result_free(ferrule_verify_result *r);

/* RFC 6125 name match of a leaf against a DNS name or IP literal.
 * Only subjectAltName is consulted: no fallback to the subject CN
 * (RFC 6125 §6.4.4 allows it only without SAN; we never do it). */
int fr_cert_matches_name(const fr_cert *leaf, const char *name);
/* The same match against a GeneralNames DER (the SAN extension value);
 * 0 for a malformed buffer. */
int fr_san_matches_name(const uint8_t *san, size_t san_len, const char *name);
/* CA/B Forum BR 7.1.4.3 (subject commonName repeats a SAN entry), as
 * applied, on request (fr_verify_params.cn_in_san), to server leaves that
 * have a subjectAltName:
 *   - a CN that parses as an IP address under lenient rules (inet_aton:
 *     hex, octal, leading zeros; any IPv6 spelling) must be the canonical
 *     text (dotted decimal, RFC 5952) of an iPAddress entry;
 *   - otherwise, when the SAN has dNSName entries, the CN must be one of
 *     them byte for byte, or a domain one of them lies in (relaxation:
 *     an apex CN over subdomain/wildcard entries is common);
 *   - a SAN without dNSName entries leaves other CNs alone.
 * 1 when consistent (or no SAN), else 0. */
int fr_cert_cn_consistent(const fr_cert *c);

#endif
