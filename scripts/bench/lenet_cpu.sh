#!/usr/bin/env bash
# moka's LeNet train step on the CPU against PyTorch's (scripts/bench/lenet_torch.py), both at
# batch 64, as milliseconds per solver iteration and their ratio.
#
# moka: `moka train` on a copy of models/lenet/lenet_solver.prototxt with testing, snapshots and
# display off, run for two iteration counts; the difference of the wall-clock times divided by the
# difference of the counts cancels start-up (net construction, opening the LMDB). PyTorch: its own
# timed loop, on 2 threads. Builds nothing: build/moka (or $MOKA_BIN) must exist. BLAS settings
# (OPENBLAS_NUM_THREADS, ...) are left as the environment has them.
#
# PyTorch runs twice: as it comes, and with OMP_WAIT_POLICY=PASSIVE. Its OpenMP threads spin while
# they wait for work, which on a machine busy with other processes (a shared build machine) can
# make it several times slower; the passive column shows what it does without that, so that a
# ratio is not won against a handicapped baseline. The ratio column is moka over the first.
#
# usage: scripts/bench/lenet_cpu.sh [rounds]   (default 3; moka and PyTorch alternate each round,
#        since the machine may be shared, and the last row is the median of the rounds)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
moka_bin="${MOKA_BIN:-$repo/build/moka}"
rounds="${1:-3}"
short_iter=50
long_iter=350
torch_iter=300

if [ ! -x "$moka_bin" ]; then
  echo "lenet_cpu: $moka_bin not found; build it first (make -C build moka_cli)" >&2
  exit 1
fi
if [ ! -d data/fashion_mnist/fashion_mnist_train_lmdb ]; then
  MOKA_BIN="$moka_bin" data/fashion_mnist.sh
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The stock solver without the settings this benchmark overrides.
solver_for() {
  local max_iter="$1" out="$work/solver_$1.prototxt"
  grep -Ev '^[[:space:]]*(max_iter|test_interval|test_initialization|snapshot|snapshot_after_train|display|snapshot_prefix)[[:space:]]*:' \
    models/lenet/lenet_solver.prototxt >"$out"
  cat >>"$out" <<EOF
max_iter: $max_iter
test_interval: 100000000
test_initialization: false
snapshot: 0
snapshot_after_train: false
display: 0
snapshot_prefix: "$work/lenet"
EOF
  echo "$out"
}

# Wall-clock seconds of one `moka train` run.
train_seconds() {
  local solver="$1" start end
  start="$(date +%s.%N)"
  GLOG_minloglevel=1 "$moka_bin" train --solver="$solver" >"$work/train.log" 2>&1 || {
    cat "$work/train.log" >&2
    exit 1
  }
  end="$(date +%s.%N)"
  echo "$start $end" | awk '{ printf "%.6f", $2 - $1 }'
}

short_solver="$(solver_for "$short_iter")"
long_solver="$(solver_for "$long_iter")"

torch_ms() {
  /usr/bin/python3 scripts/bench/lenet_torch.py --threads 2 --iterations "$torch_iter" |
    awk '/torch_ms_per_iter/ { printf "%.3f", $2 }'
}
ratio() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'; }
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

moka_results=()
torch_results=()
passive_results=()
format='%-8s %14s %14s %20s %12s\n'
printf "$format" round "moka ms/iter" "torch ms/iter" "torch passive ms/iter" "moka/torch"
for round in $(seq "$rounds"); do
  t_short="$(train_seconds "$short_solver")"
  t_long="$(train_seconds "$long_solver")"
  moka_ms="$(echo "$t_short $t_long" |
    awk -v n="$((long_iter - short_iter))" '{ printf "%.3f", 1000 * ($2 - $1) / n }')"
  torch_plain="$(torch_ms)"
  torch_passive="$(OMP_WAIT_POLICY=PASSIVE torch_ms)"
  moka_results+=("$moka_ms")
  torch_results+=("$torch_plain")
  passive_results+=("$torch_passive")
  printf "$format" "$round" "$moka_ms" "$torch_plain" "$torch_passive" "$(ratio "$moka_ms" "$torch_plain")"
done

moka_median="$(median "${moka_results[@]}")"
torch_median="$(median "${torch_results[@]}")"
passive_median="$(median "${passive_results[@]}")"
printf "$format" median "$moka_median" "$torch_median" "$passive_median" \
  "$(ratio "$moka_median" "$torch_median")"
echo "moka/torch passive (medians): $(ratio "$moka_median" "$passive_median")"
