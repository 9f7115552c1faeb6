// Builds without NCCL (no CUDA, no MPI, or no nccl.h): the job sums its
// integers over MPI.
#include "archetype/error.hpp"
#include "dist/gpu_ranks.hpp"

namespace archetype {

bool nccl_built() { return false; }

bool nccl_loadable() { return false; }

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator>&, int) {
  throw InputError("this archetype was built without NCCL (it needs the CUDA backend, MPI and nccl.h)");
}

}  // namespace archetype
