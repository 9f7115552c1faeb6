#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (leaks included), in its own build folder so that it never mixes with the
# normal Release build.  The CUDA backend is built on the CPU emulation of
# CUDA (-DARCHETYPE_CUDA=EMU, docs/CUDA_EMULATION.md): the suite runs as on a
# machine without a GPU (CUDA_EMU_DEVICES=0), then the gpu-labelled tests
# run the kernels on the emulated device, every access bounds-checked.
#
#   bash scripts/sanitize.sh [BUILD_DIR]      (default: build-asan)
#
# Every test runs; a sanitizer report makes its test fail.  Called by .ci/run
# after the normal tests (scripts/install_deps.sh has run by then).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build-asan}"
JOBS="$(nproc)"

# RelWithDebInfo: optimised like the real build (the same vectorised code
# paths), with line numbers in the reports (-g1: line tables only, enough
# for the reports' file:line and a fifth faster to compile than -g).  No
# benchmarks: nothing to check.
# No MPI: OpenMPI's own allocations at MPI_Init are reported as leaks; the
# distributed code paths still run here, on the thread-group communicator
# (tests/distributed_*_test.cpp).
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  -DARCHETYPE_CUDA=EMU -DARCHETYPE_MPI=OFF \
  -DARCHETYPE_SANITIZE=ON -DARCHETYPE_BUILD_BENCH=OFF
cmake --build "$BUILD_DIR" -j"$JOBS"

# Stricter than the defaults: stack use after return and initialisation
# order; stack traces for UB reports (which abort: -fno-sanitize-recover).
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="print_stacktrace=1"
# Skipped: cpu_lanes_other (the kernels in the lane form this CPU does not
# pick, about 75 s here, kept out to hold CI under 30 minutes): only the
# form this CPU picks is sanitized (two registers on AVX2, one on AVX-512).
# Also skipped: figures_script and layers, pure Python (scripts/figures.py on
# fixtures, the include graph) that run no sanitized code; scripts/test.sh
# runs them (figures_script took 45 s of this suite).
CUDA_EMU_DEVICES=0 ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" -LE gpu \
  -E '^(cpu_lanes_other|figures_script|layers)$'
# The CUDA backend on the emulated device: the parity tests, the emulator's
# own checks and the CLI on both backends (tests/emu/cli_parity.py), about
# 3 minutes on 2 cores.  Without stack-use-after-return: ASan would make a
# fake stack for every GPU thread's fiber of every block (8.5 minutes).
ASAN_OPTIONS="${ASAN_OPTIONS/detect_stack_use_after_return=1/detect_stack_use_after_return=0}" \
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" -L gpu
echo "sanitize: all tests passed under ASan + UBSan (the CUDA backend on the CPU emulation included)"
