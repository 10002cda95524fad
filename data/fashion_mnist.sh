#!/usr/bin/env bash
# Fashion-MNIST as LMDB databases of Datum records (as Caffe's examples/mnist expects them):
#   data/fashion_mnist/fashion_mnist_train_lmdb  (60000 images)
#   data/fashion_mnist/fashion_mnist_test_lmdb   (10000 images)
# The IDX files come from Debian's dataset-fashion-mnist package, installed when missing.
# Databases that already exist are kept. The moka binary is $MOKA_BIN (default build/moka).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
moka_bin="${MOKA_BIN:-$repo/build/moka}"
out_dir="$repo/data/fashion_mnist"
package=dataset-fashion-mnist

if dpkg -s "$package" >/dev/null 2>&1; then
  echo "fashion_mnist: $package is installed"
else
  echo "fashion_mnist: installing $package"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "$package"
fi

# The package's own file list says where the IDX files are, wherever a release puts them.
find_idx() {
  local name="$1" path
  path="$(dpkg -L "$package" | grep -E "/${name}(\.gz)?\$" | head -n 1 || true)"
  if [ -z "$path" ] || [ ! -f "$path" ]; then
    echo "fashion_mnist: $package has no file named $name(.gz)" >&2
    exit 1
  fi
  echo "$path"
}

if [ ! -x "$moka_bin" ]; then
  echo "fashion_mnist: no moka binary at $moka_bin (build it, or set MOKA_BIN)" >&2
  exit 1
fi

mkdir -p "$out_dir"
for split in train test; do
  case "$split" in
    train) prefix=train ;;
    test) prefix=t10k ;;
  esac
  db="$out_dir/fashion_mnist_${split}_lmdb"
  if [ -e "$db" ]; then
    echo "fashion_mnist: $db exists, skipping"
    continue
  fi
  images="$(find_idx "${prefix}-images-idx3-ubyte")"
  labels="$(find_idx "${prefix}-labels-idx1-ubyte")"
  echo "fashion_mnist: $images + $labels -> $db"
  "$moka_bin" convert_mnist "$images" "$labels" "$db" --backend=lmdb
  if [ ! -f "$db/data.mdb" ]; then
    echo "fashion_mnist: $moka_bin convert_mnist did not create $db" >&2
    exit 1
  fi
done
echo "fashion_mnist: done"
