// One-line notices to the user (a dropped row, a CPU fallback, a warning):
// the engine and the study report them through a callback and never print.
#pragma once

#include <functional>
#include <string>

namespace archetype {

/// Receives one human-readable line; may be empty (notices dropped).
using NoticeFn = std::function<void(const std::string&)>;

}  // namespace archetype
