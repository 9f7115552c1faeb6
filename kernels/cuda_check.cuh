// CUDA_CHECK: every CUDA call and every kernel launch goes through it; a
// failure throws with file:line and the CUDA error's name.  Private to
// kernels/.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace archetype::cuda {

class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t code, const char* expr, const char* file, int line)
      : std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + cudaGetErrorName(code) + " (" +
                           cudaGetErrorString(code) + ") in " + expr),
        code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

inline void check(cudaError_t code, const char* expr, const char* file, int line) {
  if (code != cudaSuccess) throw CudaError(code, expr, file, line);
}

}  // namespace archetype::cuda

#define CUDA_CHECK(expr) ::archetype::cuda::check((expr), #expr, __FILE__, __LINE__)
/// After a <<<...>>> launch: launch-configuration errors surface here.
#define CUDA_CHECK_LAUNCH() ::archetype::cuda::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
