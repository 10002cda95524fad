#!/usr/bin/env bash
# From a fresh Debian 12 machine to a trained LeNet: install, build, prepare Fashion-MNIST, train
# models/lenet with Caffe's stock solver and print the final test accuracy.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
scripts/build.sh
data/fashion_mnist.sh
log="models/lenet/train.log"
echo "quickstart: training LeNet (10000 iterations); log in $log"
GLOG_logtostderr=1 build/moka train --solver=models/lenet/lenet_solver.prototxt 2>&1 | tee "$log"
accuracy=$(grep -E "Test net output #[0-9]+: accuracy = " "$log" | tail -n 1 | sed -E 's/.*accuracy = ([0-9.eE+-]+).*/\1/')
echo "quickstart: final test accuracy = ${accuracy}"
