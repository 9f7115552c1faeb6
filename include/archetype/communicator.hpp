// Several processes sharing one job's rows (MPI ranks, one per node, core
// or GPU): the few collective operations the engine and the CLI need, as a
// plain interface.  The engine never includes MPI: an MPI (and an NCCL)
// implementation lives in src/dist (library archetype_dist), a
// single-process one and an in-process one for tests beside it.
//
// Why results stay the same bits: every sum over rows the clustering
// depends on is an exact int64 sum (fixed_point.hpp), so allreduce_sum in
// any order, on any network, gives what one process gives.  Everything
// else that reduces over rows (float statistics, "first wins" minima) is
// gathered and folded in rank order, which is the row order, so it too
// follows the one-process order exactly (docs/DISTRIBUTED.md).
//
// Every rank must make the same calls in the same order with the same
// sizes (counts[] of allgatherv included): a collective is entered by all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "archetype/error.hpp"

namespace archetype {

class Communicator {
 public:
  virtual ~Communicator() = default;

  /// This process's index, 0 .. size() - 1; rank r holds rows after rank r - 1's.
  virtual int rank() const = 0;
  virtual int size() const = 0;

  /// Element-wise sum over all ranks, in place on every rank (exact: int64).
  virtual void allreduce_sum(std::int64_t* values, std::size_t count) = 0;
  /// Every rank's `bytes` bytes, rank after rank, into `out` (size() x bytes) on every rank.
  virtual void allgather(const void* send, std::size_t bytes, void* out) = 0;
  /// Rank r's counts[r] bytes, rank after rank, into `out` (their sum) on every
  /// rank; every rank passes the same counts, and its own `send` of counts[rank()] bytes.
  virtual void allgatherv(const void* send, const std::size_t* counts, void* out) = 0;
  /// `bytes` bytes from `root` to every rank.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  /// Point to point, in order between one pair of ranks (labels streamed to rank 0).
  virtual void send(const void* data, std::size_t bytes, int to) = 0;
  virtual void receive(void* data, std::size_t bytes, int from) = 0;
  virtual void barrier() = 0;
  /// barrier(), giving up after `seconds` (false): a job that ends after an
  /// error must not wait forever for a rank that is elsewhere.
  virtual bool barrier_for(double seconds) {
    (void)seconds;
    barrier();
    return true;
  }
  /// Ends every process of the job with this exit status (MPI_Abort): for a
  /// failure that only this rank saw, while the others wait in a collective.
  [[noreturn]] virtual void abort(int status) = 0;

  /// The host this rank runs on (gethostname).
  virtual std::string host() const = 0;
  /// Wall seconds spent inside the calls above so far (summary.json).
  virtual double communication_seconds() const = 0;
  /// What carries allreduce_sum, the passes' exact int64 sums: "mpi",
  /// "nccl" (one GPU per process) or "threads" (tests); summary.json.
  virtual std::string sums_over() const { return "mpi"; }
};

/// An InputError that every rank of a job throws with the same text (agree()
/// made it so): the CLI prints it once, on rank 0, and every rank exits 2
/// normally.  Any other exception escaping one rank ends the job (abort).
class AgreedError : public InputError {
 public:
  using InputError::InputError;
};

// ---- typed helpers over the byte-level calls ---------------------------------

template <typename T>
std::vector<T> allgather_value(Communicator& c, const T& v) {
  std::vector<T> out(static_cast<std::size_t>(c.size()));
  c.allgather(&v, sizeof(T), out.data());
  return out;
}

/// Every rank's `local` values, concatenated in rank order, on every rank.
template <typename T>
std::vector<T> allgather_vector(Communicator& c, const std::vector<T>& local) {
  const std::vector<std::uint64_t> sizes = allgather_value<std::uint64_t>(c, local.size());
  std::vector<std::size_t> bytes(sizes.size());
  std::size_t total = 0;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    bytes[r] = static_cast<std::size_t>(sizes[r]) * sizeof(T);
    total += static_cast<std::size_t>(sizes[r]);
  }
  std::vector<T> out(total);
  c.allgatherv(local.data(), bytes.data(), out.data());
  return out;
}

inline void broadcast_string(Communicator& c, std::string& s, int root) {
  std::uint64_t n = s.size();
  c.broadcast(&n, sizeof n, root);
  s.resize(static_cast<std::size_t>(n));
  if (n > 0) c.broadcast(&s[0], s.size(), root);
}

/// Logical OR over ranks.
inline bool allreduce_or(Communicator& c, bool v) {
  std::int64_t x = v ? 1 : 0;
  c.allreduce_sum(&x, 1);
  return x != 0;
}

/// A fold over all ranks' rows in row order, for sums whose bits depend on
/// the order of addition (doubles): rank 0 starts from `acc`, each rank
/// continues the previous rank's result over its own rows (fn(acc)), and
/// every rank gets the last rank's result: exactly the one-process loop
/// over all rows.  A chain of size() - 1 sends and one broadcast (for
/// sums taken once per job, not per pass).  Every rank passes an `acc` of
/// the same size.  With no communicator, or one rank, just fn(acc).
template <typename Fn>
std::vector<double> fold_in_row_order(Communicator* c, std::vector<double> acc, Fn&& fn) {
  if (!c || c->size() == 1) {
    fn(acc);
    return acc;
  }
  const int r = c->rank(), last = c->size() - 1;
  const std::size_t bytes = acc.size() * sizeof(double);
  if (r > 0) c->receive(acc.data(), bytes, r - 1);
  fn(acc);
  if (r < last) c->send(acc.data(), bytes, r + 1);
  c->broadcast(acc.data(), bytes, last);
  return acc;
}

/// Runs fn() on every rank.  If it threw an InputError on any rank, every
/// rank throws the same AgreedError: the message of the lowest rank that
/// failed (the first failure in row order, since rank r holds earlier rows
/// than rank r + 1), prefixed with "process r of N: " unless every rank
/// failed alike.  fn() must not enter a collective (a rank that throws
/// early would leave the others waiting in it).  Other exceptions are
/// rethrown on the rank that saw them (the CLI then ends the job).  With no
/// communicator, or one rank, fn() runs as it is.
template <typename Fn>
void agree(Communicator* c, Fn&& fn) {
  if (!c || c->size() == 1) {
    fn();
    return;
  }
  std::string message;
  bool failed = false, agreed = false;
  try {
    fn();
  } catch (const AgreedError& e) {
    message = e.what();
    failed = agreed = true;
  } catch (const InputError& e) {
    message = e.what();
    failed = true;
  }
  const std::vector<std::uint8_t> flags = allgather_value<std::uint8_t>(*c, failed ? (agreed ? 2 : 1) : 0);
  int first = -1, count = 0;
  bool all_agreed = true;
  for (std::size_t r = 0; r < flags.size(); ++r) {
    if (flags[r] == 0) continue;
    if (first < 0) first = static_cast<int>(r);
    ++count;
    all_agreed = all_agreed && flags[r] == 2;
  }
  if (first < 0) return;
  broadcast_string(*c, message, first);
  if (count == c->size() || all_agreed) throw AgreedError(message);
  throw AgreedError("process " + std::to_string(first) + " of " + std::to_string(c->size()) + ": " + message);
}

/// Where this process's rows sit among all processes' rows: rows
/// [offset, offset + rows) of `total`, rank r's rows right after rank r - 1's.
struct RowSplit {
  Communicator* comm = nullptr;
  std::size_t offset = 0;
  std::size_t rows = 0;
  std::size_t total = 0;
  std::vector<std::size_t> counts;  ///< every rank's rows, in rank order
  std::vector<std::size_t> starts;  ///< every rank's offset, and total last

  /// From every rank's row count (a collective: allgather).
  static RowSplit of(Communicator& comm, std::size_t local_rows) {
    RowSplit s;
    s.comm = &comm;
    s.rows = local_rows;
    const std::vector<std::uint64_t> all = allgather_value<std::uint64_t>(comm, local_rows);
    s.starts.push_back(0);
    for (std::uint64_t n : all) {
      s.counts.push_back(static_cast<std::size_t>(n));
      s.starts.push_back(s.starts.back() + static_cast<std::size_t>(n));
    }
    s.offset = s.starts[static_cast<std::size_t>(comm.rank())];
    s.total = s.starts.back();
    return s;
  }
  /// The rank holding global row `row` (the last of equal starts: a rank
  /// without rows holds nothing).
  int owner(std::size_t row) const {
    std::size_t lo = 0, hi = counts.size();
    while (hi - lo > 1) {
      const std::size_t mid = (lo + hi) / 2;
      if (starts[mid] <= row) lo = mid; else hi = mid;
    }
    return static_cast<int>(lo);
  }
  bool holds(std::size_t row) const { return row >= offset && row < offset + rows; }
};

}  // namespace archetype
