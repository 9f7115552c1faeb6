#!/usr/bin/env bash
# Builds the CUDA configuration for the GPU machine (Release, sm_90) and
# gathers what scripts/gpu_check.sh needs into device-carry/ (ignored by
# git): the executables and the shared libraries a bare GPU machine may lack
# (ldd tells; libc and the loader are assumed present).  Pass the folder to
# the device tool's `carry`; it must stay under 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-device}
OUT=device-carry
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DARCHETYPE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target archetype archetype_gpu_tests archetype_gpu_bench
# (with MPI in the build, the archetype target also builds libarchetype_mpi.so)
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/lib"
cp "$BUILD/archetype" "$BUILD/tests/archetype_gpu_tests" \
   "$BUILD/bench/archetype_gpu_bench" "$OUT/bin/"
strip "$OUT"/bin/* 2>/dev/null || true
for exe in "$OUT"/bin/*; do
  ldd "$exe" | awk '/=> \// {print $3}'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*) ;;  # part of every glibc system
    *) cp -L "$lib" "$OUT/lib/" ;;
  esac
done
# The MPI module (opened only under mpirun, beside the binary): for the
# 2-GPU case of gpu_check.sh on a machine that has OpenMPI (its libmpi is
# that machine's, so it is not carried).
if [ -e "$BUILD/libarchetype_mpi.so" ]; then cp "$BUILD/libarchetype_mpi.so" "$OUT/bin/"; fi
du -sh "$OUT"
