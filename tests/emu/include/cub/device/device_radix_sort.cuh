// CPU emulation of cub::DeviceRadixSort::SortPairs
// (tests/emu/include/cuda_runtime.h): a stable sort on the key bits
// [begin_bit, end_bit), signed keys ordered as CUB orders them.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <type_traits>
#include <vector>

namespace cub {

struct DeviceRadixSort {
  template <typename KeyT, typename ValueT, typename NumItemsT>
  static cudaError_t SortPairs(void* temp, std::size_t& temp_bytes, const KeyT* keys_in, KeyT* keys_out,
                               const ValueT* values_in, ValueT* values_out, NumItemsT num_items, int begin_bit = 0,
                               int end_bit = sizeof(KeyT) * 8, cudaStream_t stream = nullptr) {
    (void)stream;
    if (temp == nullptr) {
      temp_bytes = 256;  // CUB asks for scratch; so does the emulation, to exercise the caller's path
      return cudaSuccess;
    }
    if (temp_bytes < 256 || begin_bit < 0 || end_bit > static_cast<int>(sizeof(KeyT) * 8) || begin_bit > end_bit)
      return cudaErrorInvalidValue;
    using U = std::make_unsigned_t<KeyT>;
    const std::size_t n = static_cast<std::size_t>(num_items);
    const int width = end_bit - begin_bit;
    auto digit = [&](KeyT k) {
      U u = static_cast<U>(k);
      if (std::is_signed_v<KeyT>) u ^= static_cast<U>(U(1) << (sizeof(KeyT) * 8 - 1));
      u = static_cast<U>(u >> begin_bit);
      if (width < static_cast<int>(sizeof(U) * 8)) u &= static_cast<U>((U(1) << width) - 1);
      return u;
    };
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::stable_sort(idx.begin(), idx.end(),
                     [&](std::size_t a, std::size_t b) { return digit(keys_in[a]) < digit(keys_in[b]); });
    std::vector<KeyT> k(n);
    std::vector<ValueT> v(n);
    for (std::size_t i = 0; i < n; ++i) {
      k[i] = keys_in[idx[i]];
      v[i] = values_in[idx[i]];
    }
    std::copy(k.begin(), k.end(), keys_out);
    std::copy(v.begin(), v.end(), values_out);
    return cudaSuccess;
  }
};

}  // namespace cub
