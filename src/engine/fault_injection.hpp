// ARCHETYPE_FAULT: makes the GPU fail on purpose, so that the handling of
// GPU failures (the CPU rerun of --backend auto, the error of --backend
// cuda, no partial output) can be tested, with or without a GPU.
//
//   ARCHETYPE_FAULT=alloc:N   the N-th device allocation fails (out of memory)
//   ARCHETYPE_FAULT=launch:N  the N-th kernel launch fails (launch failure)
//   ARCHETYPE_FAULT=lost:N    the N-th kernel launch finds the device gone
//
// With a usable GPU the CUDA backend fails there (kernels/ count cudaMalloc
// calls and launch checks).  Without one, --backend auto/cuda get a
// simulated GPU instead: the CPU backend behind a fault-injecting decorator
// (faulty_backend.hpp).  --backend cpu ignores the variable.
#pragma once

#include <string>

namespace archetype {

enum class FaultKind { None, Alloc, Launch, Lost };

struct FaultSpec {
  FaultKind kind = FaultKind::None;
  long long n = 0;   ///< the N-th event of that kind fails (1-based), once
  std::string text;  ///< "ARCHETYPE_FAULT=..." for messages
};

/// Parses a value of ARCHETYPE_FAULT ("" = no fault); InputError when malformed.
FaultSpec parse_fault_spec(const std::string& value);

/// ARCHETYPE_FAULT, read and parsed once.
const FaultSpec& fault_spec();

/// Counts one event of `kind` in this process; true for the N-th when
/// ARCHETYPE_FAULT names that kind (the CUDA backend's injection points).
bool fault_fires(FaultKind kind);

}  // namespace archetype
