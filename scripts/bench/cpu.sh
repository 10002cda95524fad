#!/usr/bin/env bash
# moka on the CPU against PyTorch (Debian's python3-torch) on the same machine, in one run.
#
# Rows (nets from models/; the reference folder ../shared/caffe-reference when a zoo folder is
# missing):
#   lenet      train step, batch 64           (models/lenet)
#   cifar10    train step, batch 100          (CIFAR-10 quick)
#   alexnet    forward+backward, batch 16     (bvlc_alexnet)
#   googlenet  forward+backward, batch 16     (bvlc_googlenet)
#   resnet50   forward, batch 8               (ResNet-50 deploy; skipped when models/resnet50 is absent)
# Train nets have their data layer replaced by constant DummyData (dummy_net.py), so that neither
# side times an input pipeline. moka's forward+backward and forward come from `moka time`; its
# train step from `moka train` run for two iteration counts (the difference cancels start-up).
# PyTorch runs the same layers on the same shapes, built from the same prototxt
# (caffe_torch.py), on the same number of threads. GFLOP/s counts convolution and inner-product
# multiply-adds as 2 operations, forward plus weight and input gradients, as the direct method
# needs them (Winograd layers do fewer, so their rate is an effective one and may pass the
# ceiling); the ceiling is OpenBLAS sgemm on a 2048^2 product on the same threads (sgemm.c,
# compiled here), the best of its runs at the start and at the end.
# Then peak resident memory of inference (TEST phase, batch 16) for AlexNet and GoogLeNet: moka
# test and a PyTorch no-grad forward, each in its own process.
#
# Shared machines change speed from minute to minute (other tenants, clock boost), so every
# measurement is taken --rounds times, moka and PyTorch alternating, and the fastest of each kept.
#
# usage: scripts/bench/cpu.sh [--threads N] [--rows lenet,cifar10,...] [--rounds N]
# Environment: MOKA_BIN (default build/moka).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/scripts/bench"
threads="$(nproc)"
rows="lenet,cifar10,alexnet,googlenet,resnet50"
rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --rounds=*) rounds="${1#*=}"; shift ;;
    --threads) threads="$2"; shift 2 ;;
    --threads=*) threads="${1#*=}"; shift ;;
    --rows) rows="$2"; shift 2 ;;
    --rows=*) rows="${1#*=}"; shift ;;
    *) echo "cpu.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
moka_bin="${MOKA_BIN:-$repo/build/moka}"
python=/usr/bin/python3
[[ -x "$moka_bin" ]] || { echo "cpu.sh: $moka_bin not found; run scripts/build.sh" >&2; exit 1; }
"$python" -c "import torch" 2>/dev/null || { echo "cpu.sh: /usr/bin/python3 has no torch (apt install python3-torch)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

net_file() {  # zoo-relative path, reference-relative fallback
  if [[ -f "$repo/models/$1" ]]; then echo "$repo/models/$1"
  elif [[ -n "${2:-}" && -f "$repo/../shared/caffe-reference/$2" ]]; then echo "$repo/../shared/caffe-reference/$2"
  else echo ""; fi
}

echo "== sgemm ceiling (OpenBLAS, $threads threads)"
cc -O2 -o "$work/sgemm" "$here/sgemm.c" $(pkg-config --cflags --libs openblas)
ceiling=0
measure_ceiling() {  # keeps the best of `rounds` sgemm runs, and of earlier calls
  for ((round = 0; round < rounds; round++)); do
    ceiling="$("$work/sgemm" 2048 5 | awk -v best="$ceiling" '/sgemm_gflops/ { print ($2 > best ? $2 : best) }')"
  done
}
measure_ceiling
echo "sgemm: $ceiling GFLOP/s"

moka_time() {  # net -> "forward_ms forward_backward_ms"
  GLOG_minloglevel=0 GLOG_logtostderr=1 "$moka_bin" time --model="$1" --iterations="$2" >"$work/time.log" 2>&1 ||
    { cat "$work/time.log" >&2; return 1; }
  awk '/Average Forward pass:/ { f = $(NF-1) } /Average Forward-Backward:/ { fb = $(NF-1) }
       END { print f, fb }' "$work/time.log"
}

moka_step() {  # net short long -> ms per solver iteration
  local net="$1" short="$2" long="$3" t0 t1 t2
  for n in "$short" "$long"; do
    cat >"$work/solver_$n.prototxt" <<EOF
net: "$net"
base_lr: 0.001
momentum: 0.9
weight_decay: 0.0005
lr_policy: "fixed"
max_iter: $n
display: 0
snapshot: 0
snapshot_after_train: false
snapshot_prefix: "$work/snap"
solver_mode: CPU
random_seed: 1
EOF
  done
  t0="$(date +%s.%N)"
  GLOG_minloglevel=1 "$moka_bin" train --solver="$work/solver_$short.prototxt" >/dev/null 2>&1
  t1="$(date +%s.%N)"
  GLOG_minloglevel=1 "$moka_bin" train --solver="$work/solver_$long.prototxt" >/dev/null 2>&1
  t2="$(date +%s.%N)"
  echo "$t0 $t1 $t2" | awk -v n="$((long - short))" '{ printf "%.3f", 1000 * (($3 - $2) - ($2 - $1)) / n }'
}

torch_run() {  # net mode iterations -> "ms forward_gflop backward_gflop"
  "$python" "$here/caffe_torch.py" "$1" --mode "$2" --threads "$threads" --iterations "$3" |
    awk '/torch_ms_per_iter/ { t = $2 } /forward_gflop/ { f = $2 } /backward_gflop/ { b = $2 }
         END { print t, f, b }'
}

# The smaller of two "a b c" lines, field by field.
min_fields() {
  if [[ -z "$1" ]]; then echo "$2"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x); split(b, y)
    for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), (y[i] + 0 < x[i] + 0 ? y[i] : x[i]) }'
}

declare -a table
add_row() {  # name batch what moka_ms torch_ms gflop (formatted at the end, against the ceiling)
  table+=("$1|$2|$3|$4|$5|$6")
}
format_row() {
  IFS='|' read -r n b w m t g <<<"$1"
  awk -v n="$n" -v b="$b" -v w="$w" -v m="$m" -v t="$t" -v g="$g" -v c="$ceiling" 'BEGIN {
    gf = g / (m / 1000)
    printf "%-10s %5d %-13s %10.2f %10.2f %9.1f %9.1f %8.1f %6.0f%% %8.2f\n", n, b, w, m, t,
      1000 * b / m, 1000 * b / t, gf, 100 * gf / c, m / t }'
}

train_row() {  # name source shape batch moka_time_iters short long torch_iters
  local name="$1" source="$2" shape="$3" batch="$4"
  [[ -n "$source" ]] || { echo "cpu.sh: no net for $name, skipped"; return; }
  local net="$work/$name.prototxt"
  "$python" "$here/dummy_net.py" "$source" "$net" --batch "$batch" --shape "$shape"
  echo "== $name ($(basename "$(dirname "$source")")/$(basename "$source")), batch $batch"
  local moka_best="" torch_best=""
  for ((round = 0; round < rounds; round++)); do
    moka_best="$(min_fields "$moka_best" "$(moka_time "$net" "$5")")"
    torch_best="$(min_fields "$torch_best" "$(torch_run "$net" forward_backward "$8")")"
  done
  read -r m_fwd m_fb <<<"$moka_best"
  read -r t_fb fwd_gflop bwd_gflop <<<"$torch_best"
  echo "moka time fwd+bwd $m_fb ms, torch fwd+bwd $t_fb ms (fastest of $rounds)"
  add_row "$name" "$batch" "fwd+bwd" "$m_fb" "$t_fb" "$(echo "$fwd_gflop $bwd_gflop" | awk '{ print $1 + $2 }')"
  if [[ "$6" -gt 0 ]]; then
    local m_step="" t_step=""
    for ((round = 0; round < rounds; round++)); do
      m_step="$(min_fields "$m_step" "$(moka_step "$net" "$6" "$7")")"
      t_step="$(min_fields "$t_step" "$(torch_run "$net" train_step "$8" | awk '{ print $1 }')")"
    done
    echo "moka train step $m_step ms, torch train step $t_step ms (fastest of $rounds)"
    add_row "$name" "$batch" "train step" "$m_step" "$t_step" "$(echo "$fwd_gflop $bwd_gflop" | awk '{ print $1 + $2 }')"
  fi
}

forward_row() {  # name deploy batch iterations
  local name="$1" source="$2" batch="$3"
  [[ -n "$source" ]] || { echo "cpu.sh: no net for $name, skipped"; return; }
  local net="$work/$name.prototxt"
  "$python" "$here/dummy_net.py" "$source" "$net" --batch "$batch" --deploy
  echo "== $name ($(basename "$(dirname "$source")")/$(basename "$source")) forward, batch $batch"
  local moka_best="" torch_best=""
  for ((round = 0; round < rounds; round++)); do
    moka_best="$(min_fields "$moka_best" "$(moka_time "$net" "$4")")"
    torch_best="$(min_fields "$torch_best" "$(torch_run "$net" forward "$4")")"
  done
  read -r m_fwd m_fb <<<"$moka_best"
  read -r t_fwd fwd_gflop _ <<<"$torch_best"
  echo "moka forward $m_fwd ms, torch forward $t_fwd ms (fastest of $rounds)"
  add_row "$name" "$batch" "forward" "$m_fwd" "$t_fwd" "$fwd_gflop"
}

IFS=, read -r -a wanted <<<"$rows"
for row in "${wanted[@]}"; do
  case "$row" in
    lenet) train_row lenet "$(net_file lenet/lenet_train_test.prototxt)" 1,28,28 64 50 50 550 300 ;;
    cifar10) train_row cifar10 "$(net_file cifar10_quick/train_val.prototxt examples/cifar10/cifar10_quick_train_test.prototxt)" 3,32,32 100 20 20 120 50 ;;
    alexnet) train_row alexnet "$(net_file bvlc_alexnet/train_val.prototxt models/bvlc_alexnet/train_val.prototxt)" 3,227,227 16 5 0 0 5 ;;
    googlenet) train_row googlenet "$(net_file bvlc_googlenet/train_val.prototxt models/bvlc_googlenet/train_val.prototxt)" 3,224,224 16 3 0 0 3 ;;
    resnet50) forward_row resnet50 "$(net_file resnet50/deploy.prototxt)" 8 5 ;;
    *) echo "cpu.sh: unknown row $row" >&2; exit 2 ;;
  esac
done

peak_kib() {  # command... -> peak resident KiB of that process
  "$python" - "$@" <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

declare -a memory
for row in "alexnet bvlc_alexnet/deploy.prototxt models/bvlc_alexnet/deploy.prototxt" \
           "googlenet bvlc_googlenet/deploy.prototxt models/bvlc_googlenet/deploy.prototxt"; do
  read -r name zoo reference <<<"$row"
  source="$(net_file "$zoo" "$reference")"
  [[ -n "$source" ]] || continue
  net="$work/${name}_deploy16.prototxt"
  "$python" "$here/dummy_net.py" "$source" "$net" --batch 16 --deploy
  echo "== $name inference memory, batch 16"
  m_kib="$(GLOG_minloglevel=2 peak_kib "$moka_bin" test --model="$net" --iterations=2)"
  t_kib="$(peak_kib "$python" "$here/caffe_torch.py" "$net" --mode forward --threads "$threads" --iterations 2 --warmup 0)"
  memory+=("$(awk -v n="$name" -v m="$m_kib" -v t="$t_kib" 'BEGIN { printf "%-10s %12.1f %12.1f %8.2f", n, m / 1024, t / 1024, m / t }')")
done

# Measured again at the end: the machine may have been busy at the start.
measure_ceiling
echo
echo "== cpu.sh summary: $threads threads, fastest of $rounds rounds, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "sgemm ceiling: $ceiling GFLOP/s"
printf '%-10s %5s %-13s %10s %10s %9s %9s %8s %7s %8s\n' net batch measure "moka ms" "torch ms" \
  "moka im/s" "torch im/s" "GFLOP/s" ceiling moka/torch
for row in "${table[@]}"; do format_row "$row"; done
if [[ ${#memory[@]} -gt 0 ]]; then
  printf '%-10s %12s %12s %8s\n' inference "moka MiB" "torch MiB" moka/torch
  printf '%s\n' "${memory[@]}"
fi
