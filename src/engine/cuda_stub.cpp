// Linked only into builds without CUDA (ARCHETYPE_CUDA=OFF or no nvcc).
#include "archetype/cuda.hpp"
#include "archetype/error.hpp"

namespace archetype {

bool cuda_built() { return false; }

CudaStatus cuda_probe(int device) {
  CudaStatus s;
  s.device = device;
  s.reason = "this build has no CUDA backend (configure with -DARCHETYPE_CUDA=ON)";
  return s;
}

int cuda_device_count() { return 0; }

std::size_t cuda_bytes_needed(std::size_t, std::size_t, int, int) { return 0; }

std::unique_ptr<Backend> make_cuda_backend(int) { throw InputError(cuda_probe(0).reason); }

}  // namespace archetype
