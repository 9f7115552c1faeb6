// EngineOptions::poll, the cancellation hook (clusterer.hpp): called before
// every pass of a fit or sweep; an exception it throws leaves the call, and
// the Clusterer then gives the same results as a fresh one.  Synthetic data.
#include <gtest/gtest.h>

#include <stdexcept>

#include "archetype/clusterer.hpp"
#include "fit_compare.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

struct Stop : std::runtime_error {
  Stop() : std::runtime_error("stop") {}
};

EngineOptions polling(int& calls, int throw_at) {
  EngineOptions o;
  o.backend = "cpu";
  o.threads = 2;
  o.poll = [&calls, throw_at] {
    if (++calls == throw_at) throw Stop();
  };
  return o;
}

KMeansParams params(int k) {
  KMeansParams p;
  p.n_clusters = k;
  p.n_init = 4;
  p.seed = 5;
  return p;
}

TEST(ClustererPoll, CalledOncePerPassOfAFit) {
  const Matrix X = test::random_blobs(3000, 3, 4, 21);
  int calls = 0;
  Clusterer c(DataView::of(X), polling(calls, -1));
  const KMeansResult fit = c.fit(params(4));
  // k-means++: one pass per centre index after the first (k - 1), plus
  // the first potentials (not polled: no progress before it); Lloyd: one
  // per round, at least n_iter + 1 (the final labels pass).
  EXPECT_GE(calls, (4 - 1) + fit.n_iter + 1);
}

TEST(ClustererPoll, AThrowAbandonsTheFitAndTheClustererStaysUsable) {
  const Matrix X = test::random_blobs(3000, 3, 4, 22);
  for (int throw_at : {1, 2, 5}) {
    int calls = 0;
    Clusterer c(DataView::of(X), polling(calls, throw_at));
    EXPECT_THROW(c.fit(params(4)), Stop);
    EXPECT_EQ(calls, throw_at);
    const KMeansResult again = c.fit(params(4));  // calls is past throw_at: no more throws
    EngineOptions plain;
    plain.backend = "cpu";
    Clusterer fresh(DataView::of(X), plain);
    test::expect_same_fit(again, fresh.fit(params(4)));
  }
}

TEST(ClustererPoll, AThrowAbandonsTheSweepBetweenPassesAndBetweenScores) {
  const Matrix X = test::random_blobs(2000, 2, 3, 23);
  SweepParams sp;
  sp.k_min = 2;
  sp.k_max = 4;
  sp.kmeans = params(2);
  int counted = 0;
  {
    Clusterer c(DataView::of(X), polling(counted, -1));
    c.sweep(sp);
  }
  // Passes and the three scored k: the last poll comes after the last k.
  for (int throw_at : {1, counted - 1, counted}) {
    int calls = 0;
    Clusterer c(DataView::of(X), polling(calls, throw_at));
    EXPECT_THROW(c.sweep(sp), Stop);
    const SweepResult again = c.sweep(sp);
    EngineOptions plain;
    plain.backend = "cpu";
    Clusterer fresh(DataView::of(X), plain);
    const SweepResult ref = fresh.sweep(sp);
    ASSERT_EQ(again.points.size(), ref.points.size());
    for (std::size_t i = 0; i < ref.points.size(); ++i) EXPECT_EQ(again.points[i].wcss, ref.points[i].wcss);
  }
}

}  // namespace
}  // namespace archetype
