#include "cli/command_support.hpp"

#include <algorithm>

#include "cli/figures_runner.hpp"

namespace archetype {

std::vector<std::string> output_names() {
  std::vector<std::string> names = {"summary.json",      "report.md",           "report.html",
                                    "labels.csv",        "labels.npy",          "sweep.csv",
                                    "model.json",        "figure_points.csv",   "figure_density.json",
                                    "figure_silhouette.csv"};
  for (const std::string& f : figure_names())
    for (const char* ext : {".png", ".svg"}) names.push_back("figures/" + f + ext);
  return names;
}

std::optional<DistributedSummary> distributed_summary(Communicator* comm) {
  if (!comm || comm->size() == 1) return std::nullopt;
  DistributedSummary d;
  d.ranks = comm->size();
  d.sums_over = comm->sums_over();  // the same on every rank (decide_nccl)
  std::string mine = comm->host();
  mine.push_back('\0');
  const std::vector<char> all = allgather_vector(*comm, std::vector<char>(mine.begin(), mine.end()));
  for (std::size_t at = 0; at < all.size();) {
    const std::string host(all.data() + at);
    if (std::find(d.hosts.begin(), d.hosts.end(), host) == d.hosts.end()) d.hosts.push_back(host);
    at += host.size() + 1;
  }
  const std::vector<double> seconds = allgather_value(*comm, comm->communication_seconds());
  d.communication_seconds = *std::max_element(seconds.begin(), seconds.end());
  return d;
}

void report_stale_staging(const OutputFiles& files, const NoticeFn& notice) {
  for (const std::string& dir : files.stale_staging())
    notice(dir + ": a staging folder left by an Archetype run that was killed before it finished; nothing uses it, "
                 "delete it");
}

}  // namespace archetype
