// The OpenMP CPU backend: the reference implementation of every pass.
//
// Rows are processed in blocks of up to kBlock rows (block_rows) by the
// kernels of cpu_kernels.cpp (vectorised across rows); this file owns the
// threads, the per-thread integer accumulators, and the state kept between
// passes: the stored labels with their running sums, the transposed copy of
// the data, the k-means++ distance cache and the Lloyd bounds.  Because
// every sum is an integer sum of per-row rounded values, any split of rows
// among threads gives the same bits (fixed_point.hpp), and the cache and
// the bounds only skip work whose result they know exactly.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/distance.hpp"
#include "engine/cpu_clones.hpp"
#include "engine/cpu_kernels.hpp"
#include "engine/cpu_lloyd_bounds.hpp"
#include "engine/cpu_silhouette.hpp"
#include "engine/huge_pages.hpp"
#include "engine/kpp_cache.hpp"

namespace archetype {
namespace {

using cpu::GroupScratch;
using cpu::kBlock;


constexpr std::size_t kPrefixTile = 4096;   // rows per tile of the k-means++ prefix sums
/// Rows per block (block_rows): kBlock, halved (down to kMinBlock) while a
/// block holds more than kBlockFloats values.  A pass keeps a block's
/// transposed copy and its two quantized copies (s.q, s.qr) while every
/// model of a batch reads them: at d = 1,024 three 1 MB copies of a
/// 256-row block no longer stayed in the 2 MB L2 cache of the AVX-512 Xeon
/// across 10 models.  The block only orders exact integer sums (and the
/// k-means++ prefix tiles, a multiple of every block size), so the size
/// cannot change a result.
constexpr std::size_t kBlockFloats = std::size_t{1} << 16;
constexpr std::size_t kMinBlock = 64;
static_assert(kPrefixTile % kBlock == 0 && kBlock % kMinBlock == 0 && kMinBlock % cpu::kGroup == 0,
              "blocks tile the prefix tiles and hold whole groups");

std::size_t block_rows(std::size_t d) {
  std::size_t rows = kBlock;
  while (rows > kMinBlock && rows * d > kBlockFloats) rows /= 2;
  return rows;
}
constexpr std::size_t kMinParallelRows = 32768;  // fewer rows: passes run on one thread...
/// ... unless the pass's distance work (rows x centres x features) is at
/// least this: a pass of 10,000 rows against 500 centres of 256 features
/// is 30 ms on one thread, far above a fork/join.
constexpr std::size_t kMinParallelWork = std::size_t{1} << 23;
/// k-means++ keeps each model's nearest-centre distances (n floats) between
/// passes, so that every step folds in one new centre instead of
/// recomputing all of them (O(n k d) instead of O(n k^2 d) per fit).  Every
/// model is cached when they all fit in the data's own size (or
/// kCacheSmall); otherwise, when the batch's mean k is at least
/// kCacheMinMeanK (where recomputing costs most), as many models as
/// kCacheBudget (or the data's size) holds, and the rest recompute.  Small
/// k on large data thus keep memory flat (the 10M-row sweep).
constexpr std::size_t kCacheSmall = std::size_t{32} << 20;
constexpr int kCacheMinMeanK = 16;
constexpr std::size_t kCacheBudget = std::size_t{256} << 20;
/// A cached model's k-means++ pass also keeps its candidates' distances
/// (n floats each), so that the next step folds the chosen candidate in by
/// a minimum instead of a pass over the data (which at one centre is bound
/// by reading the rows: at 12,000 x 256, k = 500 it was 9% of the run, on
/// one thread).  As many candidates per cached model as the data's own
/// size, at most kKeptBudget, holds; the seeding's 2 + ln k at most.  At
/// d = 2 with many models none fit: no cost where the pass is cheap.  And
/// only from kKeptMinK centres: a few seeding steps save less than the
/// buffer's first touch costs (520,000 x 16, k = 5, n_init 10: its 21 MB
/// were 2% of the run's samples, in the kernel's clearing of fresh pages).
constexpr std::size_t kKeptBudget = std::size_t{256} << 20;
constexpr int kKeptMinK = 16;
/// The batch's stored labels and running sums (plan_stored): as many
/// models as this many bytes (or the data's size) hold.
constexpr std::size_t kSumsBudget = std::size_t{256} << 20;
/// The largest transposed copy of the data that bind makes (bytes).
constexpr std::size_t kTransposedBudget = std::size_t{2} << 30;

/// acc += the change of the per-cluster sums, [k counts | k x d sums], when
/// the block's m rows move from their stored labels (`labels`; all -1 when
/// `fresh`) to `lab`, and labels := lab; returns how many rows moved.  Many
/// moves: the block recounted under the new labels minus under the old;
/// few: each moved row taken out of its old cluster and put into its new
/// one.  Integer sums, so the result is that of a full recount.
/// `quantized`: s.q (s.wq with weights) holds the block already; updated.
ARCHETYPE_INLINE std::int64_t move_rows(const float* x, const std::int32_t* w, std::size_t d, std::size_t m,
                                        const std::int32_t* __restrict lab, std::int32_t* __restrict labels, bool fresh,
                                        float fscale, std::size_t kk, std::int64_t* __restrict acc, GroupScratch& s,
                                        bool& quantized) {
  std::int64_t ch = 0;
  for (std::size_t r = 0; r < m; ++r) ch += labels[r] != lab[r];
  if (ch == 0) return 0;
  if (!w && !cpu::sums_by_mask(kk, d)) {
    // The scatter path: moving the ch rows is 2 ch row updates, a recount
    // under both labelings 2 m, so every moved row goes alone, from the
    // block quantized once when enough of it moves (else each moved row
    // quantized here).
    const std::int32_t* q = static_cast<std::size_t>(ch) * 8 > m || s.qr_block == x
                                ? cpu::quantized_rows(x, d, m, fscale, s)
                                : nullptr;
    if (!q && !s.xt_block) {
      // The moved rows are read from x, which the distance passes (reading
      // the transposed copy) leave cold: ask for all their cache lines
      // first, so that the misses overlap instead of coming one row at a
      // time.
      for (std::size_t r = 0; r < m; ++r)
        if (labels[r] != lab[r])
          for (std::size_t j = 0; j < d; j += 16) __builtin_prefetch(x + r * d + j);
    }
    for (std::size_t r = 0; r < m; ++r) {
      const std::int32_t from = labels[r], to = lab[r];
      if (from == to) continue;
      std::int64_t* __restrict at = acc + kk + static_cast<std::size_t>(to) * d;
      acc[to] += 1;
      if (q) {
        const std::int32_t* __restrict qrow = q + r * d;
        if (from >= 0) {
          std::int64_t* __restrict af = acc + kk + static_cast<std::size_t>(from) * d;
          acc[from] -= 1;
          for (std::size_t j = 0; j < d; ++j) af[j] -= qrow[j];
        }
        for (std::size_t j = 0; j < d; ++j) at[j] += qrow[j];
      } else {
        // The row quantized kChunk features at a time into a local
        // buffer: two simple loops that vectorise, where quantizing inside
        // the int64 updates stays scalar.
        // From the transposed block when there is one (in cache: its
        // values one group of cpu::kGroup apart), else from the row.
        constexpr std::size_t kChunk = 64;
        const bool from_xt = s.xt_block != nullptr;
        const float* __restrict xr =
            from_xt ? s.xt_block + (r / cpu::kGroup) * cpu::kGroup * d + r % cpu::kGroup : x + r * d;
        const std::size_t step = from_xt ? cpu::kGroup : 1;
        std::int64_t* __restrict af =
            from >= 0 ? acc + kk + static_cast<std::size_t>(from) * d : nullptr;
        if (af) acc[from] -= 1;
        for (std::size_t j0 = 0; j0 < d; j0 += kChunk) {
          const std::size_t len = std::min(kChunk, d - j0);
          std::int32_t qb[kChunk];
          for (std::size_t j = 0; j < len; ++j) qb[j] = quantize_feature(xr[(j0 + j) * step], fscale);
          if (af)
            for (std::size_t j = 0; j < len; ++j) af[j0 + j] -= qb[j];
          for (std::size_t j = 0; j < len; ++j) at[j0 + j] += qb[j];
        }
      }
      labels[r] = to;
    }
    return ch;
  }
  if (static_cast<std::size_t>(ch) * 8 > m) {
    cpu::add_cluster_sums(x, d, m, lab, w, fscale, kk, 1, acc, s, quantized);
    // The first call quantized (or weighed) the block when its path uses it.
    quantized = quantized || w || cpu::sums_by_columns(kk, d);
    if (!fresh) cpu::add_cluster_sums(x, d, m, labels, w, fscale, kk, -1, acc, s, quantized);
    std::copy(lab, lab + m, labels);
    return ch;
  }
  for (std::size_t r = 0; r < m; ++r) {
    const std::int32_t from = labels[r], to = lab[r];
    if (from == to) continue;
    const float* xr = x + r * d;
    if (w) {  // weighted: w x q moves with the row
      const std::int64_t wr = w[r];
      if (from >= 0) {
        std::int64_t* a = acc + kk + static_cast<std::size_t>(from) * d;
        acc[from] -= wr;
        for (std::size_t j = 0; j < d; ++j) a[j] -= wr * quantize_feature(xr[j], fscale);
      }
      std::int64_t* a = acc + kk + static_cast<std::size_t>(to) * d;
      acc[to] += wr;
      for (std::size_t j = 0; j < d; ++j) a[j] += wr * quantize_feature(xr[j], fscale);
      labels[r] = to;
      continue;
    }
    if (from >= 0) {
      std::int64_t* a = acc + kk + static_cast<std::size_t>(from) * d;
      acc[from] -= 1;
      for (std::size_t j = 0; j < d; ++j) a[j] -= quantize_feature(xr[j], fscale);
    }
    std::int64_t* a = acc + kk + static_cast<std::size_t>(to) * d;
    acc[to] += 1;
    for (std::size_t j = 0; j < d; ++j) a[j] += quantize_feature(xr[j], fscale);
    labels[r] = to;
  }
  return ch;
}

/// One block of the stored-labels Lloyd pass (xt: the block transposed, or
/// null: transposed here): nearest centres, inertia, and
/// the change of the per-cluster integer sums, acc = [k counts | k x d
/// sums], caused by the rows whose label changed.  The backend keeps running
/// sums, so a pass in which few labels change costs little more than the
/// distances; the result is the same integer sum as a full recount.  w: the
/// block's quantized weights, or null (every row 1).
ARCHETYPE_CLONES
void lloyd_block(const float* x, const float* xt, const std::int32_t* w, std::size_t d, std::size_t m,
                 const float* centers, int k, float fscale, float dscale, bool fresh, std::int32_t* __restrict labels,
                 GroupScratch& s, std::int64_t* __restrict acc, std::int64_t& inertia, std::int64_t& changed) {
  s.qr_block = nullptr;  // a new block: its quantized rows not computed yet
  if (xt) {
    cpu::nearest_block(xt, d, m, centers, k, s.lab, s.best);
    s.xt_block = xt;
  } else {
    cpu::nearest_rows(x, d, m, centers, k, s.lab, s.best, s);
    s.xt_block = d > 2 ? s.xt.data() : nullptr;  // nearest_rows transposes from three features
  }
  const std::int32_t* __restrict lab = s.lab;
  inertia += cpu::quantized_sum(s.best, m, dscale, w);
  bool quantized = false;
  changed += move_rows(x, w, d, m, lab, labels, fresh, fscale, static_cast<std::size_t>(k), acc, s, quantized);
}

/// A batch model's stored labels (whole data; null: the model's sums are
/// recounted every pass) and whether they are all -1.
struct StoredLabels {
  std::int32_t* labels = nullptr;
  bool fresh = true;
};

/// Lloyd sums of one block (x, and transposed xt; w its quantized weights
/// or null) for every model of the batch; acc per model = [k counts | k x d
/// sums | inertia].  A model with stored labels adds only the change of its
/// sums since its last pass (move_rows); the backend adds that to the
/// model's running sums.
ARCHETYPE_CLONES
void lloyd_batch_block(const float* x, const float* xt, const std::int32_t* w, std::size_t d, std::size_t m,
                       const ModelBatch& batch, const cpu::ModelBounds* bounds, const StoredLabels* stored,
                       std::size_t r, float fscale, float dscale, GroupScratch& s, std::int64_t* __restrict acc) {
  const float* centers = batch.centers;
  bool quantized = false;  // the quantized block, once, when a model needs it
  s.qr_block = nullptr;    // the same for the row-major copy (quantized_rows)
  s.xt_block = xt;
  // The models' stored labels of the next block, asked for now: a batch
  // reads as many label streams as models, more than the hardware
  // prefetcher follows (measured at d = 16, 10 models: the loads of the
  // stored labels were the pass's largest stall).  A prefetch past the
  // end of the array is harmless.
  for (int b = 0; b < batch.models; ++b)
    if (stored[b].labels)
      for (std::size_t i = 0; i < m; i += 16) __builtin_prefetch(stored[b].labels + r + m + i, 1);
  for (int b = 0; b < batch.models; ++b) {
    const std::size_t kk = static_cast<std::size_t>(batch.ks[b]);
    if (bounds[b].labels) {
      cpu::bounded_nearest(x, xt, d, m, centers, batch.ks[b], bounds[b], r, s);
    } else {
      cpu::nearest_block(xt, d, m, centers, batch.ks[b], s.lab, s.best);
    }
    if (stored[b].labels) {
      move_rows(x, w, d, m, s.lab, stored[b].labels + r, stored[b].fresh, fscale, kk, acc, s, quantized);
    } else {
      if (!quantized && w) {  // the weighted block, once for every model
        cpu::weigh_block(x, w, d, m, fscale, s);
        quantized = true;
      } else if (!quantized && cpu::sums_by_columns(kk, d)) {
        cpu::quantize_block(x, d, m, fscale, s);
        quantized = true;
      }
      cpu::add_cluster_sums(x, d, m, s.lab, w, fscale, kk, 1, acc, s, quantized);
    }
    acc[kk * (d + 1)] += cpu::quantized_sum(s.best, m, dscale, w);
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

  using Backend::bind;
  void bind(MatrixView X, const std::int32_t* weights, const FixedPoint& fp, int k_max) override {
    X_ = X;
    w_ = weights;
    fp_ = fp;
    n_ = X.rows;
    d_ = X.cols;
    block_ = block_rows(d_);
    k_max_ = std::max(k_max, 1);
    labels_.assign(n_, -1);
    fresh_ = true;
    running_.assign(static_cast<std::size_t>(k_max_) * (d_ + 1), 0);
    running_k_ = 0;
    max_models_ = max_total_k_ = 0;  // reserve_batch sizes the batch scratch
    // Per thread: k counts and k x d sums, 64 spare values so that two
    // threads' accumulators never share a cache line.
    const std::size_t per_thread = static_cast<std::size_t>(k_max_) * (d_ + 1) + 64;
    scratch_.assign(static_cast<std::size_t>(threads_), GroupScratch{});
    for (GroupScratch& s : scratch_) s.size_for(d_);
    // From 3 features on, the batch and k-means++ passes read the rows
    // transposed; transposing every block on every pass costs as much as
    // the distances at k = 20, so the whole data are transposed once here
    // (a second copy of the data, up to kTransposedBudget).  At d <= 2 the
    // passes transpose in registers for free and memory stays flat.
    xt_all_.clear();
    xt_all_.shrink_to_fit();
    const std::size_t padded = (n_ + cpu::kGroup - 1) / cpu::kGroup * cpu::kGroup;
    // ARCHETYPE_CPU_TRANSPOSED_COPY=0 forces the per-pass transposition
    // (tests: both paths must give the same bits).
    const char* copy_env = std::getenv("ARCHETYPE_CPU_TRANSPOSED_COPY");
    const bool copy_allowed = !(copy_env && std::string(copy_env) == "0");
    if (d_ >= 3 && copy_allowed && padded * d_ * sizeof(float) <= kTransposedBudget) {
      assign_huge(xt_all_, padded * d_, 0.0f);
      cpu::transpose_rows(X.values, d_, n_, xt_all_.data(), threads_);
    }
    cache_slots_ = 0;
    cache_.clear();
    cache_.shrink_to_fit();
    kept_trials_ = 0;
    kept_.clear();
    kept_.shrink_to_fit();
    kept_cands_.clear();
    bounds_.clear();
    batch_bounds_.assign(1, cpu::ModelBounds{});
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
#pragma omp parallel num_threads(threads_) if (parallel(static_cast<std::size_t>(k))) reduction(+ : inertia, changed)
    {
      std::int64_t* acc = thread_acc_.data() + static_cast<std::size_t>(omp_get_thread_num()) * per_thread_;
      GroupScratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
      std::int32_t* const labels = labels_.data();
      const std::size_t n = n_, d = d_, block = block_;
      const float* const data = X_.values;
#pragma omp for schedule(static)
      for (std::size_t b = 0; b < n; b += block) {
        const std::size_t m = std::min(block, n - b);
        const float* xt = xt_all_.empty() ? nullptr : xt_all_.data() + b * d;
        lloyd_block(data + b * d, xt, weights_at(b), d, m, centers, k, fscale, dscale, fresh, labels + b, scratch,
                    acc, inertia, changed);
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
    batch_cache_.assign(static_cast<std::size_t>(max_models_), nullptr);
    batch_fold_.assign(static_cast<std::size_t>(max_models_), 0);
    // The k-means++ distance cache: as many models as the budget holds.
    cache_slots_ = 0;
    const std::size_t per_model = n_ * sizeof(float), data = n_ * d_ * sizeof(float);
    if (n_ > 0 && per_model * static_cast<std::size_t>(max_models_) <= std::max(kCacheSmall, data)) {
      cache_slots_ = max_models_;
    } else if (n_ > 0 && max_total_k_ >= kCacheMinMeanK * max_models_) {
      cache_slots_ = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(max_models_),
                                                            std::max(kCacheBudget, data) / per_model));
    }
    assign_huge(cache_, static_cast<std::size_t>(cache_slots_) * n_, 0.0f);
    cached_centres_.assign(static_cast<std::size_t>(cache_slots_), {});
    // The kept candidate distances of each cached model (kKeptBudget).
    kept_stride_ = (n_ + cpu::kGroup - 1) / cpu::kGroup * cpu::kGroup;
    const int want_trials = std::min(kMaxTrials, 2 + static_cast<int>(std::log(static_cast<double>(k_max_))));
    const std::size_t per_trial = static_cast<std::size_t>(cache_slots_) * kept_stride_ * sizeof(float);
    kept_trials_ = per_trial == 0 || k_max_ < kKeptMinK ? 0
                                  : static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(want_trials),
                                                                          std::min(kKeptBudget, data) / per_trial));
    assign_huge(kept_, static_cast<std::size_t>(cache_slots_) * static_cast<std::size_t>(kept_trials_) * kept_stride_,
                0.0f);
    kept_cands_.assign(static_cast<std::size_t>(cache_slots_), {});
    batch_kept_.assign(static_cast<std::size_t>(max_models_), nullptr);
    bounds_.reserve(n_, d_, max_models_, max_total_k_, k_max_);
    batch_bounds_.assign(static_cast<std::size_t>(max_models_), cpu::ModelBounds{});
    // Stored labels for as many models as kSumsBudget (or the data's size)
    // holds; the others recount their sums every pass.  None when even the
    // largest k recounts by masks (plan_stored never uses them then: at
    // d = 2, k = 5, n_init 10 on 1,000,000 rows they were 40 MB filled for
    // nothing, 2% of the fit's samples).
    const std::size_t per_slot = n_ * sizeof(std::int32_t) + running_size() * sizeof(std::int64_t);
    const bool any_stored = n_ > 0 && !cpu::sums_by_mask(static_cast<std::size_t>(k_max_), d_);
    sum_slots_ = any_stored ? static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(max_models_),
                                                                      std::max(kSumsBudget, data) / per_slot))
                            : 0;
    assign_huge(slot_labels_, static_cast<std::size_t>(sum_slots_) * n_, std::int32_t{-1});
    slot_running_.assign(static_cast<std::size_t>(sum_slots_) * running_size(), 0);
    slot_k_.assign(static_cast<std::size_t>(sum_slots_), 0);
    batch_stored_.assign(static_cast<std::size_t>(max_models_), StoredLabels{});
  }

  void lloyd_batch(const ModelBatch& batch, PassSums* out) override {
    check_batch(batch, nullptr);
    const float fscale = fp_.feature_scale();
    const float dscale = fp_.dist_scale();
    bounds_.plan(batch, d_, batch_bounds_.data());
    plan_stored(batch);
    std::fill(batch_acc_.begin(), batch_acc_.end(), 0);
#pragma omp parallel num_threads(threads_) if (parallel(static_cast<std::size_t>(std::accumulate(batch.ks, batch.ks + batch.models, 0))))
    {
      std::int64_t* acc = batch_acc_.data() + static_cast<std::size_t>(omp_get_thread_num()) * batch_per_thread_;
      GroupScratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
      const std::size_t n = n_, d = d_, block = block_;
      const float* const data = X_.values;
#pragma omp for schedule(static)
      for (std::size_t b = 0; b < n; b += block) {
        const std::size_t m = std::min(block, n - b);
        lloyd_batch_block(data + b * d, transposed(b, m, scratch), weights_at(b), d, m, batch, batch_bounds_.data(),
                          batch_stored_.data(), b, fscale, dscale, scratch, acc);
      }
    }
    bounds_.commit(batch, d_, batch_bounds_.data());
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
      if (batch_stored_[static_cast<std::size_t>(b)].labels) {
        // o holds the change since the slot's last pass: add it to the
        // running sums, which are the pass's sums.
        const std::size_t slot = static_cast<std::size_t>(batch.slots[b]);
        std::int64_t* run = slot_running_.data() + slot * running_size();
        if (batch_stored_[static_cast<std::size_t>(b)].fresh) std::fill(run, run + kk * (d_ + 1), 0);
        for (std::size_t c = 0; c < kk; ++c) o.counts[c] = run[c] += o.counts[c];
        for (std::size_t i = 0; i < kk * d_; ++i) o.sums[i] = run[kk + i] += o.sums[i];
      }
      off += kk * (d_ + 1) + 1;
    }
  }

  void kpp_potentials(const ModelBatch& batch, const float* candidates, const int* trials,
                      std::int64_t* out) override {
    const std::size_t values = check_batch(batch, trials);
    const float dscale = fp_.dist_scale();
    const bool in_place = kpp_in_place();
    plan_cache(batch);
    // Only the potentials' part of each thread's accumulators (sized for a
    // Lloyd pass's k (d + 1) sums: zeroing all of it on each of k-means++'s
    // k passes was 2.5% of a run at k = 500, d = 256).
    for (int t = 0; t < threads_; ++t)
      std::fill_n(batch_acc_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(t) * batch_per_thread_),
                  values, 0);
#pragma omp parallel num_threads(threads_) if (parallel(values))
    {
      std::int64_t* acc = batch_acc_.data() + static_cast<std::size_t>(omp_get_thread_num()) * batch_per_thread_;
      GroupScratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
      for (std::size_t r = 0; r < n_; r += block_) {
        const std::size_t m = std::min(block_, n_ - r);
        const float* xt = in_place ? nullptr : transposed(r, m, scratch);  // once for every model
        std::int64_t* pot = acc;
        const float* cand = candidates;
        for (int b = 0; b < batch.models; ++b) {
          const float* closest = block_closest(batch, b, r, m, xt, scratch);
          if (in_place) {
            cpu::candidate_potentials_rows(X_.row(r), d_, m, cand, trials[b], closest, dscale, weights_at(r), pot[0],
                                           pot + 1, scratch, kept_for(batch, b, trials[b], r));
          } else {
            cpu::candidate_potentials(xt, d_, m, cand, trials[b], closest, dscale, weights_at(r), pot[0], pot + 1,
                                      kept_for(batch, b, trials[b], r));
          }
          ++pot;
          pot += trials[b];
          cand += static_cast<std::size_t>(trials[b]) * d_;
        }
      }
    }
    commit_cache(batch);
    commit_kept(batch, candidates, trials);
    std::fill(out, out + values, 0);
    for (int t = 0; t < threads_; ++t)
      for (std::size_t i = 0; i < values; ++i) out[i] += batch_acc_[static_cast<std::size_t>(t) * batch_per_thread_ + i];
  }

  void kpp_sample(const ModelBatch& batch, const std::int64_t* targets, const int* n_targets,
                  std::int64_t* out_rows) override {
    check_batch(batch, nullptr);
    const float dscale = fp_.dist_scale();
    const std::size_t T = tiles();
    plan_cache(batch);
    // In the steady state of k-means++ every model's cache only lacks the
    // centre its last potentials pass kept the distances of: no row is read.
    bool transpose = !kpp_in_place() && reads_rows(batch);
    // Each (model, tile) potential, blocks of rows in order.
#pragma omp parallel num_threads(threads_) if (parallel(static_cast<std::size_t>(batch.models)))
    {
      GroupScratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
      for (std::size_t t = 0; t < T; ++t) {
        const std::size_t begin = t * kPrefixTile, end = std::min(n_, begin + kPrefixTile);
        for (int b = 0; b < batch.models; ++b) tile_potential_[static_cast<std::size_t>(b) * T + t] = 0;
        for (std::size_t r = begin; r < end; r += block_) {
          const std::size_t m = std::min(block_, end - r);
          const float* xt = transpose ? transposed(r, m, scratch) : nullptr;  // once for every model
          for (int b = 0; b < batch.models; ++b)
            tile_potential_[static_cast<std::size_t>(b) * T + t] +=
                cpu::quantized_sum(block_closest(batch, b, r, m, xt, scratch), m, dscale, weights_at(r));
        }
      }
    }
    commit_cache(batch);
    transpose = !kpp_in_place() && reads_rows(batch);  // now only models without a cache
    // Each target: the tile holding it, then that tile's rows in order.
    GroupScratch& scratch = scratch_[0];
    std::size_t o = 0;
    for (int b = 0; b < batch.models; ++b) {
      const std::int64_t* tp = tile_potential_.data() + static_cast<std::size_t>(b) * T;
      for (int i = 0; i < n_targets[b]; ++i, ++o) {
        const std::int64_t target = targets[o];
        std::int64_t before = 0;
        std::size_t tile = 0;
        while (tile + 1 < T && before + tp[tile] <= target) before += tp[tile++];
        const std::size_t begin = tile * kPrefixTile, end = std::min(n_, begin + kPrefixTile);
        std::size_t row = end - 1;
        std::int64_t prefix = before;
        for (std::size_t r = begin; r < end && row == end - 1; r += block_) {
          const std::size_t m = std::min(block_, end - r);
          const float* closest =
              block_closest(batch, b, r, m, transpose ? transposed(r, m, scratch) : nullptr, scratch);
          // A block that cannot hold the target is passed over with one
          // (vectorised) sum; the row-by-row prefix runs in one block only.
          const std::int64_t block = cpu::quantized_sum(closest, m, dscale, weights_at(r));
          if (prefix + block <= target && r + block_ < end) {
            prefix += block;
            continue;
          }
          for (std::size_t i = 0; i < m; ++i) {
            prefix += (w_ ? w_[r + i] : 1) * quantize_distance(closest[i], dscale);
            if (prefix > target) {
              row = r + i;
              break;
            }
          }
        }
        out_rows[o] = static_cast<std::int64_t>(row);
      }
    }
  }

  void dispersion(const float* centers, int k, const std::int32_t* labels, std::int64_t* out_sq,
                  std::int64_t* out_root) override {
    check_k(k);
    const float dscale = fp_.dist_scale();
    const float rscale = fp_.root_scale();
    const std::size_t kk = static_cast<std::size_t>(k);
    std::fill(out_sq, out_sq + kk, 0);
    std::fill(out_root, out_root + kk, 0);
#pragma omp parallel num_threads(threads_) if (parallel(1))
    {
      std::int64_t* acc = thread_acc_.data() + static_cast<std::size_t>(omp_get_thread_num()) * per_thread_;
      GroupScratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
      std::fill(acc, acc + 2 * kk, 0);
#pragma omp for schedule(static)
      for (std::size_t r = 0; r < n_; r += block_) {
        const std::size_t m = std::min(block_, n_ - r);
        const std::int32_t* lab = labels + r;
        cpu::assigned_distances(transposed(r, m, scratch), d_, m, centers, lab, scratch.best, scratch.aux.data());
        for (std::size_t i = 0; i < m; ++i) {
          const float d2 = scratch.best[i];
          const std::int64_t w = w_ ? w_[r + i] : 1;
          acc[lab[i]] += w * quantize_distance(d2, dscale);
          acc[kk + static_cast<std::size_t>(lab[i])] += w * quantize_distance(std::sqrt(d2), rscale);
        }
      }
#pragma omp critical
      for (std::size_t c = 0; c < kk; ++c) {
        out_sq[c] += acc[c];
        out_root[c] += acc[kk + c];
      }
    }
  }

  void silhouette(MatrixView Y, const std::int32_t* labels, int k, double* out) override {
    cpu_silhouette(Y, labels, k, threads_, out);
  }

 private:
  void check_k(int k) const {
    if (k < 1 || k > k_max_) throw std::logic_error("CpuBackend: k outside the bound range");
  }

  void require_labels() const {
    if (labels_.size() != n_) throw std::logic_error("CpuBackend: the stored labels were taken");
  }

  /// Whether a pass over every row against `centres` centres runs on
  /// several threads.  Threads only pay off on enough work: a sweep on a
  /// few thousand rows runs thousands of tiny passes, where fork/join would
  /// dominate (and, on a busy machine, spinning threads wait for
  /// descheduled ones); many rows, or few rows against many wide centres,
  /// pay.  The results are the same either way.
  bool parallel(std::size_t centres) const {
    return threads_ > 1 && (n_ >= kMinParallelRows || n_ * d_ * centres >= kMinParallelWork);
  }

  /// [k_max counts | k_max x d sums]: the running sums' size per slot.
  std::size_t running_size() const { return static_cast<std::size_t>(k_max_) * (d_ + 1); }

  /// Before a Lloyd batch pass: each model's stored labels, when its slot
  /// has them and its sums would otherwise scatter every row (sums_by_mask
  /// models recount: their masked pass costs less than the bookkeeping).
  /// A slot last used with another k starts over (labels -1).
  void plan_stored(const ModelBatch& batch) {
    for (int b = 0; b < batch.models; ++b) {
      StoredLabels& st = batch_stored_[static_cast<std::size_t>(b)];
      st = StoredLabels{};
      const int slot = batch.slots ? batch.slots[b] : -1;
      const int k = batch.ks[b];
      if (slot < 0 || slot >= sum_slots_ || cpu::sums_by_mask(static_cast<std::size_t>(k), d_)) continue;
      const std::size_t sl = static_cast<std::size_t>(slot);
      st.labels = slot_labels_.data() + sl * n_;
      st.fresh = slot_k_[sl] != k;
      if (st.fresh && slot_k_[sl] != 0) std::fill(st.labels, st.labels + n_, -1);
      slot_k_[sl] = k;
    }
  }

  /// Before a k-means++ pass: for each model of the batch, its cache slot
  /// (or none) and the first of its centres not yet folded into the cache.
  /// A slot whose recorded centres are not a prefix of the model's current
  /// centres starts over, so the cache can never serve stale distances.
  void plan_cache(const ModelBatch& batch) {
    const float* centers = batch.centers;
    batch_offsets_[0] = 0;
    for (int b = 0; b < batch.models; ++b) {
      const std::size_t kd = static_cast<std::size_t>(batch.ks[b]) * d_;
      batch_offsets_[static_cast<std::size_t>(b) + 1] = batch_offsets_[static_cast<std::size_t>(b)] + kd;
      const int slot = batch.slots ? batch.slots[b] : -1;
      if (slot >= 0 && slot < cache_slots_) {
        batch_cache_[static_cast<std::size_t>(b)] = cache_.data() + static_cast<std::size_t>(slot) * n_;
        const int from = folded_prefix(cached_centres_[static_cast<std::size_t>(slot)], centers, batch.ks[b], d_);
        batch_fold_[static_cast<std::size_t>(b)] = from;
        batch_kept_[static_cast<std::size_t>(b)] =
            from >= 1 && from + 1 == batch.ks[b] ? kept_distances_of(slot, centers + static_cast<std::size_t>(from) * d_)
                                                 : nullptr;
      } else {
        batch_cache_[static_cast<std::size_t>(b)] = nullptr;
        batch_kept_[static_cast<std::size_t>(b)] = nullptr;
      }
      centers += kd;
    }
  }

  /// After the pass: the cached slots now hold every centre of their model
  /// (later reads in the same call fold nothing more).
  void commit_cache(const ModelBatch& batch) {
    const float* centers = batch.centers;
    for (int b = 0; b < batch.models; ++b) {
      const std::size_t kd = static_cast<std::size_t>(batch.ks[b]) * d_;
      if (batch_cache_[static_cast<std::size_t>(b)]) {
        cached_centres_[static_cast<std::size_t>(batch.slots[b])].assign(centers, centers + kd);
        batch_fold_[static_cast<std::size_t>(b)] = batch.ks[b];
        batch_kept_[static_cast<std::size_t>(b)] = nullptr;  // folded
      }
      centers += kd;
    }
  }

  /// Rows [r, r + m) (r a multiple of block_) in the kernels' transposed
  /// layout: from the copy of the whole data when bind made one, else
  /// transposed into the thread's scratch.
  const float* transposed(std::size_t r, std::size_t m, GroupScratch& s) const {
    if (!xt_all_.empty()) return xt_all_.data() + r * d_;
    cpu::transpose_block(X_.row(r), d_, m, s);
    return s.xt.data();
  }

  /// Whether the k-means++ kernels read the rows in place instead of a
  /// transposed block (cpu::closest_rows, candidate_potentials_rows): at
  /// d <= 2, when bind made no transposed copy of the whole data.  There a
  /// group of rows is two loads and two shuffles, and transposing each block
  /// into scratch first was 15% of BM_KMeansPlusPlus/threads:1, a pass over
  /// the data that c66858e's kernels never made.
  bool kpp_in_place() const { return d_ <= 2 && xt_all_.empty(); }

  /// Whether block_closest computes distances for some model of the batch:
  /// one without a cache, or whose cache lacks centres that no kept
  /// candidate distances can supply.  Where it is false, xt may be null.
  bool reads_rows(const ModelBatch& batch) const {
    for (int b = 0; b < batch.models; ++b) {
      const std::size_t i = static_cast<std::size_t>(b);
      if (!batch_cache_[i] || (!batch_kept_[i] && batch_fold_[i] < batch.ks[b])) return true;
    }
    return false;
  }

  /// The nearest-centre distances of rows [r, r + m) (transposed: xt, or
  /// null: read in place) under model b's centres: from the cache (folding
  /// in the centres it lacks), or computed into the thread's scratch.
  const float* block_closest(const ModelBatch& batch, int b, std::size_t r, std::size_t m, const float* xt,
                             GroupScratch& s) {
    const float* centers = batch.centers + batch_offsets_[static_cast<std::size_t>(b)];
    const int k = batch.ks[b];
    float* cache = batch_cache_[static_cast<std::size_t>(b)];
    if (!cache) {
      closest_of(xt, r, m, centers, k, true, s.best, s);
      return s.best;
    }
    const int from = batch_fold_[static_cast<std::size_t>(b)];
    if (const float* kept = batch_kept_[static_cast<std::size_t>(b)]) {
      cpu::fold_distances(kept + r, m, cache + r);  // the one new centre, a candidate of the last pass
    } else if (from < k) {
      closest_of(xt, r, m, centers + static_cast<std::size_t>(from) * d_, k - from, from == 0, cache + r, s);
    }
    return cache + r;
  }

  /// cpu::closest_block on the transposed block xt of rows [r, r + m), or
  /// with xt null on the rows in place.
  void closest_of(const float* xt, std::size_t r, std::size_t m, const float* centers, int k, bool init,
                  float* closest, GroupScratch& s) const {
    if (xt) {
      cpu::closest_block(xt, d_, m, centers, k, init, closest);
    } else {
      cpu::closest_rows(X_.row(r), d_, m, centers, k, init, closest, s);
    }
  }

  /// The kept distances of candidate `centre` (d floats) in cache slot
  /// `slot`, when the slot's last k-means++ pass kept that very vector
  /// (bit for bit: the same floats give the same distances), else null.
  const float* kept_distances_of(int slot, const float* centre) const {
    const std::vector<float>& cands = kept_cands_[static_cast<std::size_t>(slot)];
    const std::size_t kept = cands.size() / std::max<std::size_t>(d_, 1);
    for (std::size_t t = 0; t < kept; ++t)
      if (std::memcmp(cands.data() + t * d_, centre, d_ * sizeof(float)) == 0)
        return kept_.data() + (static_cast<std::size_t>(slot) * static_cast<std::size_t>(kept_trials_) + t) * kept_stride_;
    return nullptr;
  }

  /// Where model b of a k-means++ pass keeps its candidates' distances
  /// for the rows from r (cached models only; none without kept_trials_).
  cpu::CandidateDistances kept_for(const ModelBatch& batch, int b, int trials, std::size_t r) {
    cpu::CandidateDistances keep;
    if (!batch_cache_[static_cast<std::size_t>(b)] || kept_trials_ == 0) return keep;
    const std::size_t slot = static_cast<std::size_t>(batch.slots[b]);
    keep.dists = kept_.data() + slot * static_cast<std::size_t>(kept_trials_) * kept_stride_ + r;
    keep.stride = kept_stride_;
    keep.trials = std::min(trials, kept_trials_);
    return keep;
  }

  /// After a k-means++ pass: which candidates each cached model's kept
  /// distances now belong to.
  void commit_kept(const ModelBatch& batch, const float* candidates, const int* trials) {
    for (int b = 0; b < batch.models; ++b) {
      const std::size_t nd = static_cast<std::size_t>(trials[b]) * d_;
      if (batch_cache_[static_cast<std::size_t>(b)] && kept_trials_ > 0) {
        const std::size_t kept = static_cast<std::size_t>(std::min(trials[b], kept_trials_)) * d_;
        kept_cands_[static_cast<std::size_t>(batch.slots[b])].assign(candidates, candidates + kept);
      }
      candidates += nd;
    }
  }

  std::size_t tiles() const { return (n_ + kPrefixTile - 1) / kPrefixTile; }

  /// The quantized weights of the rows from r on, or null (no weights).
  const std::int32_t* weights_at(std::size_t r) const { return w_ ? w_ + r : nullptr; }

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
  MatrixView X_;
  const std::int32_t* w_ = nullptr;  // the bound rows' quantized weights, or null (every row 1)
  FixedPoint fp_;
  std::size_t n_ = 0, d_ = 0;
  std::size_t block_ = kBlock;  // rows per block (block_rows(d_))
  int k_max_ = 1;
  std::vector<std::int32_t> labels_;
  std::vector<std::int64_t> tile_potential_;  // model x tile k-means++ potentials
  std::vector<std::int64_t> batch_acc_;       // per thread: the batch passes' partial sums
  std::size_t batch_per_thread_ = 0;
  std::vector<std::size_t> batch_offsets_;    // centre offset of each model of a batch
  std::vector<float*> batch_cache_;           // per model of a k-means++ pass: its cached distances or null
  std::vector<int> batch_fold_;               // per model: its first centre not in the cache yet
  int cache_slots_ = 0;                       // models whose k-means++ distances fit the cache
  std::vector<float> cache_;                  // slot x n nearest-centre distances
  std::vector<float> xt_all_;                 // the rows transposed group by group (d >= 3), or empty
  cpu::LloydBounds bounds_;                   // per model slot: labels and bounds of its last Lloyd pass
  std::vector<cpu::ModelBounds> batch_bounds_;  // per model of the current batch pass
  // Stored labels and running sums of the batch's models, per slot
  // (ModelBatch::slots): a slot's running sums are the sums under its
  // stored labels, valid for any centres, so a pass adds only the change.
  int sum_slots_ = 0;                         // slots with stored labels (budget: reserve_batch)
  std::vector<std::int32_t> slot_labels_;     // slot x n
  std::vector<std::int64_t> slot_running_;    // slot x [k_max counts | k_max x d sums]
  std::vector<int> slot_k_;                   // the k of the slot's labels and sums; 0: none yet
  std::vector<StoredLabels> batch_stored_;    // per model of the current batch pass
  std::vector<std::vector<float>> cached_centres_;  // per slot: the centres folded into it
  int kept_trials_ = 0;                       // candidates whose distances each cache slot keeps
  std::size_t kept_stride_ = 0;               // floats per kept candidate (n rounded up to a group)
  std::vector<float> kept_;                   // slot x kept_trials_ x kept_stride_ candidate distances
  std::vector<std::vector<float>> kept_cands_;  // per slot: the candidates (d floats each) kept_ holds
  std::vector<const float*> batch_kept_;      // per model of a k-means++ pass: its new centre's kept distances
  int max_models_ = 0, max_total_k_ = 0;      // reserve_batch's sizes
  std::vector<std::int64_t> thread_acc_;
  std::size_t per_thread_ = 0;
  std::vector<GroupScratch> scratch_;  // per thread
  std::vector<std::int64_t> running_;  // [k counts | k x d sums] of the stored labels
  int running_k_ = 0;                  // the k that running_ and labels_ belong to
  bool fresh_ = true;                  // every stored label is -1
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

}  // namespace archetype
