// DeviceBuffer<T>: the one owner of every cudaMalloc (move-only RAII), in
// the style of cuCollections' owning objects; kernels get raw pointers
// (non-owning views).  Private to kernels/.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "cuda_check.cuh"

namespace archetype::cuda {

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) { allocate(count); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      count_ = std::exchange(o.count_, 0);
    }
    return *this;
  }

  /// Frees what is held and allocates `count` elements (uninitialised).
  void allocate(std::size_t count) {
    release();
    if (count == 0) return;
    void* p = nullptr;
    if (fault_fires(FaultKind::Alloc))  // ARCHETYPE_FAULT=alloc:N
      check(cudaErrorMemoryAllocation, "cudaMalloc (injected by ARCHETYPE_FAULT)", __FILE__, __LINE__);
    CUDA_CHECK(cudaMalloc(&p, count * sizeof(T)));
    ptr_ = static_cast<T*>(p);
    count_ = count;
  }
  /// Grows to at least `count` elements; keeps the buffer when large enough.
  void reserve(std::size_t count) {
    if (count > count_) allocate(count);
  }

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t size() const { return count_; }

  void upload(const T* host, std::size_t count, cudaStream_t stream) {
    CUDA_CHECK(cudaMemcpyAsync(ptr_, host, count * sizeof(T), cudaMemcpyHostToDevice, stream));
  }
  void download(T* host, std::size_t count, cudaStream_t stream) const {
    CUDA_CHECK(cudaMemcpyAsync(host, ptr_, count * sizeof(T), cudaMemcpyDeviceToHost, stream));
  }
  void zero(std::size_t count, cudaStream_t stream) {
    if (count) CUDA_CHECK(cudaMemsetAsync(ptr_, 0, count * sizeof(T), stream));
  }

 private:
  void release() noexcept {
    if (ptr_) cudaFree(ptr_);  // never throws from a destructor
    ptr_ = nullptr;
    count_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace archetype::cuda
