// Test access to the Clusterer: one with a given backend (a simulated
// failing GPU, faulty_backend.hpp), so the auto fallback can be tested
// without a GPU and without the process-wide ARCHETYPE_FAULT.
#pragma once

#include <memory>

#include "archetype/backend.hpp"
#include "archetype/clusterer.hpp"

namespace archetype {

struct ClustererAccess {
  static Clusterer with_backend(const DataView& data, const EngineOptions& options, std::unique_ptr<Backend> backend);
};

}  // namespace archetype
