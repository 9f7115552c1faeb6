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

/// One rank's vote as it travels, fixed size: two flags, the GPU's UUID
/// and "bus id on host" for the notice (both text, zero-terminated).
struct VoteRecord {
  char wanted = 0, usable = 0;
  char id[62] = {};
  char where[192] = {};
};

void copy_text(char* to, std::size_t size, const std::string& from) {
  std::memcpy(to, from.data(), std::min(from.size(), size - 1));
}

}  // namespace

NcclDecision decide_nccl(Communicator& world, const NcclVote& vote) {
  NcclDecision d;
  if (!nccl_built()) return d;
  VoteRecord mine;
  mine.wanted = vote.wanted ? 1 : 0;
  mine.usable = vote.usable && !vote.device_id.empty() ? 1 : 0;  // a GPU that does not say who it is: no NCCL
  copy_text(mine.id, sizeof mine.id, vote.device_id);
  copy_text(mine.where, sizeof mine.where, vote.device_place + " on " + world.host());
  std::vector<VoteRecord> all(static_cast<std::size_t>(world.size()));
  world.allgather(&mine, sizeof mine, all.data());
  // Every rank evaluates the same records: the same answer everywhere.
  for (const VoteRecord& r : all)
    if (!r.wanted || !r.usable) return d;  // silently over MPI (a CPU job, no GPU, no NCCL, or refused)
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (std::strncmp(all[i].id, all[j].id, sizeof all[i].id) == 0) {
        d.why_not = "processes " + std::to_string(j) + " and " + std::to_string(i) + " share the GPU " +
                    std::string(all[i].where) +
                    " (NCCL needs one GPU per process): the sums go over MPI, with the same results";
        return d;
      }
  d.use = true;
  return d;
}

}  // namespace archetype
