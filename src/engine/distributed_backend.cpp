#include "engine/distributed_backend.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "engine/cpu_silhouette.hpp"
#include "engine/split_ops.hpp"

namespace archetype {
namespace {

/// Rows per broadcast piece of the exact silhouette: about 8 MiB of
/// features, at least 1,024 rows (a few broadcasts per rank for small d).
std::size_t silhouette_piece_rows(std::size_t d) {
  return std::max<std::size_t>(1024, (std::size_t{8} << 20) / (sizeof(float) * std::max<std::size_t>(d, 1)));
}

bool same_floats(const float* a, const float* b, std::size_t n) {
  return n == 0 || std::memcmp(a, b, n * sizeof(float)) == 0;
}

class DistributedBackend final : public Backend {
 public:
  DistributedBackend(std::unique_ptr<Backend> inner, const RowSplit& split, std::size_t silhouette_piece_rows)
      : inner_(std::move(inner)), split_(split), comm_(*split_.comm), piece_rows_(silhouette_piece_rows) {}

  std::string name() const override { return inner_->name(); }
  std::string device() const override { return inner_->device(); }
  const RowSplit* row_split() const override { return &split_; }

  using Backend::bind;
  /// weights: this process's rows' (the passes' weighted sums are then
  /// all-reduced like the unweighted ones).
  void bind(MatrixView X, const std::int32_t* weights, const FixedPoint& fp, int k_max) override {
    if (X.rows != split_.rows) throw std::logic_error("distributed backend: bound to other rows than its share");
    d_ = X.cols;
    if (has_rows()) inner_->bind(X, weights, fp, k_max);
  }

  void reset_labels() override {
    if (has_rows()) inner_->reset_labels();
  }
  void lloyd_pass(const float* centers, int k, PassSums& out) override {
    if (has_rows()) {
      inner_->lloyd_pass(centers, k, out);
    } else {
      out.resize(static_cast<std::size_t>(k), d_);
    }
    allreduce_pass_sums(comm_, &out, 1, true);
  }
  void copy_labels(std::int32_t* out) const override {
    if (has_rows()) inner_->copy_labels(out);
  }
  void take_labels(std::vector<std::int32_t>& out) override {
    if (has_rows()) {
      inner_->take_labels(out);
    } else {
      std::vector<std::int32_t>().swap(out);
    }
  }
  void gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out) const override {
    if (m > 0) inner_->gather_labels(rows, m, out);
  }

  void reserve_batch(int max_models, int max_total_k) override {
    if (has_rows()) inner_->reserve_batch(max_models, max_total_k);
  }
  void lloyd_batch(const ModelBatch& batch, PassSums* out) override {
    if (has_rows()) {
      inner_->lloyd_batch(batch, out);
    } else {
      for (int b = 0; b < batch.models; ++b) {
        out[b].resize(static_cast<std::size_t>(batch.ks[b]), d_);
        out[b].changed = -1;
      }
    }
    allreduce_pass_sums(comm_, out, static_cast<std::size_t>(batch.models), false);
  }

  void kpp_potentials(const ModelBatch& batch, const float* candidates, const int* trials,
                      std::int64_t* out) override {
    std::size_t values = 0;
    for (int b = 0; b < batch.models; ++b) values += 1 + static_cast<std::size_t>(trials[b]);
    if (has_rows()) {
      inner_->kpp_potentials(batch, candidates, trials, out);
    } else {
      std::fill(out, out + values, 0);
    }
    remember_potentials(batch, candidates, trials, out);
    comm_.allreduce_sum(out, values);
  }

  void kpp_sample(const ModelBatch& batch, const std::int64_t* targets, const int* n_targets,
                  std::int64_t* out_rows) override {
    const std::size_t M = static_cast<std::size_t>(batch.models), N = split_.counts.size();
    const std::vector<std::int64_t> mine = local_potentials(batch);
    std::vector<std::int64_t> all(N * M);
    comm_.allgather(mine.data(), M * sizeof(std::int64_t), all.data());
    // Each target's rank: the one whose share of the model's potential, in
    // rank (= row) order, holds it; the rank's own prefix then finds the row.
    std::size_t total = 0;
    for (std::size_t b = 0; b < M; ++b) total += static_cast<std::size_t>(n_targets[b]);
    std::vector<std::int64_t> local_targets, local_rows;
    std::vector<int> local_n(M, 0);
    std::vector<std::size_t> where;
    const std::size_t me = static_cast<std::size_t>(comm_.rank());
    std::size_t o = 0;
    for (std::size_t b = 0; b < M; ++b)
      for (int t = 0; t < n_targets[b]; ++t, ++o) {
        std::int64_t before = 0;
        std::size_t r = 0;
        while (r + 1 < N && before + all[r * M + b] <= targets[o]) before += all[(r++) * M + b];
        if (r != me) continue;
        local_targets.push_back(targets[o] - before);
        local_n[b] += 1;
        where.push_back(o);
      }
    std::vector<std::int64_t> rows(total, 0);
    if (!local_targets.empty()) {
      local_rows.resize(local_targets.size());
      inner_->kpp_sample(batch, local_targets.data(), local_n.data(), local_rows.data());
      for (std::size_t i = 0; i < where.size(); ++i)
        rows[where[i]] = local_rows[i] + static_cast<std::int64_t>(split_.offset);
    }
    comm_.allreduce_sum(rows.data(), total);  // each row from its owner, zeros elsewhere
    std::copy(rows.begin(), rows.end(), out_rows);
  }

  void dispersion(const float* centers, int k, const std::int32_t* labels, std::int64_t* out_sq,
                  std::int64_t* out_root) override {
    const std::size_t kk = static_cast<std::size_t>(k);
    std::vector<std::int64_t> both(2 * kk, 0);
    if (has_rows()) inner_->dispersion(centers, k, labels, both.data(), both.data() + kk);
    comm_.allreduce_sum(both.data(), both.size());
    std::copy(both.begin(), both.begin() + static_cast<std::ptrdiff_t>(kk), out_sq);
    std::copy(both.begin() + static_cast<std::ptrdiff_t>(kk), both.end(), out_root);
  }

  /// Y: this rank's share of the evaluated rows (all ranks' shares, in rank
  /// order, are the evaluated rows in row order).  Every rank's rows reach
  /// every rank in row order, rank after rank, in broadcast pieces of at
  /// most piece_rows_ rows; each rank adds every piece to the scores of its
  /// own rows in the canonical order (SilhouetteAccumulator): the same bits
  /// as one process, with this rank's rows' state and one piece in memory.
  /// On the host CPU whatever the inner backend.
  void silhouette(MatrixView Y, const std::int32_t* labels, int k, double* out) override {
    // Every rank's row count, and the width (a rank without rows may not know it).
    const std::array<std::uint64_t, 2> mine = {Y.rows, Y.cols};
    const std::vector<std::array<std::uint64_t, 2>> shape = allgather_value(comm_, mine);
    std::vector<std::size_t> counts;
    std::size_t total = 0, d = 0;
    for (const auto& s : shape) {
      counts.push_back(static_cast<std::size_t>(s[0]));
      total += counts.back();
      if (s[0] > 0) d = static_cast<std::size_t>(s[1]);
    }
    const std::size_t piece_rows = piece_rows_ > 0 ? piece_rows_ : silhouette_piece_rows(d);
    SilhouetteAccumulator scores(Y, labels, k, 0, total);
    std::vector<float> rows;
    std::vector<std::int32_t> piece_labels;
    for (int r = 0; r < comm_.size(); ++r) {
      const std::size_t n = counts[static_cast<std::size_t>(r)];
      for (std::size_t at = 0; at < n; at += piece_rows) {
        const std::size_t m = std::min(piece_rows, n - at);
        rows.resize(m * d);
        piece_labels.resize(m);
        if (r == comm_.rank()) {
          std::copy(Y.values + at * d, Y.values + (at + m) * d, rows.begin());
          std::copy(labels + at, labels + at + m, piece_labels.begin());
        }
        if (d > 0) comm_.broadcast(rows.data(), m * d * sizeof(float), r);
        comm_.broadcast(piece_labels.data(), m * sizeof(std::int32_t), r);
        scores.add(MatrixView(rows.data(), m, d), piece_labels.data());
      }
    }
    scores.finish(out);
  }

 private:
  bool has_rows() const { return split_.rows > 0; }

  /// The last kpp_potentials call, this rank's values before the sum: the
  /// k-means++ step after it samples from the centres it scored (the first
  /// centres, or those plus the candidate kept), whose local potential is
  /// then known without a pass.
  struct Scored {
    int slot = -1;  ///< ModelBatch::slots, when given: the entry to look at first
    int k = 0, trials = 0;
    std::vector<float> centers, candidates;
    std::vector<std::int64_t> local;  ///< 1 + trials values
  };
  void remember_potentials(const ModelBatch& batch, const float* candidates, const int* trials,
                           const std::int64_t* local) {
    scored_.resize(static_cast<std::size_t>(batch.models));
    const float* c = batch.centers;
    const float* cand = candidates;
    for (int b = 0; b < batch.models; ++b) {
      Scored& s = scored_[static_cast<std::size_t>(b)];
      const std::size_t kd = static_cast<std::size_t>(batch.ks[b]) * d_, td = static_cast<std::size_t>(trials[b]) * d_;
      s.slot = batch.slots ? batch.slots[b] : -1;
      s.k = batch.ks[b];
      s.trials = trials[b];
      s.centers.assign(c, c + kd);
      s.candidates.assign(cand, cand + (cand ? td : 0));
      s.local.assign(local, local + 1 + trials[b]);
      c += kd;
      if (cand) cand += td;
      local += 1 + trials[b];
    }
  }
  /// This rank's potential of each model's centres: from the last scoring
  /// when it holds them (compared bit for bit, so a hit is the value a pass
  /// would give), else from one potentials pass over this rank's rows.
  std::vector<std::int64_t> local_potentials(const ModelBatch& batch) {
    const std::size_t M = static_cast<std::size_t>(batch.models);
    std::vector<std::int64_t> out(M, 0);
    bool all_known = true;
    const float* c = batch.centers;
    for (std::size_t b = 0; b < M; ++b) {
      const std::size_t kd = static_cast<std::size_t>(batch.ks[b]) * d_;
      // With slots, only the entry of the same slot is compared (a wide
      // sweep would otherwise compare every model's centres with every
      // other's); without, every entry.
      bool known = false;
      for (const Scored& s : scored_) {
        if (batch.slots && s.slot != batch.slots[b]) continue;
        known = scored_potential(s, c, batch.ks[b], out[b]);
        if (known) break;
      }
      all_known = all_known && known;
      c += kd;
    }
    if (!all_known && has_rows()) {
      const std::vector<int> none(M, 0);
      inner_->kpp_potentials(batch, nullptr, none.data(), out.data());
    }
    return out;
  }

  /// The local potential of centres c (k of them) if `s` scored them: the
  /// same k centres, or its k - 1 centres plus one of its candidates.
  bool scored_potential(const Scored& s, const float* c, int k, std::int64_t& out) const {
    const std::size_t kd = static_cast<std::size_t>(k) * d_;
    if (s.k == k && same_floats(s.centers.data(), c, kd)) {
      out = s.local[0];
      return true;
    }
    if (s.k != k - 1 || !same_floats(s.centers.data(), c, kd - d_)) return false;
    for (int t = 0; t < s.trials; ++t)
      if (same_floats(s.candidates.data() + static_cast<std::size_t>(t) * d_, c + kd - d_, d_)) {
        out = s.local[1 + static_cast<std::size_t>(t)];
        return true;
      }
    return false;
  }

  std::unique_ptr<Backend> inner_;
  RowSplit split_;
  Communicator& comm_;
  std::size_t piece_rows_;  ///< the silhouette's pieces; 0: silhouette_piece_rows(d)
  std::size_t d_ = 0;
  std::vector<Scored> scored_;
};

}  // namespace

std::unique_ptr<Backend> make_distributed_backend(std::unique_ptr<Backend> inner, const RowSplit& split,
                                                  std::size_t silhouette_piece_rows) {
  return std::make_unique<DistributedBackend>(std::move(inner), split, silhouette_piece_rows);
}

}  // namespace archetype
