#!/usr/bin/env bash
# moka's train iteration on one GPU against PyTorch's on the same card, in the same run:
#   AlexNet (Caffe's bvlc_alexnet train_val architecture), batch 256, fp32
#   LeNet (models/lenet), batch 64, fp32
# Both sides: TF32 off (NVIDIA_TF32_OVERRIDE=0 for the libraries, and torch's own flags), the
# input a constant batch already on the device (moka: DummyData), SGD with momentum.
#
# moka: `moka train --gpu=N` on the net rewritten by dummy_net.py, run for two iteration counts;
# the difference of wall-clock times over the difference of counts cancels start-up (cuDNN's
# algorithm measurement included). PyTorch: gpu_torch.py's timed loop after a warm-up.
# Then `moka time` prints the per-layer forward/backward times and the cuDNN algorithms chosen.
#
# usage: scripts/bench/gpu.sh [--gpu N]
# Environment: MOKA_BIN (a moka binary or a wrapper such as BUNDLE/run.sh moka; default
# build-gpu/bundle/run.sh moka when that bundle exists, else build/moka), PYTHON (default
# /usr/bin/python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gpu=0
[[ "${1:-}" == "--gpu" ]] && gpu="$2"
[[ "${1:-}" == --gpu=* ]] && gpu="${1#--gpu=}"

# Nets: a bundle carries copies in nets/; in the source tree they are the zoo's.
if [[ -d "$here/nets" ]]; then
  nets="$here/nets"
  repo="$(cd "$here/.." && pwd)"
else
  repo="$(cd "$here/../.." && pwd)"
  nets="$repo/models"
fi
alexnet_src="$nets/bvlc_alexnet/train_val.prototxt"
lenet_src="$nets/lenet/lenet_train_test.prototxt"

if [[ -n "${MOKA_BIN:-}" ]]; then
  read -r -a moka <<<"$MOKA_BIN"
elif [[ -x "$repo/run.sh" ]]; then
  moka=("$repo/run.sh" moka)
elif [[ -x "$repo/build-gpu/bundle/run.sh" ]]; then
  moka=("$repo/build-gpu/bundle/run.sh" moka)
else
  moka=("$repo/build/moka")
fi
python="${PYTHON:-/usr/bin/python3}"
command -v "$python" >/dev/null || python=python3

export NVIDIA_TF32_OVERRIDE=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

solver_for() {  # net max_iter -> solver path
  local net="$1" iterations="$2" out="$work/solver_$(basename "$1" .prototxt)_$2.prototxt"
  cat >"$out" <<EOF
net: "$net"
base_lr: 0.001
momentum: 0.9
weight_decay: 0.0005
lr_policy: "fixed"
max_iter: $iterations
display: 0
snapshot: 0
snapshot_after_train: false
snapshot_prefix: "$work/snapshot"
solver_mode: GPU
random_seed: 1
EOF
  echo "$out"
}

train_seconds() {  # solver -> seconds
  local start end
  start="$(date +%s.%N)"
  if ! GLOG_minloglevel=1 "${moka[@]}" train --solver="$1" --gpu="$gpu" >"$work/train.log" 2>&1; then
    cat "$work/train.log" >&2
    return 1
  fi
  end="$(date +%s.%N)"
  echo "$start $end" | awk '{ printf "%.6f", $2 - $1 }'
}

declare -A moka_ms torch_ms
measure() {  # name source batch shape short long
  local name="$1" source="$2" batch="$3" shape="$4" short="$5" long="$6"
  local net="$work/$name.prototxt"
  "$python" "$here/dummy_net.py" "$source" "$net" --batch "$batch" --shape "$shape"
  local t_short t_long
  echo "== $name, batch $batch: moka train --gpu=$gpu for $short and $long iterations"
  t_short="$(train_seconds "$(solver_for "$net" "$short")")" || { moka_ms[$name]="failed"; return; }
  t_long="$(train_seconds "$(solver_for "$net" "$long")")" || { moka_ms[$name]="failed"; return; }
  moka_ms[$name]="$(echo "$t_short $t_long" |
    awk -v n="$((long - short))" '{ printf "%.3f", 1000 * ($2 - $1) / n }')"
  echo "moka: ${moka_ms[$name]} ms/iter"
  echo "== $name, batch $batch: PyTorch"
  local line
  line="$("$python" "$here/gpu_torch.py" --net "$name" --batch "$batch" --iterations "$((long - short))" 2>&1 || true)"
  echo "$line"
  torch_ms[$name]="$(echo "$line" | awk '/torch_ms_per_iter/ { print $2 }')"
  [[ -n "${torch_ms[$name]}" ]] || torch_ms[$name]="n/a"
  echo "== $name: moka time --gpu=$gpu (per-layer times, engines)"
  GLOG_minloglevel=0 "${moka[@]}" time --model="$net" --gpu="$gpu" --iterations=10 2>&1 |
    grep -E "forward:|backward:|engine|cuDNN|Average" | tail -n 60 || true
}

measure alexnet "$alexnet_src" 256 3,227,227 5 25
measure lenet "$lenet_src" 64 1,28,28 50 550

echo
echo "== gpu.sh summary ($("${moka[@]}" device_query --gpu="$gpu" 2>&1 | awk -F': ' '/[Nn]ame/ { print $2; exit }'))"
printf '%-8s %6s %14s %14s %14s %14s %12s\n' net batch "moka ms/iter" "torch ms/iter" \
  "moka img/s" "torch img/s" "moka speed"
for row in "alexnet 256" "lenet 64"; do
  read -r name batch <<<"$row"
  awk -v n="$name" -v b="$batch" -v m="${moka_ms[$name]}" -v t="${torch_ms[$name]}" 'BEGIN {
    mi = (m + 0 > 0) ? sprintf("%.0f", 1000 * b / m) : "-"
    ti = (t + 0 > 0) ? sprintf("%.0f", 1000 * b / t) : "-"
    r = (m + 0 > 0 && t + 0 > 0) ? sprintf("%.2fx", t / m) : "-"
    printf "%-8s %6d %14s %14s %14s %14s %12s\n", n, b, m, t, mi, ti, r
  }'
done
echo "(moka speed = PyTorch's time / moka's time: above 1.00x, moka is faster)"
