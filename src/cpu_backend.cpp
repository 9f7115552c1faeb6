// The OpenMP CPU backend: the reference implementation of every pass.
//
// Rows are processed in blocks of kBlock.  Within a block the nearest-centre
// search runs "centre-outer, row-inner" so the compiler vectorises it over
// rows; the exact integer accumulation then runs row by row.  Because every
// sum is an integer sum of per-row rounded values, any split of rows among
// threads gives the same bits (fixed_point.hpp).
#include <omp.h>


#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/distance.hpp"
#include "cpu_silhouette.hpp"

namespace archetype {
namespace {

constexpr std::size_t kBlock = 256;         // rows per inner block
constexpr std::size_t kPrefixTile = 4096;   // rows per tile of the k-means++ prefix sums
constexpr std::size_t kMinParallelRows = 32768;  // fewer rows: passes run on one thread

// The hot loops are compiled three times (AVX-512, AVX2, baseline SSE2) and
// picked at load time.  All three perform the same IEEE operations in the
// same order (no FMA: -ffp-contract=off), so they return the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ARCHETYPE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ARCHETYPE_CLONES
#endif
#define ARCHETYPE_INLINE inline __attribute__((always_inline))

constexpr std::size_t kLanes = 16;
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));
typedef std::int32_t LaneInts __attribute__((vector_size(kLanes * sizeof(std::int32_t))));

/// Nearest centre for m rows of x: labels into lab, squared distances into
/// best.  Ties keep the lowest centre index (strict <).  For d = 2 the rows
/// are taken kLanes at a time in GCC vectors that stay in registers while
/// all k centres are tried, so each row is read once and its running best
/// never goes back to memory.
ARCHETYPE_INLINE void nearest_centres(const float* x, std::size_t d, std::size_t m, const float* centers, int k,
                                      std::int32_t* __restrict lab, float* __restrict best, float* __restrict dist) {
  std::size_t r0 = 0;
  if (d == 2) {
    for (; r0 + kLanes <= m; r0 += kLanes) {
      Lanes x0, x1;
      for (std::size_t i = 0; i < kLanes; ++i) {
        x0[i] = x[2 * (r0 + i)];
        x1[i] = x[2 * (r0 + i) + 1];
      }
      Lanes b = x0 * 0.0f + std::numeric_limits<float>::infinity();
      LaneInts l = {};
      for (int c = 0; c < k; ++c) {
        // squared_distance() spelled out: s starts at the first square
        // (0 + x == x for x >= 0).
        const Lanes u = x0 - centers[2 * c], v = x1 - centers[2 * c + 1];
        Lanes s;
        for (std::size_t i = 0; i < kLanes; ++i) s[i] = add_square(v[i], add_square(u[i], 0.0f));
        const LaneInts closer = s < b;  // all ones where strictly closer
        b = closer ? s : b;
        l = closer ? c : l;
      }
      for (std::size_t i = 0; i < kLanes; ++i) {
        best[r0 + i] = b[i];
        lab[r0 + i] = l[i];
      }
    }
  }
  // The remaining rows (and every row when d != 2), one centre at a time.
  for (std::size_t r = r0; r < m; ++r) {
    best[r] = std::numeric_limits<float>::infinity();
    lab[r] = 0;
  }
  for (int c = 0; c < k && r0 < m; ++c) {
    const float* cc = centers + static_cast<std::size_t>(c) * d;
    for (std::size_t r = r0; r < m; ++r) dist[r] = squared_distance(x + r * d, cc, d);
    for (std::size_t r = r0; r < m; ++r) {
      const float s = dist[r], b = best[r];
      const std::int32_t closer = -static_cast<std::int32_t>(s < b);
      best[r] = s < b ? s : b;
      lab[r] = (lab[r] & ~closer) | (c & closer);
    }
  }
}

/// Per-block scratch of the Lloyd pass (one per thread, sized at bind).
struct BlockScratch {
  std::int32_t lab[kBlock];
  float best[kBlock];
  float dist[kBlock];
  std::vector<std::int32_t> q;  // quantized features, feature-major (d x kBlock)
};

/// acc[c] += sign * count, acc[k + c*d + j] += sign * sum of q over the rows
/// of the block whose label in `lab` is c (rows labelled -1 add nothing).
/// One masked pass per cluster; it vectorises, and being integer its order
/// does not matter.
ARCHETYPE_INLINE void masked_sums(const std::int32_t* __restrict lab, const std::int32_t* __restrict q, std::size_t m,
                                  std::size_t d, std::size_t kk, std::int64_t sign, std::int64_t* __restrict acc) {
  // In-block sums fit an int32: m <= kBlock = 256 values with |q| < 2^23
  // (kFeatureBits), so the masked reductions run on 32-bit lanes.
  static_assert(kBlock <= 256, "int32 block sums need |sum| < 256 * 2^23 = 2^31");
  if (d == 2) {
    const std::int32_t* __restrict q0 = q;
    const std::int32_t* __restrict q1 = q + m;
    for (std::size_t c = 0; c < kk; ++c) {
      const std::int32_t cl = static_cast<std::int32_t>(c);
      std::int32_t cnt = 0, s0 = 0, s1 = 0;
      for (std::size_t r = 0; r < m; ++r) {
        const std::int32_t in = -static_cast<std::int32_t>(lab[r] == cl);  // all ones when in cluster c
        cnt -= in;
        s0 += q0[r] & in;
        s1 += q1[r] & in;
      }
      acc[c] += sign * cnt;
      acc[kk + 2 * c] += sign * s0;
      acc[kk + 2 * c + 1] += sign * s1;
    }
    return;
  }
  for (std::size_t c = 0; c < kk; ++c) {
    const std::int32_t cl = static_cast<std::int32_t>(c);
    std::int32_t cnt = 0;
    for (std::size_t r = 0; r < m; ++r) cnt += lab[r] == cl;
    acc[c] += sign * cnt;
    for (std::size_t j = 0; j < d; ++j) {
      std::int32_t sum = 0;
      const std::int32_t* qj = q + j * m;
      for (std::size_t r = 0; r < m; ++r) sum += qj[r] & -static_cast<std::int32_t>(lab[r] == cl);
      acc[kk + c * d + j] += sign * sum;
    }
  }
}

/// One block of the Lloyd pass: nearest centres, inertia, and the change of
/// the per-cluster integer sums, acc = [k counts | k x d sums], caused by
/// the rows whose label changed.  The backend keeps running sums, so a pass
/// in which few labels change costs little more than the distances; the
/// result is the same integer sum as a full recount.
ARCHETYPE_CLONES
void lloyd_block(const float* x, std::size_t d, std::size_t m, const float* centers, int k, float fscale,
                 float dscale, bool fresh, std::int32_t* __restrict labels, BlockScratch& s,
                 std::int64_t* __restrict acc, std::int64_t& inertia, std::int64_t& changed) {
  nearest_centres(x, d, m, centers, k, s.lab, s.best, s.dist);
  const std::int32_t* __restrict lab = s.lab;
  std::int64_t in = 0;
  for (std::size_t r = 0; r < m; ++r) in += quantize_distance(s.best[r], dscale);
  inertia += in;
  std::int64_t ch = 0;
  for (std::size_t r = 0; r < m; ++r) ch += labels[r] != lab[r];
  if (ch == 0) return;
  changed += ch;
  std::int32_t* __restrict q = s.q.data();
  for (std::size_t j = 0; j < d; ++j)
    for (std::size_t r = 0; r < m; ++r) q[j * m + r] = quantize_feature(x[r * d + j], fscale);
  const std::size_t kk = static_cast<std::size_t>(k);
  if (static_cast<std::size_t>(ch) * 8 > m) {
    // Many changes: recount the block under the new labels, minus under the old.
    masked_sums(lab, q, m, d, kk, 1, acc);
    if (!fresh) masked_sums(labels, q, m, d, kk, -1, acc);
    for (std::size_t r = 0; r < m; ++r) labels[r] = lab[r];
    return;
  }
  for (std::size_t r = 0; r < m; ++r) {
    const std::int32_t from = labels[r], to = lab[r];
    if (from == to) continue;
    if (from >= 0) {
      acc[static_cast<std::size_t>(from)] -= 1;
      for (std::size_t j = 0; j < d; ++j) acc[kk + static_cast<std::size_t>(from) * d + j] -= q[j * m + r];
    }
    acc[static_cast<std::size_t>(to)] += 1;
    for (std::size_t j = 0; j < d; ++j) acc[kk + static_cast<std::size_t>(to) * d + j] += q[j * m + r];
    labels[r] = to;
  }
}

/// Squared distance of every row in a block to one centre.
ARCHETYPE_INLINE void distances_to(const float* x, std::size_t d, std::size_t m, const float* center, float* out) {
  if (d == 2) {
    const float c0 = center[0], c1 = center[1];
    for (std::size_t r = 0; r < m; ++r) {
      const float d0 = x[2 * r] - c0;
      const float d1 = x[2 * r + 1] - c1;
      float s = 0.0f;
      s = add_square(d0, s);
      s = add_square(d1, s);
      out[r] = s;
    }
  } else {
    for (std::size_t r = 0; r < m; ++r) out[r] = squared_distance(x + r * d, center, d);
  }
}

/// closest[r] = squared distance of row r of the block to the nearest of
/// the k centres (the minimum is exact, so the order of centres is free).
ARCHETYPE_INLINE void closest_of_block(const float* x, std::size_t d, std::size_t len, const float* centers, int k,
                                       float* __restrict closest, float* __restrict dist) {
  distances_to(x, d, len, centers, closest);
  for (int c = 1; c < k; ++c) {
    distances_to(x, d, len, centers + static_cast<std::size_t>(c) * d, dist);
    for (std::size_t r = 0; r < len; ++r) closest[r] = dist[r] < closest[r] ? dist[r] : closest[r];
  }
}

/// The k-means++ potential of a block (its quantized squared distances to
/// the nearest of k centres, summed); closest[] keeps the distances.
ARCHETYPE_INLINE std::int64_t block_potential(const float* x, std::size_t d, std::size_t len, const float* centers,
                                              int k, float dscale, float* __restrict closest,
                                              float* __restrict dist) {
  closest_of_block(x, d, len, centers, k, closest, dist);
  std::int64_t sum = 0;
  for (std::size_t r = 0; r < len; ++r) sum += quantize_distance(closest[r], dscale);
  return sum;
}

/// k-means++ potentials of one block for every model of the batch (layout
/// of Backend::kpp_potentials): the block stays in L1 while all models and
/// their candidates are evaluated.
ARCHETYPE_CLONES
void kpp_block(const float* x, std::size_t d, std::size_t len, const ModelBatch& batch, const float* candidates,
               const int* trials, float dscale, float* __restrict closest, float* __restrict dist,
               std::int64_t* __restrict pot) {
  const float* centers = batch.centers;
  const float* cand = candidates;
  for (int b = 0; b < batch.models; ++b) {
    const int k = batch.ks[b];
    *pot++ += block_potential(x, d, len, centers, k, dscale, closest, dist);
    for (int t = 0; t < trials[b]; ++t) {
      distances_to(x, d, len, cand + static_cast<std::size_t>(t) * d, dist);
      std::int64_t sum = 0;
      for (std::size_t r = 0; r < len; ++r) {
        const float c = closest[r], s = dist[r];
        sum += quantize_distance(s < c ? s : c, dscale);  // min(closest, s)
      }
      *pot++ += sum;
    }
    centers += static_cast<std::size_t>(k) * d;
    cand += static_cast<std::size_t>(trials[b]) * d;
  }
}

/// k-means++ potential of one tile of rows under each model's current
/// centres (out[b * stride] for model b): the per-tile prefix that
/// Backend::kpp_sample walks.  A free function so that it gets the
/// vectorised clones; rows in blocks of kBlock, as kpp_block.
ARCHETYPE_CLONES
void kpp_tile_potentials(const float* x, std::size_t d, std::size_t len, const ModelBatch& batch,
                         const std::size_t* offsets, float dscale, float* __restrict closest,
                         float* __restrict dist, std::int64_t* __restrict out, std::size_t stride) {
  for (int b = 0; b < batch.models; ++b) {
    const float* centers = batch.centers + offsets[b];
    std::int64_t sum = 0;
    for (std::size_t r = 0; r < len; r += kBlock)
      sum += block_potential(x + r * d, d, std::min(kBlock, len - r), centers, batch.ks[b], dscale, closest, dist);
    out[static_cast<std::size_t>(b) * stride] = sum;
  }
}

/// Lloyd sums of one block for every model of the batch: the quantized
/// features are computed once, then per model the nearest centres and the
/// masked per-cluster sums; acc per model = [k counts | k x d sums | inertia].
ARCHETYPE_CLONES
void lloyd_batch_block(const float* x, std::size_t d, std::size_t m, const ModelBatch& batch, float fscale,
                       float dscale, BlockScratch& s, std::int64_t* __restrict acc) {
  std::int32_t* __restrict q = s.q.data();
  for (std::size_t j = 0; j < d; ++j)
    for (std::size_t r = 0; r < m; ++r) q[j * m + r] = quantize_feature(x[r * d + j], fscale);
  const float* centers = batch.centers;
  for (int b = 0; b < batch.models; ++b) {
    const int k = batch.ks[b];
    const std::size_t kk = static_cast<std::size_t>(k);
    nearest_centres(x, d, m, centers, k, s.lab, s.best, s.dist);
    masked_sums(s.lab, q, m, d, kk, 1, acc);
    std::int64_t in = 0;
    for (std::size_t r = 0; r < m; ++r) in += quantize_distance(s.best[r], dscale);
    acc[kk * (d + 1)] += in;
    acc += kk * (d + 1) + 1;
    centers += kk * d;
  }
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : threads_(threads > 0 ? threads : omp_get_max_threads()) {}

  std::string name() const override { return "cpu"; }
  std::string device() const override {
    // No thread count here: summary.json must not depend on it.
    return "host CPU (OpenMP)";
  }

  void bind(const Matrix& X, const FixedPoint& fp, int k_max) override {
    X_ = &X;
    fp_ = fp;
    n_ = X.rows;
    // Threads only pay off on enough rows: a sweep on a few thousand rows
    // runs thousands of tiny passes, where fork/join would dominate (and,
    // on a busy machine, spinning threads wait for descheduled ones).  The
    // results are the same either way.
    parallel_ = n_ >= kMinParallelRows && threads_ > 1;
    d_ = X.cols;
    k_max_ = std::max(k_max, 1);
    labels_.assign(n_, -1);
    fresh_ = true;
    running_.assign(static_cast<std::size_t>(k_max_) * (d_ + 1), 0);
    running_k_ = 0;
    max_models_ = max_total_k_ = 0;  // reserve_batch sizes the batch scratch
    // Per thread: k counts and k x d sums, 64 spare values so that two
    // threads' accumulators never share a cache line.
    const std::size_t per_thread = static_cast<std::size_t>(k_max_) * (d_ + 1) + 64;
    scratch_.assign(static_cast<std::size_t>(threads_), BlockScratch{});
    for (BlockScratch& s : scratch_) s.q.assign(kBlock * d_, 0);
    thread_acc_.assign(static_cast<std::size_t>(threads_) * per_thread, 0);
    per_thread_ = per_thread;
  }

  void reset_labels() override {
    std::fill(labels_.begin(), labels_.end(), -1);
    fresh_ = true;
  }

  /// After take_labels the array is gone: one n-sized allocation, outside
  /// any iteration loop (the next fit or restore).
  void ensure_labels() {
    if (labels_.size() != n_) {
      labels_.assign(n_, -1);
      fresh_ = true;
    }
  }

  void lloyd_pass(const float* centers, int k, PassSums& out) override {
    check_k(k);
    out.resize(static_cast<std::size_t>(k), d_);
    const float fscale = fp_.feature_scale();
    const float dscale = fp_.dist_scale();
    const std::size_t kd = static_cast<std::size_t>(k) * d_;
    ensure_labels();
    // Running sums belong to one k: a pass with another k starts over.
    if (running_k_ != k && !fresh_) {
      std::fill(labels_.begin(), labels_.end(), -1);
      fresh_ = true;
    }
    const bool fresh = fresh_;
    // Every thread's slice is zeroed here, not inside the region, so a slice
    // whose thread did not run (fewer threads than asked) adds nothing.
    std::fill(thread_acc_.begin(), thread_acc_.end(), 0);
    std::int64_t inertia = 0, changed = 0;
#pragma omp parallel num_threads(threads_) if (parallel_) reduction(+ : inertia, changed)
    {
      std::int64_t* acc = thread_acc_.data() + static_cast<std::size_t>(omp_get_thread_num()) * per_thread_;
      BlockScratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
      std::int32_t* const labels = labels_.data();
      const std::size_t n = n_, d = d_;
      const float* const data = X_->values.data();
#pragma omp for schedule(static)
      for (std::size_t b = 0; b < n; b += kBlock) {
        const std::size_t m = std::min(kBlock, n - b);
        lloyd_block(data + b * d, d, m, centers, k, fscale, dscale, fresh, labels + b, scratch, acc, inertia,
                    changed);
      }
    }
    out.inertia_q = inertia;
    out.changed = changed;
    // Integer sums: adding the thread deltas in any order is exact.
    if (fresh_ || running_k_ != k) {
      std::fill(running_.begin(), running_.end(), 0);
      running_k_ = k;
    }
    fresh_ = false;
    const std::size_t kk = static_cast<std::size_t>(k);
    for (int t = 0; t < threads_; ++t) {
      const std::int64_t* acc = thread_acc_.data() + static_cast<std::size_t>(t) * per_thread_;
      for (std::size_t i = 0; i < kk + kd; ++i) running_[i] += acc[i];
    }
    std::copy(running_.begin(), running_.begin() + static_cast<std::ptrdiff_t>(kk), out.counts.begin());
    std::copy(running_.begin() + static_cast<std::ptrdiff_t>(kk), running_.begin() + static_cast<std::ptrdiff_t>(kk + kd),
              out.sums.begin());
  }

  void copy_labels(std::int32_t* out) const override {
    require_labels();
    std::copy(labels_.begin(), labels_.end(), out);
  }

  void take_labels(std::vector<std::int32_t>& out) override {
    out.clear();
    out.shrink_to_fit();
    out.swap(labels_);
    fresh_ = true;  // labels_ is re-created (all -1) by the next pass
  }

  void gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out) const override {
    require_labels();
    for (std::size_t i = 0; i < m; ++i) out[i] = labels_[rows[i]];
  }

  void reserve_batch(int max_models, int max_total_k) override {
    max_models_ = std::max(max_models, 1);
    max_total_k_ = std::max(max_total_k, 1);
    // Per thread: the Lloyd accumulators of every model, or the k-means++
    // potentials, whichever is larger, plus 64 spare values so that two
    // threads' accumulators never share a cache line.
    const std::size_t lloyd = static_cast<std::size_t>(max_total_k_) * (d_ + 1) + static_cast<std::size_t>(max_models_);
    const std::size_t kpp = static_cast<std::size_t>(max_models_) * (kMaxTrials + 1);
    batch_per_thread_ = std::max(lloyd, kpp) + 64;
    batch_acc_.assign(static_cast<std::size_t>(threads_) * batch_per_thread_, 0);
    tile_potential_.assign(static_cast<std::size_t>(max_models_) * tiles(), 0);
    batch_offsets_.assign(static_cast<std::size_t>(max_models_) + 1, 0);
  }

  void lloyd_batch(const ModelBatch& batch, PassSums* out) override {
    check_batch(batch, nullptr);
    const float fscale = fp_.feature_scale();
    const float dscale = fp_.dist_scale();
    std::fill(batch_acc_.begin(), batch_acc_.end(), 0);
#pragma omp parallel num_threads(threads_) if (parallel_)
    {
      std::int64_t* acc = batch_acc_.data() + static_cast<std::size_t>(omp_get_thread_num()) * batch_per_thread_;
      BlockScratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
      const std::size_t n = n_, d = d_;
      const float* const data = X_->values.data();
#pragma omp for schedule(static)
      for (std::size_t b = 0; b < n; b += kBlock)
        lloyd_batch_block(data + b * d, d, std::min(kBlock, n - b), batch, fscale, dscale, scratch, acc);
    }
    // Integer sums: adding the threads' partials in any order is exact.
    std::size_t off = 0;
    for (int b = 0; b < batch.models; ++b) {
      const std::size_t kk = static_cast<std::size_t>(batch.ks[b]);
      PassSums& o = out[b];
      o.resize(kk, d_);
      o.changed = -1;
      for (int t = 0; t < threads_; ++t) {
        const std::int64_t* acc = batch_acc_.data() + static_cast<std::size_t>(t) * batch_per_thread_ + off;
        for (std::size_t c = 0; c < kk; ++c) o.counts[c] += acc[c];
        for (std::size_t i = 0; i < kk * d_; ++i) o.sums[i] += acc[kk + i];
        o.inertia_q += acc[kk * (d_ + 1)];
      }
      off += kk * (d_ + 1) + 1;
    }
  }

  void kpp_potentials(const ModelBatch& batch, const float* candidates, const int* trials,
                      std::int64_t* out) override {
    const std::size_t values = check_batch(batch, trials);
    const float dscale = fp_.dist_scale();
    std::fill(batch_acc_.begin(), batch_acc_.end(), 0);
#pragma omp parallel num_threads(threads_) if (parallel_)
    {
      std::int64_t* pot = batch_acc_.data() + static_cast<std::size_t>(omp_get_thread_num()) * batch_per_thread_;
      BlockScratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
      for (std::size_t b = 0; b < n_; b += kBlock)
        kpp_block(X_->row(b), d_, std::min(kBlock, n_ - b), batch, candidates, trials, dscale, scratch.best,
                  scratch.dist, pot);
    }
    std::fill(out, out + values, 0);
    for (int t = 0; t < threads_; ++t)
      for (std::size_t i = 0; i < values; ++i) out[i] += batch_acc_[static_cast<std::size_t>(t) * batch_per_thread_ + i];
  }

  void kpp_sample(const ModelBatch& batch, const std::int64_t* targets, const int* n_targets,
                  std::int64_t* out_rows) override {
    check_batch(batch, nullptr);
    const float dscale = fp_.dist_scale();
    const std::size_t T = tiles();
    // Centre offsets of the models, then each (model, tile) potential.
    batch_offsets_[0] = 0;
    for (int b = 0; b < batch.models; ++b)
      batch_offsets_[static_cast<std::size_t>(b) + 1] = batch_offsets_[static_cast<std::size_t>(b)] +
                                                        static_cast<std::size_t>(batch.ks[b]) * d_;
#pragma omp parallel num_threads(threads_) if (parallel_)
    {
      BlockScratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
      for (std::size_t t = 0; t < T; ++t) {
        const std::size_t begin = t * kPrefixTile, end = std::min(n_, begin + kPrefixTile);
        kpp_tile_potentials(X_->row(begin), d_, end - begin, batch, batch_offsets_.data(), dscale, scratch.best,
                            scratch.dist, tile_potential_.data() + t, T);
      }
    }
    // Each target: the tile holding it, then that tile's rows in order.
    std::size_t o = 0;
    for (int b = 0; b < batch.models; ++b) {
      const float* centers = batch.centers + batch_offsets_[static_cast<std::size_t>(b)];
      const std::int64_t* tp = tile_potential_.data() + static_cast<std::size_t>(b) * T;
      for (int i = 0; i < n_targets[b]; ++i, ++o) {
        const std::int64_t target = targets[o];
        std::int64_t before = 0;
        std::size_t tile = 0;
        while (tile + 1 < T && before + tp[tile] <= target) before += tp[tile++];
        const std::size_t begin = tile * kPrefixTile, end = std::min(n_, begin + kPrefixTile);
        std::size_t row = end - 1;
        std::int64_t prefix = before;
        for (std::size_t r = begin; r < end; ++r) {
          float d2 = 0.0f;
          closest_of_block(X_->row(r), d_, 1, centers, batch.ks[b], &d2, scratch_[0].dist);
          prefix += quantize_distance(d2, dscale);
          if (prefix > target) {
            row = r;
            break;
          }
        }
        out_rows[o] = static_cast<std::int64_t>(row);
      }
    }
  }

  void dispersion(const float* centers, int k, std::int64_t* out_sq, std::int64_t* out_root) override {
    check_k(k);
    require_labels();
    const float dscale = fp_.dist_scale();
    const float rscale = fp_.root_scale();
    const std::size_t kk = static_cast<std::size_t>(k);
    std::fill(out_sq, out_sq + kk, 0);
    std::fill(out_root, out_root + kk, 0);
#pragma omp parallel num_threads(threads_) if (parallel_)
    {
      std::int64_t* acc = thread_acc_.data() + static_cast<std::size_t>(omp_get_thread_num()) * per_thread_;
      std::fill(acc, acc + 2 * kk, 0);
#pragma omp for schedule(static)
      for (std::size_t i = 0; i < n_; ++i) {
        const std::int32_t c = labels_[i];
        if (c < 0) continue;
        const float d2 = squared_distance(X_->row(i), centers + static_cast<std::size_t>(c) * d_, d_);
        acc[c] += quantize_distance(d2, dscale);
        acc[kk + static_cast<std::size_t>(c)] += quantize_distance(std::sqrt(d2), rscale);
      }
#pragma omp critical
      for (std::size_t c = 0; c < kk; ++c) {
        out_sq[c] += acc[c];
        out_root[c] += acc[kk + c];
      }
    }
  }

  void silhouette(const Matrix& Y, const std::int32_t* labels, int k, double* out) override {
    cpu_silhouette(Y, labels, k, threads_, out);
  }

 private:
  void check_k(int k) const {
    if (k < 1 || k > k_max_) throw std::logic_error("CpuBackend: k outside the bound range");
  }

  void require_labels() const {
    if (labels_.size() != n_) throw std::logic_error("CpuBackend: the stored labels were taken");
  }

  std::size_t tiles() const { return (n_ + kPrefixTile - 1) / kPrefixTile; }

  /// Checks a batch against reserve_batch; returns the number of k-means++
  /// potentials it produces (with trials) or 0.
  std::size_t check_batch(const ModelBatch& batch, const int* trials) const {
    if (batch.models < 1 || batch.models > max_models_) throw std::logic_error("CpuBackend: batch larger than reserved");
    int total = 0;
    std::size_t values = 0;
    for (int b = 0; b < batch.models; ++b) {
      if (batch.ks[b] < 1) throw std::logic_error("CpuBackend: a model without centres");
      total += batch.ks[b];
      if (trials) {
        if (trials[b] < 0 || trials[b] > kMaxTrials) throw std::logic_error("CpuBackend: too many k-means++ trials");
        values += 1 + static_cast<std::size_t>(trials[b]);
      }
    }
    if (total > max_total_k_) throw std::logic_error("CpuBackend: batch larger than reserved");
    return values;
  }

  int threads_;
  const Matrix* X_ = nullptr;
  FixedPoint fp_;
  std::size_t n_ = 0, d_ = 0;
  int k_max_ = 1;
  std::vector<std::int32_t> labels_;
  std::vector<std::int64_t> tile_potential_;  // model x tile k-means++ potentials
  std::vector<std::int64_t> batch_acc_;       // per thread: the batch passes' partial sums
  std::size_t batch_per_thread_ = 0;
  std::vector<std::size_t> batch_offsets_;    // centre offset of each model of a batch
  int max_models_ = 0, max_total_k_ = 0;      // reserve_batch's sizes
  std::vector<std::int64_t> thread_acc_;
  std::size_t per_thread_ = 0;
  std::vector<BlockScratch> scratch_;  // per thread
  std::vector<std::int64_t> running_;  // [k counts | k x d sums] of the stored labels
  int running_k_ = 0;                  // the k that running_ and labels_ belong to
  bool fresh_ = true;                  // every stored label is -1
  bool parallel_ = false;              // run passes on several threads
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

}  // namespace archetype
