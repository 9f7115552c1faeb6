#include "engine/huge_pages.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif


namespace archetype {

void advise_huge_pages(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // ARCHETYPE_HUGE_PAGES=0: no request (where the kernel's compaction of
  // fragmented memory for a huge page would cost more than the faults).
  static const bool wanted = [] {
    const char* v = std::getenv("ARCHETYPE_HUGE_PAGES");
    return !(v && std::string(v) == "0");
  }();
  if (!wanted || !p || bytes < kHugePagesMin) return;
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace archetype
