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
  std::string uuid;         ///< the GPU's UUID (32 hex digits), unique across hosts: processes with
                            ///< the same one share the GPU; empty if the driver did not say
  std::string pci_bus_id;   ///< where it sits on its host ("0000:3b:00.0"), for messages
  std::size_t free_bytes = 0, total_bytes = 0;
};

/// True when this binary was built with the CUDA backend.
bool cuda_built();

/// Checks driver, device count and memory of `device`, without throwing.
CudaStatus cuda_probe(int device);

/// CUDA devices visible to this process; 0 without a driver or in builds
/// without CUDA (a rank of a split job picks its GPU from it).
int cuda_device_count();

/// Device memory the CUDA backend needs at least for n rows of d features,
/// up to k_max clusters and fused batches of up to max_models models (a
/// sweep: n_init x the number of k), in bytes: the streaming minimum (data
/// that do not fit the free memory are streamed from pinned host memory in
/// chunks, double buffered), bind's per-cluster scratch and exactly what
/// reserve_batch allocates, plus a margin for CUB's temporaries.  Not
/// counted: the silhouette's buffers, sized by its sample and allocated per
/// call (too little memory there is a DeviceError, which auto survives).
std::size_t cuda_bytes_needed(std::size_t n, std::size_t d, int k_max, int max_models);

/// The CUDA backend on `device`; throws InputError if it is not usable.
std::unique_ptr<Backend> make_cuda_backend(int device);

}  // namespace archetype
