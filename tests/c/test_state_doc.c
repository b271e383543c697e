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
uint32_t fr_state_table_alt(size_t i, size_t k);
#define NO_ALT 0xffffffffu

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

static size_t render(char *out, size_t cap) {
    size_t n = 0;
#define EMIT(...) n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__)
    EMIT("# Handshake state machine\n\n");
    EMIT("Generated from the transition table in `core/state.c` by\n"
         "`tests/c/test_state_doc.c` (`FERRULE_REGEN_DOCS=1`); the test fails when this\n"
         "file and the table disagree.  Only the dispatcher moves the state; a message\n"
         "not listed for the current state is `unexpected_message`.  Any failure moves\n"
         "the connection to `failed` (sticky).\n\n");
    for (uint32_t role = 1; role <= 2; role++) {
        EMIT("## %s\n\n", role == 1 ? "Client" : "Server");
        EMIT("| state | message | next state (or the handler's alternatives) | what happens |\n"
             "|---|---|---|---|\n");
        for (size_t i = 0; i < fr_state_table_size(); i++) {
            uint32_t r, s, nx;
            uint16_t m;
            const char *what;
            fr_state_table_row(i, &r, &s, &m, &nx, &what);
            if (r != role) continue;
            EMIT("| %s | %s | %s", ferrule_handshake_state_name(s), msg_name(m),
                 ferrule_handshake_state_name(nx));
            for (size_t k = 0; k < 3; k++)
                if (fr_state_table_alt(i, k) != NO_ALT)
                    EMIT(" or %s", ferrule_handshake_state_name(fr_state_table_alt(i, k)));
            EMIT(" | %s |\n", what);
        }
        EMIT("\n```mermaid\nstateDiagram-v2\n");
        for (size_t i = 0; i < fr_state_table_size(); i++) {
            uint32_t r, s, nx;
            uint16_t m;
            const char *what;
            fr_state_table_row(i, &r, &s, &m, &nx, &what);
            if (r != role) continue;
            uint32_t alts[4];
            alts[0] = nx;
            for (size_t k = 0; k < 3; k++) alts[k + 1] = fr_state_table_alt(i, k);
            for (size_t k = 0; k < 4; k++)
                if (alts[k] != NO_ALT)
                    EMIT("    %s --> %s: %s\n", ferrule_handshake_state_name(s),
                         ferrule_handshake_state_name(alts[k]), msg_name(m));
        }
        EMIT("```\n\n");
    }
#undef EMIT
    return n;
}

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

TEST_MAIN("state_doc", TL_CASE(doc_matches_table))
