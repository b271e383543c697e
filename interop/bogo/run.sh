#!/usr/bin/env bash
# interop/bogo/run.sh - run BoringSSL's TLS test runner ("BoGo") against
# ferrule's shim (build/bogo_shim) under the profile, and summarise.
#
# Nothing here fetches or builds BoringSSL: build the runner yourself at the
# commit the profile pins (docs/bogo-profile.md) and give its path.
#
#   BOGO_RUNNER=/path/runner.test interop/bogo/run.sh
#
# Environment:
#   BOGO_RUNNER               the runner binary (required)
#   BOGO_PROFILE              profile (default interop/bogo/profile.json)
#   BOGO_STRICT=1             disable out-of-scope and optional tests, and exit
#                             non-zero on any in_scope_required failure or
#                             unimplemented test (the release gate)
#   BOGO_ALLOW_UNIMPLEMENTED  1: exit 89 is an expected skip (default 1, or 0
#                             with BOGO_STRICT=1); 0: an unimplemented test
#                             that is not disabled fails the run
#   BOGO_TEST                 the runner's -test pattern (default: all)
#   BOGO_SHIM                 the shim (default build/bogo_shim)
#   BOGO_OUT                  output directory (default build/bogo): config.json,
#                             results.json, runner.log, summary.json
#   BOGO_WORKERS              runner workers (default: the number of CPUs)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BOGO_RUNNER:?set BOGO_RUNNER to a BoGo runner binary you built (docs/bogo-profile.md)}"
PROFILE=${BOGO_PROFILE:-$ROOT/interop/bogo/profile.json}
STRICT=${BOGO_STRICT:-0}
if [ "$STRICT" = 1 ]; then ALLOW=${BOGO_ALLOW_UNIMPLEMENTED:-0}; else ALLOW=${BOGO_ALLOW_UNIMPLEMENTED:-1}; fi
SHIM=${BOGO_SHIM:-$ROOT/build/bogo_shim}
OUT=${BOGO_OUT:-$ROOT/build/bogo}
WORKERS=${BOGO_WORKERS:-$(nproc)}

[ -x "$BOGO_RUNNER" ] || { echo "run.sh: $BOGO_RUNNER is not an executable" >&2; exit 2; }
[ -x "$SHIM" ] || { echo "run.sh: no shim at $SHIM (make build)" >&2; exit 2; }
mkdir -p "$OUT"
rm -f "$OUT/results.json" "$OUT/unimplemented.log"

strict_flag=()
[ "$STRICT" = 1 ] && strict_flag=(--strict)
python3 "$ROOT/tools/bogo_profile.py" config --profile "$PROFILE" "${strict_flag[@]}" \
    --out "$OUT/config.json"

args=(-shim-path "$SHIM" -shim-config "$OUT/config.json" -num-workers "$WORKERS"
      -json-output "$OUT/results.json")
[ "$ALLOW" = 1 ] && args+=(-allow-unimplemented)
[ -n "${BOGO_TEST:-}" ] && args+=(-test "$BOGO_TEST")

echo "run.sh: $BOGO_RUNNER ${args[*]}"
set +e
FERRULE_BOGO_LOG="$OUT/unimplemented.log" "$BOGO_RUNNER" "${args[@]}" >"$OUT/runner.log" 2>&1
runner_rc=$?
set -e
echo "run.sh: runner exit status $runner_rc (log: $OUT/runner.log)"
[ -f "$OUT/results.json" ] || { echo "run.sh: the runner wrote no results" >&2; exit 2; }

set +e
python3 "$ROOT/tools/bogo_summary.py" "$OUT/results.json" --profile "$PROFILE" \
    --json-out "$OUT/summary.json" --text "${strict_flag[@]}"
summary_rc=$?
set -e
if [ "$STRICT" = 1 ]; then
    # The gate: the summary's verdict, and a runner that did not fail.
    [ "$summary_rc" -eq 0 ] && [ "$runner_rc" -eq 0 ] && exit 0
    exit 1
fi
exit 0
