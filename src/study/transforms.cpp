#include "study/transforms.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>

#include "archetype/error.hpp"

namespace archetype {

Transforms parse_transforms(const std::string& spec, const std::vector<std::string>& columns) {
  Transforms t(columns.size(), "none");
  if (spec.empty() || spec == "none") return t;
  if (spec == "log1p") return Transforms(columns.size(), "log1p");
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t end = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, end - start);
    const std::size_t eq = item.rfind('=');
    if (eq == std::string::npos)
      throw InputError("--transform: expected 'log1p' or COLUMN=log1p,..., found '" + item + "'");
    const std::string column = item.substr(0, eq), how = item.substr(eq + 1);
    if (how != "log1p" && how != "none")
      throw InputError("--transform " + item + ": unknown transform '" + how + "' (log1p or none)");
    std::size_t j = 0;
    while (j < columns.size() && columns[j] != column) ++j;
    if (j == columns.size()) throw InputError("--transform " + item + ": '" + column + "' is not a feature column");
    t[j] = how;
    start = end + 1;
  }
  return t;
}

void apply_transforms(Matrix& x, const Transforms& t, const std::vector<std::string>& columns,
                      const std::string& source, const RowSplit* split) {
  // The first value log1p cannot take, column by column (a whole read's
  // order: under a split the lowest column, then the lowest row, of all ranks').
  struct Problem {
    std::uint64_t column, row;
    float value;
  };
  Problem first{x.cols, 0, 0.0f};
  for (std::size_t j = 0; j < x.cols && first.column == x.cols; ++j) {
    if (t[j] != "log1p") continue;
    for (std::size_t i = 0; i < x.rows; ++i)
      if (!(x.at(i, j) > -1.0f)) {
        first = {j, (split ? split->offset : 0) + i, x.at(i, j)};
        break;
      }
  }
  if (split)
    for (const Problem& p : allgather_value(*split->comm, first))
      if (p.column < first.column || (p.column == first.column && p.row < first.row)) first = p;
  if (first.column < x.cols)
    throw InputError(source + ": data row " + std::to_string(first.row + 1) + ", column '" + columns[first.column] +
                     "': log1p needs values above -1, found " + std::to_string(first.value));
  for (std::size_t j = 0; j < x.cols; ++j) {
    if (t[j] != "log1p") continue;
    for (std::size_t i = 0; i < x.rows; ++i) {
      float& v = x.at(i, j);
      v = static_cast<float>(std::log1p(static_cast<double>(v)));
    }
  }
}

std::string transformed_name(const std::string& name, const std::string& transform) {
  return transform == "none" ? name : transform + "(" + name + ")";
}

std::string skew_warning(const std::vector<std::string>& names, const std::vector<double>& skews,
                         const std::vector<double>& mins, const Transforms& t) {
  std::string listed;
  std::size_t count = 0;
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (t[j] != "none" || !(std::fabs(skews[j]) > 2.0) || !(mins[j] > -1.0)) continue;
    if (++count <= 5) {
      char skew[32];
      std::snprintf(skew, sizeof skew, "%+.1f", skews[j]);
      listed += (count > 1 ? ", '" : "'") + names[j] + "' (skew " + skew + ")";
    }
  }
  if (count == 0) return {};
  if (count > 5) listed += " and " + std::to_string(count - 5) + " more";
  return "heavy tails in " + listed +
         ": a few extreme rows can decide the segments; --transform log1p (or COLUMN=log1p) clusters log(1 + x) "
         "instead";
}

}  // namespace archetype
