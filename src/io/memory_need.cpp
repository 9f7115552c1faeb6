#include "io/memory_need.hpp"

#include <atomic>
#include <cstdio>

namespace archetype::memory {
namespace {

// Two buffers: a note is written into the one not being shown, then
// published, so a report on another thread never reads half a message.
char g_messages[2][160] = {"not enough memory", ""};
std::atomic<int> g_current{0};

/// 1234567 -> "1,234,567" into `out` (at least 32 bytes).
void with_commas(std::uint64_t n, char* out) {
  char digits[24];
  const int len = std::snprintf(digits, sizeof digits, "%llu", static_cast<unsigned long long>(n));
  int o = 0;
  for (int i = 0; i < len; ++i) {
    if (i > 0 && (len - i) % 3 == 0) out[o++] = ',';
    out[o++] = digits[i];
  }
  out[o] = '\0';
}

}  // namespace

void note_workload(std::size_t rows, std::size_t features, std::uint64_t bytes) {
  const int next = 1 - g_current.load(std::memory_order_acquire);
  char r[32], mb[32];
  with_commas(rows, r);
  with_commas((bytes + 999'999) / 1'000'000, mb);
  std::snprintf(g_messages[next], sizeof g_messages[next],
                "not enough memory for %s rows x %zu feature%s (needs about %s MB)", r, features,
                features == 1 ? "" : "s", mb);
  g_current.store(next, std::memory_order_release);
}

const char* out_of_memory_message() { return g_messages[g_current.load(std::memory_order_acquire)]; }

std::uint64_t study_bytes(std::size_t rows, std::size_t features, int copies, bool ids, std::uint64_t input_bytes) {
  const std::uint64_t n = rows, matrix = n * features * sizeof(float);
  std::uint64_t bytes = matrix * static_cast<std::uint64_t>(1 + (features >= 3 ? 1 : 0) + copies);
  bytes += n * (ids ? 32 : 0);  // std::string each
  bytes += n * 16;              // labels, nearest-centre distances, the final assignment
  return bytes + input_bytes;
}

}  // namespace archetype::memory
