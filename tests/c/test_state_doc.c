/* test_state_doc.c - docs/state-machine.md is generated from the transition
 * table in core/state.c; this test fails when the two disagree.  Regenerate
 * with: FERRULE_REGEN_DOCS=1 ./test_state_doc (from tests/c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferrule.h"
#include "testlib.h"

size_t fr_state_table_size(void);
void fr_state_table_row(size_t i, uint32_t *role, uint32_t *state, uint16_t *msg, uint32_t *next,
                        const char **what);
size_t fr_state_branch_count(void);
const char *fr_state_branch_name(size_t k);
uint32_t fr_state_table_alt(size_t i, size_t k);
#define NO_ALT 0xffffffffu
size_t fr_state_rules_size(void);
void fr_state_rules_row(size_t i, uint32_t *role, uint32_t *state, int *handshake, int *ccs,
                        int *early);

static const char *msg_name(uint16_t m) {
    switch (m) {
    case 1: return "ClientHello";
    case 2: return "ServerHello";
    case 4: return "NewSessionTicket";
    case 5: return "EndOfEarlyData";
    case 8: return "EncryptedExtensions";
    case 11: return "Certificate";
    case 13: return "CertificateRequest";
    case 15: return "CertificateVerify";
    case 20: return "Finished";
    case 24: return "KeyUpdate";
    case 0xffff: return "(none: send)";
    default: return "?";
    }
}

/* Row i of the transition table if it is one of `role`'s. */
static int row_of(size_t i, uint32_t role, uint32_t *state, uint16_t *msg, uint32_t *next,
                  const char **what) {
    uint32_t r;
    fr_state_table_row(i, &r, state, msg, next, what);
    return r == role;
}

#define EMIT(...) n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__)

static size_t render_transitions(char *out, size_t cap, uint32_t role) {
    size_t n = 0;
    EMIT("| state | message | next state | other branches the handler may report | what "
         "happens |\n"
         "|---|---|---|---|---|\n");
    for (size_t i = 0; i < fr_state_table_size(); i++) {
        uint32_t s, nx;
        uint16_t m;
        const char *what;
        if (!row_of(i, role, &s, &m, &nx, &what)) continue;
        EMIT("| %s | %s | %s |", ferrule_handshake_state_name(s), msg_name(m),
             ferrule_handshake_state_name(nx));
        const char *sep = " ";
        for (size_t k = 1; k < fr_state_branch_count(); k++) {
            if (fr_state_table_alt(i, k) == NO_ALT) continue;
            EMIT("%s%s: %s", sep, fr_state_branch_name(k),
                 ferrule_handshake_state_name(fr_state_table_alt(i, k)));
            sep = "; ";
        }
        EMIT(" | %s |\n", what);
    }
    return n;
}

static size_t render_diagram(char *out, size_t cap, uint32_t role) {
    size_t n = 0;
    EMIT("```mermaid\nstateDiagram-v2\n");
    for (size_t i = 0; i < fr_state_table_size(); i++) {
        uint32_t s, nx;
        uint16_t m;
        const char *what;
        if (!row_of(i, role, &s, &m, &nx, &what)) continue;
        EMIT("    %s --> %s: %s\n", ferrule_handshake_state_name(s),
             ferrule_handshake_state_name(nx), msg_name(m));
        for (size_t k = 1; k < fr_state_branch_count(); k++)
            if (fr_state_table_alt(i, k) != NO_ALT)
                EMIT("    %s --> %s: %s (%s)\n", ferrule_handshake_state_name(s),
                     ferrule_handshake_state_name(fr_state_table_alt(i, k)), msg_name(m),
                     fr_state_branch_name(k));
    }
    EMIT("```\n\n");
    return n;
}

static size_t render_rules(char *out, size_t cap) {
    size_t n = 0;
    EMIT("## Record-level rules per state\n\n"
         "Besides the messages above, each state says which records it takes\n"
         "(`core/state.c`, `RULES`).  A state not listed (start, failed, closed) takes\n"
         "none of them.\n\n"
         "| role | state | handshake records | change_cipher_spec dropped (RFC 8446 §5) | "
         "0-RTT data read (§4.2.10) |\n"
         "|---|---|---|---|---|\n");
    for (size_t i = 0; i < fr_state_rules_size(); i++) {
        uint32_t r, s;
        int hs, ccs, early;
        fr_state_rules_row(i, &r, &s, &hs, &ccs, &early);
        EMIT("| %s | %s | %s | %s | %s |\n", r == 1 ? "client" : "server",
             ferrule_handshake_state_name(s), hs ? "yes" : "no", ccs ? "yes" : "no",
             early ? "yes" : "no");
    }
    return n;
}

static size_t render(char *out, size_t cap) {
    size_t n = 0;
    EMIT("# Handshake state machine\n\n");
    EMIT("Generated from the transition table in `core/state.c` by\n"
         "`tests/c/test_state_doc.c` (`FERRULE_REGEN_DOCS=1`); the test fails when this\n"
         "file and the table disagree.  Only the dispatcher moves the state; a message\n"
         "not listed for the current state is `unexpected_message`.  Any failure moves\n"
         "the connection to `failed` (sticky).  A handler returns a reason only; a\n"
         "handler whose step can end in more than one state reports a named branch,\n"
         "and its row names the state of each branch.\n\n");
    for (uint32_t role = 1; role <= 2; role++) {
        EMIT("## %s\n\n", role == 1 ? "Client" : "Server");
        n += render_transitions(out + n, n < cap ? cap - n : 0, role);
        EMIT("\n");
        n += render_diagram(out + n, n < cap ? cap - n : 0, role);
    }
    n += render_rules(out + n, n < cap ? cap - n : 0);
    return n;
}
#undef EMIT

TEST(doc_matches_table) {
    static char want[16384];
    size_t n = render(want, sizeof(want));
    CHECK(n < sizeof(want));
    const char *path = "../../docs/state-machine.md";
    if (getenv("FERRULE_REGEN_DOCS") != NULL) {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f == NULL) return;
        fwrite(want, 1, n, f);
        fclose(f);
    }
    static char have[16384];
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f == NULL) return;
    size_t got = fread(have, 1, sizeof(have), f);
    fclose(f);
    CHECK_EQ(got, n);
    CHECK(memcmp(have, want, n) == 0);
}

static int rules_of(uint32_t role, uint32_t state, int *hs, int *ccs, int *early) {
    for (size_t i = 0; i < fr_state_rules_size(); i++) {
        uint32_t r, s;
        fr_state_rules_row(i, &r, &s, hs, ccs, early);
        if (r == role && s == state) return 1;
    }
    return 0;
}

/* The per-state rules agree with the transitions: every state a message
 * is taken in, or a transition leads to, takes handshake records; only
 * the server's early-data state reads 0-RTT data; no state after the
 * handshake drops change_cipher_spec (RFC 8446 §5). */
TEST(rules_cover_table) {
    for (size_t i = 0; i < fr_state_table_size(); i++) {
        uint32_t r, s, nx;
        uint16_t m;
        const char *what;
        fr_state_table_row(i, &r, &s, &m, &nx, &what);
        uint32_t states[8] = {s, nx};
        size_t n = 2;
        for (size_t k = 1; k < fr_state_branch_count() && n < 8; k++)
            if (fr_state_table_alt(i, k) != NO_ALT) states[n++] = fr_state_table_alt(i, k);
        for (size_t j = 0; j < n; j++) {
            int hs = 0, ccs = 0, early = 0;
            if (m == 0xffff && j == 0) continue; /* start: sends, takes nothing */
            CHECK(rules_of(r, states[j], &hs, &ccs, &early));
            CHECK(hs);
            CHECK(!early || (r == FERRULE_ROLE_SERVER &&
                             states[j] == FERRULE_HS_WAIT_END_OF_EARLY_DATA));
            if (states[j] == FERRULE_HS_CONNECTED) CHECK(!ccs);
        }
    }
    int hs, ccs, early;
    CHECK(!rules_of(FERRULE_ROLE_CLIENT, FERRULE_HS_START, &hs, &ccs, &early));
    CHECK(!rules_of(FERRULE_ROLE_SERVER, FERRULE_HS_FAILED, &hs, &ccs, &early));
    /* Before the first ClientHello there is nothing a CCS could follow. */
    CHECK(rules_of(FERRULE_ROLE_SERVER, FERRULE_HS_WAIT_CLIENT_HELLO, &hs, &ccs, &early) && !ccs);
}

TEST_MAIN("state_doc", TL_CASE(doc_matches_table), TL_CASE(rules_cover_table))
