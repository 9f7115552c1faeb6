// The k-means++ distance cache's one rule, shared by the CPU and CUDA
// backends: a slot (ModelBatch::slots) keeps its rows' nearest-centre
// distances under the centres folded into it so far, and is reused only
// while those centres are a prefix of the model's, bit for bit (k-means++
// adds one centre a step); anything else starts over.  So the cache is a
// hint that cannot change a result.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace archetype {

/// How many of a model's k centres (d floats each, at `centers`) a slot
/// that folded `folded` already holds: all of `folded` when it is a prefix
/// of the model's centres, else 0.
inline int folded_prefix(const std::vector<float>& folded, const float* centers, int k, std::size_t d) {
  const std::size_t kd = static_cast<std::size_t>(k) * d;
  if (d == 0 || folded.size() > kd || !std::equal(folded.begin(), folded.end(), centers)) return 0;
  return static_cast<int>(folded.size() / d);
}

}  // namespace archetype
