// CPU emulation of cub::BlockScan (tests/emu/include/cuda_runtime.h): the
// sums that CUB's scan returns, computed in thread order through the block's
// temporary storage, with the barriers a real scan has.
#pragma once

#include <cuda_runtime.h>

namespace cub {

template <typename T, int BLOCK_DIM_X>
class BlockScan {
 public:
  struct TempStorage {
    T v[BLOCK_DIM_X];
  };
  explicit BlockScan(TempStorage& storage) : s_(storage) {}

  void ExclusiveSum(T input, T& output) {
    T total;
    ExclusiveSum(input, output, total);
  }
  void ExclusiveSum(T input, T& output, T& aggregate) {
    const int t = linear_thread();
    s_.v[t] = input;
    __syncthreads();
    T before{}, all{};
    for (int i = 0; i < BLOCK_DIM_X; ++i) {
      if (i == t) before = all;
      all = all + s_.v[i];
    }
    output = before;
    aggregate = all;
    __syncthreads();  // the storage may be reused after the scan
  }
  void InclusiveSum(T input, T& output) {
    T before;
    ExclusiveSum(input, before);
    output = before + input;
  }

 private:
  static int linear_thread() {
    const uint3& t = threadIdx;
    const dim3& b = blockDim;
    if (static_cast<int>(b.x * b.y * b.z) != BLOCK_DIM_X) __builtin_trap();  // CUB requires the block's size
    return static_cast<int>(t.x + b.x * (t.y + b.y * t.z));
  }
  TempStorage& s_;
};

}  // namespace cub
