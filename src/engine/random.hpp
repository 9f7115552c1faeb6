// Portable random numbers.  std::mt19937_64's output sequence is fixed by
// the C++ standard (unlike std::uniform_real_distribution), and the uniform
// draw below is spelled out, so every platform draws the same numbers.  All
// draws are made on the host; backends never draw.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <unordered_set>
#include <vector>

namespace archetype {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Seed of restart r (0-based) derived from the user's base seed.
inline std::uint64_t restart_seed(std::uint64_t base, int r) {
  return base + static_cast<std::uint64_t>(r);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n) (n > 0), by 128-bit multiply (no modulo bias worth noting).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(gen_()) * n) >> 64);
  }

 private:
  std::mt19937_64 gen_;
};

/// m distinct row indices drawn uniformly from [0, n) (Floyd's algorithm:
/// O(m) memory, never O(n)), sorted ascending.
inline std::vector<std::size_t> sample_without_replacement(std::size_t n, std::size_t m, Rng& rng) {
  std::unordered_set<std::size_t> chosen;
  std::vector<std::size_t> rows;
  rows.reserve(m);
  for (std::size_t j = n - m; j < n; ++j) {
    const std::size_t t = static_cast<std::size_t>(rng.below(j + 1));
    const std::size_t pick = chosen.insert(t).second ? t : j;
    if (pick == j) chosen.insert(j);
    rows.push_back(pick);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace archetype
