#!/usr/bin/env bash
# Installs moka's build and test dependencies from Debian packages. Safe to run repeatedly: it only
# calls apt-get when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  libprotobuf-dev protobuf-compiler libopenblas-dev libgoogle-glog-dev libgflags-dev
  liblmdb-dev libleveldb-dev libhdf5-dev libopencv-dev libcurl4-openssl-dev libssl-dev libgtest-dev zlib1g-dev
  python3-numpy python3-opencv python3-torch python3-lmdb python3-h5py
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
