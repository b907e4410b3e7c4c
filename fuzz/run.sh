#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for SECONDS each with libFuzzer, starting from the
# committed seed corpus (copied, so new finds do not dirty the tree). Fails on the first crash,
# timeout or out-of-memory; the input that did it is left in fuzz/artifacts/TARGET/.
# Prints one summary line per target: executions, coverage, corpus size.
#
# usage: fuzz/run.sh [SECONDS] [TARGET...]    (CI: fuzz/run.sh 20; long runs: fuzz/run.sh 3600)
#   FUZZ_RUNS=N   also stop a target after N executions (issue #21's long run: FUZZ_RUNS=10000000
#                 with 3600 s, whichever comes first)
#   FUZZ_WORK=DIR keep the grown corpora and the logs in DIR (default: a temporary directory)
# needs: a nightly toolchain (`cargo +nightly`) and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
cargo +nightly --version > /dev/null 2>&1 || { echo "fuzz/run.sh: needs a nightly toolchain (rustup toolchain install nightly)" >&2; exit 2; }
cargo +nightly fuzz --version > /dev/null 2>&1 || { echo "fuzz/run.sh: needs cargo-fuzz (cargo install cargo-fuzz)" >&2; exit 2; }
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo +nightly fuzz list); fi

# Release code with debug assertions (cargo fuzz's default), so an overflow is a crash too.
cargo +nightly fuzz build
if [ -n "${FUZZ_WORK:-}" ]; then
  work=$FUZZ_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
runs_cap=()
[ -n "${FUZZ_RUNS:-}" ] && runs_cap=(-runs="$FUZZ_RUNS")
for target in "${targets[@]}"; do
  mkdir -p "$work/$target" "artifacts/$target"
  [ -d "corpus/$target" ] && cp -r "corpus/$target/." "$work/$target/"
  log=$work/$target.log
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: libFuzzer's default, stated.
  if ! cargo +nightly fuzz run "$target" "$work/$target" -- \
      -max_total_time="$seconds" "${runs_cap[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      > "$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target FAILED (input in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$log" | tail -1)
  rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  corpus=$(find "$work/$target" -type f | wc -l)
  echo "fuzz: $target ok: ${runs:-?} executions (${rate:-exec/s: ?}; max ${seconds}s${FUZZ_RUNS:+ or $FUZZ_RUNS runs}), ${cov:-cov: ?}, corpus $corpus, peak RSS ${rss:-?} MB, slowest input ${secs:-?} s"
done
