// Large buffers backed by transparent huge pages where the kernel offers
// them on request (Linux, /sys/kernel/mm/transparent_hugepage/enabled set
// to `madvise`, Debian's default), when ARCHETYPE_HUGE_PAGES=1 asks for it
// (off by default: on one VM it saved a 50 MB matrix 30,000 faults, 20-25
// ms of its load, on another it cost 0.2-0.25 s in half the runs;
// huge_pages.cpp).  Only where the memory comes from changes, never a
// value.  Private to src/.
#pragma once

#include <cstddef>
#include <vector>

namespace archetype {

/// Asks for huge pages over the 2 MiB-aligned part of [p, p + bytes) when
/// it is at least kHugePagesMin bytes; the request is advice (ignored
/// where unsupported or refused).
void advise_huge_pages(void* p, std::size_t bytes);

/// Buffers of at least this many bytes are worth the request.
constexpr std::size_t kHugePagesMin = std::size_t{4} << 20;

/// v.assign(count, value), the memory advised (advise_huge_pages) before
/// its first touch when count values need a new, large allocation.
template <typename T>
void assign_huge(std::vector<T>& v, std::size_t count, const T& value) {
  if (count * sizeof(T) >= kHugePagesMin && v.capacity() < count) {
    std::vector<T> fresh;
    fresh.reserve(count);
    advise_huge_pages(fresh.data(), count * sizeof(T));
    fresh.assign(count, value);
    v.swap(fresh);
    return;
  }
  v.assign(count, value);
}

}  // namespace archetype
