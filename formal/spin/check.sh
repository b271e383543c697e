#!/usr/bin/env bash
# formal/spin/check.sh BUILD_DIR [--self-test] - model-check the handshake
# transition table of core/state.c with spin (docs/formal.md).
#
# BUILD_DIR/formal_gen_model exports the table the library runs to Promela,
# per role, in two modes:
#   adversarial  claim `safe`: no 1-RTT application data and no `connected`
#                without a verified Finished; 0-RTT data only once accepted.
#                Must hold (0 errors).
#   cooperative  no invalid end state (a state that accepts nothing: a
#                deadlock); and for every state, the claim "never reached"
#                must be violated (the state is reachable).
# --self-test: the same checks on mutated tables must fail (a Finished
# skipped, a dead-end state, an unreachable state).
set -euo pipefail
build=${1:?usage: check.sh BUILD_DIR [--self-test]}
self_test=0
[[ "${2:-}" == "--self-test" ]] && self_test=1
gen=$(cd "$build" && pwd)/formal_gen_model
[[ -x "$gen" ]] || { echo "check.sh: $gen not built"; exit 1; }
work="$build/formal/spin"
rm -rf "$work"; mkdir -p "$work"
cd "$work"

# pan ARGS...: run the verifier, fail on an incomplete search, print "errors: N".
pan_errors() {
    local out
    out=$(./pan -m100000 "$@" 2>&1) || true
    if grep -q "max search depth too small\|search not completed" <<<"$out"; then
        echo "incomplete"; return
    fi
    grep -o "errors: [0-9]*" <<<"$out" | tail -1 | awk '{print $2}'
}

# build_pan NAME ROLE MODE [MUTATION]: generate the model and compile pan
# (pan_claim with the LTL claims, pan_noclaim for deadlock search).
build_pan() {
    local name=$1 role=$2 mode=$3 mut=${4:-}
    mkdir -p "$name"; cd "$name"
    if [[ -n "$mut" ]]; then "$gen" "$role" "$mode" --mutate "$mut" >model.pml; else "$gen" "$role" "$mode" >model.pml; fi
    spin -a model.pml >spin.log 2>&1 || { cat spin.log; exit 1; }
    gcc -O2 -w -o pan pan.c
    gcc -O2 -w -DNOCLAIM -o pan_noclaim pan.c
    cd ..
}

fail=0
# check_role ROLE [MUTATION] -> prints one line per property; returns 1 on a failed property.
check_role() {
    local role=$1 mut=${2:-} bad=0 e
    local tag=$role${mut:+-$mut}
    build_pan "adv-$tag" "$role" adversarial "$mut"
    build_pan "coop-$tag" "$role" cooperative "$mut"
    e=$(cd "adv-$tag" && pan_errors -a -N safe)
    if [[ "$e" == 0 ]]; then echo "$tag: safe holds (adversarial peer, failing handlers)"; else echo "$tag: safe VIOLATED ($e)"; bad=1; fi
    e=$(cd "coop-$tag" && ./pan_noclaim -m100000 2>&1 | grep -o "errors: [0-9]*" | awk '{print $2}')
    if [[ "$e" == 0 ]]; then echo "$tag: no deadlock"; else echo "$tag: DEADLOCK (invalid end state)"; bad=1; fi
    local states unreached=""
    states=$(grep -o '^ltl reach_[a-z_]*' "coop-$tag/model.pml" | sed 's/^ltl //')
    for s in $states; do
        e=$(cd "coop-$tag" && pan_errors -a -N "$s")
        [[ "$e" == 1 ]] || unreached+=" ${s#reach_}"
    done
    if [[ -z "$unreached" ]]; then echo "$tag: all $(wc -w <<<"$states") states reachable"; else echo "$tag: UNREACHABLE:$unreached"; bad=1; fi
    return $bad
}

check_role client || fail=1
check_role server || fail=1

if (( self_test )); then
    for mut in skip-finished drop-cv drop-cr; do
        if out=$(check_role client "$mut"); then
            echo "self-test: mutation $mut was NOT caught"; echo "$out"; fail=1
        else
            echo "self-test: mutation $mut caught: $(grep -E 'VIOLATED|DEADLOCK|UNREACHABLE' <<<"$out" | tr '\n' ' ')"
        fi
    done
fi
exit $fail
