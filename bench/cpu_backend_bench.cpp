// CPU backend passes: one fused Lloyd pass (assignment + exact centroid
// sums + inertia) and the exact silhouette.
//
// BM_CpuLloydPass passes the same centres every time, so from the second
// pass on no label changes: the steady state, in which the backend's running
// integer sums need no update.  BM_CpuLloydPassRelabel alternates between
// two centre sets that are the same points under a cyclic relabelling, so
// every row changes label on every pass (the worst case for the running
// sums: each block is recounted under the new labels and uncounted under
// the old), while the nearest-centre search costs exactly the same.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/fixed_point.hpp"
#include "bench_data.hpp"

namespace {

using namespace archetype;

void BM_CpuLloydPass(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const Matrix X = bench::blobs(n, 2);
  const FixedPoint fp = FixedPoint::for_data(X);
  auto backend = make_cpu_backend(threads);
  backend->bind(X, fp, 5);
  const std::vector<float> centers = {0.6f, 1.5f, 1.0f, -0.8f, -0.9f, 0.8f, -0.1f, -0.8f, -1.5f, -0.6f};
  PassSums sums;
  for (auto _ : state) {
    backend->lloyd_pass(centers.data(), 5, sums);
    benchmark::DoNotOptimize(sums.inertia_q);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  // Bytes a row: its 2 features and its stored label, read (no label
  // changes, so none is written back).
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(n * (2 * sizeof(float) + sizeof(std::int32_t))));
}
// The 100,000-row and 3,000-row cases are for scripts/bench_compare.py --quick.
BENCHMARK(BM_CpuLloydPass)->Args({1000000, 1})->Args({1000000, 2})->Args({100000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

/// One fused Lloyd pass of the default sweep's 90 models (k = 2..10, 10
/// restarts each: 540 centres) over n x 2 rows; args: rows, threads.  Items
/// are row x model evaluations.
void BM_CpuLloydBatch(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const Matrix X = bench::blobs(n, 2);
  const FixedPoint fp = FixedPoint::for_data(X);
  auto backend = make_cpu_backend(threads);
  backend->bind(X, fp, 10);
  std::vector<int> ks;
  std::vector<float> centers;
  for (int k = 2; k <= 10; ++k)
    for (int r = 0; r < 10; ++r) {
      ks.push_back(k);
      for (int c = 0; c < k; ++c) {  // centres spread over the blobs, different per restart
        centers.push_back(X.at(static_cast<std::size_t>(c * 7919 + r * 104729) % n, 0));
        centers.push_back(X.at(static_cast<std::size_t>(c * 7919 + r * 104729) % n, 1));
      }
    }
  backend->reserve_batch(static_cast<int>(ks.size()), static_cast<int>(centers.size() / 2));
  std::vector<PassSums> sums(ks.size());
  const ModelBatch batch{centers.data(), ks.data(), static_cast<int>(ks.size())};
  for (auto _ : state) {
    backend->lloyd_batch(batch, sums.data());
    benchmark::DoNotOptimize(sums.front().inertia_q);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n * ks.size()));
  // Bytes a row: its 2 features, read once for all 90 models (no slots:
  // no stored labels).
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n * 2 * sizeof(float)));
}
BENCHMARK(BM_CpuLloydBatch)->Args({1000000, 2})->Args({100000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CpuLloydPassRelabel(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const Matrix X = bench::blobs(n, 2);
  const FixedPoint fp = FixedPoint::for_data(X);
  auto backend = make_cpu_backend(threads);
  backend->bind(X, fp, 5);
  // Set b is set a with centre c moved to index (c + 1) % 5: the geometry,
  // hence the distance work, is the same, but every label changes.
  const std::vector<float> a = {0.6f, 1.5f, 1.0f, -0.8f, -0.9f, 0.8f, -0.1f, -0.8f, -1.5f, -0.6f};
  std::vector<float> b(a.size());
  for (std::size_t c = 0; c < 5; ++c) {
    const std::size_t to = (c + 1) % 5;
    b[2 * to] = a[2 * c];
    b[2 * to + 1] = a[2 * c + 1];
  }
  PassSums sums;
  backend->lloyd_pass(a.data(), 5, sums);  // leave the fresh (all -1) labels behind
  std::int64_t changed = 0;
  bool flip = true;
  for (auto _ : state) {
    backend->lloyd_pass(flip ? b.data() : a.data(), 5, sums);
    flip = !flip;
    changed += sums.changed;
    benchmark::DoNotOptimize(sums.inertia_q);
  }
  state.counters["changed_fraction"] =
      static_cast<double>(changed) / (static_cast<double>(state.iterations()) * static_cast<double>(n));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  // Bytes a row: its 2 features, its stored label read and, since every
  // label changes, written back.
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(n * (2 * sizeof(float) + 2 * sizeof(std::int32_t))));
}
BENCHMARK(BM_CpuLloydPassRelabel)->Args({1000000, 1})->Args({1000000, 2})->Args({100000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CpuSilhouette(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const Matrix X = bench::blobs(n, 2);
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>(i % 5);
  auto backend = make_cpu_backend(threads);
  std::vector<double> out(n);
  for (auto _ : state) {
    backend->silhouette(X, labels.data(), 5, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n * n));
}
BENCHMARK(BM_CpuSilhouette)->Args({30000, 1})->Args({30000, 2})->Args({3000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
