// Picks the backend for --backend auto|cpu|cuda.
#pragma once

#include <memory>
#include <string>

#include "archetype/backend.hpp"
#include "pipeline.hpp"

namespace archetype {

/// "cpu": the CPU backend.  "cuda": the CUDA backend, or InputError saying
/// why it is unusable.  "auto": CUDA when this build has it and a device is
/// usable, else the CPU (with a one-line notice when CUDA was built in).
std::unique_ptr<Backend> select_backend(const std::string& name, int threads, const NoticeFn& notice);

}  // namespace archetype
