// The CUDA emulator's own checks (ARCHETYPE_CUDA=EMU builds): the device
// semantics the kernels rely on, and the faults it must report, so that a
// passing gpu test under emulation means something.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

namespace {

void warp_ops_kernel(const int* in, int* out) {
  const int t = static_cast<int>(threadIdx.x), lane = t % 32;
  const int v = in[t];
  out[6 * t + 0] = __shfl_sync(0xffffffffu, v, 3);
  out[6 * t + 1] = __shfl_xor_sync(0xffffffffu, v, 1);
  out[6 * t + 2] = __reduce_add_sync(0xffffffffu, v);
  out[6 * t + 3] = static_cast<int>(__match_any_sync(0xffffffffu, v % 3));
  // A sub-group's own mask: lanes of the same residue reduce together.
  const unsigned peers = __match_any_sync(0xffffffffu, v % 3);
  out[6 * t + 4] = __reduce_add_sync(peers, v);
  out[6 * t + 5] = lane;
}

TEST(CudaEmulator, WarpCollectivesFollowTheirDefinitions) {
  constexpr int n = 64;
  std::vector<int> in(n), out(6 * n);
  for (int i = 0; i < n; ++i) in[i] = (i * 7 + 3) % 11;
  int *din = nullptr, *dout = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&din), n * sizeof(int)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&dout), 6 * n * sizeof(int)), cudaSuccess);
  cudaMemcpy(din, in.data(), n * sizeof(int), cudaMemcpyHostToDevice);
  cuda_emu::launch(warp_ops_kernel, "warp_ops_kernel", 0, 1, n)(din, dout);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  cudaMemcpy(out.data(), dout, 6 * n * sizeof(int), cudaMemcpyDeviceToHost);
  for (int t = 0; t < n; ++t) {
    const int w0 = t / 32 * 32;
    int sum = 0, group = 0;
    unsigned match = 0;
    for (int j = 0; j < 32; ++j) {
      sum += in[w0 + j];
      if (in[w0 + j] % 3 == in[t] % 3) {
        match |= 1u << j;
        group += in[w0 + j];
      }
    }
    EXPECT_EQ(out[6 * t + 0], in[w0 + 3]);
    EXPECT_EQ(out[6 * t + 1], in[w0 + ((t % 32) ^ 1)]);
    EXPECT_EQ(out[6 * t + 2], sum);
    EXPECT_EQ(static_cast<unsigned>(out[6 * t + 3]), match);
    EXPECT_EQ(out[6 * t + 4], group);
    EXPECT_EQ(out[6 * t + 5], t % 32);
  }
  cudaFree(din);
  cudaFree(dout);
}

// Thread t writes slot t, then reads slot (t + 1) % n after the barrier:
// right only if the barrier holds every thread back.
void barrier_kernel(int* out) {
  __shared__ int slots[128];
  const int t = static_cast<int>(threadIdx.x), n = static_cast<int>(blockDim.x);
  slots[t] = t * 10 + static_cast<int>(blockIdx.x);
  __syncthreads();
  out[blockIdx.x * n + t] = slots[(t + 1) % n];
}

TEST(CudaEmulator, BarriersOrderSharedMemoryAcrossThreadsAndBlocks) {
  int* d = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d), 3 * 128 * sizeof(int)), cudaSuccess);
  cuda_emu::launch(barrier_kernel, "barrier_kernel", 0, 3, 128)(d);
  std::vector<int> out(3 * 128);
  cudaMemcpy(out.data(), d, out.size() * sizeof(int), cudaMemcpyDeviceToHost);
  for (int b = 0; b < 3; ++b)
    for (int t = 0; t < 128; ++t) EXPECT_EQ(out[b * 128 + t], ((t + 1) % 128) * 10 + b);
  cudaFree(d);
}

void dynamic_shared_kernel(float* out) {
  float* const s = reinterpret_cast<float*>(::cuda_emu::dynamic_shared());
  out[threadIdx.x] = s[threadIdx.x];  // never written: the uninitialised pattern
}

TEST(CudaEmulator, DynamicSharedMemoryStartsAsNaNAndRespectsTheLimits) {
  float* d = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d), 32 * sizeof(float)), cudaSuccess);
  cuda_emu::launch(dynamic_shared_kernel, "dynamic_shared_kernel", 0, 1, 32, 32 * sizeof(float))(d);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  float out[32];
  cudaMemcpy(out, d, sizeof out, cudaMemcpyDeviceToHost);
  for (float v : out) EXPECT_TRUE(std::isnan(v));
  // Above 48 KiB without the opt-in: refused, as on a device.
  cuda_emu::launch(dynamic_shared_kernel, "dynamic_shared_kernel", 0, 1, 32, 48 * 1024 + 16)(d);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 228 * 1024),
            cudaErrorInvalidValue);
  cudaGetLastError();
  ASSERT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024),
            cudaSuccess);
  cuda_emu::launch(dynamic_shared_kernel, "dynamic_shared_kernel", 0, 1, 32, 48 * 1024 + 16)(d);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  // More threads than the kernel's __launch_bounds__ (the rewriter passes it).
  cuda_emu::launch(dynamic_shared_kernel, "dynamic_shared_kernel", 128, 1, 256)(d);
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchOutOfResources);
  // Too many threads, an empty grid.
  cuda_emu::launch(dynamic_shared_kernel, "dynamic_shared_kernel", 0, 1, 1025)(d);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  cuda_emu::launch(dynamic_shared_kernel, "dynamic_shared_kernel", 0, 0, 32)(d);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  cudaFree(d);
}

void divergent_barrier_kernel(int* out) {
  if (threadIdx.x < 16) __syncthreads();  // undefined on a device: a hang or worse
  out[threadIdx.x] = 1;
}

void divergent_warp_kernel(int* out) {
  int v = static_cast<int>(threadIdx.x);
  if (threadIdx.x % 2 == 0) v = __shfl_sync(0xffffffffu, v, 0);  // odd lanes never come
  out[threadIdx.x] = v;
}

TEST(CudaEmulatorDeathTest, BarriersAndCollectivesNotEveryThreadReachesAreReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int* d = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d), 64 * sizeof(int)), cudaSuccess);
  EXPECT_DEATH(cuda_emu::launch(divergent_barrier_kernel, "divergent_barrier_kernel", 0, 1, 64)(d),
               "divergent_barrier_kernel: deadlock");
  EXPECT_DEATH(cuda_emu::launch(divergent_warp_kernel, "divergent_warp_kernel", 0, 1, 32)(d),
               "divergent_warp_kernel: deadlock");
  cudaFree(d);
}

TEST(CudaEmulatorDeathTest, CopiesOutsideAnAllocationAreReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int* d = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d), 16 * sizeof(int)), cudaSuccess);
  std::vector<int> host(17, 0);
  EXPECT_DEATH(cudaMemcpy(d, host.data(), 17 * sizeof(int), cudaMemcpyHostToDevice),
               "not inside one cudaMalloc allocation");
  EXPECT_DEATH(cudaMemsetAsync(d + 1, 0, 16 * sizeof(int)), "not inside one cudaMalloc allocation");
  EXPECT_EQ(cudaMemcpy(d, host.data(), 16 * sizeof(int), cudaMemcpyHostToDevice), cudaSuccess);
  cudaFree(d);
}

TEST(CudaEmulator, DeviceMemoryIsBoundedAndAccounted) {
  std::size_t free0 = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free0, &total), cudaSuccess);
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 1 << 20), cudaSuccess);
  std::size_t free1 = 0;
  cudaMemGetInfo(&free1, &total);
  EXPECT_EQ(free0 - free1, std::size_t{1} << 20);
  void* q = nullptr;
  EXPECT_EQ(cudaMalloc(&q, total), cudaErrorMemoryAllocation);
  EXPECT_EQ(q, nullptr);
  EXPECT_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // read once, then cleared
  cudaFree(p);
}

}  // namespace
