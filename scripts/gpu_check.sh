#!/usr/bin/env bash
# The GPU acceptance run, from a bundle made by scripts/bundle_gpu.sh: the device query, then every
# GPU test suite (all named Gpu*), then a table of passed / failed / skipped tests per suite.
# Usage: gpu_check.sh [BUNDLE_DIR] [extra gtest flags...]
#   (BUNDLE_DIR defaults to this script's folder when it holds run.sh, else build-gpu/bundle)
# Environment: MOKA_GPU_FILTER overrides the gtest filter ('Gpu*:*Gpu*').
# Exit status: 0 when the device answers and no test fails.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -ge 1 && -x "$1/run.sh" ]]; then
  bundle="$(cd "$1" && pwd)"
  shift
elif [[ -x "$here/run.sh" ]]; then
  bundle="$here"
else
  bundle="$(cd "$here/.." && pwd)/build-gpu/bundle"
fi
[[ -x "$bundle/run.sh" ]] || { echo "gpu_check: no bundle at $bundle (run scripts/bundle_gpu.sh)" >&2; exit 2; }
filter="${MOKA_GPU_FILTER:-Gpu*:*Gpu*}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "== moka device_query --gpu=0"
"$bundle/run.sh" moka device_query --gpu=0 2>&1
query_status=$?

echo "== moka_tests --gtest_filter='$filter'"
GLOG_minloglevel="${GLOG_minloglevel:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-4}" \
  "$bundle/run.sh" moka_tests --gtest_filter="$filter" --gtest_color=no "$@" 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}

echo
echo "== summary"
awk '
  /^\[       OK \] /      { count($4, "ok") }
  /^\[  FAILED  \] .*\(/  { count($4, "failed") }
  /^\[  SKIPPED \] .*\(/  { count($4, "skipped") }
  function count(test, what,   suite) {
    suite = test; sub(/\.[^.]*$/, "", suite)
    if (!(suite in seen)) { seen[suite] = 1; order[++n] = suite }
    tally[suite, what]++; total[what]++
  }
  END {
    printf "%-40s %7s %7s %8s\n", "suite", "passed", "failed", "skipped"
    for (i = 1; i <= n; ++i) {
      s = order[i]
      printf "%-40s %7d %7d %8d\n", s, tally[s, "ok"], tally[s, "failed"], tally[s, "skipped"]
    }
    printf "%-40s %7d %7d %8d\n", "TOTAL", total["ok"], total["failed"], total["skipped"]
  }' "$log"
grep -A1 ": Skipped$" "$log" | grep -v -e ": Skipped$" -e "^--$" | sort | uniq -c |
  sed 's/^ */skipped for: /' || true
echo "device_query: $([[ $query_status -eq 0 ]] && echo ok || echo "FAILED ($query_status)")"
echo "moka_tests:   $([[ $test_status -eq 0 ]] && echo ok || echo "FAILED ($test_status)")"
[[ $query_status -eq 0 && $test_status -eq 0 ]]
