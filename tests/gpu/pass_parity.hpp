// What the GPU parity tests share: the skip where no device is usable, a
// CPU and a CUDA backend bound alike, every pass of both compared bit for
// bit, and a CPU and a CUDA Clusterer compared call by call.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/clusterer.hpp"
#include "archetype/cuda.hpp"
#include "archetype/fixed_point.hpp"
#include "archetype/matrix.hpp"
#include "fit_compare.hpp"

#define REQUIRE_GPU()                                                        \
  do {                                                                       \
    const ::archetype::CudaStatus s = ::archetype::cuda_probe(0);            \
    if (!s.usable) GTEST_SKIP() << "no usable CUDA device: " << s.reason;    \
  } while (0)

namespace archetype::test {

struct Pair {
  std::unique_ptr<Backend> cpu, gpu;
};

/// Both backends bound to X (with quantized weights, or null) on the grids fp.
/// With `chunk` (a row count, "": resident), the CUDA backend streams its
/// rows from host memory in chunks of that many rows.
inline Pair bound_pair(const Matrix& X, const FixedPoint& fp, int k_max, const std::int32_t* weights = nullptr,
                       const char* chunk = "") {
  Pair p{make_cpu_backend(2), make_cuda_backend(0)};
  p.cpu->bind(X, weights, fp, k_max);
  if (*chunk) setenv("ARCHETYPE_CUDA_CHUNK_ROWS", chunk, 1);
  p.gpu->bind(X, weights, fp, k_max);
  unsetenv("ARCHETYPE_CUDA_CHUNK_ROWS");
  return p;
}

inline void expect_same(const PassSums& a, const PassSums& b) {
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.sums, b.sums);
  EXPECT_EQ(a.inertia_q, b.inertia_q);
  EXPECT_EQ(a.changed, b.changed);
}

/// One stored-labels Lloyd pass on both backends, compared bit for bit;
/// returns the GPU's sums.
inline PassSums lloyd_pass_both(Pair& p, const float* centers, int k) {
  PassSums a, b;
  p.cpu->lloyd_pass(centers, k, a);
  p.gpu->lloyd_pass(centers, k, b);
  expect_same(a, b);
  return b;
}

/// Every pass of both backends, bound alike to X with k_max >= k: four
/// stored-labels Lloyd passes and their labels, the dispersion, then three
/// fused models of different k (the last uses all k centres): a batch
/// Lloyd pass, k-means++ potentials and sampling.
inline void expect_every_pass_equal(Pair& p, const Matrix& X, int k) {
  const std::size_t n = X.rows, d = X.cols;
  p.cpu->reset_labels();
  p.gpu->reset_labels();
  std::vector<float> centers(static_cast<std::size_t>(k) * d);
  for (int pass = 0; pass < 4; ++pass) {
    for (std::size_t i = 0; i < centers.size(); ++i) centers[i] = X.values[(i * 131 + pass * 17) % X.values.size()];
    lloyd_pass_both(p, centers.data(), k);
  }
  std::vector<std::int32_t> la(n), lb(n);
  p.cpu->copy_labels(la.data());
  p.gpu->copy_labels(lb.data());
  EXPECT_EQ(la, lb);

  std::vector<std::int64_t> sqa(k), sqb(k), ra(k), rb(k);
  p.cpu->dispersion(centers.data(), k, la.data(), sqa.data(), ra.data());
  p.gpu->dispersion(centers.data(), k, la.data(), sqb.data(), rb.data());
  EXPECT_EQ(sqa, sqb);
  EXPECT_EQ(ra, rb);

  const int ks[3] = {1, std::max(1, k / 2), k};
  const int total = ks[0] + ks[1] + ks[2];
  std::vector<float> bc(static_cast<std::size_t>(total) * d);
  for (std::size_t i = 0; i < bc.size(); ++i) bc[i] = X.values[(i * 7919 + 3) % X.values.size()];
  const ModelBatch batch{bc.data(), ks, 3};
  p.cpu->reserve_batch(3, total);
  p.gpu->reserve_batch(3, total);
  std::vector<PassSums> fa(3), fb(3);
  p.cpu->lloyd_batch(batch, fa.data());
  p.gpu->lloyd_batch(batch, fb.data());
  for (std::size_t m = 0; m < 3; ++m) expect_same(fa[m], fb[m]);

  const int trials[3] = {4, 0, 3};
  std::vector<float> cands;
  for (std::size_t r : {7u, 11u, 13u, 17u, 19u, 23u, 29u}) cands.insert(cands.end(), X.row(r % n), X.row(r % n) + d);
  std::vector<std::int64_t> pa(3 + 7), pb(3 + 7);
  p.cpu->kpp_potentials(batch, cands.data(), trials, pa.data());
  p.gpu->kpp_potentials(batch, cands.data(), trials, pb.data());
  EXPECT_EQ(pa, pb);
  const std::int64_t pot0 = pa[0], pot1 = pa[5], pot2 = pa[6];
  const int n_targets[3] = {4, 2, 3};
  const std::vector<std::int64_t> targets = {0, pot0 / 7, pot0 / 2, pot0 - 1, pot1 / 3, pot1 - 1, 0, pot2 / 5, pot2 - 1};
  std::vector<std::int64_t> sa(targets.size()), sb(targets.size());
  p.cpu->kpp_sample(batch, targets.data(), n_targets, sa.data());
  p.gpu->kpp_sample(batch, targets.data(), n_targets, sb.data());
  EXPECT_EQ(sa, sb);
}

/// A "cpu" and a "cuda" Clusterer on the same view: fit (k = 5, 3
/// restarts), sweep k = 2..6 (scores and the kept k = 4 fit), predict, the
/// dispersion and a sampled silhouette of given labels, bit for bit.
inline void expect_clusterers_equal(const DataView& view) {
  EngineOptions cpu_o, gpu_o;
  cpu_o.backend = "cpu";
  gpu_o.backend = "cuda";
  Clusterer cpu(view, cpu_o), gpu(view, gpu_o);
  ASSERT_EQ(gpu.backend_name(), "cuda");
  KMeansParams kp;
  kp.n_clusters = 5;
  kp.n_init = 3;
  const KMeansResult fa = cpu.fit(kp), fb = gpu.fit(kp);
  expect_same_fit(fa, fb);
  EXPECT_EQ(fa.weights, fb.weights);
  SweepParams sp;
  sp.k_min = 2;
  sp.k_max = 6;
  sp.kmeans = kp;
  sp.silhouette.sample_size = 3000;
  const SweepResult sa = cpu.sweep(sp, 4), sb = gpu.sweep(sp, 4);
  ASSERT_EQ(sa.points.size(), sb.points.size());
  for (std::size_t i = 0; i < sa.points.size(); ++i) {
    EXPECT_EQ(sa.points[i].wcss, sb.points[i].wcss) << i;
    EXPECT_EQ(sa.points[i].silhouette.score, sb.points[i].silhouette.score) << i;
    EXPECT_EQ(sa.points[i].dispersion.calinski_harabasz, sb.points[i].dispersion.calinski_harabasz) << i;
    EXPECT_EQ(sa.points[i].dispersion.davies_bouldin, sb.points[i].dispersion.davies_bouldin) << i;
  }
  expect_same_fit(*sa.kept, *sb.kept);
  const Prediction pa = cpu.predict(fa.centers, 5), pb = gpu.predict(fa.centers, 5);
  EXPECT_EQ(pa.labels, pb.labels);
  EXPECT_EQ(pa.inertia, pb.inertia);
  const DispersionScores da = cpu.dispersion(fa.labels, 5), db = gpu.dispersion(fa.labels, 5);
  EXPECT_EQ(da.calinski_harabasz, db.calinski_harabasz);
  EXPECT_EQ(da.davies_bouldin, db.davies_bouldin);
  EXPECT_EQ(cpu.silhouette(fa.labels, 5, {3000, 7}).values, gpu.silhouette(fa.labels, 5, {3000, 7}).values);
}

}  // namespace archetype::test
