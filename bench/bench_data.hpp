// Seeded synthetic data for the benchmarks: a mixture of five Gaussian
// blobs in d dimensions, standardized-looking (never all zeros).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>

#include "archetype/matrix.hpp"

namespace archetype::bench {

inline Matrix blobs(std::size_t n, std::size_t d, std::uint64_t seed = 7) {
  Matrix X(n, d);
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> noise(0.0f, 0.35f);
  const float centers[5][2] = {{0.6f, 1.5f}, {1.0f, -0.8f}, {-0.9f, 0.8f}, {-0.1f, -0.8f}, {-1.5f, -0.6f}};
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = static_cast<std::size_t>(gen() % 5);
    for (std::size_t j = 0; j < d; ++j) X.at(i, j) = centers[c][j % 2] + noise(gen);
  }
  return X;
}

}  // namespace archetype::bench
