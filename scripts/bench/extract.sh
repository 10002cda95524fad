#!/usr/bin/env bash
# `moka extract` throughput on LeNet (models/lenet) over the 10000 Fashion-MNIST test images,
# beside OpenCV dnn's forward throughput on the same deploy net, batch size and inputs, measured
# in the same run; prints images/s for both and their ratio (above 1: moka is faster).
#
# moka: `moka extract --blobs=prob --format=npy` on the deploy net with its Input layer replaced by
# a Data layer on data/fashion_mnist/fashion_mnist_test_lmdb (scripts/bench/extract_opencv.py
# make-net). Two rates: "overall" from the tool's first batch to its last write (LMDB reading,
# forward, .npy writing), and "forward" for the forward passes alone; net construction and weight
# loading are not timed. OpenCV: the same inputs (saved once by `moka extract --blobs=data`), fed
# batch by batch to cv2.dnn, after one untimed warm-up batch; it also reports the largest
# difference between its outputs and moka's.
#
# Weights: the caffemodel given as the first argument, else the newest
# models/lenet/lenet_iter_*.caffemodel, else a brief training run (500 iterations of
# models/lenet/lenet_solver.prototxt) into a temporary folder.
#
# usage: scripts/bench/extract.sh [WEIGHTS.caffemodel]
#   env: MOKA_BIN (default build/moka), BATCH (100), THREADS (1: OpenBLAS threads for moka, OpenCV
#        threads for cv2), ROUNDS (3; moka and OpenCV alternate, the last row is the median).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
moka_bin="${MOKA_BIN:-$repo/build/moka}"
batch="${BATCH:-100}"
threads="${THREADS:-1}"
rounds="${ROUNDS:-3}"
images=10000
helper="$repo/scripts/bench/extract_opencv.py"

if [ ! -x "$moka_bin" ]; then
  echo "extract bench: $moka_bin not found; build it first (make -C build moka_cli)" >&2
  exit 1
fi
if [ $((images % batch)) -ne 0 ]; then
  echo "extract bench: BATCH=$batch does not divide the $images test images" >&2
  exit 1
fi
test_lmdb="$repo/data/fashion_mnist/fashion_mnist_test_lmdb"
if [ ! -d "$test_lmdb" ] || [ ! -d "$repo/data/fashion_mnist/fashion_mnist_train_lmdb" ]; then
  MOKA_BIN="$moka_bin" data/fashion_mnist.sh
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"

weights="${1:-}"
if [ -z "$weights" ]; then
  weights="$(ls -t models/lenet/lenet_iter_*.caffemodel 2>/dev/null | head -n 1 || true)"
fi
if [ -z "$weights" ]; then
  echo "extract bench: no LeNet weights; training 500 iterations first"
  grep -Ev '^[[:space:]]*(max_iter|test_interval|test_initialization|snapshot|snapshot_prefix|display)[[:space:]]*:' \
    models/lenet/lenet_solver.prototxt >"$work/solver.prototxt"
  cat >>"$work/solver.prototxt" <<EOF
max_iter: 500
test_interval: 100000000
test_initialization: false
snapshot: 0
display: 100
snapshot_prefix: "$work/lenet"
EOF
  GLOG_minloglevel=1 "$moka_bin" train --solver="$work/solver.prototxt" >"$work/train.log" 2>&1 || {
    cat "$work/train.log" >&2
    exit 1
  }
  weights="$work/lenet_iter_500.caffemodel"
fi
echo "extract bench: weights $weights, batch $batch, $threads thread(s), $images images"

deploy="$repo/models/lenet/deploy.prototxt"
/usr/bin/python3 "$helper" make-net --deploy "$deploy" --source "$test_lmdb" --batch "$batch" \
  --out "$work/extract.prototxt"
iterations=$((images / batch))

# The inputs exactly as moka's Data layer produces them, for OpenCV (untimed).
GLOG_minloglevel=1 "$moka_bin" extract --model="$work/extract.prototxt" --weights="$weights" \
  --blobs=data --format=npy --output="$work/inputs" --iterations="$iterations" \
  >"$work/inputs.log" 2>&1 || { cat "$work/inputs.log" >&2; exit 1; }

moka_round() {
  rm -rf "$work/out"
  GLOG_minloglevel=1 "$moka_bin" extract --model="$work/extract.prototxt" --weights="$weights" \
    --blobs=prob --format=npy --output="$work/out" --iterations="$iterations" \
    >"$work/extract.log" 2>"$work/extract.err" || { cat "$work/extract.log" "$work/extract.err" >&2; exit 1; }
  # "Extracted N images in B batches of S: X images/s overall, Y images/s in the forward pass"
  awk '/images\/s overall/ { for (i = 1; i <= NF; i++) if ($i == "images/s") r[++n] = $(i - 1) }
       END { printf "%s %s", r[1], r[2] }' "$work/extract.log"
}

opencv_round() {
  /usr/bin/python3 "$helper" opencv --deploy "$deploy" --weights "$weights" \
    --inputs "$work/inputs/data.npy" --batch "$batch" --threads "$threads" \
    --compare "$work/out/prob.npy" >"$work/opencv.log"
  awk '/opencv_images_per_s/ { printf "%s", $2 }' "$work/opencv.log"
}

median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'; }

format='%-8s %18s %18s %18s %14s\n'
printf "$format" round "moka overall img/s" "moka forward img/s" "opencv img/s" "moka/opencv"
overall=()
forward=()
opencv=()
for round in $(seq "$rounds"); do
  read -r moka_overall moka_forward <<<"$(moka_round)"
  cv_rate="$(opencv_round)"
  overall+=("$moka_overall")
  forward+=("$moka_forward")
  opencv+=("$cv_rate")
  printf "$format" "$round" "$moka_overall" "$moka_forward" "$cv_rate" "$(ratio "$moka_overall" "$cv_rate")"
done
m_overall="$(median "${overall[@]}")"
m_forward="$(median "${forward[@]}")"
m_opencv="$(median "${opencv[@]}")"
printf "$format" median "$m_overall" "$m_forward" "$m_opencv" "$(ratio "$m_overall" "$m_opencv")"
echo "moka forward / opencv (medians): $(ratio "$m_forward" "$m_opencv")"
grep -E 'max_abs_diff|same_argmax' "$work/opencv.log" | sed 's/^/opencv vs moka outputs: /'
