/*
 * fuzz_selftest.c - a deliberately broken target, built only as the replay
 * binary replay_fuzz_selftest for `fuzz/replay_corpus.sh --self-test`
 * (never run by ctest, never part of FUZZ_TARGETS): an input that starts
 * with "PLANTED-CRASH" makes it abort, like a real crasher would.  The
 * self-test plants such an input in a copy of the crasher directory and
 * requires the replay script to fail, then removes it and requires it to
 * pass: a replay that cannot see crashes cannot hide them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char planted[] = "PLANTED-CRASH";
    if (size >= sizeof(planted) - 1 && memcmp(data, planted, sizeof(planted) - 1) == 0) {
        fprintf(stderr, "fuzz_selftest: planted crasher reached\n");
        abort();
    }
    return 0;
}
