#!/usr/bin/env bash
# Installs everything Archetype needs to build, test and benchmark, from
# Debian packages only.  Runs apt-get directly as root, through sudo
# otherwise.  clang, its sanitizer/libFuzzer runtimes (libclang-rt-dev, only
# recommended by clang) and LLVM's OpenMP are for scripts/fuzz.sh; chromium
# for the headless check of the report's layout (tests: report_layout);
# OpenMPI for runs across processes (mpirun; tests labelled mpi).
# pybind11-dev, python3-dev, python3-pytest, python3-pandas and python3-venv
# build and test the Python package (docs/PYTHON.md; scripts/test_pip_install.sh).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  cmake make g++ \
  libgtest-dev libgmock-dev libbenchmark-dev \
  libcli11-dev libfast-float-dev nlohmann-json3-dev libopenblas0-pthread \
  python3 python3-numpy python3-sklearn python3-matplotlib \
  pybind11-dev python3-dev python3-pytest python3-pandas python3-venv \
  clang libclang-rt-dev libomp-dev chromium \
  libopenmpi-dev openmpi-bin >/dev/null
echo "install_deps: done"
