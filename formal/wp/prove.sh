#!/usr/bin/env bash
# formal/wp/prove.sh - prove with Frama-C/WP (docs/formal.md):
#   reader_writer.c  the bounds-checked reader and the writer (core/common.c)
#   record_header_proof.c  the record header parser (core/record_header.c)
# Every goal, including the RTE plugin's absence-of-runtime-error goals,
# must be proved; anything else fails.
#
#   prove.sh              run the proofs on the shipped sources
#   prove.sh --self-test  also show that the proofs fail on deliberately
#                         broken copies of the sources (a bounds check
#                         removed from the reader, the length limit removed
#                         from the header parser)
# Needs frama-c (Debian frama-c-base), why3, cvc4 and z3 (tools/deps.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

self_test=0
[[ "${1:-}" == "--self-test" ]] && self_test=1

out=${FORMAL_OUT:-build/formal}
mkdir -p "$out"
# Why3 finds its provers once per machine.
[[ -f "${HOME}/.why3.conf" ]] || why3 config detect >/dev/null

readers=read_uint,read_vec,fr_read_u8,fr_read_u16,fr_read_u24,fr_read_u32,fr_read_bytes,fr_read_vec8,fr_read_vec16,fr_read_vec24,fr_read_done
writers=write_uint,fr_writer_init,fr_write_u8,fr_write_u16,fr_write_u24,fr_write_u32,fr_write_bytes,fr_write_open_vec,fr_write_close_vec,fr_write_finish
header=fr_record_header,fr_record_check_inner_limit

# prove NAME FILE FUNCTIONS "WP OPTIONS" [SRC_DIR]: run WP, keep the log,
# print the tally; exit 0 only when every goal is proved.  SRC_DIR (default
# core/) is searched first for the included sources, so a broken copy can
# stand in.
prove() {
    local name=$1 file=$2 fcts=$3 opts=$4 src=${5:-core}
    local log="$out/$name.log"
    # shellcheck disable=SC2086
    frama-c -cpp-extra-args="-I$src -Iformal/wp/stubs -Icore -Iabi/include" \
        -wp -wp-rte $opts -wp-prover cvc4,z3 -wp-timeout 30 \
        -wp-par 2 -wp-fct "$fcts" "$file" >"$log" 2>&1 || { echo "$name: frama-c failed (see $log)"; tail -20 "$log"; return 1; }
    local tally
    tally=$(grep -E '^\[wp\] Proved goals:' "$log" | tail -1 | sed -E 's/.*: *([0-9]+) *\/ *([0-9]+).*/\1 \2/')
    if [[ -z "$tally" ]]; then echo "$name: no WP tally (see $log)"; return 1; fi
    read -r proved total <<<"$tally"
    echo "$name: $proved / $total goals proved"
    if [[ "$proved" != "$total" || "$total" == 0 ]]; then
        grep -E '^\[wp\] \[(Failed|Unknown|Timeout)' "$log" | head -20 || true
        return 1
    fi
}

# The memory model: WP's default (Typed) for the reader and the header;
# Typed+Cast for the writer, whose only casts are the byte-pointer casts of
# memcpy's and memset's void * arguments (docs/formal.md).  -wp-split
# splits conjunctions into separate goals where the provers need it.
reader_opts="-inline-calls fr_reader_left,fr_reader_empty"
writer_opts="-inline-calls fr_reader_left,fr_reader_empty -wp-model Typed+Cast -wp-split"
header_opts="-inline-calls fr_record_known_type -wp-split"

fail=0
prove reader formal/wp/reader_writer.c "$readers" "$reader_opts" || fail=1
prove writer formal/wp/reader_writer.c "$writers" "$writer_opts" || fail=1
prove record_header formal/wp/record_header_proof.c "$header" "$header_opts" || fail=1

if (( self_test )); then
    # Each mutant must make its proof fail; a proof that still "passes"
    # on broken code proves nothing.
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/no-bounds" "$tmp/no-limit"
    sed 's/FR_ENSURE(n <= fr_reader_left(r), FERRULE_R_DECODE_ERROR);/\/* check removed *\//' \
        core/common.c >"$tmp/no-bounds/common.c"
    sed 's/FR_ENSURE(len <= FR_MAX_CIPHERTEXT, FERRULE_R_RECORD_OVERFLOW);/\/* check removed *\//' \
        core/record_header.c >"$tmp/no-limit/record_header.c"
    for m in no-bounds:core/common.c no-limit:core/record_header.c; do
        if cmp -s "$tmp/${m%%:*}/$(basename "${m#*:}")" "${m#*:}"; then
            echo "self-test: mutant ${m%%:*} did not change ${m#*:}"; fail=1
        fi
    done
    # A mutant counts as caught only when WP ran and left a goal unproved
    # (a parse error is not a caught mutant).
    caught() { grep -Eq '^\[wp\] Proved goals: *[0-9]+ */ *[0-9]+' "$out/$1.log" && ! grep -Eq '^\[wp\] Proved goals: *([0-9]+) */ *\1$' "$out/$1.log"; }
    prove mutant-no-bounds formal/wp/reader_writer.c fr_read_bytes "$reader_opts" "$tmp/no-bounds" >/dev/null || true
    if caught mutant-no-bounds; then
        echo "self-test: the reader proof fails without fr_read_bytes' bounds check (as it must)"
    else
        echo "self-test: the reader proof did not fail on fr_read_bytes without its bounds check"; fail=1
    fi
    prove mutant-no-limit formal/wp/record_header_proof.c fr_record_header "$header_opts" "$tmp/no-limit" >/dev/null || true
    if caught mutant-no-limit; then
        echo "self-test: the header proof fails without the 2^14+256 length limit (as it must)"
    else
        echo "self-test: the header proof did not fail without the length limit"; fail=1
    fi
fi
exit $fail
