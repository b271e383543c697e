#!/usr/bin/env bash
# fuzz/campaign.sh FUZZ_DIR SECONDS "FLAGS" TARGET... - the `make fuzz` loop.
#
# Runs each libFuzzer binary FUZZ_DIR/fuzz/<t> for SECONDS over the working
# corpus FUZZ_DIR/corpus/<t> seeded from fuzz/corpus/<t> (read only: new
# inputs go to the working corpus), crashes to FUZZ_DIR/artifacts/<t>/,
# the log to FUZZ_DIR/logs/<t>.log.  Goes on after a crash, and at the end
# prints (and writes to FUZZ_DIR/campaign.md) one Markdown row per target:
# seconds, executions, exec/s, edges covered, working corpus size, crash
# artifacts.  Exit 1 if any target left a crash, leak or timeout artifact.
set -uo pipefail
FZ=$1
SECS=$2
FLAGS=$3
shift 3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$FZ/logs"
rows=()
bad=0
for t in "$@"; do
    mkdir -p "$FZ/corpus/$t" "$FZ/artifacts/$t"
    echo "==> $t (${SECS}s)"
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$FZ/fuzz/$t" -max_total_time="$SECS" -print_final_stats=1 \
        -artifact_prefix="$FZ/artifacts/$t/" $FLAGS "$FZ/corpus/$t" "$ROOT/fuzz/corpus/$t" \
        >"$FZ/logs/$t.log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FZ/logs/$t.log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$FZ/logs/$t.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$FZ/logs/$t.log" | tail -1 | cut -d' ' -f2)
    files=$(find "$FZ/corpus/$t" -type f | wc -l)
    arts=$(find "$FZ/artifacts/$t" -type f | wc -l)
    [ "$arts" -gt 0 ] && bad=1
    [ $rc -ne 0 ] && [ "$arts" -eq 0 ] && echo "  $t: exit $rc without an artifact (see $FZ/logs/$t.log)"
    rows+=("| \`$t\` | $took | ${execs:-?} | ${rate:-?} | ${cov:-?} | $files | $arts |")
    echo "  ${execs:-?} executions, cov ${cov:-?}, $files working-corpus files, $arts artifacts"
done
{
    echo "| target | seconds | executions | exec/s | edges (cov) | working corpus | crash artifacts |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
} | tee "$FZ/campaign.md"
exit $bad
