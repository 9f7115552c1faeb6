// A Backend decorator that fails as ARCHETYPE_FAULT says (fault_injection.hpp),
// throwing the DeviceError the CUDA backend throws: with the CPU backend
// inside, it is the simulated GPU that lets the GPU-failure handling be
// tested on a machine without one.  Faults, like the CUDA backend's:
//   alloc:N   the N-th allocation; bind (the upload) is allocation 1,
//             reserve_batch (the fused sweep's scratch) one more, and each
//             gather_labels, dispersion and silhouette call one more
//   launch:N  the N-th pass (every call but name, device and bind)
//   lost:N    the same, reported as a device that disappeared
#pragma once

#include <memory>

#include "archetype/backend.hpp"
#include "engine/fault_injection.hpp"

namespace archetype {

std::unique_ptr<Backend> make_faulty_backend(std::unique_ptr<Backend> inner, const FaultSpec& fault);

}  // namespace archetype
