#include "engine/backend_select.hpp"

#include "archetype/cuda.hpp"
#include "archetype/error.hpp"
#include "engine/fault_injection.hpp"
#include "engine/faulty_backend.hpp"

namespace archetype {
namespace {

std::string mib(std::size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

/// Empty when the CUDA backend can take the data, else the reason.
std::string cuda_unusable(const BackendRequest& r) {
  const CudaStatus s = cuda_probe(r.device);
  if (!s.usable) return s.reason;
  const std::size_t need = cuda_bytes_needed(r.rows, r.cols, r.k_max, r.max_models);
  if (need > s.free_bytes)
    return "the data need " + mib(need) + " of GPU memory but " + s.name + " has " + mib(s.free_bytes) + " free";
  return "";
}

}  // namespace

std::unique_ptr<Backend> select_backend(const BackendRequest& r, const NoticeFn& notice) {
  if (r.name == "cpu") return make_cpu_backend(r.threads);
  if (r.name != "auto" && r.name != "cuda")
    throw InputError("--backend must be auto, cpu or cuda, not '" + r.name + "'");
  const FaultSpec& fault = fault_spec();
  const std::string why = cuda_unusable(r);  // the stub answers without CUDA
  if (fault.kind != FaultKind::None && !why.empty()) {
    // Fault injection without a usable GPU: the CPU backend plays the GPU.
    notice(fault.text + ": no usable GPU (" + why + "), so a simulated one (the CPU backend) will fail instead");
    return make_faulty_backend(make_cpu_backend(r.threads), fault);
  }
  if (r.name == "cuda") {
    if (!why.empty()) throw InputError("--backend cuda: " + why);
    return make_cuda_backend(r.device);
  }
  if (!cuda_built()) return make_cpu_backend(r.threads);
  if (why.empty()) return make_cuda_backend(r.device);
  notice("using the CPU backend: " + why);
  return make_cpu_backend(r.threads);
}

}  // namespace archetype
