#!/usr/bin/env bash
# The MPI + NCCL path on emulated GPUs (docs/CUDA_EMULATION.md): a build of
# the CLI with the CUDA backend on the CPU emulation of CUDA and MPI, and
# tests/emu/fake_nccl.cpp as libnccl.so.2; then tests/emu/nccl_parity.py
# (mpirun -np 2 on two emulated GPUs: one process's bytes with the sums over
# "nccl", "mpi" when NCCL is off or the GPU shared, and the NCCL faults).
# Called by .ci/run.  -O1 and one copy of the CPU kernels: this build only
# runs small fits, and compiles in about half the time of a Release build.
#
#   bash scripts/test_emulated_nccl.sh [BUILD_DIR]      (default: build-emu-mpi)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build-emu-mpi}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG -DARCHETYPE_NO_CLONES" \
  -DARCHETYPE_CUDA=EMU -DARCHETYPE_MPI=ON -DARCHETYPE_BUILD_TESTS=OFF -DARCHETYPE_BUILD_BENCH=OFF -DARCHETYPE_PYTHON=OFF
if ! grep -q '^ARCHETYPE_NCCL_INCLUDE:PATH=/' "$BUILD_DIR/CMakeCache.txt"; then
  echo "emulated NCCL: skipped, no nccl.h (the CUDA toolkit's NCCL headers) on this machine"
  exit 0
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target archetype archetype_fake_nccl
MPIEXEC="$(command -v mpirun)"
/usr/bin/python3 tests/emu/nccl_parity.py "$BUILD_DIR/archetype" "$MPIEXEC" "$BUILD_DIR/fake_nccl"
echo "emulated NCCL: identical to one process"
