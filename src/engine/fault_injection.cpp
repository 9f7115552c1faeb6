#include "engine/fault_injection.hpp"

#include <atomic>
#include <cstdlib>

#include "archetype/error.hpp"

namespace archetype {

FaultSpec parse_fault_spec(const std::string& value) {
  FaultSpec spec;
  if (value.empty()) return spec;
  spec.text = "ARCHETYPE_FAULT=" + value;
  const std::size_t colon = value.find(':');
  const std::string kind = value.substr(0, colon);
  if (kind == "alloc") spec.kind = FaultKind::Alloc;
  else if (kind == "launch") spec.kind = FaultKind::Launch;
  else if (kind == "lost") spec.kind = FaultKind::Lost;
  std::size_t used = 0;
  try {
    if (colon != std::string::npos) spec.n = std::stoll(value.substr(colon + 1), &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (spec.kind == FaultKind::None || colon == std::string::npos || used == 0 ||
      used != value.size() - colon - 1 || spec.n < 1)
    throw InputError(spec.text + ": expected alloc:N, launch:N or lost:N with N >= 1");
  return spec;
}

const FaultSpec& fault_spec() {
  static const FaultSpec spec = [] {
    const char* env = std::getenv("ARCHETYPE_FAULT");
    return parse_fault_spec(env ? env : "");
  }();
  return spec;
}

bool fault_fires(FaultKind kind) {
  static std::atomic<long long> counts[4];
  const FaultSpec& spec = fault_spec();
  if (spec.kind != kind || kind == FaultKind::None) return false;
  return counts[static_cast<int>(kind)].fetch_add(1) + 1 == spec.n;
}

}  // namespace archetype
