/*
 * scale_probe.c - how the cost of ferrule and of OpenSSL's libssl grows with
 * the work (`make bench-scaling`, driven by bench/scaling.py; the scaling
 * section of docs/performance.md).
 *
 *   scale_probe gen DIR              make the PKIs below in DIR (native run)
 *   scale_probe count DIR LIB DIM    the counted regions of one dimension
 *   scale_probe count DIR LIB store S  ... of one trust store (1, system, 500, 5000)
 *   scale_probe quick DIR            a smoke run of everything (ctest)
 *   scale_probe heap DIR LIB N DEPTH heap bytes per idle established
 *                                    connection with N pairs held
 *
 * LIB is ferrule or openssl.  `count` runs under valgrind's callgrind
 * (--collect-atstart=no): each measured region is collected alone
 * (CALLGRIND_TOGGLE_COLLECT around it) and dumped under its label
 * (CALLGRIND_DUMP_STATS_AT), after an uncounted warm-up of the same work, so
 * one-off lazy set-up is not in the figure.  DIM is one of
 *   chain    a full handshake pair, server chain of 0..8 intermediates
 *   resumed  a resumed (psk_dhe_ke) pair whose session came from a full
 *            handshake with 0..8 intermediates (prints the session's size)
 *   store    loading a trust store of 1 anchor, the system's
 *            (+ the bench root), 500 and 5,000 anchors (+ the bench root),
 *            then a full pair with 1 and with 8 intermediates against each
 *   record   16 records of 64 B .. 16 KiB, client to server (AES-128-GCM)
 * The work is the same for both libraries: the same files, TLS 1.3,
 * TLS_AES_128_GCM_SHA256, X25519, one ticket, the client verifying the chain
 * and the name "localhost" (bench/bench_pairs.c).
 *
 * The PKI (gen): a P-256 root, intermediates i1..i8 (i1 under the root, each
 * next under the one before), leaves under each (chain-D.pem is the leaf under
 * iD, then iD..i1; D = 0 is a leaf directly under the root), one leaf key;
 * store-1.pem (the root), store-system.pem (the system's bundle, then the
 * root), store-5000.pem (5,000 unrelated self-signed P-256 anchors, then the
 * root), store-500.pem (the first 500 of them, then the root).
 */
#include <errno.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <valgrind/callgrind.h>

#include "bench_pairs.h"

#define MAX_DEPTH 8
#define ANCHORS 5000
#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static const char *g_dir;

static const char *path(const char *fmt, int n) {
    static char bufs[4][700];
    static int next;
    char *b = bufs[next++ % 4], name[64];
    snprintf(name, sizeof(name), fmt, n);
    snprintf(b, sizeof(bufs[0]), "%s/%s", g_dir, name);
    return b;
}

/* ---- PKI generation ------------------------------------------------------------ */

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL || !X509_add_ext(cert, ext, -1)) die("gen: extension");
    X509_EXTENSION_free(ext);
}

/* A certificate for `key` named CN=`cn`, signed by issuer_key (issuer NULL:
 * self-signed); a CA or a server leaf for "localhost". */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca) {
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    uint8_t serial[16];
    if (x == NULL || name == NULL || RAND_bytes(serial, sizeof(serial)) != 1) die("gen: out of memory");
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) die("gen: serial");
    BN_free(bn);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ferrule bench", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_version(x, 2) || !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name) ||
        X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) == NULL || !X509_set_pubkey(x, key))
        die("gen: certificate");
    X509_NAME_free(name);
    X509 *iss = issuer != NULL ? issuer : x;
    add_ext(x, iss, NID_subject_key_identifier, "hash");
    if (issuer != NULL) add_ext(x, iss, NID_authority_key_identifier, "keyid"); /* a root needs none */
    if (ca) {
        add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, iss, NID_key_usage, "critical,digitalSignature");
        add_ext(x, iss, NID_ext_key_usage, "serverAuth");
        add_ext(x, iss, NID_subject_alt_name, "DNS:localhost");
    }
    if (X509_sign(x, issuer_key, EVP_sha256()) <= 0) die("gen: sign");
    return x;
}

static FILE *open_w(const char *p) {
    FILE *f = fopen(p, "w");
    if (f == NULL) die("gen: cannot write a PKI file");
    return f;
}

static void put(FILE *f, X509 *x) {
    if (!PEM_write_X509(f, x)) die("gen: PEM");
}

/* Copy the system's bundle (if any) in front of the root. */
static void write_system_store(X509 *root) {
    FILE *out = open_w(path("store-system.pem", 0)), *in = fopen(SYSTEM_BUNDLE, "r");
    if (in != NULL) {
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0) fwrite(buf, 1, n, out);
        fclose(in);
    }
    put(out, root);
    fclose(out);
}

/* `anchors`: the unrelated anchors of store-5000.pem (5,000; fewer in `quick`). */
static int gen(int anchors) {
    EVP_PKEY *root_key = EVP_EC_gen("P-256"), *leaf_key = EVP_EC_gen("P-256");
    if (root_key == NULL || leaf_key == NULL) die("gen: keys");
    X509 *root = make_cert("bench root", root_key, NULL, root_key, 1);
    X509 *ca[MAX_DEPTH + 1] = {root};
    EVP_PKEY *ca_key[MAX_DEPTH + 1] = {root_key};
    for (int d = 1; d <= MAX_DEPTH; d++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "bench intermediate %d", d);
        ca_key[d] = EVP_EC_gen("P-256");
        if (ca_key[d] == NULL) die("gen: keys");
        ca[d] = make_cert(cn, ca_key[d], ca[d - 1], ca_key[d - 1], 1);
    }
    for (int d = 0; d <= MAX_DEPTH; d++) {
        X509 *leaf = make_cert("localhost", leaf_key, ca[d], ca_key[d], 0);
        FILE *f = open_w(path("chain-%d.pem", d));
        put(f, leaf);
        for (int i = d; i >= 1; i--) put(f, ca[i]);
        fclose(f);
        X509_free(leaf);
    }
    FILE *f = open_w(path("leaf.key", 0));
    if (!PEM_write_PrivateKey(f, leaf_key, NULL, NULL, 0, NULL, NULL)) die("gen: key");
    fclose(f);
    f = open_w(path("store-1.pem", 0));
    put(f, root);
    fclose(f);
    write_system_store(root);
    /* store-500.pem: the first tenth of the same anchors, for a third point
     * of the same kind. */
    FILE *big = open_w(path("store-5000.pem", 0)), *small = open_w(path("store-500.pem", 0));
    for (int i = 0; i < anchors; i++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "bench anchor %d", i);
        EVP_PKEY *k = EVP_EC_gen("P-256");
        if (k == NULL) die("gen: keys");
        X509 *a = make_cert(cn, k, NULL, k, 1);
        put(big, a);
        if (i < anchors / 10) put(small, a);
        X509_free(a);
        EVP_PKEY_free(k);
    }
    put(big, root);
    put(small, root);
    fclose(big);
    fclose(small);
    for (int d = 0; d <= MAX_DEPTH; d++) {
        X509_free(ca[d]);
        EVP_PKEY_free(ca_key[d]);
    }
    EVP_PKEY_free(leaf_key);
    return 0;
}

/* ---- the two libraries --------------------------------------------------------- */

static int g_fr; /* 1: ferrule, 0: OpenSSL */

typedef struct side {
    ferrule_config *fc, *fs;
    SSL_CTX *oc, *os;
    uint8_t sess[SESS_CAP];
    size_t sess_len;
    SSL_SESSION *osess;
} side;

static fr_pair g_frp;
static os_pair g_osp;

/* The client's verifier allows the deepest chain here (ferrule's default
 * limit is 8 certificates below the anchor, leaf included; OpenSSL's 100). */
static void client_new(side *s, const char *trust) {
    if (g_fr) {
        s->fc = fr_config_files(0, 0, NULL, NULL, trust);
        if (ferrule_config_set_max_chain_depth(s->fc, MAX_DEPTH + 2) != FERRULE_OK) die("max chain depth");
    } else {
        s->oc = os_config_files(0, 0, NULL, NULL, trust);
    }
}

static void server_new(side *s, int depth) {
    if (g_fr)
        s->fs = fr_config_files(1, 0, path("chain-%d.pem", depth), path("leaf.key", 0), NULL);
    else
        s->os = os_config_files(1, 0, path("chain-%d.pem", depth), path("leaf.key", 0), NULL);
}

static void server_free(side *s) {
    ferrule_config_free(s->fs);
    SSL_CTX_free(s->os);
    s->fs = NULL;
    s->os = NULL;
}

static void side_free(side *s) {
    server_free(s);
    ferrule_config_free(s->fc);
    SSL_CTX_free(s->oc);
    SSL_SESSION_free(s->osess);
    memset(s, 0, sizeof(*s));
}

/* One handshake pair (full or resumed with the newest session), its new
 * session kept. */
static void handshake(side *s, int resume) {
    if (g_fr) {
        fr_pair_new(&g_frp, s->fc, s->fs);
        if (resume && ferrule_conn_set_session(g_frp.c, s->sess, s->sess_len) != FERRULE_OK)
            die("ferrule_conn_set_session");
        fr_handshake(&g_frp, s->sess, &s->sess_len, resume);
        fr_pair_free(&g_frp);
    } else {
        os_pair_new(&g_osp, s->oc, s->os);
        if (resume && !SSL_set_session(g_osp.c, s->osess)) die("SSL_set_session");
        os_handshake(&g_osp, &s->osess, resume);
        os_pair_free(&g_osp);
    }
}

static size_t session_size(side *s) {
    if (g_fr) return s->sess_len;
    int n = i2d_SSL_SESSION(s->osess, NULL);
    return n > 0 ? (size_t)n : 0;
}

/* ---- counted regions ----------------------------------------------------------- */

static void counted_handshake(side *s, int resume, const char *label) {
    handshake(s, resume); /* warm-up */
    CALLGRIND_TOGGLE_COLLECT;
    handshake(s, resume);
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(label);
}

static void dim_chain(int resumed) {
    for (int d = 0; d <= MAX_DEPTH; d++) {
        side s;
        memset(&s, 0, sizeof(s));
        client_new(&s, path("store-1.pem", 0));
        server_new(&s, d);
        char label[32];
        snprintf(label, sizeof(label), "%s %d", resumed ? "resumed" : "chain", d);
        handshake(&s, 0);
        counted_handshake(&s, resumed, label);
        if (resumed) printf("session %d %zu\n", d, session_size(&s));
        side_free(&s);
    }
}

/* `only`: one store's name, or NULL for the three. */
static void dim_store(const char *only) {
    static const char *const stores[4] = {"1", "system", "500", "5000"};
    for (int i = 0; i < 4; i++) {
        char file[32], label[48];
        if (only != NULL && strcmp(only, stores[i]) != 0) continue;
        snprintf(file, sizeof(file), "store-%s.pem", stores[i]);
        side s;
        memset(&s, 0, sizeof(s));
        snprintf(label, sizeof(label), "load %s", stores[i]);
        /* The store's load: the configuration call that reads the file. */
        if (g_fr) {
            s.fc = fr_config_files(0, 0, NULL, NULL, path("store-1.pem", 0));
            CALLGRIND_TOGGLE_COLLECT;
            int st = ferrule_config_add_trust_file(s.fc, path(file, 0));
            CALLGRIND_TOGGLE_COLLECT;
            if (st != FERRULE_OK || ferrule_config_set_max_chain_depth(s.fc, MAX_DEPTH + 2) != FERRULE_OK)
                die("ferrule: trust store");
        } else {
            s.oc = os_config_files(0, 0, NULL, NULL, path("store-1.pem", 0));
            CALLGRIND_TOGGLE_COLLECT;
            int ok = SSL_CTX_load_verify_locations(s.oc, path(file, 0), NULL);
            CALLGRIND_TOGGLE_COLLECT;
            if (ok != 1) die("OpenSSL: trust store");
        }
        CALLGRIND_DUMP_STATS_AT(label);
        const int depths[2] = {1, MAX_DEPTH};
        for (int k = 0; k < 2; k++) {
            server_new(&s, depths[k]);
            snprintf(label, sizeof(label), "hs %s %d", stores[i], depths[k]);
            counted_handshake(&s, 0, label);
            server_free(&s);
        }
        side_free(&s);
    }
}

#define RECORDS 16

static void dim_record(void) {
    static const size_t sizes[] = {64, 256, 1024, 4096, 16384};
    side s;
    memset(&s, 0, sizeof(s));
    client_new(&s, path("store-1.pem", 0));
    server_new(&s, 1);
    if (g_fr) {
        fr_pair_new(&g_frp, s.fc, s.fs);
        fr_handshake(&g_frp, NULL, NULL, 0);
    } else {
        os_pair_new(&g_osp, s.oc, s.os);
        os_handshake(&g_osp, NULL, 0);
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char label[32];
        snprintf(label, sizeof(label), "record %zu", sizes[i]);
        for (int pass = 0; pass < 2; pass++) { /* a warm-up pass, then the counted one */
            if (pass == 1) CALLGRIND_TOGGLE_COLLECT;
            for (int r = 0; r < RECORDS; r++) {
                if (g_fr)
                    fr_write_read(&g_frp, sizes[i]);
                else
                    os_write_read(&g_osp, sizes[i]);
            }
            if (pass == 1) CALLGRIND_TOGGLE_COLLECT;
        }
        CALLGRIND_DUMP_STATS_AT(label);
    }
    if (g_fr)
        fr_pair_free(&g_frp);
    else
        os_pair_free(&g_osp);
    side_free(&s);
}

/* ---- heap with N connections held ---------------------------------------------- */

/* N established idle pairs (the handshake done, the ticket read) held at
 * once; prints the heap bytes per client and per server connection, counted
 * as in bench/pair_bench.c (the transport excluded). */
static void heap(long n, int depth) {
    side s;
    memset(&s, 0, sizeof(s));
    client_new(&s, path("store-1.pem", 0));
    server_new(&s, depth);
    handshake(&s, 0); /* lazy set-up outside the count */
    fr_pair *fp = calloc((size_t)n, sizeof(*fp));
    os_pair *op = calloc((size_t)n, sizeof(*op));
    fifo shared[2];
    fifo_init(&shared[0]);
    fifo_init(&shared[1]);
    if (fp == NULL || op == NULL) die("out of memory");
    long b0 = heap_live();
    BIO *probe = bio_fifo(&shared[0]);
    long bio_bytes = heap_live() - b0;
    BIO_free(probe);
    long base = heap_live();
    for (long i = 0; i < n; i++) {
        /* Every pair's transport is empty once its ticket is read: the
         * FIFOs' buffers are shared. */
        if (g_fr) {
            fr_pair_new(&fp[i], s.fc, s.fs);
            fp[i].c2s = shared[0];
            fp[i].s2c = shared[1];
            fr_handshake(&fp[i], NULL, NULL, 0);
            if (fp[i].c2s.len != 0 || fp[i].s2c.len != 0) die("heap: bytes left in the transport");
        } else {
            op[i].c2s = shared[0];
            op[i].s2c = shared[1];
            os_pair_new(&op[i], s.oc, s.os);
            os_handshake(&op[i], NULL, 0);
            if (op[i].c2s.len != 0 || op[i].s2c.len != 0) die("heap: bytes left in the transport");
        }
    }
    long all = heap_live() - base - (g_fr ? 0 : 4 * bio_bytes * n);
    long before = heap_live();
    for (long i = 0; i < n; i++) {
        if (g_fr)
            ferrule_conn_free(fp[i].s);
        else
            SSL_free(op[i].s);
    }
    long srv = before - heap_live() - (g_fr ? 0 : 2 * bio_bytes * n);
    for (long i = 0; i < n; i++) {
        if (g_fr)
            ferrule_conn_free(fp[i].c);
        else
            SSL_free(op[i].c);
    }
    printf("heap %ld %d client %.0f server %.0f\n", n, depth, (double)(all - srv) / (double)n,
           (double)srv / (double)n);
    fifo_done(&shared[0]);
    fifo_done(&shared[1]);
    free(fp);
    free(op);
    side_free(&s);
}

/* ctest scale_probe_quick: a small PKI (20 unrelated anchors), then every
 * dimension once natively for both libraries (the callgrind requests do
 * nothing outside valgrind), so the probe keeps working; no time or count is
 * asserted, only that every handshake, resumption and transfer succeeds. */
static void quick(void) {
    if (mkdir(g_dir, 0755) != 0 && errno != EEXIST) die("quick: cannot make the PKI directory");
    gen(20);
    for (g_fr = 0; g_fr < 2; g_fr++) {
        dim_chain(0);
        dim_chain(1);
        dim_store(NULL);
        dim_record();
        heap(10, 1);
    }
}

static void usage(void) {
    fprintf(stderr, "usage: scale_probe gen DIR | count DIR ferrule|openssl chain|resumed|store [S]|record |\n"
                    "       heap DIR ferrule|openssl N DEPTH\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 3) usage();
    g_dir = argv[2];
    if (strcmp(argv[1], "gen") == 0 && argc == 3) return gen(ANCHORS);
    if (strcmp(argv[1], "quick") != 0 &&
        (argc < 5 || (strcmp(argv[3], "ferrule") != 0 && strcmp(argv[3], "openssl") != 0)))
        usage();
    g_fr = argc >= 4 && strcmp(argv[3], "ferrule") == 0;
    if (!bench_hooked()) die("CRYPTO_set_mem_functions failed: heap figures would be wrong");
    bench_bio_init();
    memset(g_plain, 'x', sizeof(g_plain));
    fifo_init(&g_frp.c2s);
    fifo_init(&g_frp.s2c);
    fifo_init(&g_osp.c2s);
    fifo_init(&g_osp.s2c);
    if (strcmp(argv[1], "quick") == 0 && argc == 3) {
        quick();
    } else if (strcmp(argv[1], "count") == 0 && argc == 6 && strcmp(argv[4], "store") == 0) {
        dim_store(argv[5]);
    } else if (strcmp(argv[1], "count") == 0 && argc == 5) {
        if (strcmp(argv[4], "chain") == 0)
            dim_chain(0);
        else if (strcmp(argv[4], "resumed") == 0)
            dim_chain(1);
        else if (strcmp(argv[4], "store") == 0)
            dim_store(NULL);
        else if (strcmp(argv[4], "record") == 0)
            dim_record();
        else
            usage();
    } else if (strcmp(argv[1], "heap") == 0 && argc == 6) {
        long n = atol(argv[4]);
        int depth = atoi(argv[5]);
        if (n < 1 || n > 100000 || depth < 0 || depth > MAX_DEPTH) usage();
        heap(n, depth);
    } else {
        usage();
    }
    fifo_done(&g_frp.c2s);
    fifo_done(&g_frp.s2c);
    fifo_done(&g_osp.c2s);
    fifo_done(&g_osp.s2c);
    bench_bio_done();
    return 0;
}
