#!/usr/bin/env bash
# Runs every fuzz target for <seconds> each (default 60), one after another, from seed [seed].
#   fuzz/run.sh 600            # the recorded ≥ 10-minute-per-target run
#   fuzz/run.sh 30 7 ledger_tx # one target, seed 7
# Builds the driver with the test profile (optimised, with overflow checks and debug
# assertions on, so arithmetic overflow is a finding). Findings are saved under
# fuzz/artifacts/<target>/ and replay with `tessera-fuzz replay <target> <file>`.
# Set TESSERA_FUZZ_FEATURES=tfhe to add the TFHE target (a long first build).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
seed="${2:-1}"
only="${3:-all}"
features=()
if [[ -n "${TESSERA_FUZZ_FEATURES:-}" ]]; then
    features=(--features "$TESSERA_FUZZ_FEATURES")
fi
cargo build --profile test -p tessera-fuzz --bin tessera-fuzz "${features[@]}"
bin="${CARGO_TARGET_DIR:-target}/debug/tessera-fuzz"
echo "# tessera-fuzz run: ${secs}s per target, seed ${seed}, $(date -u +%FT%TZ), $(git rev-parse --short HEAD)"
status=0
if [[ "$only" == all ]]; then
    for t in $("$bin" list | awk '{print $1}'); do
        "$bin" run "$t" "$secs" "$seed" || status=1
    done
else
    "$bin" run "$only" "$secs" "$seed" || status=1
fi
exit "$status"
