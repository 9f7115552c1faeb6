// What every command shares: its stage timer and the list of files it may
// write into --out.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "archetype/communicator.hpp"
#include "archetype/notice.hpp"
#include "archetype/study_result.hpp"
#include "io/output_files.hpp"

namespace archetype {

/// Wall-clock stage timer feeding StudyResult::timings_ms.
class StageTimer {
 public:
  using Clock = std::chrono::steady_clock;

  StageTimer() : t_start_(Clock::now()), t0_(t_start_) {}
  void start() { t0_ = Clock::now(); }
  void stop(const std::string& stage) { timings_[stage] = ms_since(t0_); }
  /// Every stage in name order, then "total" since construction.
  std::vector<std::pair<std::string, double>> timings() const {
    std::vector<std::pair<std::string, double>> out(timings_.begin(), timings_.end());
    out.emplace_back("total", ms_since(t_start_));
    return out;
  }

 private:
  static double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  }
  Clock::time_point t_start_, t0_;
  std::map<std::string, double> timings_;
};

/// Every file Archetype writes into --out: an existing directory holding
/// any of them is refused without --force (io/output_files.hpp).
std::vector<std::string> output_names();

/// summary.json's "distributed" section (a collective): the ranks, their
/// hosts and the longest time a rank spent communicating; none for one process.
std::optional<DistributedSummary> distributed_summary(Communicator* comm);

/// One notice per staging folder that a killed run left in --out.
void report_stale_staging(const OutputFiles& files, const NoticeFn& notice);

}  // namespace archetype
