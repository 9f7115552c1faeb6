#include "cli/k_checks.hpp"

#include <algorithm>

#include "archetype/error.hpp"

namespace archetype {
namespace {

std::size_t non_empty(const std::vector<std::int64_t>& counts) {
  return static_cast<std::size_t>(std::count_if(counts.begin(), counts.end(), [](std::int64_t c) { return c > 0; }));
}

[[noreturn]] void too_many(const std::string& path, const char* option, int k, std::size_t rows) {
  throw InputError(path + ": " + option + " " + std::to_string(k) + ": expected at most " + std::to_string(rows) +
                   ", the number of data rows (k-means needs a row per cluster)");
}

}  // namespace

std::vector<std::string> check_k_against_rows(Command command, const PipelineOptions& o, std::size_t rows,
                                              const std::string& path) {
  // Checked before any work, so that a hopeless k fails fast and leaves no
  // output directory behind.
  const bool fits = command == Command::Run || command == Command::Fit;
  const bool sweeps = command == Command::Run || command == Command::Sweep;
  if (fits && !o.k_auto && static_cast<std::size_t>(o.k) > rows) too_many(path, "--k", o.k, rows);
  std::vector<std::string> warnings;
  if (!sweeps || o.k_min > o.k_max) return warnings;  // an empty range is run_sweep's error
  if (static_cast<std::size_t>(o.k_min) > rows) too_many(path, "--k-min", o.k_min, rows);
  if (static_cast<std::size_t>(o.k_max) > rows) {
    warnings.push_back("--k-max " + std::to_string(o.k_max) + " exceeds the " + std::to_string(rows) +
                       " data rows: the sweep stops at k = " + std::to_string(rows));
  }
  return warnings;
}

std::optional<std::string> empty_clusters_warning(const std::vector<std::int64_t>& counts) {
  const std::size_t used = non_empty(counts);
  if (used == counts.size()) return std::nullopt;
  return "k = " + std::to_string(counts.size()) + " but only " + std::to_string(used) +
         " clusters have rows (the data have fewer distinct rows than k): " + std::to_string(counts.size() - used) +
         " empty, with centres that duplicate others (as scikit-learn)";
}

std::optional<std::string> sweep_empty_clusters_warning(const SweepResult& sweep) {
  std::string ks;
  for (const SweepPoint& p : sweep.points) {
    if (non_empty(p.sizes) == p.sizes.size()) continue;
    ks += (ks.empty() ? "" : ", ") + std::to_string(p.k);
  }
  if (ks.empty()) return std::nullopt;
  return "sweep: k = " + ks + " left clusters empty (the data have fewer distinct rows than k)";
}

}  // namespace archetype
