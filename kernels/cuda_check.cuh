// CUDA_CHECK: every CUDA call and every kernel launch goes through it; a
// failure throws CudaError, a DeviceError (archetype/error.hpp: --backend
// auto reruns on the CPU), with file:line and the CUDA error's name.
// ARCHETYPE_FAULT (src/fault_injection.hpp) can make a launch check fail.
// Private to kernels/.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "archetype/error.hpp"
#include "engine/fault_injection.hpp"

namespace archetype::cuda {

class CudaError : public DeviceError {
 public:
  CudaError(cudaError_t code, const char* expr, const char* file, int line)
      : DeviceError(std::string(file) + ":" + std::to_string(line) + ": " + cudaGetErrorName(code) + " (" +
                    cudaGetErrorString(code) + ") in " + expr),
        code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

inline void check(cudaError_t code, const char* expr, const char* file, int line) {
  if (code == cudaSuccess) return;
  // A failed call also leaves its code as the runtime's last error: cleared,
  // so that the next launch check does not report it again as the launch's
  // (sticky errors stay: the context is lost either way).
  cudaGetLastError();
  throw CudaError(code, expr, file, line);
}

/// After a launch: the launch's own error, else an injected one.
inline void check_launch(cudaError_t code, const char* file, int line) {
  if (code == cudaSuccess && fault_fires(FaultKind::Launch))
    check(cudaErrorLaunchFailure, "kernel launch (injected by ARCHETYPE_FAULT)", file, line);
  if (code == cudaSuccess && fault_fires(FaultKind::Lost))
    check(cudaErrorDevicesUnavailable, "kernel launch (injected by ARCHETYPE_FAULT)", file, line);
  check(code, "kernel launch", file, line);
}

}  // namespace archetype::cuda

#define CUDA_CHECK(expr) ::archetype::cuda::check((expr), #expr, __FILE__, __LINE__)
/// After a <<<...>>> launch: launch-configuration errors surface here.
#define CUDA_CHECK_LAUNCH() ::archetype::cuda::check_launch(cudaGetLastError(), __FILE__, __LINE__)
