/*
 * formal/spin/gen_model.c - export the handshake transition table of
 * core/state.c (the one the library runs) to a Promela model for spin
 * (formal/spin/check.sh, docs/formal.md).
 *
 *   gen_model ROLE MODE [--mutate NAME] > model.pml
 *
 * ROLE is client or server.  MODE:
 *   adversarial  the peer sends any message or record in any state, and
 *                every handler may fail or report any branch its row
 *                names; the claim `safe`: no application data, and no
 *                `connected`, without a verified Finished; 0-RTT data only
 *                after the server accepted early data.
 *   cooperative  the peer sends only what the table accepts in the state
 *                and handlers succeed: a state that accepts nothing (other
 *                than the end states) is a deadlock spin reports; one
 *                `ltl` claim per state says it is never reached, so each
 *                claim's violation shows the state is reachable.
 * --mutate changes the table in memory before export, to show that the
 * checks fail when the table is broken (check.sh --self-test):
 *   skip-finished   client: EncryptedExtensions (resumed) goes straight to
 *                   connected;
 *   drop-cv         client: no row for CertificateVerify (a dead end);
 *   drop-cr         client: no row for CertificateRequest (wait_certificate
 *                   unreachable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferrule.h"

/* core/state.c's read-only view of its tables (see test_state_doc.c). */
size_t fr_state_table_size(void);
void fr_state_table_row(size_t i, uint32_t *role, uint32_t *state, uint16_t *msg, uint32_t *next,
                        const char **what);
size_t fr_state_branch_count(void);
const char *fr_state_branch_name(size_t k);
uint32_t fr_state_table_alt(size_t i, size_t k);
size_t fr_state_rules_size(void);
void fr_state_rules_row(size_t i, uint32_t *role, uint32_t *state, int *handshake, int *ccs,
                        int *early);
#define NO_ALT 0xffffffffu

#define MSG_NONE 0xffffu
#define MSG_FINISHED 20u
#define N_STATES 16u /* FERRULE_HS_* are 0..15 */
#define MAX_ROWS 64
#define MAX_BR 8

/* The handshake message types RFC 8446 §4 defines for TLS 1.3, which a
 * peer may send in any state. */
static const struct {
    unsigned type;
    const char *name;
} MSGS[] = {
    {1, "ClientHello"},      {2, "ServerHello"},         {4, "NewSessionTicket"},
    {5, "EndOfEarlyData"},   {8, "EncryptedExtensions"}, {11, "Certificate"},
    {13, "CertificateRequest"}, {15, "CertificateVerify"}, {20, "Finished"},
    {24, "KeyUpdate"},       {254, "MessageHash"},
};
#define N_MSGS (sizeof(MSGS) / sizeof(MSGS[0]))

typedef struct {
    uint32_t state, next;
    unsigned msg;
    uint32_t alt[MAX_BR]; /* NO_ALT: none */
    int branch_early;      /* index of early_data_accepted among branches, or -1 */
} row;

static row rows[MAX_ROWS];
static size_t n_rows;
static int rule_hs[N_STATES], rule_ccs[N_STATES], rule_early[N_STATES];

static const char *sname(uint32_t s) { return ferrule_handshake_state_name(s); }

static void load(uint32_t role) {
    size_t nb = fr_state_branch_count();
    if (nb > MAX_BR) {
        fprintf(stderr, "gen_model: %zu branches, at most %d supported\n", nb, MAX_BR);
        exit(2);
    }
    for (size_t i = 0; i < fr_state_table_size(); i++) {
        uint32_t r, s, nx;
        uint16_t m;
        const char *what;
        fr_state_table_row(i, &r, &s, &m, &nx, &what);
        if (r != role) continue;
        if (n_rows == MAX_ROWS || s >= N_STATES || nx >= N_STATES) {
            fprintf(stderr, "gen_model: table row %zu out of range\n", i);
            exit(2);
        }
        row *w = &rows[n_rows++];
        w->state = s;
        w->next = nx;
        w->msg = m;
        w->branch_early = -1;
        for (size_t k = 0; k < MAX_BR; k++) {
            w->alt[k] = k > 0 && k < nb ? fr_state_table_alt(i, k) : NO_ALT;
            if (w->alt[k] != NO_ALT && strcmp(fr_state_branch_name(k), "early_data_accepted") == 0)
                w->branch_early = (int)k;
        }
    }
    for (size_t i = 0; i < fr_state_rules_size(); i++) {
        uint32_t r, s;
        int hs, ccs, early;
        fr_state_rules_row(i, &r, &s, &hs, &ccs, &early);
        if (r != role || s >= N_STATES) continue;
        rule_hs[s] = hs;
        rule_ccs[s] = ccs;
        rule_early[s] = early;
    }
}

static row *find(uint32_t state, unsigned msg) {
    for (size_t i = 0; i < n_rows; i++)
        if (rows[i].state == state && rows[i].msg == msg) return &rows[i];
    return NULL;
}

static void drop(row *r) {
    size_t i = (size_t)(r - rows);
    memmove(&rows[i], &rows[i + 1], (n_rows - i - 1) * sizeof(row));
    n_rows--;
}

static void mutate(const char *name, uint32_t role) {
    row *r = NULL;
    if (role != FERRULE_ROLE_CLIENT) goto bad;
    if (strcmp(name, "skip-finished") == 0) {
        r = find(FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS, 8);
        if (r == NULL) goto bad;
        for (size_t k = 0; k < MAX_BR; k++)
            if (r->alt[k] == FERRULE_HS_WAIT_FINISHED) r->alt[k] = FERRULE_HS_CONNECTED;
        return;
    }
    if (strcmp(name, "drop-cv") == 0 && (r = find(FERRULE_HS_WAIT_CERTIFICATE_VERIFY, 15)) != NULL) {
        drop(r);
        return;
    }
    if (strcmp(name, "drop-cr") == 0 &&
        (r = find(FERRULE_HS_WAIT_CERTIFICATE_OR_REQUEST, 13)) != NULL) {
        drop(r);
        return;
    }
bad:
    fprintf(stderr, "gen_model: unknown mutation %s for this role\n", name);
    exit(2);
}

/* The states this role's model can be in: those the table names, plus
 * failed (adversarial only). */
static int used[N_STATES];

static void emit_outcomes(const row *r, int adversarial) {
    /* The row's single or branching outcome(s), as alternatives. */
    /* Each outcome is one atomic step: what the handler established
     * (a verified Finished, accepted early data) and the new state. */
    const char *fin = r->msg == MSG_FINISHED ? "fin = true; " : "";
    printf("        if\n");
    printf("        :: atomic { %sstate = S_%s }\n", fin, sname(r->next));
    for (size_t k = 0; k < MAX_BR; k++) {
        if (r->alt[k] == NO_ALT) continue;
        printf("        :: atomic { %s%sstate = S_%s } /* %s */\n", fin,
               (int)k == r->branch_early ? "early_ok = true; " : "", sname(r->alt[k]),
               fr_state_branch_name(k));
    }
    if (adversarial) printf("        :: state = S_failed /* the handler refuses the message */\n");
    printf("        fi\n");
}

int main(int argc, char **argv) {
    if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--mutate") == 0)) {
        fprintf(stderr, "usage: gen_model client|server adversarial|cooperative [--mutate NAME]\n");
        return 2;
    }
    uint32_t role;
    if (strcmp(argv[1], "client") == 0)
        role = FERRULE_ROLE_CLIENT;
    else if (strcmp(argv[1], "server") == 0)
        role = FERRULE_ROLE_SERVER;
    else
        return fprintf(stderr, "gen_model: role must be client or server\n"), 2;
    int adversarial;
    if (strcmp(argv[2], "adversarial") == 0)
        adversarial = 1;
    else if (strcmp(argv[2], "cooperative") == 0)
        adversarial = 0;
    else
        return fprintf(stderr, "gen_model: mode must be adversarial or cooperative\n"), 2;
    load(role);
    if (argc == 5) mutate(argv[4], role);

    uint32_t init = role == FERRULE_ROLE_CLIENT ? FERRULE_HS_START : FERRULE_HS_WAIT_CLIENT_HELLO;
    used[init] = 1;
    for (size_t i = 0; i < n_rows; i++) {
        used[rows[i].state] = used[rows[i].next] = 1;
        for (size_t k = 0; k < MAX_BR; k++)
            if (rows[i].alt[k] != NO_ALT) used[rows[i].alt[k]] = 1;
    }
    used[FERRULE_HS_FAILED] = adversarial;

    printf("/* Generated by formal/spin/gen_model %s %s%s%s from core/state.c; do not edit. */\n",
           argv[1], argv[2], argc == 5 ? " --mutate " : "", argc == 5 ? argv[4] : "");
    for (uint32_t s = 0; s < N_STATES; s++)
        if (used[s]) printf("#define S_%s %u\n", sname(s), s);
    for (size_t m = 0; m < N_MSGS; m++) printf("#define M_%s %u\n", MSGS[m].name, MSGS[m].type);
    printf("#define R_APP 100 /* a 1-RTT or 0-RTT application_data record */\n"
           "#define R_CCS 101 /* an unprotected change_cipher_spec record */\n\n");
    printf("byte state = S_%s;\n", sname(init));
    printf("byte m;\n");
    printf("bool fin = false;      /* a Finished row's handler succeeded */\n"
           "bool early_ok = false; /* the early_data_accepted branch was taken */\n"
           "bool app = false;      /* 1-RTT application data was delivered */\n"
           "bool early = false;    /* 0-RTT application data was delivered */\n\n");
    if (adversarial) {
        /* Safety, in every state the model reaches. */
        printf("ltl safe {\n"
               "  [] ((!app || fin) &&                 /* 1-RTT data only after a verified Finished */\n"
               "      (state != S_connected || fin) && /* connected only through a verified Finished */\n"
               "      (!early || early_ok))            /* 0-RTT data only once accepted */\n"
               "}\n");
    } else {
        /* Reachability: each claim is violated exactly when its state is reached. */
        for (uint32_t s = 0; s < N_STATES; s++)
            if (used[s]) printf("ltl reach_%s { [] (state != S_%s) }\n", sname(s), sname(s));
    }
    printf("\nactive proctype conn() {\n  do\n");
    if (adversarial) printf("  :: state == S_failed -> break\n");
    /* Send-only rows (the client's start). */
    for (size_t i = 0; i < n_rows; i++) {
        if (rows[i].msg != MSG_NONE) continue;
        printf("  :: state == S_%s ->\n", sname(rows[i].state));
        emit_outcomes(&rows[i], adversarial);
    }
    /* The peer's next message or record. */
    printf("  :: else ->\n    if\n");
    if (adversarial) {
        for (size_t m = 0; m < N_MSGS; m++) printf("    :: m = M_%s\n", MSGS[m].name);
        printf("    :: m = R_APP\n    :: m = R_CCS\n");
    } else {
        for (size_t i = 0; i < n_rows; i++) {
            if (rows[i].msg == MSG_NONE) continue;
            const char *mn = "?";
            for (size_t m = 0; m < N_MSGS; m++)
                if (MSGS[m].type == rows[i].msg) mn = MSGS[m].name;
            printf("    :: state == S_%s -> m = M_%s\n", sname(rows[i].state), mn);
        }
        printf("    :: state == S_connected -> m = R_APP\n");
    }
    printf("    fi;\n    if\n");
    for (size_t i = 0; i < n_rows; i++) {
        const row *r = &rows[i];
        if (r->msg == MSG_NONE) continue;
        const char *mn = "?";
        for (size_t m = 0; m < N_MSGS; m++)
            if (MSGS[m].type == r->msg) mn = MSGS[m].name;
        /* The record layer passes handshake records only in states whose
         * rules take them (core/recv.c, fr_state_expects_handshake). */
        if (!rule_hs[r->state]) continue;
        printf("    :: state == S_%s && m == M_%s ->\n", sname(r->state), mn);
        emit_outcomes(r, adversarial);
    }
    /* Application data: 1-RTT only in connected (core/recv.c,
     * dispatch_content); 0-RTT where the rules read early data. */
    printf("    :: state == S_connected && m == R_APP -> app = true\n");
    for (uint32_t s = 0; s < N_STATES; s++)
        if (used[s] && rule_early[s] && s != FERRULE_HS_CONNECTED)
            printf("    :: state == S_%s && m == R_APP -> early = true\n", sname(s));
    for (uint32_t s = 0; s < N_STATES; s++)
        if (used[s] && rule_ccs[s]) printf("    :: state == S_%s && m == R_CCS -> skip /* dropped */\n", sname(s));
    if (adversarial) printf("    :: else -> state = S_failed /* unexpected_message */\n");
    printf("    fi\n  od;\n");
    printf("}\n\n");
    return 0;
}
