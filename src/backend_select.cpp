#include "backend_select.hpp"

#include "archetype/error.hpp"

namespace archetype {

std::unique_ptr<Backend> select_backend(const std::string& name, int threads, const NoticeFn& notice) {
  (void)notice;
  if (name == "cpu" || name == "auto") return make_cpu_backend(threads);
  if (name == "cuda")
    throw InputError("--backend cuda: this build has no CUDA backend (configure with -DARCHETYPE_CUDA=ON)");
  throw InputError("--backend must be auto, cpu or cuda, not '" + name + "'");
}

}  // namespace archetype
