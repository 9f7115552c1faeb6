#include "engine/cpu_lloyd_bounds.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/cpu_clones.hpp"
namespace archetype::cpu {
namespace {


/// A lower bound on the true distance from a computed squared distance s:
/// the true squared distance is at least s / (1 + delta).
inline double lower_from(float s, double delta) {
  if (!(s < std::numeric_limits<float>::infinity())) return std::numeric_limits<double>::infinity();
  return std::sqrt(static_cast<double>(s) / (1.0 + delta)) * (1.0 - 1e-12);
}

}  // namespace

void LloydBounds::reserve(std::size_t n, std::size_t d, int max_models, int max_total_k) {
  n_ = n;
  slots_ = 0;
  const std::size_t models = static_cast<std::size_t>(std::max(max_models, 1));
  const std::size_t mean_k = static_cast<std::size_t>(std::max(max_total_k, 0)) / models;
  if (n > 0 && max_models > 0 && mean_k >= static_cast<std::size_t>(kMinMeanK) && mean_k * d >= kMinWork) {
    const std::size_t per_model = n * (sizeof(std::int32_t) + sizeof(double));
    slots_ = static_cast<int>(
        std::min<std::size_t>(static_cast<std::size_t>(max_models), std::max(kBudget, n * d * sizeof(float)) / per_model));
  }
  labels_.assign(static_cast<std::size_t>(slots_) * n, 0);
  lower_.assign(static_cast<std::size_t>(slots_) * n, 0.0);
  centres_.assign(static_cast<std::size_t>(slots_), {});
  scanned_.assign(static_cast<std::size_t>(slots_), -1);
}

void LloydBounds::clear() {
  slots_ = 0;
  labels_.clear();
  labels_.shrink_to_fit();
  lower_.clear();
  lower_.shrink_to_fit();
  centres_.clear();
  scanned_.clear();
}

void LloydBounds::plan(const ModelBatch& batch, std::size_t d, ModelBounds* out) {
  const float* centers = batch.centers;
  for (int b = 0; b < batch.models; ++b) {
    const int k = batch.ks[b];
    const std::size_t kd = static_cast<std::size_t>(k) * d;
    ModelBounds& mb = out[b];
    mb = ModelBounds{};
    const int slot = batch.slots ? batch.slots[b] : -1;
    if (slot >= 0 && slot < slots_) {
      const std::size_t sl = static_cast<std::size_t>(slot);
      mb.labels = labels_.data() + sl * n_;
      mb.lower = lower_.data() + sl * n_;
      const std::vector<float>& prev = centres_[sl];
      // A new k, or a last bounded pass that scanned most rows: rescan all.
      mb.init = prev.size() != kd || scanned_[sl] * 2 > static_cast<std::int64_t>(n_);
      scanned_[sl] = mb.init ? -1 : 0;
      mb.scanned = mb.init ? nullptr : &scanned_[sl];
      if (!mb.init) {
        double most = 0.0, next = 0.0;
        for (int c = 0; c < k; ++c) {
          double s = 0.0;
          for (std::size_t j = 0; j < d; ++j) {
            const double diff = static_cast<double>(centers[c * d + j]) - prev[c * d + j];
            s += diff * diff;
          }
          const double moved = std::sqrt(s);
          if (moved > most) {
            next = most;
            most = moved;
            mb.fastest = c;
          } else if (moved > next) {
            next = moved;
          }
        }
        mb.max_drift = most * (1.0 + 1e-12) + 1e-300;  // double rounding, to spare
        mb.next_drift = next * (1.0 + 1e-12) + 1e-300;
      }
    }
    centers += kd;
  }
}

void LloydBounds::commit(const ModelBatch& batch, std::size_t d, const ModelBounds* used) {
  const float* centers = batch.centers;
  for (int b = 0; b < batch.models; ++b) {
    const std::size_t kd = static_cast<std::size_t>(batch.ks[b]) * d;
    if (used[b].labels)
      centres_[static_cast<std::size_t>(batch.slots[b])].assign(centers, centers + kd);
    centers += kd;
  }
}

ARCHETYPE_CLONES
void bounded_nearest(const float* x, const float* xt, std::size_t d, std::size_t m, const float* centers, int k,
                     const ModelBounds& mb, std::size_t r, GroupScratch& s) {
  // Relative error of a computed squared distance: each of the d terms and
  // the running sum round once or twice (2^-24 each); twice that, to spare.
  const double delta = static_cast<double>(d + 4) * std::ldexp(1.0, -23);
  std::int32_t* __restrict lab = mb.labels + r;
  double* __restrict low = mb.lower + r;
  if (mb.init) {
    nearest2_block(xt, d, m, centers, k, s.lab, s.best, s.second);
    for (std::size_t i = 0; i < m; ++i) {
      lab[i] = s.lab[i];
      low[i] = lower_from(s.second[i], delta);
    }
    return;
  }
  float* __restrict d2 = s.best;
  float* gathered_t = s.aux.data();
  assigned_distances(xt, d, m, centers, lab, d2, gathered_t + kBlock * d);
  std::size_t count = 0;
  for (std::size_t i = 0; i < m; ++i) {
    // The bound is on the distance to every centre but the row's own, so
    // it moves by the most any of those moved (Hamerly).
    const double l = low[i] - (lab[i] == mb.fastest ? mb.next_drift : mb.max_drift);
    s.lab[i] = lab[i];
    if (l > 0.0 && static_cast<double>(d2[i]) < l * l * (1.0 - delta)) {
      low[i] = l;  // the label stands; the bound moves with the centres
    } else {
      s.idx[count++] = static_cast<std::int32_t>(i);
    }
  }
  if (count == 0) return;
  __atomic_fetch_add(mb.scanned, static_cast<std::int64_t>(count), __ATOMIC_RELAXED);
  // The other rows, gathered (transposed) and scanned in full.
  gather_transposed(x, d, s.idx, count, gathered_t);
  std::int32_t l2[kBlock];
  float b2[kBlock];
  nearest2_block(gathered_t, d, count, centers, k, l2, b2, s.second);
  for (std::size_t q = 0; q < count; ++q) {
    const std::size_t i = static_cast<std::size_t>(s.idx[q]);
    s.lab[i] = lab[i] = l2[q];
    d2[i] = b2[q];
    low[i] = lower_from(s.second[q], delta);
  }
}


}  // namespace archetype::cpu
