// The CUDA backend's host-side entry points.  This header never includes a
// CUDA header: builds without CUDA link a stub (src/cuda_stub.cpp) whose
// probe says why no GPU can be used.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "archetype/backend.hpp"

namespace archetype {

struct CudaStatus {
  bool usable = false;
  std::string reason;       ///< why not usable (no driver, no device, ...)
  int device = 0;
  std::string name;         ///< the device's name
  std::size_t free_bytes = 0, total_bytes = 0;
};

/// True when this binary was built with the CUDA backend.
bool cuda_built();

/// Checks driver, device count and memory of `device`, without throwing.
CudaStatus cuda_probe(int device);

/// Device memory the CUDA backend needs at least for n rows of d features
/// and up to k_max clusters, in bytes.  Data that fit the free memory are
/// kept on the device; larger data are streamed from pinned host memory in
/// chunks (double buffering), so this is small and grows only slowly with n.
std::size_t cuda_bytes_needed(std::size_t n, std::size_t d, int k_max);

/// The CUDA backend on `device`; throws InputError if it is not usable.
std::unique_ptr<Backend> make_cuda_backend(int device);

}  // namespace archetype
