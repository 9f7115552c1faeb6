// Runs scripts/figures.py (matplotlib) on an output directory, when a
// python3 with matplotlib and numpy is available.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "archetype/notice.hpp"
#include "cli/child_process.hpp"

namespace archetype {

struct FiguresOutcome {
  bool ran = false;                ///< the script ran and exited 0
  std::set<std::string> produced;  ///< figure names with a PNG in dir/figures/
};

/// The figure names scripts/figures.py writes, in the report's order.
const std::set<std::string>& figure_names();

/// The figure script, started at the beginning of a run (`figures.py
/// --wait`) so that Python, NumPy and matplotlib load while the study
/// computes (about half a second of the figures stage otherwise), then
/// told to draw once the inputs are staged.  A run that fails before that
/// destroys it, which kills the waiting script.
class FiguresHelper {
 public:
  /// Starts the script on `dir` (the run's staging folder, so that the
  /// figures are committed with the other outputs).  Never throws for a
  /// missing script or interpreter: draw() says so.
  explicit FiguresHelper(const std::string& dir);

  /// Lets it draw and waits for it; says in one notice line why figures
  /// are missing (no python3/matplotlib: how to install them; a script
  /// failure: its last message).  Never throws for a failing script.  An
  /// interrupt kills the script.  Call once.
  FiguresOutcome draw(const NoticeFn& notice);

 private:
  std::string dir_, python_, script_;
  std::optional<ChildProcess> child_;
};

}  // namespace archetype
