#include "dist/gpu_ranks.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace archetype {

int device_for_local_rank(int local_rank, int devices) {
  if (devices <= 0 || local_rank < 0) return 0;
  return local_rank % devices;
}

namespace {

/// One rank's vote as it travels: two flags and "host|device id", fixed size.
struct VoteRecord {
  char wanted = 0, usable = 0;
  char where[254] = {};
};

}  // namespace

NcclDecision decide_nccl(Communicator& world, const NcclVote& vote) {
  NcclDecision d;
  if (!nccl_built()) return d;
  VoteRecord mine;
  mine.wanted = vote.wanted ? 1 : 0;
  mine.usable = vote.usable ? 1 : 0;
  const std::string where = world.host() + "|" + vote.device_id;
  std::memcpy(mine.where, where.data(), std::min(where.size(), sizeof mine.where - 1));
  std::vector<VoteRecord> all(static_cast<std::size_t>(world.size()));
  world.allgather(&mine, sizeof mine, all.data());
  // Every rank evaluates the same records: the same answer everywhere.
  for (const VoteRecord& r : all)
    if (!r.wanted || !r.usable) return d;  // silently over MPI (a CPU job, no GPU, no NCCL, or refused)
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (std::strncmp(all[i].where, all[j].where, sizeof all[i].where) == 0) {
        const std::string w(all[i].where);
        const std::size_t bar = w.rfind('|');
        d.why_not = "processes " + std::to_string(j) + " and " + std::to_string(i) + " share the GPU " +
                    w.substr(bar + 1) + " on " + w.substr(0, bar) +
                    " (NCCL needs one GPU per process): the sums go over MPI, with the same results";
        return d;
      }
  d.use = true;
  return d;
}

}  // namespace archetype
