// The Clusterer (clusterer.hpp): argument checks, lazy binding and the auto
// fallback around the engine's free functions, which do the work.
#include "archetype/clusterer.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "archetype/error.hpp"
#include "engine/backend_select.hpp"
#include "engine/clusterer_access.hpp"
#include "engine/clusterer_impl.hpp"
#include "engine/distributed_backend.hpp"
#include "engine/host_assign.hpp"
#include "engine/label_check.hpp"
#include "engine/split_ops.hpp"

namespace archetype {
namespace {

/// k clusters of n rows: InputError unless 1 <= k <= n (checked before any
/// binding, so a huge k is refused before it sizes scratch).
void check_k(int k, std::size_t n) {
  if (k < 1 || static_cast<std::size_t>(k) > n)
    throw InputError("k = " + std::to_string(k) + " is outside [1, " + std::to_string(n) + "] (the number of rows)");
}

void check_centers(const std::vector<double>& centers, int k, std::size_t d) {
  if (k < 1) throw InputError("k = " + std::to_string(k) + " must be at least 1");
  if (centers.size() != static_cast<std::size_t>(k) * d)
    throw InputError(std::to_string(centers.size()) + " centre values for k = " + std::to_string(k) + " and " +
                     std::to_string(d) + " features (expected k x d)");
}

/// `inner` with EngineOptions::poll called first (poll may throw).
FitProgress polled(const std::function<void()>& poll, FitProgress inner) {
  if (!poll) return inner;
  return [poll, inner = std::move(inner)](const char* stage, int live, int models, long long passes) {
    poll();
    if (inner) inner(stage, live, models, passes);
  };
}

}  // namespace

Clusterer::Impl::Impl(const DataView& view, const EngineOptions& opts) : options(opts) {
  prepare(view);
  BackendRequest r;
  r.name = options.backend;
  r.threads = options.threads;
  r.device = options.device;
  r.rows = data.view.rows;
  r.cols = data.view.cols;
  // Creating the CUDA backend can fail too (a stream, the device's
  // properties): the same fallback as for a call.
  with_fallback([&] {
    if (!fell_back) backend = select_backend(r, [this](const std::string& line) { say(line); });
  });
  if (split) backend = make_distributed_backend(std::move(backend), *split);
}

Clusterer::Impl::Impl(const DataView& view, const EngineOptions& opts, std::unique_ptr<Backend> b)
    : options(opts), backend(std::move(b)) {
  prepare(view);
  if (split) backend = make_distributed_backend(std::move(backend), *split);
}

void Clusterer::Impl::agree_on_labels(const std::vector<std::int32_t>& labels, int k) const {
  // Under a split each rank checks its own rows' labels; all must pass
  // before any rank enters the call's collectives.
  if (split) agree(split->comm, [&] { check_labels(labels, data.view.rows, k, split->offset); });
}

void Clusterer::Impl::prepare(const DataView& view) {
  Communicator* comm = options.communicator;
  if (comm && comm->size() > 1) split = std::make_unique<RowSplit>(RowSplit::of(*comm, view.rows));
  // A value error names the row among all rows; every rank agrees on the first.
  agree(split ? comm : nullptr, [&] { data = prepare_data(view, split ? split->offset : 0, split != nullptr); });
  if (split && split->total == 0) throw InputError("the data are empty (no process holds a row)");
  if (!data.copy.values.empty()) data.view = data.copy;  // the copy's own address, after the moves
  // sample_weight: each process passes its own rows' (one without rows may
  // pass none); the grid is all rows'.  Whether there are weights is
  // agreed first, so that every process takes the same path.
  bool weighted = view.sample_weight != nullptr;
  if (split) {
    weighted = allreduce_or(*comm, weighted);
    if (weighted)
      agree(comm, [&] {
        if (!view.sample_weight && view.rows > 0)
          throw InputError("sample_weight: given by the other processes but not by this one");
      });
  }
  weights = weighted ? WeightGrid::of(view.sample_weight, view.rows, split.get())
                     : WeightGrid::ones(split ? split->total : view.rows);
  fp = fixed_point_for_data(data.view, split.get(), &weights);
}

void Clusterer::Impl::bind(int k) {
  if (bound_k >= k) return;
  bound_k = 0;  // a bind that throws may have freed the old binding: the next call binds again
  backend->bind(data.view, weights.data(), fp, k);
  bound_k = k;
}

void Clusterer::Impl::fall_back_to_cpu() {
  backend = make_cpu_backend(options.threads);
  bound_k = 0;
  fell_back = true;
}

Clusterer::Clusterer(const DataView& data, const EngineOptions& options)
    : impl_(std::make_unique<Impl>(data, options)) {}
Clusterer::Clusterer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Clusterer::~Clusterer() = default;
Clusterer::Clusterer(Clusterer&&) noexcept = default;
Clusterer& Clusterer::operator=(Clusterer&&) noexcept = default;

Clusterer ClustererAccess::with_backend(const DataView& data, const EngineOptions& options,
                                        std::unique_ptr<Backend> backend) {
  return Clusterer(std::make_unique<Clusterer::Impl>(data, options, std::move(backend)));
}

KMeansResult Clusterer::fit(const KMeansParams& params) {
  check_k(params.n_clusters, rows());
  return impl_->with_fallback([&] {
    impl_->bind(params.n_clusters);
    return fit_kmeans(*impl_->backend, impl_->data.view, impl_->fp, params, &impl_->weights,
                      polled(impl_->options.poll, {}));
  });
}

SweepResult Clusterer::sweep(const SweepParams& params, int keep_k) {
  // k beyond the rows are skipped by run_sweep: no scratch for them.
  const int k_bound = static_cast<int>(std::clamp<long long>(params.k_max, 1, static_cast<long long>(rows())));
  SweepParams p = params;
  if (const std::function<void()>& poll = impl_->options.poll) {
    p.progress = polled(poll, params.progress);
    p.on_scored = [poll, inner = params.on_scored](int k, int done, int total) {
      if (inner) inner(k, done, total);
      poll();
    };
  }
  return impl_->with_fallback([&] {
    impl_->bind(k_bound);
    return run_sweep(*impl_->backend, impl_->data.view, impl_->fp, p, keep_k, &impl_->weights);
  });
}

Prediction Clusterer::predict(const std::vector<double>& centers, int k) {
  check_centers(centers, k, cols());
  return impl_->with_fallback([&] {
    Prediction p;
    impl_->bound_k = 0;  // assign_labels binds with the centres' grids
    p.inertia = assign_labels(*impl_->backend, impl_->data.view, centers, k, p.labels, &impl_->weights);
    return p;
  });
}

std::vector<double> Clusterer::transform(const std::vector<double>& centers, int k) const {
  check_centers(centers, k, cols());
  const std::vector<float> cf(centers.begin(), centers.end());
  std::vector<double> out(impl_->data.view.rows * static_cast<std::size_t>(k));  // this process's rows
  centre_distances(impl_->data.view, cf.data(), k, out.data());
  return out;
}

SilhouetteResult Clusterer::silhouette(const std::vector<std::int32_t>& labels, int k,
                                       const SilhouetteParams& params) {
  check_k(k, rows());
  impl_->agree_on_labels(labels, k);
  return impl_->with_fallback(
      [&] { return archetype::silhouette(*impl_->backend, impl_->data.view, labels, k, params); });
}

DispersionScores Clusterer::dispersion(const std::vector<std::int32_t>& labels, int k) {
  check_k(k, rows());
  impl_->agree_on_labels(labels, k);
  return impl_->with_fallback([&] {
    impl_->bind(k);
    return dispersion_scores(*impl_->backend, impl_->data.view, impl_->fp, labels, k, &impl_->weights);
  });
}

std::vector<FeatureProfile> Clusterer::profile() const {
  std::vector<FeatureProfile> out;
  for (std::size_t j = 0; j < cols(); ++j)
    out.push_back(impl_->split ? profile_feature(impl_->data.view, j, *impl_->split) : profile_feature(impl_->data.view, j));
  return out;
}

std::size_t Clusterer::rows() const { return impl_->split ? impl_->split->total : impl_->data.view.rows; }
std::size_t Clusterer::cols() const { return impl_->data.view.cols; }
std::string Clusterer::backend_name() const { return impl_->backend->name(); }
std::string Clusterer::device() const { return impl_->backend->device(); }
const FixedPoint& Clusterer::fixed_point() const { return impl_->fp; }
const WeightGrid& Clusterer::weights() const { return impl_->weights; }
MatrixView Clusterer::data() const { return impl_->data.view; }

}  // namespace archetype
