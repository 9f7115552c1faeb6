#include "cli/command_support.hpp"

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

void report_stale_staging(const OutputFiles& files, const NoticeFn& notice) {
  for (const std::string& dir : files.stale_staging())
    notice(dir + ": a staging folder left by an Archetype run that was killed before it finished; nothing uses it, "
                 "delete it");
}

}  // namespace archetype
