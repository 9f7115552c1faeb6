// Builds without MPI (ARCHETYPE_MPI=OFF or MPI not found): the binary is a
// single process; started by mpirun with several processes it says so
// rather than letting N copies each do the whole job.
#include <cstdlib>

#include "dist/mpi_world.hpp"

namespace archetype {

bool mpi_built() { return false; }

std::unique_ptr<Communicator> join_mpi_job(int&, char**&) {
  const LaunchEnv env = read_launch_env([](const char* name) { return std::getenv(name); });
  if (!env.unusable.empty()) throw InputError(env.unusable);
  if (env.launched && env.size != 1)
    throw InputError("started by an MPI launcher" +
                     (env.size > 1 ? " with " + std::to_string(env.size) + " processes" : std::string()) +
                     ", but this archetype was built without MPI (configure with -DARCHETYPE_MPI=ON and "
                     "libopenmpi-dev installed)");
  return nullptr;
}

}  // namespace archetype
