#!/usr/bin/env bash
# Packs a CUDA build of moka into BUILD/bundle/ for a machine that has the CUDA stack (driver,
# CUDA runtime, cuBLAS, cuDNN) but not moka's other libraries:
#   bin/moka, bin/moka_tests, lib/libmoka.so and the shared libraries they need beyond the CUDA
#   stack, protobuf, OpenBLAS and the C/C++ runtime; run.sh (sets LD_LIBRARY_PATH and runs a
#   binary), gpu_check.sh (the GPU acceptance run) and bench/ (the GPU benchmark and its nets).
# With MOKA_BUNDLE_ALL=1, protobuf and OpenBLAS (with its Fortran runtime) go into lib/extra/,
# which run.sh uses only when the machine lacks one of them.
# With MOKA_BUNDLE_DATA=1, Fashion-MNIST's IDX files too (for the GPU LeNet accuracy run).
# Usage: scripts/bundle_gpu.sh [BUILD_DIR]   (default: build-gpu, else build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-}"
if [[ -z "$build" ]]; then
  if [[ -x "$root/build-gpu/moka_tests" ]]; then build="$root/build-gpu"; else build="$root/build"; fi
fi
build="$(cd "$build" && pwd)"
for file in moka moka_tests libmoka.so; do
  [[ -e "$build/$file" ]] || { echo "bundle_gpu: $build/$file is missing; build first" >&2; exit 1; }
done
if ! ldd "$build/libmoka.so" | grep -q libcudart; then
  echo "bundle_gpu: $build/libmoka.so is not linked against CUDA (configure with -DMOKA_CUDA=ON)" >&2
  exit 1
fi

bundle="$build/bundle"
rm -rf "$bundle"
mkdir -p "$bundle/bin" "$bundle/lib"
cp "$build/moka" "$build/moka_tests" "$bundle/bin/"
cp "$build/libmoka.so" "$bundle/lib/"

# Libraries the target provides: the CUDA stack, the C/C++ runtime, and (unless MOKA_BUNDLE_ALL)
# protobuf and OpenBLAS with its Fortran runtime.
system='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|libcuda|libcudart|libcublas|libcublasLt|libcudnn.*|libnccl|libnvrtc.*|libnvJitLink|libmoka)\.so'
optional='^(libprotobuf|libopenblas|libgfortran|libquadmath)\.so'
mkdir -p "$bundle/lib/extra"
ldd "$build/moka_tests" "$build/moka" "$build/libmoka.so" | awk '/=> \// {print $1, $3}' | sort -u |
  while read -r name path; do
    if [[ "$name" =~ $system ]]; then continue; fi
    if [[ "$name" =~ $optional ]]; then
      [[ "${MOKA_BUNDLE_ALL:-0}" == 1 ]] && cp -L "$path" "$bundle/lib/extra/$name"
      continue
    fi
    cp -L "$path" "$bundle/lib/$name"
  done
rmdir "$bundle/lib/extra" 2>/dev/null || true

cat > "$bundle/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs a bundled moka binary: ./run.sh moka device_query --gpu=0, ./run.sh moka_tests ...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 1 ]] || { echo "usage: $0 moka|moka_tests [args...]" >&2; exit 2; }
path="$here/lib"
for dir in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [[ -d "$dir" ]] && path="$path:$dir"
done
# The optional libraries, only where the machine lacks one of them.
if [[ -d "$here/lib/extra" ]]; then
  for lib in "$here"/lib/extra/*; do
    if ! /sbin/ldconfig -p 2>/dev/null | grep -q " $(basename "$lib") "; then
      path="$path:$here/lib/extra"
      break
    fi
  done
fi
export LD_LIBRARY_PATH="$path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
binary="$1"
shift
exec "$here/bin/$binary" "$@"
RUN
chmod +x "$bundle/run.sh"
cp "$root/scripts/gpu_check.sh" "$bundle/gpu_check.sh"
# The GPU benchmark with the nets it measures, so that the bundle needs no source tree.
mkdir -p "$bundle/bench/nets/lenet" "$bundle/bench/nets/bvlc_alexnet"
cp "$root/scripts/bench/gpu.sh" "$root/scripts/bench/gpu_torch.py" "$root/scripts/bench/dummy_net.py" \
  "$bundle/bench/"
cp "$root/models/lenet/lenet_train_test.prototxt" "$bundle/bench/nets/lenet/"
cp "$root/models/lenet/lenet_solver.prototxt" "$bundle/bench/nets/lenet/"
alexnet="$root/models/bvlc_alexnet/train_val.prototxt"
[[ -f "$alexnet" ]] || alexnet="$root/../shared/caffe-reference/models/bvlc_alexnet/train_val.prototxt"
cp "$alexnet" "$bundle/bench/nets/bvlc_alexnet/train_val.prototxt"
chmod +x "$bundle/gpu_check.sh"
# With MOKA_BUNDLE_DATA=1, Fashion-MNIST's IDX files (Debian's dataset-fashion-mnist) go along, so
# that gpu_check.sh can train LeNet on the GPU to its test accuracy.
if [[ "${MOKA_BUNDLE_DATA:-0}" == 1 ]]; then
  idx_dir="$(dpkg -L dataset-fashion-mnist 2>/dev/null | grep -E '/train-images-idx3-ubyte(\.gz)?$' | head -n 1 || true)"
  [[ -n "$idx_dir" ]] || { echo "bundle_gpu: install dataset-fashion-mnist for MOKA_BUNDLE_DATA=1" >&2; exit 1; }
  mkdir -p "$bundle/data/fashion-mnist"
  cp "$(dirname "$idx_dir")"/*-idx?-ubyte* "$bundle/data/fashion-mnist/"
fi
echo "bundle: $bundle ($(du -sh "$bundle" | cut -f1))"
ls -1 "$bundle/lib" "$bundle/lib/extra" 2>/dev/null | sed 's/^/  /'
