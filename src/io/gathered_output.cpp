#include "io/gathered_output.hpp"

#include <cstdint>
#include <vector>

namespace archetype {
namespace {

/// Rank 0's side: its own pieces, then every other rank's until its empty
/// piece.  Keeps its place, so that after a failed write drain() takes
/// the rest without writing and no sender is left waiting.
class Collector {
 public:
  explicit Collector(Communicator& comm) : comm_(comm) {}

  void run(const ProduceFn& produce, const std::function<void(const std::string&)>& write) {
    if (!own_done_) {
      own_done_ = true;
      produce(write);
    }
    for (; next_ < comm_.size(); ++next_)
      while (receive()) write(piece_);
  }
  void drain() {
    for (; next_ < comm_.size(); ++next_)
      while (receive()) {
      }
  }

 private:
  bool receive() {
    std::uint64_t bytes = 0;
    comm_.receive(&bytes, sizeof bytes, next_);
    if (bytes == 0) return false;
    piece_.resize(static_cast<std::size_t>(bytes));
    comm_.receive(&piece_[0], piece_.size(), next_);
    return true;
  }

  Communicator& comm_;
  bool own_done_ = false;
  int next_ = 1;
  std::string piece_;
};

}  // namespace

void stage_gathered(Communicator& comm, OutputFiles* files, const std::string& name, const ProduceFn& produce) {
  if (comm.rank() != 0) {
    produce([&](const std::string& piece) {
      if (piece.empty()) return;  // an empty piece ends the stream
      const std::uint64_t bytes = piece.size();
      comm.send(&bytes, sizeof bytes, 0);
      comm.send(piece.data(), piece.size(), 0);
    });
    const std::uint64_t end = 0;
    comm.send(&end, sizeof end, 0);
    return;
  }
  Collector collect(comm);
  try {
    files->stage_stream(name, [&](const std::function<void(const std::string&)>& write) { collect.run(produce, write); });
  } catch (...) {
    collect.drain();
    throw;
  }
}

}  // namespace archetype
