/* support_mitm.h - a man in the middle between an in-memory client and
 * server (buffer I/O).  The tests take each side's output, split it into
 * records, open protected records with traffic secrets learnt from the key
 * log, edit plaintext (records, handshake messages, hello fields) and
 * re-protect everything in order before feeding the peer. */
#ifndef FR_SUPPORT_MITM_H
#define FR_SUPPORT_MITM_H
#include <stddef.h>
#include <stdint.h>

#include "ferrule.h"
#include "support_pair.h"

/* ---- records ------------------------------------------------------------ */

#define MITM_MAX_RECS 48
#define MITM_REC_CAP (16384 + 256 + 64)

typedef struct mrec {
    uint8_t type;       /* outer content type */
    uint16_t version;   /* legacy_record_version */
    int prot;           /* 1: data is plaintext to be sealed under `key` */
    uint8_t inner;      /* inner content type; 0 = seal data alone (no type byte) */
    size_t pad;         /* zero padding appended when sealing */
    const uint8_t *key; /* traffic secret (prot records) */
    size_t len;
    uint8_t data[MITM_REC_CAP];
} mrec;

typedef struct mflight {
    uint16_t suite; /* for sealing/opening */
    size_t n;
    mrec r[MITM_MAX_RECS];
} mflight;

mflight *mf_new(void);
void mf_free(mflight *f);
/* Split `n` bytes into records (appended).  0 if a partial record remains. */
int mf_parse(mflight *f, const uint8_t *p, size_t n);
/* Take all pending output of `from` and split it into records. */
int mf_take(mflight *f, ferrule_conn *from);
/* Open the protected (type 23) records of [from, to) in order with a fresh
 * read key from `secret` (sequence 0).  Returns the number opened, or -1 on
 * an AEAD failure. */
int mf_open(mflight *f, size_t from, size_t to, const uint8_t *secret);
/* Append records. */
mrec *mf_add_plain(mflight *f, uint8_t type, const uint8_t *data, size_t len);
mrec *mf_add_prot(mflight *f, uint8_t inner, const uint8_t *data, size_t len,
                  const uint8_t *secret);
/* Insert a copy of record `src` at `pos` (existing records shift up). */
mrec *mf_insert_copy(mflight *f, size_t pos, size_t src);
/* Remove record `pos`. */
void mf_remove(mflight *f, size_t pos);
/* 1 if `r` as parsed from the wire is the compatibility change_cipher_spec
 * record of RFC 8446 Appendix D.4, byte for byte 14 03 03 00 01 01. */
int mrec_is_ccs(const mrec *r);
/* The number of change_cipher_spec records (any body) in `f`. */
size_t mf_count_ccs(const mflight *f);
/* Serialise: plaintext records as they are; protected ones sealed in
 * order, one write key per distinct secret, each starting at `seq0`. */
size_t mf_serialize(const mflight *f, uint64_t seq0, uint8_t *out, size_t cap);
/* Serialise and feed everything to `to`.  1 if all bytes were accepted. */
int mf_send(const mflight *f, ferrule_conn *to);
int mf_send_seq(const mflight *f, ferrule_conn *to, uint64_t seq0);
/* Serialise and deliver to `to` progressively (its input buffer holds one
 * maximal record), running ferrule_conn_handshake() after each feed until
 * everything is consumed or the handshake stops wanting input.  Bytes left
 * after a completed handshake are still fed.  Returns the last handshake
 * status, -1 on a harness failure. */
int mf_deliver(const mflight *f, ferrule_conn *to);

/* ---- the pair with its key log ----------------------------------------- */

enum { MK_CHS, MK_SHS, MK_CAP, MK_SAP, MK_EXP, MK_COUNT };

typedef struct mitm {
    ferrule_config *ccfg, *scfg;
    pair p;
    struct {
        uint8_t v[64];
        size_t len;
        int set;
    } sec[3][MK_COUNT]; /* [role][MK_*] as logged by that role's conn */
    int ok;
} mitm;

/* Install the key-log callback on both configs, create the pair (client
 * name "localhost").  Takes ownership of the configs. */
int mitm_init(mitm *m, ferrule_config *cc, ferrule_config *sc);
/* Defaults: client trusting root.pem, server with `kind`'s chain. */
int mitm_init_default(mitm *m, const char *kind);
void mitm_free(mitm *m);
/* A logged secret (NULL if not logged yet). */
const uint8_t *mitm_secret(mitm *m, uint32_t role, int which);

/* Feed all bytes (1 if accepted). */
int mitm_feed(ferrule_conn *to, const uint8_t *p, size_t n);
/* Move all output of `from` to `to` unchanged. */
int mitm_pass(ferrule_conn *from, ferrule_conn *to);

/* Replace the client's saved copy of its ClientHello (used for the
 * transcript) so that a ClientHello edited in flight still yields a
 * consistent transcript on both sides. */
int mitm_client_adopt_hello(ferrule_conn *client, const uint8_t *msg, size_t len);

/* ---- hello messages ------------------------------------------------------ */

#define HELLO_EXT_CAP 1536 /* an X25519MLKEM768 key_share extension is 1258 bytes */
typedef struct hext {
    uint16_t type;
    size_t len;
    uint8_t body[HELLO_EXT_CAP];
} hext;

typedef struct hello {
    int server; /* ServerHello layout: one suite, one compression byte */
    uint16_t version;
    uint8_t random[32];
    size_t sid_len;
    uint8_t sid[64];
    size_t n_suites;
    uint16_t suites[64];
    size_t n_comp;
    uint8_t comp[8];
    int has_exts;
    size_t n_ext;
    hext ext[40];
    size_t n_trailing;
    uint8_t trailing[8];
} hello;

/* Parse a ClientHello/ServerHello message (handshake header included). */
int hello_parse(hello *h, const uint8_t *msg, size_t len);
/* Encode with every length recomputed.  Returns the length, 0 on overflow. */
size_t hello_encode(const hello *h, uint8_t *out, size_t cap);
hext *hello_find(hello *h, uint16_t type);
size_t hello_index(const hello *h, uint16_t type); /* n_ext if absent */
int hello_remove(hello *h, uint16_t type);
hext *hello_add(hello *h, size_t pos, uint16_t type, const uint8_t *body, size_t len);
/* Body of a list of u16 values with a `width`-byte length prefix. */
size_t u16_vec(uint8_t *out, int width, const uint16_t *v, size_t n);

#endif
