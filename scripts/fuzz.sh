#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang and runs each for
# SECONDS (default 60), one after another, over a scratch copy of its seed
# corpus: what the run discovers never grows the committed corpus.
#
#   bash scripts/fuzz.sh [SECONDS]          BUILD_DIR=build-fuzz by default
#
# Fails (exit 1) when any target finds a crash, a contract violation (an
# exception other than InputError), a sanitizer report, a leak, an input
# slower than 10 s or an allocation above 2 GB.  The input is kept in
# $BUILD_DIR/findings/TARGET/; replay it with
#   $BUILD_DIR/tests/fuzz/TARGET FILE
# then add it to tests/fuzz/corpus/KIND/ as regress_* once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
BUILD_DIR="${BUILD_DIR:-build-fuzz}"
TARGETS=(csv npy model personas generator)
DICTS=(csv.dict npy.dict json.dict json.dict json.dict)

CLANG="$(command -v clang++ || true)"
if [ -z "$CLANG" ]; then
  echo "fuzz: clang++ not found (scripts/install_deps.sh installs clang and its runtimes)" >&2
  exit 2
fi
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$CLANG" \
  -DARCHETYPE_CUDA=OFF -DARCHETYPE_FUZZ=ON -DARCHETYPE_BUILD_TESTS=OFF -DARCHETYPE_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${TARGETS[@]/#/fuzz_}"

# fuzz_npy writes each input to a file: keep those in a folder of ours.
export TMPDIR="$PWD/$BUILD_DIR/tmp"
failed=()
for i in "${!TARGETS[@]}"; do
  kind="${TARGETS[$i]}"
  target="fuzz_$kind"
  work="$BUILD_DIR/corpus/$kind"
  findings="$BUILD_DIR/findings/$target"
  log="$BUILD_DIR/logs/$target.log"
  rm -rf "$work" "$TMPDIR"
  mkdir -p "$work" "$findings" "$(dirname "$log")" "$TMPDIR"
  cp tests/fuzz/corpus/"$kind"/* "$work"/
  echo "fuzz: $target for ${SECONDS_EACH} s (log: $log)"
  rc=0
  "$BUILD_DIR/tests/fuzz/$target" "$work" -dict="tests/fuzz/${DICTS[$i]}" \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$findings/" >"$log" 2>&1 || rc=$?
  # The last status line (executions, coverage) and the execution count.
  grep -E "^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)" "$log" | tail -1 || true
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $target FAILED (exit $rc); the report:" >&2
    grep -E -A25 '^==[0-9]+==ERROR|fuzz contract violated|runtime error|^SUMMARY' "$log" | head -60 >&2 || tail -40 "$log" >&2
    ls -1 "$findings" >&2
    failed+=("$target")
  fi
done
rm -rf "$TMPDIR"
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no findings (${SECONDS_EACH} s per target)"
