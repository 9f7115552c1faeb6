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

/// How long the figure script may run before it is stopped and the figures
/// are skipped (a notice says so; the run still succeeds).
inline constexpr double kFiguresTimeoutSeconds = 60.0;

/// $ARCHETYPE_FIGURES_TIMEOUT (seconds; 0: no limit), else
/// kFiguresTimeoutSeconds; InputError for a value that is not a number of
/// seconds from 0 to 86400.
double figures_timeout_seconds();

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
  /// missing script or interpreter: draw() says so.  InputError for a bad
  /// ARCHETYPE_FIGURES_TIMEOUT (read here, before any work).
  explicit FiguresHelper(const std::string& dir);

  /// Lets it draw and waits for it; says in one notice line why figures
  /// are missing (no python3/matplotlib: how to install them; a script
  /// failure: its last message).  Never throws for a failing script; a
  /// script still running figures_timeout_seconds() after the word to
  /// draw is killed and the figures are skipped with a notice.  An
  /// interrupt kills the script, and it dies with this process.  Call once.
  FiguresOutcome draw(const NoticeFn& notice);

 private:
  double timeout_;
  std::string dir_, python_, script_;
  std::optional<ChildProcess> child_;
};

}  // namespace archetype
