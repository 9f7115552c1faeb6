// Whole-algorithm benchmarks on top of the CPU backend: a full fit_kmeans
// (k-means++ seeding + Lloyd to convergence, n_init restarts, the stability
// ARI between the restarts), a k-means++ proxy, and a k sweep with sampled
// silhouette, Calinski-Harabasz and Davies-Bouldin per k.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/fixed_point.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/sweep.hpp"
#include "bench_data.hpp"

namespace {

using namespace archetype;

/// n x 2 blobs, generated once per size for all the benchmarks below.
const Matrix& blobs_2d(std::size_t n) {
  static std::map<std::size_t, Matrix> cache;
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, bench::blobs(n, 2)).first;
  return it->second;
}

/// fit_kmeans on n x 2 blobs, k = 5; args: rows, n_init, threads.  The
/// 100,000-row case is for scripts/bench_compare.py --quick.
/// Counter lloyd_iters: Lloyd iterations summed over the n_init runs of one fit.
void BM_KMeansFit(benchmark::State& state) {
  const Matrix& X = blobs_2d(static_cast<std::size_t>(state.range(0)));
  const int n_init = static_cast<int>(state.range(1));
  const int threads = static_cast<int>(state.range(2));
  const int k = 5;
  auto backend = make_cpu_backend(threads);
  const FixedPoint fp = FixedPoint::for_data(X);
  backend->bind(X, fp, k);
  KMeansParams params;
  params.n_clusters = k;
  params.n_init = n_init;
  double iters = 0.0;
  for (auto _ : state) {
    KMeansResult res = fit_kmeans(*backend, X, fp, params);
    for (const KMeansRun& run : res.runs) iters += run.n_iter;
    benchmark::DoNotOptimize(res.inertia);
  }
  state.counters["lloyd_iters"] = iters / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(X.rows));
}
BENCHMARK(BM_KMeansFit)
    ->ArgNames({"rows", "n_init", "threads"})
    ->Args({1000000, 1, 1})
    ->Args({1000000, 1, 2})
    ->Args({1000000, 10, 1})
    ->Args({1000000, 10, 2})
    ->Args({100000, 10, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// fit_kmeans on 1,000,000 x 2 blobs, k = 5, n_init = 10, 2 threads, with
/// sample weights against without; arg: weights (0: none, 1: all 1, 2:
/// integers 1..4, 3: real weights in (0.1, 4], 24-bit grid).  The same
/// data and seeds: the weighted sums' cost (int64 products, the scatter
/// instead of the masked int32 block sums) next to the unweighted fit.
void BM_WeightedFit(benchmark::State& state) {
  const Matrix& X = blobs_2d(1000000);
  const int kind = static_cast<int>(state.range(0));
  std::vector<double> w(X.rows, 1.0);
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (kind == 2) w[i] = static_cast<double>(1 + (i * 2654435761u) % 4);
    if (kind == 3) w[i] = 0.1 + static_cast<double>((i * 2654435761u) % 3900) * 1e-3;
  }
  const WeightGrid grid = kind == 0 ? WeightGrid::ones(X.rows) : WeightGrid::of(w.data(), w.size());
  auto backend = make_cpu_backend(2);
  const FixedPoint fp = FixedPoint::for_data(X, &grid);
  backend->bind(X, grid.data(), fp, 5);
  KMeansParams params;
  params.n_clusters = 5;
  params.n_init = 10;
  double iters = 0.0;
  for (auto _ : state) {
    KMeansResult res = fit_kmeans(*backend, X, fp, params, &grid);
    for (const KMeansRun& run : res.runs) iters += run.n_iter;
    benchmark::DoNotOptimize(res.inertia);
  }
  state.counters["lloyd_iters"] = iters / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(X.rows));
}
BENCHMARK(BM_WeightedFit)->ArgNames({"weights"})->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->UseRealTime();

/// k-means++ seeding of k = 5 centres on 1,000,000 x 2 blobs; args: threads.
/// The seeding is internal to fit_kmeans, so this is a proxy: a fit with
/// n_init = 1 and max_iter = 1, i.e. k-means++ (1 + (k - 1) x (1 + trials)
/// backend passes, trials = 2 + floor(ln 5) = 3), then one Lloyd pass and the
/// final labelling pass, plus fit_kmeans' serial mean-variance pass over X.
void BM_KMeansPlusPlus(benchmark::State& state) {
  const Matrix& X = blobs_2d(1000000);
  const int threads = static_cast<int>(state.range(0));
  const int k = 5;
  auto backend = make_cpu_backend(threads);
  const FixedPoint fp = FixedPoint::for_data(X);
  backend->bind(X, fp, k);
  KMeansParams params;
  params.n_clusters = k;
  params.n_init = 1;
  params.max_iter = 1;
  for (auto _ : state) {
    KMeansResult res = fit_kmeans(*backend, X, fp, params);
    benchmark::DoNotOptimize(res.inertia);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(X.rows));
}
BENCHMARK(BM_KMeansPlusPlus)->ArgNames({"threads"})->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

/// run_sweep k = 2..10, n_init = 10, silhouette on a 10,000-row sample, on
/// 100,000 x 2 blobs; args: threads.  What `archetype sweep` does after
/// loading and scaling.
void BM_Sweep(benchmark::State& state) {
  const Matrix& X = blobs_2d(100000);
  const int threads = static_cast<int>(state.range(0));
  auto backend = make_cpu_backend(threads);
  const FixedPoint fp = FixedPoint::for_data(X);
  SweepParams params;
  params.k_min = 2;
  params.k_max = 10;
  params.kmeans.n_init = 10;
  params.silhouette.sample_size = 10000;
  backend->bind(X, fp, params.k_max);
  for (auto _ : state) {
    SweepResult res = run_sweep(*backend, X, fp, params);
    benchmark::DoNotOptimize(res.points.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(X.rows));
}
BENCHMARK(BM_Sweep)->ArgNames({"threads"})->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
