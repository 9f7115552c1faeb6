#include "dist/thread_communicator.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace archetype {
namespace {

std::string host_name() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(std::int64_t*, std::size_t) override {}
  void allgather(const void* send, std::size_t bytes, void* out) override { copy(out, send, bytes); }
  void allgatherv(const void* send, const std::size_t* counts, void* out) override { copy(out, send, counts[0]); }
  void broadcast(void*, std::size_t, int) override {}
  void send(const void*, std::size_t, int) override { throw std::logic_error("send to itself in a single process"); }
  void receive(void*, std::size_t, int) override { throw std::logic_error("receive in a single process"); }
  void barrier() override {}
  [[noreturn]] void abort(int status) override { std::exit(status); }
  std::string host() const override { return host_name(); }
  double communication_seconds() const override { return 0.0; }

 private:
  static void copy(void* out, const void* in, std::size_t bytes) {
    if (bytes > 0 && out != in) std::memcpy(out, in, bytes);
  }
};

/// The shared state of a thread group: a generation barrier, a slot per
/// rank for the pointer each posts, and one mailbox per ordered pair.
struct Group {
  explicit Group(int n) : size(n), slots(static_cast<std::size_t>(n)), sizes(static_cast<std::size_t>(n)) {}

  const int size;
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  long long generation = 0;
  bool broken = false;
  std::vector<const void*> slots;
  std::vector<std::size_t> sizes;
  std::map<std::pair<int, int>, std::deque<std::vector<char>>> mail;

  void wait_all() {
    std::unique_lock<std::mutex> lock(m);
    if (broken) throw std::runtime_error("thread group broken");
    const long long gen = generation;
    if (++arrived == size) {
      arrived = 0;
      ++generation;
      cv.notify_all();
      return;
    }
    cv.wait(lock, [&] { return generation != gen || broken; });
    if (generation == gen) throw std::runtime_error("thread group broken");
  }
  void breaks() {
    std::lock_guard<std::mutex> lock(m);
    broken = true;
    cv.notify_all();
  }
};

class ThreadRank final : public Communicator {
 public:
  ThreadRank(std::shared_ptr<Group> g, int rank) : g_(std::move(g)), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return g_->size; }

  void allreduce_sum(std::int64_t* values, std::size_t count) override {
    post(values, count);
    std::vector<std::int64_t> sum(count, 0);
    for (int r = 0; r < g_->size; ++r) {
      const auto* v = static_cast<const std::int64_t*>(g_->slots[static_cast<std::size_t>(r)]);
      for (std::size_t i = 0; i < count; ++i) sum[i] += v[i];
    }
    g_->wait_all();  // everyone has read every slot before anyone overwrites its own
    std::copy(sum.begin(), sum.end(), values);
  }
  void allgather(const void* send, std::size_t bytes, void* out) override {
    post(send, bytes);
    for (int r = 0; r < g_->size; ++r)
      if (bytes > 0) std::memcpy(static_cast<char*>(out) + static_cast<std::size_t>(r) * bytes, g_->slots[static_cast<std::size_t>(r)], bytes);
    g_->wait_all();
  }
  void allgatherv(const void* send, const std::size_t* counts, void* out) override {
    post(send, counts[rank_]);
    std::size_t at = 0;
    for (int r = 0; r < g_->size; ++r) {
      const std::size_t c = counts[r];
      if (c != g_->sizes[static_cast<std::size_t>(r)]) throw std::logic_error("allgatherv: counts disagree between ranks");
      if (c > 0) std::memcpy(static_cast<char*>(out) + at, g_->slots[static_cast<std::size_t>(r)], c);
      at += c;
    }
    g_->wait_all();
  }
  void broadcast(void* data, std::size_t bytes, int root) override {
    post(data, bytes);
    if (rank_ != root && bytes > 0) std::memcpy(data, g_->slots[static_cast<std::size_t>(root)], bytes);
    g_->wait_all();
  }
  void send(const void* data, std::size_t bytes, int to) override {
    std::lock_guard<std::mutex> lock(g_->m);
    const char* p = static_cast<const char*>(data);
    g_->mail[{rank_, to}].emplace_back(p, p + bytes);
    g_->cv.notify_all();
  }
  void receive(void* data, std::size_t bytes, int from) override {
    std::unique_lock<std::mutex> lock(g_->m);
    auto& box = g_->mail[{from, rank_}];
    g_->cv.wait(lock, [&] { return !box.empty() || g_->broken; });
    if (box.empty()) throw std::runtime_error("thread group broken");
    if (box.front().size() != bytes) throw std::logic_error("receive: message size differs from the one sent");
    if (bytes > 0) std::memcpy(data, box.front().data(), bytes);
    box.pop_front();
  }
  void barrier() override { g_->wait_all(); }
  [[noreturn]] void abort(int status) override { throw ThreadAbort(rank_, status); }
  std::string host() const override { return host_name(); }
  double communication_seconds() const override { return 0.0; }
  std::string sums_over() const override { return "threads"; }

 private:
  /// Publishes this rank's buffer and waits until every rank has.
  void post(const void* p, std::size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(g_->m);
      g_->slots[static_cast<std::size_t>(rank_)] = p;
      g_->sizes[static_cast<std::size_t>(rank_)] = bytes;
    }
    g_->wait_all();
  }

  std::shared_ptr<Group> g_;
  int rank_;
};

}  // namespace

ThreadAbort::ThreadAbort(int rank, int s)
    : std::runtime_error("rank " + std::to_string(rank) + " aborted the job with status " + std::to_string(s)), status(s) {}

std::unique_ptr<Communicator> make_single_process_communicator() { return std::make_unique<SingleProcess>(); }

void run_thread_ranks(int ranks, const std::function<void(Communicator&)>& body) {
  auto group = std::make_shared<Group>(ranks);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  std::mutex first_m;
  int first = -1;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      ThreadRank comm(group, r);
      try {
        body(comm);
      } catch (...) {
        errors[static_cast<std::size_t>(r)] = std::current_exception();
        {
          std::lock_guard<std::mutex> lock(first_m);
          if (first < 0) first = r;
        }
        group->breaks();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (first >= 0) std::rethrow_exception(errors[static_cast<std::size_t>(first)]);
}

}  // namespace archetype
