#include "dist/gpu_ranks.hpp"

#include <string>

namespace archetype {

int device_for_local_rank(int local_rank, int devices) {
  if (devices <= 0 || local_rank < 0) return 0;
  return local_rank % devices;
}

bool job_uses_nccl(Communicator& world, const std::string& backend, bool usable, const char* env_nccl) {
  if (!nccl_built() || backend == "cpu" || (env_nccl && std::string(env_nccl) == "0")) return false;
  // Every rank must take the same path: NCCL only if all devices can.
  std::int64_t unusable = usable ? 0 : 1;
  world.allreduce_sum(&unusable, 1);
  return unusable == 0;
}

}  // namespace archetype
