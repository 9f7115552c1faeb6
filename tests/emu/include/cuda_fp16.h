// The CUDA emulator's stand-in for cuda_fp16.h (tests/emu/include/
// cuda_runtime.h): nccl.h includes it for its half-precision types, which
// Archetype never uses.
#pragma once

#include <cuda_runtime.h>

struct __half {
  unsigned short x;
};
