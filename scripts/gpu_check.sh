#!/usr/bin/env bash
# The GPU acceptance run, from a bundle made by scripts/bundle_gpu.sh: the device query, then every
# GPU test suite (all named Gpu*), then the GPU benchmarks (bench/gpu.sh: AlexNet and LeNet against
# PyTorch), LeNet trained on Fashion-MNIST on the GPU when the bundle carries the data, then,
# last, a table of passed / failed / skipped tests per suite and the benchmark table.
# Usage: gpu_check.sh [BUNDLE_DIR] [extra gtest flags...]
#   (BUNDLE_DIR defaults to this script's folder when it holds run.sh, else build-gpu/bundle)
# Environment: MOKA_GPU_FILTER overrides the gtest filter ('Gpu*:*Gpu*'); MOKA_GPU_BENCH=0 skips
# the benchmarks.
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

# LeNet trained with models/lenet's solver on the GPU, when the bundle carries Fashion-MNIST.
accuracy_status=0
accuracy=""
if [[ -d "$bundle/data/fashion-mnist" ]]; then
  echo
  echo "== LeNet on Fashion-MNIST, moka train --gpu=0 (models/lenet solver, 10000 iterations)"
  lenet="$(mktemp -d)"
  for split in train:train test:t10k; do
    "$bundle/run.sh" moka convert_mnist "$(ls "$bundle/data/fashion-mnist/${split#*:}-images-idx3-ubyte"*)" \
      "$(ls "$bundle/data/fashion-mnist/${split#*:}-labels-idx1-ubyte"*)" \
      "$lenet/fashion_mnist_${split%%:*}_lmdb" --backend=lmdb >/dev/null 2>&1 || accuracy_status=1
  done
  sed "s#data/fashion_mnist/#$lenet/#" "$bundle/bench/nets/lenet/lenet_train_test.prototxt" \
    >"$lenet/net.prototxt"
  sed -e "s#^net: .*#net: \"$lenet/net.prototxt\"#" -e "s#^snapshot_prefix: .*#snapshot_prefix: \"$lenet/lenet\"#" \
    "$bundle/bench/nets/lenet/lenet_solver.prototxt" >"$lenet/solver.prototxt"
  GLOG_logtostderr=1 "$bundle/run.sh" moka train --solver="$lenet/solver.prototxt" --gpu=0 \
    >"$lenet/train.log" 2>&1 || accuracy_status=1
  accuracy="$(grep -E 'Test net output #[0-9]+: accuracy = ' "$lenet/train.log" | tail -n 1 |
    sed -E 's/.*accuracy = ([0-9.eE+-]+).*/\1/')"
  [[ -n "$accuracy" ]] || accuracy_status=1
  tail -n 5 "$lenet/train.log"
  rm -rf "$lenet"
fi

bench_status=0
if [[ "${MOKA_GPU_BENCH:-1}" != 0 && -x "$bundle/bench/gpu.sh" ]]; then
  echo
  MOKA_BIN="$bundle/run.sh moka" "$bundle/bench/gpu.sh" --gpu 0 2>&1 | tee "$log.bench"
  bench_status=${PIPESTATUS[0]}
fi

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
if [[ -s "$log.bench" ]]; then
  sed -n '/^== gpu.sh summary/,$p' "$log.bench"
  rm -f "$log.bench"
fi
[[ -d "$bundle/data/fashion-mnist" ]] &&
  echo "LeNet --gpu=0 Fashion-MNIST test accuracy: ${accuracy:-none} ($([[ $accuracy_status -eq 0 ]] && echo ok || echo FAILED))"
echo "device_query: $([[ $query_status -eq 0 ]] && echo ok || echo "FAILED ($query_status)")"
echo "moka_tests:   $([[ $test_status -eq 0 ]] && echo ok || echo "FAILED ($test_status)")"
echo "gpu bench:    $([[ $bench_status -eq 0 ]] && echo ok || echo "FAILED ($bench_status)")"
[[ $query_status -eq 0 && $test_status -eq 0 && $bench_status -eq 0 && $accuracy_status -eq 0 ]]
