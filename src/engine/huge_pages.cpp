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
  // Only on request (ARCHETYPE_HUGE_PAGES=1): measured on two VMs, it
  // halved a 50 MB load's faults on one (load phase 44-56 -> 22-23 ms) but
  // on the other about half the runs of `fit` 520,000 x 16 spent 0.2-0.25 s
  // more in the kernel, zeroing fresh 2 MiB pages that the host had taken
  // back (wall 0.64-0.69 s without, 0.64-0.93 s with; never faster).  A
  // loss that large outweighs the gain; a fragmented machine can also
  // stall compacting memory for a huge page.
  static const bool wanted = [] {
    const char* v = std::getenv("ARCHETYPE_HUGE_PAGES");
    return v && std::string(v) == "1";
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
