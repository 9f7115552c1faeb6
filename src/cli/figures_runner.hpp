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

/// The figure names scripts/figures.py writes, in the report's order.
const std::set<std::string>& figure_names();

/// Runs the script on `dir` (the run's staging folder, so the figures are
/// committed with the other outputs); says in one notice line why figures
/// are missing (no python3/matplotlib: how to install them; a script
/// failure: its last message).  Never throws for a missing or failing
/// script.  The script is a child process that an interrupt kills.
FiguresOutcome run_figures_script(const std::string& dir, const NoticeFn& notice);

}  // namespace archetype
