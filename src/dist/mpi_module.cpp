// The MPI communicator, built as a module (libarchetype_mpi.so, when
// ARCHETYPE_MPI finds MPI) that the archetype binary opens only when an MPI
// launcher started it (mpi_world.cpp): a single process does not even load
// libmpi.  Every call is on MPI_COMM_WORLD from the main thread
// (MPI_THREAD_FUNNELED); messages above 1 GiB go in pieces, since MPI
// counts are ints.
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <climits>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "archetype/communicator.hpp"

namespace archetype {
namespace {

constexpr std::size_t kPiece = std::size_t{1} << 30;

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(std::string("MPI ") + what + " failed: " + text);
}

class Timer {
 public:
  explicit Timer(double& total) : total_(total), t0_(std::chrono::steady_clock::now()) {}
  ~Timer() { total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }

 private:
  double& total_;
  std::chrono::steady_clock::time_point t0_;
};

/// ARCHETYPE_DIST_FAULT=kill:R:N (tests): rank R dies by SIGKILL at its
/// N-th collective call, as a node or process lost mid-run would.
struct DistFault {
  int rank = -1;
  long long at = 0;
  static DistFault from_env() {
    DistFault f;
    const char* spec = std::getenv("ARCHETYPE_DIST_FAULT");
    if (spec && std::sscanf(spec, "kill:%d:%lld", &f.rank, &f.at) != 2) f = DistFault{};
    return f;
  }
};

class MpiWorld final : public Communicator {
 public:
  MpiWorld() : fault_(DistFault::from_env()) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiWorld() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allreduce_sum(std::int64_t* values, std::size_t count) override {
    Timer t(seconds_);
    collective();
    const std::size_t piece = kPiece / sizeof(std::int64_t);
    for (std::size_t at = 0; at < count; at += piece)
      check(MPI_Allreduce(MPI_IN_PLACE, values + at, static_cast<int>(std::min(piece, count - at)), MPI_INT64_T,
                          MPI_SUM, MPI_COMM_WORLD),
            "Allreduce");
  }

  void allgather(const void* send, std::size_t bytes, void* out) override {
    std::vector<std::size_t> counts(static_cast<std::size_t>(size_), bytes);
    allgatherv(send, counts.data(), out);
  }

  void allgatherv(const void* send, const std::size_t* counts, void* out) override {
    Timer t(seconds_);
    collective();
    std::size_t total = 0;
    for (int r = 0; r < size_; ++r) total += counts[r];
    if (total <= static_cast<std::size_t>(INT_MAX)) {
      std::vector<int> c(static_cast<std::size_t>(size_)), at(static_cast<std::size_t>(size_));
      int pos = 0;
      for (int r = 0; r < size_; ++r) {
        c[static_cast<std::size_t>(r)] = static_cast<int>(counts[r]);
        at[static_cast<std::size_t>(r)] = pos;
        pos += c[static_cast<std::size_t>(r)];
      }
      // MPI forbids aliasing send and receive buffers: a copy into place
      // first when the caller's own slot of `out` is its send buffer.
      char* mine = static_cast<char*>(out) + at[static_cast<std::size_t>(rank_)];
      if (counts[rank_] > 0 && mine != send) std::memcpy(mine, send, counts[rank_]);
      check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, out, c.data(), at.data(), MPI_BYTE, MPI_COMM_WORLD),
            "Allgatherv");
      return;
    }
    // Beyond 2 GiB in all: each rank's part is broadcast from it, in pieces.
    std::size_t pos = 0;
    for (int r = 0; r < size_; ++r) {
      char* dst = static_cast<char*>(out) + pos;
      if (r == rank_ && counts[r] > 0 && dst != send) std::memcpy(dst, send, counts[r]);
      bcast(dst, counts[r], r);
      pos += counts[r];
    }
  }

  void broadcast(void* data, std::size_t bytes, int root) override {
    Timer t(seconds_);
    collective();
    bcast(data, bytes, root);
  }

  void send(const void* data, std::size_t bytes, int to) override {
    Timer t(seconds_);
    const char* p = static_cast<const char*>(data);
    std::size_t at = 0;
    do {
      const std::size_t n = std::min(kPiece, bytes - at);
      check(MPI_Send(p + at, static_cast<int>(n), MPI_BYTE, to, 0, MPI_COMM_WORLD), "Send");
      at += n;
    } while (at < bytes);
  }

  void receive(void* data, std::size_t bytes, int from) override {
    Timer t(seconds_);
    char* p = static_cast<char*>(data);
    std::size_t at = 0;
    do {
      const std::size_t n = std::min(kPiece, bytes - at);
      MPI_Status status;
      check(MPI_Recv(p + at, static_cast<int>(n), MPI_BYTE, from, 0, MPI_COMM_WORLD, &status), "Recv");
      int got = 0;
      MPI_Get_count(&status, MPI_BYTE, &got);
      if (static_cast<std::size_t>(got) != n) throw std::logic_error("MPI receive: message size differs from the one sent");
      at += n;
    } while (at < bytes);
  }

  void barrier() override {
    Timer t(seconds_);
    collective();
    check(MPI_Barrier(MPI_COMM_WORLD), "Barrier");
  }

  bool barrier_for(double seconds) override {
    Timer t(seconds_);
    MPI_Request request;
    check(MPI_Ibarrier(MPI_COMM_WORLD, &request), "Ibarrier");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "Test");
      if (done) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  [[noreturn]] void abort(int status) override {
    MPI_Abort(MPI_COMM_WORLD, status);
    std::_Exit(status);  // MPI_Abort does not return; this satisfies [[noreturn]]
  }

  std::string host() const override {
    char name[MPI_MAX_PROCESSOR_NAME] = {0};
    int len = 0;
    MPI_Get_processor_name(name, &len);
    return std::string(name, static_cast<std::size_t>(std::max(0, len)));
  }

  double communication_seconds() const override { return seconds_; }

 private:
  void bcast(void* data, std::size_t bytes, int root) {
    char* p = static_cast<char*>(data);
    for (std::size_t at = 0; at < bytes; at += kPiece)
      check(MPI_Bcast(p + at, static_cast<int>(std::min(kPiece, bytes - at)), MPI_BYTE, root, MPI_COMM_WORLD),
            "Bcast");
  }

  void collective() {
    if (fault_.rank == rank_ && ++calls_ == fault_.at) std::raise(SIGKILL);
  }

  DistFault fault_;
  long long calls_ = 0;
  int rank_ = 0, size_ = 1;
  double seconds_ = 0.0;
};

}  // namespace

}  // namespace archetype

/// The module's entry point (mpi_world.cpp opens it): MPI_Init_thread and
/// MPI_COMM_WORLD, owned by the caller; nullptr with `error` set (at most
/// error_len bytes) when MPI fails; nullptr with `error` empty when the
/// world has one process (finalized at once: it runs as no world at all).
extern "C" __attribute__((visibility("default"))) archetype::Communicator* archetype_mpi_join(int* argc, char*** argv,
                                                                                            char* error,
                                                                                            std::size_t error_len) {
  error[0] = '\0';
  try {
    int provided = 0;
    archetype::check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "Init_thread");
    // Errors come back as codes (check() turns them into exceptions) rather
    // than aborting inside MPI without a word.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    auto world = std::make_unique<archetype::MpiWorld>();
    if (world->size() == 1) return nullptr;  // the destructor finalizes
    return world.release();
  } catch (const std::exception& e) {
    std::snprintf(error, error_len, "%s", e.what());
    return nullptr;
  }
}
