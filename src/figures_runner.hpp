// Runs scripts/figures.py (matplotlib) on an output directory, when a
// python3 with matplotlib and numpy is available.
#pragma once

#include <set>
#include <string>

#include "pipeline.hpp"

namespace archetype {

struct FiguresOutcome {
  bool ran = false;                ///< the script ran and exited 0
  std::set<std::string> produced;  ///< figure names with a PNG in out/figures/
};

/// The figure names scripts/figures.py writes, in the report's order.
const std::set<std::string>& figure_names();

/// Runs the script; says in one notice line why figures are missing
/// (no python3/matplotlib: how to install them; a script failure: its
/// last message).  Never throws for a missing or failing script.
FiguresOutcome run_figures_script(const std::string& out_dir, const NoticeFn& notice);

}  // namespace archetype
