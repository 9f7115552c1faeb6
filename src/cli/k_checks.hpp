// The number of clusters against the data: k above the number of rows is
// bad input (exit 2, before anything is computed); k above the number of
// distinct rows is legal but leaves clusters empty, which is worth a
// warning (scikit-learn's ConvergenceWarning "Number of distinct clusters
// (m) found smaller than n_clusters (k)").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archetype/sweep.hpp"
#include "cli/pipeline.hpp"

namespace archetype {

/// Throws InputError "PATH: --k K: expected at most N, ..." when the
/// command's k (or the sweep's first k) exceeds the `rows` data rows of
/// `path`; returns the warning when only the sweep's last k does (the
/// sweep then stops at k = rows).
std::vector<std::string> check_k_against_rows(Command command, const PipelineOptions& options, std::size_t rows,
                                              const std::string& path);

/// The warning for a fit whose clusters are not all non-empty, if any.
std::optional<std::string> empty_clusters_warning(const std::vector<std::int64_t>& counts);

/// One warning naming every k of the sweep that left clusters empty, if any.
std::optional<std::string> sweep_empty_clusters_warning(const SweepResult& sweep);

}  // namespace archetype
