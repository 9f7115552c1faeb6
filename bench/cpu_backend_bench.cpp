// CPU backend passes: one fused Lloyd pass (assignment + exact centroid
// sums + inertia) and the exact silhouette.
#include <benchmark/benchmark.h>

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
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n * 2 * sizeof(float)));
}
BENCHMARK(BM_CpuLloydPass)->Args({1000000, 1})->Args({1000000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

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
BENCHMARK(BM_CpuSilhouette)->Args({30000, 1})->Args({30000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
