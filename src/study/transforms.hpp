// Per-feature transforms applied to the table before anything else
// (--transform): log1p for heavy-tailed metrics such as followers or
// revenue, so that a few huge accounts do not decide the segments.  The
// study then describes and clusters log1p(x); model.json records the
// transform and predict applies it to new rows.
#pragma once

#include <string>
#include <vector>

#include "archetype/communicator.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

/// One name per feature: "none" or "log1p".
using Transforms = std::vector<std::string>;

/// --transform SPEC against the feature columns: "" or "none" (nothing),
/// "log1p" (every feature), or "COLUMN=log1p,..." (those features).
/// InputError for an unknown column or transform.
Transforms parse_transforms(const std::string& spec, const std::vector<std::string>& columns);

/// Applies them in place (double, rounded once to float).  log1p needs
/// x > -1: InputError naming the source, the 1-based data row and the column
/// (before any value changes).  With a split (x: this process's rows; a
/// collective) every rank throws the error a whole read gives.
void apply_transforms(Matrix& x, const Transforms& t, const std::vector<std::string>& columns,
                      const std::string& source, const RowSplit* split = nullptr);

/// "log1p(followers)" for a transformed feature, else the name.
std::string transformed_name(const std::string& name, const std::string& transform);

/// The warning for features with |skew| > 2 that are not transformed (none
/// when all are fine): names them and suggests --transform log1p.
std::string skew_warning(const std::vector<std::string>& names, const std::vector<double>& skews,
                         const std::vector<double>& mins, const Transforms& t);

}  // namespace archetype
