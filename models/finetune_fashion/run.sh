#!/usr/bin/env bash
# The fine-tuning example from start to end (see README.md): splits Fashion-MNIST by class,
# pretrains LeNet on classes 0-4, fine-tunes it on 100 images per class of classes 5-9, trains the
# same net on the same images from scratch, scores all three with `moka test` and prints the
# comparison. Runs from any directory; moka runs from the repository root, where the prototxt
# paths point. The moka binary is $MOKA_BIN (default build/moka); logs go to $LOG_DIR (default
# models/finetune_fashion/logs).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
moka="${MOKA_BIN:-build/moka}"
dir=models/finetune_fashion
split=data/fashion_mnist_split
logs="${LOG_DIR:-$dir/logs}"
python=/usr/bin/python3
# One BLAS thread unless the caller says otherwise: LeNet is too small to gain from more.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

if [ ! -x "$moka" ]; then
  echo "run.sh: no moka binary at $moka (build it, or set MOKA_BIN)" >&2
  exit 1
fi
mkdir -p "$logs"
start=$(date +%s)

# 1. Data: the full LMDBs (kept if they exist), then the class subsets, relabelled to 0-4.
MOKA_BIN="$moka" data/fashion_mnist.sh
full=data/fashion_mnist
$python data/fashion_mnist_split.py $full/fashion_mnist_train_lmdb $split/classes0-4_train_lmdb \
  --first=0 --last=4
$python data/fashion_mnist_split.py $full/fashion_mnist_test_lmdb $split/classes0-4_test_lmdb \
  --first=0 --last=4
$python data/fashion_mnist_split.py $full/fashion_mnist_train_lmdb $split/classes5-9_train_lmdb \
  --first=5 --last=9 --per-class=100
$python data/fashion_mnist_split.py $full/fashion_mnist_test_lmdb $split/classes5-9_test_lmdb \
  --first=5 --last=9

# Runs moka with its log in $logs/NAME.log; prints the log's tail if moka fails.
run_moka() {
  local name="$1"
  shift
  echo "run.sh: $moka $*  (log: $logs/$name.log)"
  if ! "$moka" "$@" >"$logs/$name.log" 2>&1; then
    tail -n 20 "$logs/$name.log" >&2
    echo "run.sh: moka $1 failed; see $logs/$name.log" >&2
    exit 1
  fi
}

# The mean accuracy that `moka test` logs last ("accuracy = X").
accuracy() {
  grep -E '\] accuracy = ' "$logs/$1.log" | tail -n 1 | sed -e 's/.*accuracy = //'
}

# 2. Pretrain on classes 0-4 (1,000 iterations).
run_moka pretrain train --solver=$dir/pretrain_solver.prototxt
# 3. Fine-tune on classes 5-9: conv1/conv2/ip1 copied by name, ip2_ft new (40 iterations).
run_moka finetune train --solver=$dir/finetune_solver.prototxt \
  --weights=$dir/pretrain_iter_1000.caffemodel
# 4. The same net from scratch on the same images, same solver settings (40 iterations).
run_moka scratch train --solver=$dir/scratch_solver.prototxt

# 5. Score each on its classes' test images: 50 batches of 100 = all 5,000.
run_moka pretrain_test test --model=$dir/pretrain_train_test.prototxt \
  --weights=$dir/pretrain_iter_1000.caffemodel --iterations=50
run_moka finetune_test test --model=$dir/finetune_train_test.prototxt \
  --weights=$dir/finetune_iter_40.caffemodel --iterations=50
run_moka scratch_test test --model=$dir/scratch_train_test.prototxt \
  --weights=$dir/scratch_iter_40.caffemodel --iterations=50

end=$(date +%s)
echo
echo "Pretrained LeNet, classes 0-4 test accuracy: $(accuracy pretrain_test)"
echo
echo "Classes 5-9 (100 training images per class, 40 iterations), test accuracy on 5,000 images:"
printf '  %-38s %s\n' "run" "accuracy"
printf '  %-38s %s\n' "fine-tuned from the classes 0-4 model" "$(accuracy finetune_test)"
printf '  %-38s %s\n' "from scratch" "$(accuracy scratch_test)"
echo
echo "run.sh: done in $((end - start)) s"
