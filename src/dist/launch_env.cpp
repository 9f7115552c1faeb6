#include <algorithm>
#include <cstdlib>
#include <string>

#include "dist/mpi_world.hpp"

namespace archetype {
namespace {

/// A non-negative decimal integer, or -1.
int number(const char* text) {
  if (!text || !*text) return -1;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*end != '\0' || v < 0 || v > 1 << 30) return -1;
  return static_cast<int>(v);
}

}  // namespace

LaunchEnv read_launch_env(const std::function<const char*(const char*)>& get) {
  LaunchEnv e;
  const int ompi_size = number(get("OMPI_COMM_WORLD_SIZE"));
  const int pmi_size = number(get("PMI_SIZE"));
  const bool pmix = get("PMIX_RANK") != nullptr;
  if (ompi_size >= 0) {
    e.launched = true;
    e.size = ompi_size;
    e.rank = std::max(0, number(get("OMPI_COMM_WORLD_RANK")));
    e.local_rank = std::max(0, number(get("OMPI_COMM_WORLD_LOCAL_RANK")));
  } else if (pmi_size >= 0 || pmix) {
    e.launched = true;
    e.size = pmi_size >= 0 ? pmi_size : 0;  // PMIx alone does not say: MPI will
    e.rank = std::max(0, number(get(pmix ? "PMIX_RANK" : "PMI_RANK")));
    e.local_rank = std::max(0, number(get("MPI_LOCALRANKID")));
    if (const int slurm_local = number(get("SLURM_LOCALID")); slurm_local >= 0) e.local_rank = slurm_local;
  } else if (const int tasks = number(get("SLURM_STEP_NUM_TASKS")); tasks > 1 && get("SLURM_PROCID") != nullptr) {
    e.unusable = "started by srun as " + std::to_string(tasks) +
                 " tasks without an MPI plugin (each would do the whole job): use srun --mpi=pmix, or mpirun";
  }
  return e;
}

}  // namespace archetype
