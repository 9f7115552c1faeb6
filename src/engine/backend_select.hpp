// Picks the backend for --backend auto|cpu|cuda.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "archetype/backend.hpp"
#include "archetype/notice.hpp"

namespace archetype {

struct BackendRequest {
  std::string name = "auto";  ///< auto | cpu | cuda
  int threads = 0;            ///< CPU threads (0 = OpenMP default)
  int device = 0;             ///< CUDA device
  std::size_t rows = 0, cols = 0;  ///< data size, for the GPU memory check
  int k_max = 1;                   ///< largest k bound (per-cluster scratch)
  /// Models fused in one sweep batch (n_init x the number of k), sizing the
  /// batch scratch in the GPU memory check; a fit is n_init models.
  int max_models = 1;
};

/// "cpu": the CPU backend.  "cuda": the CUDA backend, or InputError saying
/// why it is unusable (no driver, no device, too little memory).  "auto":
/// CUDA when this build has it and the device is usable with enough free
/// memory, else the CPU with a one-line notice saying why (silent in a
/// build without CUDA).  With ARCHETYPE_FAULT set and no
/// usable GPU, "auto" and "cuda" get a simulated GPU that fails as it says
/// (fault_injection.hpp), after a notice.
std::unique_ptr<Backend> select_backend(const BackendRequest& request, const NoticeFn& notice);

}  // namespace archetype
