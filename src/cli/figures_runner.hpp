// Runs scripts/figures.py (matplotlib) on an output directory, when a
// python3 with matplotlib and numpy is available.
#pragma once

#include <set>
#include <string>

#include "archetype/notice.hpp"

namespace archetype {

struct FiguresOutcome {
  bool ran = false;                ///< the script ran and exited 0
  std::set<std::string> produced;  ///< figure names with a PNG in dir/figures/
};

/// How long the figure script may run before it is stopped and the figures
/// are skipped (a notice says so; the run still succeeds).
inline constexpr double kFiguresTimeoutSeconds = 60.0;

/// $ARCHETYPE_FIGURES_TIMEOUT (seconds; 0: no limit), else
/// kFiguresTimeoutSeconds; InputError for a value that is not a number of
/// seconds from 0 to 86400.
double figures_timeout_seconds();

/// The figure names scripts/figures.py writes, in the report's order.
const std::set<std::string>& figure_names();

/// Runs the script on `dir` (the run's staging folder, so the figures are
/// committed with the other outputs); says in one notice line why figures
/// are missing (no python3/matplotlib: how to install them; a script
/// failure: its last message).  Never throws for a missing or failing
/// script; a script still running after figures_timeout_seconds() is killed
/// and the figures are skipped with a notice.  The script is a child process
/// that an interrupt kills and that dies with this process.
FiguresOutcome run_figures_script(const std::string& dir, const NoticeFn& notice);

}  // namespace archetype
