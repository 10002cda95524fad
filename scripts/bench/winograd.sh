#!/usr/bin/env bash
# Winograd's method against im2col + GEMM (engine: CAFFE) on single convolutions shaped like the
# zoo's, with `moka time` (forward, and backward with every gradient). Each side runs --rounds
# times, alternating, and the fastest run is kept. The engine moka picked by itself is printed
# with each row; where it is im2col, the heuristic (WinogradConvolution::Worthwhile) left the shape
# to im2col and both columns time the same method.
#
# usage: scripts/bench/winograd.sh [--threads N] [--rounds N]
# Environment: MOKA_BIN (default build/moka).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
threads="$(nproc)"
rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --threads=*) threads="${1#*=}"; shift ;;
    --rounds) rounds="$2"; shift 2 ;;
    --rounds=*) rounds="${1#*=}"; shift ;;
    *) echo "winograd.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
moka_bin="${MOKA_BIN:-$repo/build/moka}"
[[ -x "$moka_bin" ]] || { echo "winograd.sh: $moka_bin not found; run scripts/build.sh" >&2; exit 1; }
export OPENBLAS_NUM_THREADS="$threads"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# name batch channels size outputs kernel pad group
shapes=(
  "resnet_res2_3x3 8 64 56 64 3 1 1"
  "resnet_res3_3x3 8 128 28 128 3 1 1"
  "resnet_res5_3x3 8 512 7 512 3 1 1"
  "alexnet_conv2_5x5 16 96 27 256 5 2 2"
  "alexnet_conv3_3x3 16 256 13 384 3 1 1"
  "alexnet_conv5_3x3 16 384 13 256 3 1 2"
  "googlenet_3a_3x3 16 96 28 128 3 1 1"
  "googlenet_3b_5x5 16 32 28 96 5 2 1"
  "cifar10_conv2_5x5 100 32 16 32 5 2 1"
  "cifar10_conv3_5x5 100 32 8 64 5 2 1"
  "lenet_conv2_5x5 64 20 12 50 5 0 1"
)

net() {  # file batch channels size outputs kernel pad group engine
  cat >"$1" <<EOF
name: "one_convolution"
force_backward: true
layer { name: "data" type: "Input" top: "data"
  input_param { shape { dim: $2 dim: $3 dim: $4 dim: $4 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: $5 kernel_size: $6 pad: $7 group: $8 engine: $9
    weight_filler { type: "gaussian" std: 0.01 } } }
EOF
}

time_conv() {  # net -> "forward_ms backward_ms engine"
  GLOG_minloglevel=0 GLOG_logtostderr=1 "$moka_bin" time --model="$1" --iterations=4 2>&1 |
    sed -n 's/.*\] *conv\t\(forward\|backward\): \([0-9.e+-]*\) ms\. \[\(.*\)\]$/\1 \2 \3/p' |
    awk '$1 == "forward" { f = $2; $1 = $2 = ""; e = $0 } $1 == "backward" { b = $2 }
         END { gsub(/^ +| /, "", e); print f, b, e }'
}

printf '%-20s %10s %10s %10s %10s %8s %8s  %s\n' shape "gemm fwd" "gemm bwd" "wino fwd" \
  "wino bwd" "fwd x" "bwd x" "engine chosen"
for shape in "${shapes[@]}"; do
  read -r name batch channels size outputs kernel pad group <<<"$shape"
  net "$work/gemm.prototxt" "$batch" "$channels" "$size" "$outputs" "$kernel" "$pad" "$group" CAFFE
  net "$work/auto.prototxt" "$batch" "$channels" "$size" "$outputs" "$kernel" "$pad" "$group" DEFAULT
  gemm_f=1e9 gemm_b=1e9 auto_f=1e9 auto_b=1e9 chosen=""
  for ((round = 0; round < rounds; round++)); do
    read -r f b _ <<<"$(time_conv "$work/gemm.prototxt")"
    gemm_f="$(awk -v a="$gemm_f" -v b="$f" 'BEGIN { print (b < a ? b : a) }')"
    gemm_b="$(awk -v a="$gemm_b" -v b="$b" 'BEGIN { print (b < a ? b : a) }')"
    read -r f b chosen <<<"$(time_conv "$work/auto.prototxt")"
    auto_f="$(awk -v a="$auto_f" -v b="$f" 'BEGIN { print (b < a ? b : a) }')"
    auto_b="$(awk -v a="$auto_b" -v b="$b" 'BEGIN { print (b < a ? b : a) }')"
  done
  awk -v n="$name" -v gf="$gemm_f" -v gb="$gemm_b" -v af="$auto_f" -v ab="$auto_b" -v e="$chosen" \
    'BEGIN { printf "%-20s %10.2f %10.2f %10.2f %10.2f %8.2f %8.2f  %s\n", n, gf, gb, af, ab, gf / af, gb / ab, e }'
done
