// Error types shared by every module.
//
// InputError is for anything the user can fix (bad file, bad option, bad
// model, an output directory that cannot be written): the CLI maps it to
// exit code 2.  DeviceError is a GPU that failed (out of memory, a failed
// launch, a device that disappeared): `--backend auto` reruns on the CPU,
// otherwise the CLI exits 2.  Anything else that escapes is an internal
// failure (exit code 1).
#pragma once

#include <stdexcept>
#include <string>

namespace archetype {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace archetype
