// Joining the job an MPI launcher started: the MPI communicator lives in a
// module (libarchetype_mpi.so, mpi_module.cpp) opened here only then, so a
// single process never loads libmpi (no start-up cost, no dependency on
// OpenMPI being installed).
#include "dist/mpi_world.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace archetype {
namespace {

namespace fs = std::filesystem;

constexpr const char* kModule = "libarchetype_mpi.so";

/// Where the module may be: $ARCHETYPE_MPI_MODULE; beside the binary (the
/// build tree); <binary>/../<libdir>/archetype (cmake --install).
std::vector<std::string> module_candidates() {
  std::vector<std::string> out;
  if (const char* v = std::getenv("ARCHETYPE_MPI_MODULE"); v && *v) out.emplace_back(v);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / kModule).string());
    out.push_back((exe.parent_path().parent_path() / ARCHETYPE_MPI_MODULE_RELDIR / kModule).string());
  }
  return out;
}

using JoinFn = Communicator* (*)(int*, char***, char*, std::size_t);

}  // namespace

bool mpi_built() { return ARCHETYPE_MPI_MODULE_BUILT != 0; }

std::unique_ptr<Communicator> join_mpi_job(int& argc, char**& argv) {
  const LaunchEnv env = read_launch_env([](const char* name) { return std::getenv(name); });
  if (!env.unusable.empty()) throw InputError(env.unusable);
  if (!env.launched || env.size == 1) return nullptr;  // alone, or mpirun -np 1: no MPI at all
  const std::string processes = env.size > 1 ? " with " + std::to_string(env.size) + " processes" : std::string();
  if (!mpi_built())
    throw InputError("started by an MPI launcher" + processes +
                     ", but this archetype was built without MPI (configure with -DARCHETYPE_MPI=ON and "
                     "libopenmpi-dev installed)");
  void* module = nullptr;
  std::string why;
  for (const std::string& path : module_candidates()) {
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;
    // Kept open for the life of the process: the communicator's code is in it.
    module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (module) break;
    why = ::dlerror();
  }
  if (!module)
    throw InputError("started by an MPI launcher" + processes + ", but " + kModule +
                     (why.empty() ? std::string(" was not found beside the binary (ARCHETYPE_MPI_MODULE names it)")
                                  : " cannot be loaded: " + why));
  const auto join = reinterpret_cast<JoinFn>(::dlsym(module, "archetype_mpi_join"));
  if (!join) throw InputError(std::string(kModule) + " has no archetype_mpi_join");
  char error[512];
  std::unique_ptr<Communicator> world(join(&argc, &argv, error, sizeof error));
  if (!world && error[0] != '\0') throw InputError(std::string("MPI: ") + error);
  return world;
}

}  // namespace archetype
