// The distributed decorator's traffic and overhead, ranks played by threads
// (run_thread_ranks; no MPI): every collective's payload is counted, so the
// counters are the bytes each rank puts on the network per operation, the
// same under MPI or NCCL.  Times are in-process (threads sharing the
// cores), not a network's: the end-to-end scaling under mpirun is in
// bench/RESULTS.md, section "Distributed".
//
//   BM_DistLloydRound/ranks   one fused Lloyd round of the default sweep's
//                             90 models (k = 2..10 x 10 restarts), 1M x 2 rows
//   BM_DistSilhouette/ranks   the exact silhouette of 20,000 x 2 rows, k = 5
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/communicator.hpp"
#include "archetype/fixed_point.hpp"
#include "bench_data.hpp"
#include "dist/thread_communicator.hpp"
#include "engine/distributed_backend.hpp"
#include "engine/split_ops.hpp"

namespace {

using namespace archetype;

/// Counts the bytes this rank sends: its part of each reduction or gather,
/// the root's broadcast payload, point-to-point messages.
class Counting final : public Communicator {
 public:
  explicit Counting(Communicator& inner) : c_(inner) {}
  int rank() const override { return c_.rank(); }
  int size() const override { return c_.size(); }
  void allreduce_sum(std::int64_t* v, std::size_t n) override {
    bytes += n * sizeof(std::int64_t);
    c_.allreduce_sum(v, n);
  }
  void allgather(const void* s, std::size_t b, void* o) override {
    bytes += b;
    c_.allgather(s, b, o);
  }
  void allgatherv(const void* s, const std::size_t* counts, void* o) override {
    bytes += counts[c_.rank()];
    c_.allgatherv(s, counts, o);
  }
  void broadcast(void* d, std::size_t b, int root) override {
    if (root == c_.rank()) bytes += b;
    c_.broadcast(d, b, root);
  }
  void send(const void* d, std::size_t b, int to) override {
    bytes += b;
    c_.send(d, b, to);
  }
  void receive(void* d, std::size_t b, int from) override { c_.receive(d, b, from); }
  void barrier() override { c_.barrier(); }
  [[noreturn]] void abort(int s) override {
    c_.abort(s);
    std::_Exit(s);
  }
  std::string host() const override { return c_.host(); }
  double communication_seconds() const override { return 0.0; }
  std::size_t bytes = 0;

 private:
  Communicator& c_;
};

/// Rank r's near-equal share of X's rows.
Matrix share(const Matrix& X, int rank, int ranks) {
  const std::size_t a = X.rows * static_cast<std::size_t>(rank) / static_cast<std::size_t>(ranks);
  const std::size_t b = X.rows * static_cast<std::size_t>(rank + 1) / static_cast<std::size_t>(ranks);
  Matrix m(b - a, X.cols);
  std::copy(X.row(a), X.row(b), m.values.begin());
  return m;
}

void BM_DistLloydRound(benchmark::State& state) {
  const int ranks = static_cast<int>(state.range(0));
  const Matrix X = bench::blobs(1000000, 2);
  std::vector<int> ks;
  std::vector<float> centers;
  for (int k = 2; k <= 10; ++k)
    for (int r = 0; r < 10; ++r) {
      ks.push_back(k);
      for (int c = 0; c < k; ++c)
        for (std::size_t j = 0; j < 2; ++j)
          centers.push_back(X.at(static_cast<std::size_t>(c * 7919 + r * 104729) % X.rows, j));
    }
  const ModelBatch batch{centers.data(), ks.data(), static_cast<int>(ks.size())};
  std::atomic<std::size_t> per_round{0};
  std::atomic<double> seconds{0.0};
  for (auto _ : state) {
    run_thread_ranks(ranks, [&](Communicator& comm) {
      Counting counting(comm);
      const Matrix mine = share(X, comm.rank(), ranks);
      const RowSplit split = RowSplit::of(counting, mine.rows);
      auto backend = make_distributed_backend(make_cpu_backend(1), split);
      backend->bind(mine, FixedPoint::for_data(X), 10);
      backend->reserve_batch(static_cast<int>(ks.size()), static_cast<int>(centers.size() / 2));
      std::vector<PassSums> sums(ks.size());
      comm.barrier();  // timed: the round alone (one thread per rank), from all ranks ready to all done
      const auto t0 = std::chrono::steady_clock::now();
      const std::size_t before = counting.bytes;
      backend->lloyd_batch(batch, sums.data());
      comm.barrier();
      if (comm.rank() == 0) {
        per_round = counting.bytes - before;
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
    });
    state.SetIterationTime(seconds);
  }
  state.counters["bytes_per_rank_per_round"] = static_cast<double>(per_round);
  state.counters["int64_per_round"] = static_cast<double>(per_round / sizeof(std::int64_t));
}
BENCHMARK(BM_DistLloydRound)->Arg(1)->Arg(2)->Arg(4)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);

void BM_DistSilhouette(benchmark::State& state) {
  const int ranks = static_cast<int>(state.range(0));
  const Matrix X = bench::blobs(20000, 2);
  std::vector<std::int32_t> labels(X.rows);
  for (std::size_t i = 0; i < X.rows; ++i) labels[i] = static_cast<std::int32_t>(i % 5);
  std::atomic<std::size_t> sent{0};
  for (auto _ : state) {
    sent = 0;
    run_thread_ranks(ranks, [&](Communicator& comm) {
      Counting counting(comm);
      const Matrix mine = share(X, comm.rank(), ranks);
      const RowSplit split = RowSplit::of(counting, mine.rows);
      auto backend = make_distributed_backend(make_cpu_backend(1), split);
      const std::size_t first = split.offset;
      std::vector<double> out(mine.rows);
      const std::size_t before = counting.bytes;
      backend->silhouette(mine, labels.data() + first, 5, out.data());
      sent += counting.bytes - before;
    });
  }
  state.counters["bytes_sent_all_ranks"] = static_cast<double>(sent);
}
BENCHMARK(BM_DistSilhouette)->Arg(1)->Arg(2)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace
