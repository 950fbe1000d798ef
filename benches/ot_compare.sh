#!/usr/bin/env bash
# Runs tessera-ot's OT benchmark and the cryprot-ot 0.2.1 harness one after the other and prints
# one table: OTs per second, bits sent per OT, and ours / cryprot-ot for each comparable variant.
# Ferret rows: ferret-cot / ferret-rot are compared with cryprot-ot's silent random OT (same
# run); ferret-setup is the one-time base-OT + SoftSpokenOT setup (count 1, "bits/OT" = total).
#
# Usage: benches/ot_compare.sh [log2 OTs per call, default 20]
# Env: CARGO_TARGET_DIR (ours), CRYPROT_TARGET_DIR (the harness; default its own target/).
# Both are release builds. The cryprot harness lives outside the workspace with its own
# Cargo.lock because cryprot-ot pins a pre-release `aes` 0.9 that cannot share a lock with tfhe.
set -euo pipefail
cd "$(dirname "$0")/.."
LOG2="${1:-20}"
OURS=$(mktemp) THEIRS=$(mktemp)
trap 'rm -f "$OURS" "$THEIRS"' EXIT

echo "==> tessera-ot (cargo bench -p tessera-ot --bench ot), 2^$LOG2 OTs per call" >&2
OT_BENCH_LOG2="$LOG2" cargo bench -q -p tessera-ot --bench ot 2>/dev/null | grep '^RESULT' > "$OURS"

echo "==> cryprot-ot 0.2.1 (benches/cryprot-harness), 2^$LOG2 OTs per call" >&2
CARGO_TARGET_DIR="${CRYPROT_TARGET_DIR:-benches/cryprot-harness/target}" \
  cargo run -q --release --manifest-path benches/cryprot-harness/Cargo.toml -- "$LOG2" 3 \
  | grep '^RESULT' > "$THEIRS"

# RESULT <who> <variant> <transport> <count> <seconds> <ots_per_s> <bits_per_ot>
cat "$OURS" "$THEIRS" | awk '
  function rate(r) { return r >= 1e6 ? sprintf("%.2f M/s", r / 1e6) : sprintf("%.0f /s", r) }
  { who[NR] = $2; var[NR] = $3; tr[NR] = $4; cnt[NR] = $5; sec[NR] = $6; ops[NR] = $7; bits[NR] = $8
    if ($2 == "cryprot") { theirs[$3] = $7; theirs_sec[$3] = $6 } }
  END {
    # Which cryprot variant each of ours is compared with.
    ref["base-128"] = "base-128"; ref["kos-random"] = "kos-random"
    ref["kos-correlated"] = "kos-correlated"
    ref["ferret-cot"] = "silent-random"; ref["ferret-rot"] = "silent-random"
    for (k = 2; k <= 8; k *= 2) {
      ref["softspoken" k "-random"] = "silent-random"; ref["softspoken" k "-correlated"] = "kos-correlated"
    }
    printf "%-8s %-24s %-14s %10s %12s %12s %10s  %s\n", "impl", "variant", "transport", "count",
      "time", "OT/s", "bits/OT", "ours/cryprot (throughput)"
    for (i = 1; i <= NR; i++) {
      ratio = ""
      if (who[i] == "ours" && (var[i] in ref) && (ref[var[i]] in theirs))
        ratio = sprintf("%.2fx vs cryprot %s", ops[i] / theirs[ref[var[i]]], ref[var[i]])
      t = (var[i] == "base-128" || var[i] == "ferret-setup") ? sprintf("%.2f ms", sec[i] * 1e3) : sprintf("%.3f s", sec[i])
      printf "%-8s %-24s %-14s %10d %12s %12s %10.2f  %s\n", who[i], var[i], tr[i], cnt[i], t,
        rate(ops[i]), bits[i], ratio
    }
  }'
