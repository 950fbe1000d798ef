#!/bin/sh
# Builds and runs the host emulation of the CUDA kernels (see harness.cpp). Exit status 0 = all OK.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Shared memory: the dynamic `extern __shared__` array becomes one global buffer (blocks run one
# at a time), static `__shared__` arrays become function statics.
sed -e 's/extern __shared__ u64 s\[\];/u64 *s = g_dyn_shared;/' -e 's/__shared__/static/g' \
    "$here/../src/cuda/kernels.cu" > "$work/kernels_host.inc"
cp "$here/prelude.h" "$here/harness.cpp" "$work/"
g++ -std=c++20 -O2 -pthread -Wall -Wno-unused-variable "$work/harness.cpp" -o "$work/harness"
"$work/harness"
