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
        Lanes s = u * u;
        s = s + v * v;
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
      s = s + d0 * d0;
      s = s + d1 * d1;
      out[r] = s;
    }
  } else {
    for (std::size_t r = 0; r < m; ++r) out[r] = squared_distance(x + r * d, center, d);
  }
}

/// k-means++ trials on one block: pot[t] += sum over the block's rows of
/// q(min(closest, d2(row, candidate t))), for all m candidates at once.
ARCHETYPE_CLONES
void potentials_block(const float* x, std::size_t d, std::size_t len, const float* candidates, int m,
                      const float* __restrict closest, float dscale, float* __restrict dist,
                      std::int64_t* __restrict pot) {
  for (int t = 0; t < m; ++t) {
    distances_to(x, d, len, candidates + static_cast<std::size_t>(t) * d, dist);
    std::int64_t sum = 0;
    for (std::size_t r = 0; r < len; ++r) {
      const float c = closest[r], s = dist[r];
      sum += quantize_distance(s < c ? s : c, dscale);  // std::min(closest, s)
    }
    pot[t] += sum;
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
    closest_.assign(n_, 0.0f);
    tile_potential_.assign((n_ + kPrefixTile - 1) / kPrefixTile, 0);
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

  void lloyd_pass(const float* centers, int k, PassSums& out) override {
    check_k(k);
    out.resize(static_cast<std::size_t>(k), d_);
    const float fscale = fp_.feature_scale();
    const float dscale = fp_.dist_scale();
    const std::size_t kd = static_cast<std::size_t>(k) * d_;
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

  void farthest_rows(const float* centers, int k, int m, std::int64_t* out_rows,
                     std::int32_t* out_labels) override {
    check_k(k);
    // Rare path (empty clusters): distances, then the shared selection rule.
    std::vector<float> d2(n_);
    for (std::size_t i = 0; i < n_; ++i) {
      const std::int32_t c = labels_[i] < 0 ? 0 : labels_[i];
      d2[i] = squared_distance(X_->row(i), centers + static_cast<std::size_t>(c) * d_, d_);
    }
    select_farthest(d2.data(), n_, m, out_rows);
    for (int i = 0; i < m; ++i) out_labels[i] = labels_[static_cast<std::size_t>(out_rows[i])];
  }

  void copy_labels(std::int32_t* out) const override { std::copy(labels_.begin(), labels_.end(), out); }

  void gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out) const override {
    for (std::size_t i = 0; i < m; ++i) out[i] = labels_[rows[i]];
  }

  void seed_distances(const float* center) override {
#pragma omp parallel for num_threads(threads_) schedule(static) if (parallel_)
    for (std::size_t b = 0; b < n_; b += kBlock) {
      const std::size_t m = std::min(kBlock, n_ - b);
      distances_to(X_->row(b), d_, m, center, closest_.data() + b);
    }
  }

  void trial_potentials(const float* candidates, int m, std::int64_t* out) override {
    // One pass over the rows for all candidates; per-thread partials in
    // thread_acc_ (at least 64 values each), added in any order (integers).
    if (m > 64) throw std::logic_error("CpuBackend: too many k-means++ trials");
    const float dscale = fp_.dist_scale();
    const std::size_t mm = static_cast<std::size_t>(m);
    std::fill(thread_acc_.begin(), thread_acc_.end(), 0);
#pragma omp parallel num_threads(threads_) if (parallel_)
    {
      std::int64_t* pot = thread_acc_.data() + static_cast<std::size_t>(omp_get_thread_num()) * per_thread_;
      float dist[kBlock];
#pragma omp for schedule(static)
      for (std::size_t b = 0; b < n_; b += kBlock) {
        const std::size_t len = std::min(kBlock, n_ - b);
        potentials_block(X_->row(b), d_, len, candidates, m, closest_.data() + b, dscale, dist, pot);
      }
    }
    std::fill(out, out + mm, 0);
    for (int t = 0; t < threads_; ++t)
      for (std::size_t i = 0; i < mm; ++i) out[i] += thread_acc_[static_cast<std::size_t>(t) * per_thread_ + i];
  }

  void commit_center(const float* center) override {
#pragma omp parallel num_threads(threads_) if (parallel_)
    {
      float dist[kBlock];
#pragma omp for schedule(static)
      for (std::size_t b = 0; b < n_; b += kBlock) {
        const std::size_t len = std::min(kBlock, n_ - b);
        distances_to(X_->row(b), d_, len, center, dist);
        for (std::size_t r = 0; r < len; ++r) closest_[b + r] = std::min(closest_[b + r], dist[r]);
      }
    }
  }

  std::int64_t potential() override {
    fill_tile_potentials();
    std::int64_t total = 0;
    for (std::int64_t t : tile_potential_) total += t;
    return total;
  }

  void sample_by_potential(const std::int64_t* targets, int m, std::int64_t* out_rows) override {
    fill_tile_potentials();
    const float dscale = fp_.dist_scale();
    for (int t = 0; t < m; ++t) {
      // Find the tile holding the target, then scan it row by row.
      std::int64_t before = 0;
      std::size_t tile = 0;
      while (tile + 1 < tile_potential_.size() && before + tile_potential_[tile] <= targets[t]) {
        before += tile_potential_[tile];
        ++tile;
      }
      const std::size_t begin = tile * kPrefixTile, end = std::min(n_, begin + kPrefixTile);
      std::size_t row = end - 1;
      std::int64_t prefix = before;
      for (std::size_t i = begin; i < end; ++i) {
        prefix += quantize_distance(closest_[i], dscale);
        if (prefix > targets[t]) {
          row = i;
          break;
        }
      }
      out_rows[t] = static_cast<std::int64_t>(row);
    }
  }

  void dispersion(const float* centers, int k, std::int64_t* out_sq, std::int64_t* out_root) override {
    check_k(k);
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

  void fill_tile_potentials() {
    const float dscale = fp_.dist_scale();
    const std::size_t tiles = tile_potential_.size();
#pragma omp parallel for num_threads(threads_) schedule(static) if (parallel_)
    for (std::size_t t = 0; t < tiles; ++t) {
      const std::size_t begin = t * kPrefixTile, end = std::min(n_, begin + kPrefixTile);
      std::int64_t s = 0;
      for (std::size_t i = begin; i < end; ++i) s += quantize_distance(closest_[i], dscale);
      tile_potential_[t] = s;
    }
  }

  int threads_;
  const Matrix* X_ = nullptr;
  FixedPoint fp_;
  std::size_t n_ = 0, d_ = 0;
  int k_max_ = 1;
  std::vector<std::int32_t> labels_;
  std::vector<float> closest_;
  std::vector<std::int64_t> tile_potential_;
  std::vector<std::int64_t> thread_acc_;
  std::size_t per_thread_ = 0;
  std::vector<BlockScratch> scratch_;  // per thread
  std::vector<std::int64_t> running_;  // [k counts | k x d sums] of the stored labels
  int running_k_ = 0;                  // the k that running_ and labels_ belong to
  bool fresh_ = true;                  // every stored label is -1
  bool parallel_ = false;              // run passes on several threads
};

}  // namespace

void select_farthest(const float* d2, std::size_t n, int m, std::int64_t* out_rows) {
  struct Cand {
    float d2;
    std::int64_t row;
  };
  // "a before b" when a is farther, or as far with a lower row index.
  auto farther = [](const Cand& a, const Cand& b) { return a.d2 > b.d2 || (a.d2 == b.d2 && a.row < b.row); };
  std::vector<Cand> top;  // a heap whose front is the nearest of the kept rows
  top.reserve(static_cast<std::size_t>(m) + 1);
  for (std::size_t i = 0; i < n && m > 0; ++i) {
    const Cand cand{d2[i], static_cast<std::int64_t>(i)};
    if (static_cast<int>(top.size()) < m) {
      top.push_back(cand);
      std::push_heap(top.begin(), top.end(), farther);
    } else if (farther(cand, top.front())) {
      std::pop_heap(top.begin(), top.end(), farther);
      top.back() = cand;
      std::push_heap(top.begin(), top.end(), farther);
    }
  }
  std::sort(top.begin(), top.end(), farther);
  for (std::size_t i = 0; i < top.size(); ++i) out_rows[i] = top[i].row;
}

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

}  // namespace archetype
