// A CPU emulation of the part of the CUDA runtime and device language that
// kernels/ uses, so that the CUDA backend's own sources (kernels and host
// code) run in tests on a machine without a GPU (ARCHETYPE_CUDA=EMU, see
// docs/CUDA_EMULATION.md).  It is a test instrument, not a backend: it says
// whether the kernels compute what the CPU backend computes, and it checks
// what a device would refuse or what would hang on one:
//   - every launch's shape and dynamic shared memory against an H100's
//     limits (48 KiB unless cudaFuncSetAttribute opted in, 227 KiB at most);
//   - a __syncthreads() or warp collective that not every thread reaches
//     (divergent barriers: a hang or undefined on a GPU) is reported;
//   - dynamic shared memory starts as 0xFF bytes (NaN floats, -1 ints), so a
//     read before a write shows;
//   - cudaMemcpy / cudaMemset ranges must lie inside one cudaMalloc.
// Each block's threads run as fibers on the calling thread, in increasing
// thread order between barriers (or decreasing: CUDA_EMU_ORDER=reverse);
// blocks run one after another.  Floats follow IEEE-754 as on the device:
// the project is compiled with -ffp-contract=off and the one fused
// multiply-add is spelled __fmaf_rn (std::fma, the same correctly rounded
// function).
//
// Not emulated: concurrency between streams (every call completes before it
// returns), the timing of anything, and races between threads of a block
// that the barriers do not order (the fibers run one at a time).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

// ---------------------------------------------------------------------------
// The language's keywords
// ---------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
// A block's threads share a `static` local: blocks run one after another,
// and launches are serialised (cuda_emu.cpp).
#define __shared__ static

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(16) int4 {
  int x, y, z, w;
};

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorNoDevice = 100,
  cudaErrorHostMemoryAlreadyRegistered = 712,
  cudaErrorHostMemoryNotRegistered = 713,
  cudaErrorLaunchFailure = 719,
  cudaErrorDevicesUnavailable = 46,
  cudaErrorNotSupported = 801,
  cudaErrorUnknown = 999,
};

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};

enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
};

constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;
constexpr unsigned cudaEventDefault = 0, cudaEventDisableTiming = 2;
constexpr unsigned cudaHostRegisterDefault = 0, cudaHostRegisterReadOnly = 8;
constexpr unsigned cudaHostAllocDefault = 0;

struct CUstream_st;
struct CUevent_st;
using cudaStream_t = CUstream_st*;
using cudaEvent_t = CUevent_st*;

struct cudaUUID_t {
  char bytes[16];
};

struct cudaDeviceProp {
  char name[256];
  cudaUUID_t uuid;
  std::size_t totalGlobalMem;
  std::size_t sharedMemPerBlock;
  std::size_t sharedMemPerBlockOptin;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int major, minor;
  int multiProcessorCount;
  int pciBusID, pciDeviceID, pciDomainID;
};

// ---------------------------------------------------------------------------
// Runtime API (cuda_emu.cpp)
// ---------------------------------------------------------------------------
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaDeviceGetPCIBusId(char* bus, int len, int device);
cudaError_t cudaMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes);
cudaError_t cudaMalloc(void** p, std::size_t bytes);
cudaError_t cudaFree(void* p);
cudaError_t cudaMallocHost(void** p, std::size_t bytes);
cudaError_t cudaHostAlloc(void** p, std::size_t bytes, unsigned flags);
cudaError_t cudaFreeHost(void* p);
cudaError_t cudaHostRegister(void* p, std::size_t bytes, unsigned flags);
cudaError_t cudaHostUnregister(void* p);
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* p, int value, std::size_t bytes);
cudaError_t cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaStreamCreate(cudaStream_t* s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags = 0);
cudaError_t cudaEventCreate(cudaEvent_t* e);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorName(cudaError_t e);
const char* cudaGetErrorString(cudaError_t e);

namespace cuda_emu {

cudaError_t set_max_dynamic_shared(const void* kernel, int bytes);

/// A launch's configuration; run_grid calls body(arg) in every thread.
struct LaunchShape {
  dim3 grid, block;
  std::size_t shared_bytes;
  const void* kernel;  // for cudaFuncSetAttribute's opt-in
  const char* name;    // for messages
  int max_threads;     // __launch_bounds__ (0: none)
};
/// Runs `body` for every thread of every block (fibers); records a
/// launch-configuration error as the last error instead.
void run_grid(const LaunchShape& shape, void (*body)(void*), void* arg);

// Per-thread state of the running fiber.
const uint3& thread_idx();
const uint3& block_idx();
const dim3& block_dim();
const dim3& grid_dim();
unsigned char* dynamic_shared();
void sync_threads();

/// A warp collective: every lane of `mask` must call it with the same `op`
/// and mask; returns this lane's result.  `value` holds the lane's operand
/// bits, `arg` the source lane or lane mask.
enum class WarpOp : int { Shfl, ShflXor, ReduceAddI32, MatchAny, Sync };
unsigned long long warp_collective(WarpOp op, unsigned mask, unsigned long long value, int arg);

template <typename T>
unsigned long long to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "warp operands are at most 64-bit");
  unsigned long long b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <typename T>
T from_bits(unsigned long long b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

/// kernel<<<grid, block, shared, stream>>>(args...) is rewritten
/// (tests/emu/rewrite.py) as launch(kernel, "kernel", bound, grid, block, shared,
/// stream)(args...), bound being the kernel's __launch_bounds__ (0: none).
template <typename... P>
struct Launcher {
  void (*kernel)(P...);
  LaunchShape shape;
  template <typename... A>
  void operator()(A&&... args) const {
    std::tuple<std::decay_t<P>...> params(std::forward<A>(args)...);
    struct Call {
      void (*kernel)(P...);
      std::tuple<std::decay_t<P>...>* params;
    } call{kernel, &params};
    run_grid(shape, [](void* p) {
      auto* c = static_cast<Call*>(p);
      std::apply(c->kernel, *c->params);  // each thread gets the same copies, as on a device
    }, &call);
  }
};
template <typename... P>
Launcher<P...> launch(void (*kernel)(P...), const char* name, int max_threads, dim3 grid, dim3 block,
                      std::size_t shared = 0, cudaStream_t = nullptr) {
  return Launcher<P...>{kernel,
                        LaunchShape{grid, block, shared, reinterpret_cast<const void*>(kernel), name, max_threads}};
}

}  // namespace cuda_emu

template <typename K>
cudaError_t cudaFuncSetAttribute(K* kernel, cudaFuncAttribute attr, int value) {
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) return cudaErrorInvalidValue;
  return cuda_emu::set_max_dynamic_shared(reinterpret_cast<const void*>(kernel), value);
}

#define threadIdx (::cuda_emu::thread_idx())
#define blockIdx (::cuda_emu::block_idx())
#define blockDim (::cuda_emu::block_dim())
#define gridDim (::cuda_emu::grid_dim())

// ---------------------------------------------------------------------------
// Device functions
// ---------------------------------------------------------------------------
inline void __syncthreads() { cuda_emu::sync_threads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  cuda_emu::warp_collective(cuda_emu::WarpOp::Sync, mask, 0, 0);
}

template <typename T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
  (void)width;  // only full-warp shuffles are used
  return cuda_emu::from_bits<T>(cuda_emu::warp_collective(cuda_emu::WarpOp::Shfl, mask, cuda_emu::to_bits(v), src_lane));
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  (void)width;
  return cuda_emu::from_bits<T>(
      cuda_emu::warp_collective(cuda_emu::WarpOp::ShflXor, mask, cuda_emu::to_bits(v), lane_mask));
}
inline int __reduce_add_sync(unsigned mask, int v) {
  return cuda_emu::from_bits<int>(
      cuda_emu::warp_collective(cuda_emu::WarpOp::ReduceAddI32, mask, cuda_emu::to_bits(v), 0));
}
inline unsigned __reduce_add_sync(unsigned mask, unsigned v) {
  return static_cast<unsigned>(__reduce_add_sync(mask, static_cast<int>(v)));
}
template <typename T>
unsigned __match_any_sync(unsigned mask, T v) {
  return static_cast<unsigned>(cuda_emu::warp_collective(cuda_emu::WarpOp::MatchAny, mask, cuda_emu::to_bits(v), 0));
}

// The fibers of a launch run one at a time: a plain add is atomic.  Integers
// wrap as on the device (no signed overflow in the emulator itself).
template <typename T>
struct AtomicOperand {
  using type = T;  // the value converts to the pointer's type, as with CUDA's overloads
};
template <typename T>
T atomicAdd(T* p, typename AtomicOperand<T>::type v) {
  static_assert(std::is_arithmetic_v<T>, "atomicAdd on numbers only");
  const T old = *p;
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    *p = static_cast<T>(static_cast<U>(old) + static_cast<U>(v));
  } else {
    *p = old + v;
  }
  return old;
}

inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline int __ffsll(long long v) { return __builtin_ffsll(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz(static_cast<unsigned>(v)); }

inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __fdiv_rn(float a, float b) { return a / b; }

// cvt.rni.s32.f32 / cvt.rni.s64.f32: round to nearest even, NaN to 0,
// out-of-range values saturate (PTX ISA, "cvt").
inline int __float2int_rn(float x) {
  if (std::isnan(x)) return 0;
  if (x >= 2147483648.0f) return 2147483647;
  if (x <= -2147483648.0f) return -2147483647 - 1;
  return static_cast<int>(std::nearbyint(x));
}
inline long long __float2ll_rn(float x) {
  if (std::isnan(x)) return 0;
  if (x >= 9223372036854775808.0f) return 9223372036854775807LL;
  if (x <= -9223372036854775808.0f) return -9223372036854775807LL - 1;
  return static_cast<long long>(std::nearbyint(x));
}
inline long long __double2ll_rn(double x) {
  if (std::isnan(x)) return 0;
  if (x >= 9223372036854775808.0) return 9223372036854775807LL;
  if (x <= -9223372036854775808.0) return -9223372036854775807LL - 1;
  return static_cast<long long>(std::nearbyint(x));
}
inline int __float_as_int(float x) { return cuda_emu::from_bits<int>(cuda_emu::to_bits(x)); }
inline float __int_as_float(int x) { return cuda_emu::from_bits<float>(cuda_emu::to_bits(x)); }

// CUDA's global min/max overloads for integers (floats use fminf/fmaxf).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
